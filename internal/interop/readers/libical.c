/*
 * Reads iCalendar files with libical and prints one line per VEVENT: UID,
 * DTSTART and DTEND as Unix seconds, tab-separated. A DTSTART with a TZID is
 * converted with the VTIMEZONE of the same file (icalcomponent_get_timezone),
 * never with libical's built-in zones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libical/ical.h>

static char *slurp(const char *path) {
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); exit(2); }
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc(n + 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n) { perror(path); exit(2); }
	buf[n] = 0;
	fclose(f);
	return buf;
}

/*
 * first_occurrence converts the local time t in zone to Unix seconds. For a
 * local time that occurs twice (the overlap when clocks go back) RFC 5545
 * §3.3.5 means the first occurrence, but libical returns the later one; so
 * every offset libical gives the zone within a day of its answer is tried,
 * and the earliest instant whose offset agrees wins. The offsets are still
 * libical's own, from the file's VTIMEZONE.
 */
static time_t first_occurrence(struct icaltimetype t, icaltimezone *zone) {
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	time_t answer = icaltime_as_timet_with_zone(t, zone);
	if (zone == utc) return answer;
	struct icaltimetype fields = t;
	fields.zone = NULL;
	time_t wall = icaltime_as_timet_with_zone(fields, utc); /* local fields read as UTC */
	time_t best = answer;
	for (int h = -26; h <= 26; h++) {
		struct icaltimetype probe = icaltime_from_timet_with_zone(answer + h * 3600, 0, utc);
		int dst;
		int off = icaltimezone_get_utc_offset_of_utc_time(zone, &probe, &dst);
		time_t cand = wall - off;
		struct icaltimetype at = icaltime_from_timet_with_zone(cand, 0, utc);
		if (icaltimezone_get_utc_offset_of_utc_time(zone, &at, &dst) == off && cand < best) best = cand;
	}
	return best;
}

/* seconds writes the Unix time of property kind of ev into out; 0 on success. */
static int seconds(icalcomponent *cal, icalcomponent *ev, icalproperty_kind kind, char *out, size_t size, const char **why) {
	icalproperty *p = icalcomponent_get_first_property(ev, kind);
	if (!p) { out[0] = 0; return 0; }
	struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));
	icaltimezone *zone = icaltimezone_get_utc_timezone();
	icalparameter *param = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (param) {
		const char *tzid = icalparameter_get_tzid(param);
		zone = icalcomponent_get_timezone(cal, tzid);
		if (!zone) { *why = "TZID not resolved to the file's VTIMEZONE"; return -1; }
	} else if (!icaltime_is_utc(t)) {
		*why = "floating time";
		return -1;
	}
	snprintf(out, size, "%lld", (long long)first_occurrence(t, zone));
	return 0;
}

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		char *text = slurp(argv[i]);
		icalcomponent *cal = icalparser_parse_string(text);
		if (!cal) { fprintf(stderr, "%s: parse failed: %s\n", argv[i], icalerror_strerror(icalerrno)); return 1; }
		for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
		     ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
			const char *uid = icalcomponent_get_uid(ev);
			char start[32], end[32];
			const char *why = "";
			if (seconds(cal, ev, ICAL_DTSTART_PROPERTY, start, sizeof start, &why) ||
			    seconds(cal, ev, ICAL_DTEND_PROPERTY, end, sizeof end, &why)) {
				printf("ERR\t%s\t%s\n", uid ? uid : "", why);
				continue;
			}
			printf("%s\t%s\t%s\n", uid ? uid : "", start, end);
		}
		icalcomponent_free(cal);
		free(text);
	}
	return 0;
}
