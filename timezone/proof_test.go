package timezone

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/confcal/confcal/internal/tztest"
)

// TestEveryZoneRoundTrip checks every zone of Names() at every transition
// from 1970 to 2037 (one hour before, at, and one hour after it) and at fixed
// instants: the local wall time of the instant, read back through the
// serialized VTIMEZONE by an independent reader (vtzReader below, which never
// consults time.Location), must give the instant again.
//
// An instant in the second occurrence of a repeated wall time (clocks going
// back) cannot be written as TZID plus local time: RFC 5545 §3.3.5 reads such
// a time as the first occurrence. Those instants are counted: each must read
// back as its first occurrence, and their number must equal the number of
// such instants the database gives.
func TestEveryZoneRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("every zone: skipped in -short mode")
	}
	var zones, instants, second, wantSecond, failures int
	for _, name := range Names() {
		loc, err := Load(name)
		if err != nil {
			t.Fatalf("Load(%q): %v", name, err)
		}
		if loc == time.UTC {
			continue // no VTIMEZONE: UTC times are written with Z
		}
		zones++
		readers := map[int]*vtzReader{}
		for _, at := range tztest.ProbeInstants(loc) {
			instants++
			first, isSecond := tztest.FirstOccurrence(loc, at)
			if isSecond {
				wantSecond++
			}
			year := at.UTC().Year()
			r := readers[year]
			if r == nil {
				text := VTimezone(loc, at, at).Serialize(&ics.SerializationConfiguration{MaxLength: 75, PropertyMaxLength: 75, NewLine: "\r\n"})
				if r, err = parseVTimezone(text, 2040); err != nil {
					t.Fatalf("%s %d: %v\n%s", name, year, err, text)
				}
				if r.tzid != name {
					t.Fatalf("%s: TZID %q", name, r.tzid)
				}
				readers[year] = r
			}
			wall := at.In(loc)
			local := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
			got, err := r.toUTC(local)
			switch {
			case err == nil && got.Equal(at):
			case err == nil && isSecond && got.Equal(first):
				second++
			default:
				failures++
				if failures <= 20 {
					t.Errorf("%s: %s (local %s): VTIMEZONE gives %s, %v", name, at.Format(time.RFC3339), local.Format(localFormat), got.Format(time.RFC3339), err)
				}
			}
		}
	}
	if second != wantSecond {
		t.Errorf("second occurrences read as first: %d, want %d", second, wantSecond)
	}
	t.Logf("%d zones × instants: %d instants checked, %d failures, %d second occurrences of repeated wall times (read as the first, per RFC 5545)", zones, instants, failures, second)
}

// vtzReader interprets a serialized VTIMEZONE the way RFC 5545 §3.6.5 says,
// without the time package's zone logic: it only does arithmetic on UTC
// times.
type vtzReader struct {
	tzid   string
	onsets []vtzOnset // sorted by instant
}

type vtzOnset struct {
	at       time.Time // UTC
	from, to time.Duration
}

// parseVTimezone reads the STANDARD and DAYLIGHT observances of text and
// expands their DTSTART, RDATEs and yearly RRULEs through the year until.
func parseVTimezone(text string, until int) (*vtzReader, error) {
	if strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n") {
		return nil, fmt.Errorf("line ending other than CRLF")
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n ", ""), "\r\n")
	r := &vtzReader{}
	var props map[string][]string
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, ";")
		switch {
		case name == "TZID" && props == nil:
			r.tzid = value
		case name == "BEGIN" && (value == "STANDARD" || value == "DAYLIGHT"):
			props = map[string][]string{}
		case name == "END" && (value == "STANDARD" || value == "DAYLIGHT"):
			onsets, err := expandObservance(props, until)
			if err != nil {
				return nil, err
			}
			r.onsets = append(r.onsets, onsets...)
			props = nil
		case props != nil:
			props[name] = append(props[name], value)
		}
	}
	if len(r.onsets) == 0 {
		return nil, fmt.Errorf("no observances")
	}
	slices.SortFunc(r.onsets, func(a, b vtzOnset) int { return a.at.Compare(b.at) })
	return r, nil
}

func expandObservance(props map[string][]string, until int) ([]vtzOnset, error) {
	one := func(name string) (string, error) {
		if len(props[name]) != 1 {
			return "", fmt.Errorf("want one %s, got %q", name, props[name])
		}
		return props[name][0], nil
	}
	dtstart, err := one("DTSTART")
	if err != nil {
		return nil, err
	}
	var offsets [2]time.Duration
	for i, name := range []string{"TZOFFSETFROM", "TZOFFSETTO"} {
		v, err := one(name)
		if err != nil {
			return nil, err
		}
		if offsets[i], err = parseUTCOffset(v); err != nil {
			return nil, err
		}
	}
	from, to := offsets[0], offsets[1]
	start, err := time.Parse(localFormat, dtstart)
	if err != nil {
		return nil, err
	}
	locals := []time.Time{start}
	for _, rdates := range props["RDATE"] {
		for v := range strings.SplitSeq(rdates, ",") {
			d, err := time.Parse(localFormat, v)
			if err != nil {
				return nil, err
			}
			locals = append(locals, d)
		}
	}
	for _, rule := range props["RRULE"] {
		more, err := expandYearly(rule, start, until)
		if err != nil {
			return nil, err
		}
		locals = append(locals, more...)
	}
	var out []vtzOnset
	for _, l := range locals {
		out = append(out, vtzOnset{at: l.Add(-from), from: from, to: to})
	}
	return out, nil
}

// parseUTCOffset reads ±hhmm[ss].
func parseUTCOffset(v string) (time.Duration, error) {
	if (len(v) != 5 && len(v) != 7) || (v[0] != '+' && v[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset %q", v)
	}
	var parts [3]int
	for i := 0; 1+2*i < len(v); i++ {
		n, err := strconv.Atoi(v[1+2*i : 3+2*i])
		if err != nil {
			return 0, fmt.Errorf("bad UTC offset %q", v)
		}
		parts[i] = n
	}
	d := time.Duration(parts[0])*time.Hour + time.Duration(parts[1])*time.Minute + time.Duration(parts[2])*time.Second
	if v[0] == '-' {
		if d == 0 {
			return 0, fmt.Errorf("UTC offset %q: -0000 is not allowed", v)
		}
		d = -d
	}
	return d, nil
}

// expandYearly expands FREQ=YEARLY;BYMONTH=m;BYDAY=nDD from start (a local
// time) through the year until, including start's own year. No other form
// is accepted.
func expandYearly(rule string, start time.Time, until int) ([]time.Time, error) {
	parts := map[string]string{}
	for p := range strings.SplitSeq(rule, ";") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	if len(parts) != 3 || parts["FREQ"] != "YEARLY" {
		return nil, fmt.Errorf("unsupported RRULE %q", rule)
	}
	month, err := strconv.Atoi(parts["BYMONTH"])
	if err != nil {
		return nil, fmt.Errorf("RRULE %q: %v", rule, err)
	}
	byday := parts["BYDAY"]
	if len(byday) < 3 {
		return nil, fmt.Errorf("RRULE %q: bad BYDAY", rule)
	}
	n, err := strconv.Atoi(byday[:len(byday)-2])
	if err != nil || n == 0 || n < -5 || n > 5 {
		return nil, fmt.Errorf("RRULE %q: bad BYDAY", rule)
	}
	weekday := slices.Index([]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}, byday[len(byday)-2:])
	if weekday < 0 {
		return nil, fmt.Errorf("RRULE %q: bad BYDAY", rule)
	}
	clock := start.Sub(start.Truncate(24 * time.Hour))
	var out []time.Time
	for y := start.Year(); y <= until; y++ {
		// Every day of the month that is the weekday, then the n-th of them.
		var days []time.Time
		for d := time.Date(y, time.Month(month), 1, 0, 0, 0, 0, time.UTC); d.Month() == time.Month(month); d = d.AddDate(0, 0, 1) {
			if int(d.Weekday()) == weekday {
				days = append(days, d)
			}
		}
		i := n - 1
		if n < 0 {
			i = len(days) + n
		}
		if i < 0 || i >= len(days) {
			continue
		}
		if occ := days[i].Add(clock); !occ.Before(start) {
			out = append(out, occ)
		}
	}
	if len(out) == 0 || !out[0].Equal(start) {
		return nil, fmt.Errorf("RRULE %q does not fire at DTSTART %s", rule, start.Format(localFormat))
	}
	return out[1:], nil // start itself is the DTSTART onset
}

// toUTC converts a local wall time (given as a UTC time with the same
// fields) to the instant it denotes: the earliest instant whose observance
// maps to it (RFC 5545 §3.3.5: the first occurrence of a repeated time).
func (r *vtzReader) toUTC(local time.Time) (time.Time, error) {
	var best time.Time
	for i, o := range r.onsets {
		u := local.Add(-o.to)
		if u.Before(o.at) || (i+1 < len(r.onsets) && !u.Before(r.onsets[i+1].at)) {
			continue
		}
		if best.IsZero() || u.Before(best) {
			best = u
		}
	}
	if best.IsZero() {
		if len(r.onsets) > 0 && local.Add(-r.onsets[0].from).Before(r.onsets[0].at) {
			return time.Time{}, fmt.Errorf("%s is before the first observance", local.Format(localFormat))
		}
		return time.Time{}, fmt.Errorf("%s does not exist (gap)", local.Format(localFormat))
	}
	return best, nil
}

// FuzzVTimezone checks the VTIMEZONE of any zone over any span a session
// may have, from 1900 to 9999, as TestEveryZoneRoundTrip does for each
// transition from 1970 to 2037: the wall time of each probed instant,
// read back through the serialized VTIMEZONE by vtzReader, gives the
// instant again (or its first occurrence, when the wall time repeats).
// The probes are the span's ends and, within it, each transition with the
// instants an hour either side.
func FuzzVTimezone(f *testing.F) {
	names := Names()
	index := func(name string) uint16 { return uint16(slices.Index(names, name)) }
	for _, seed := range []struct {
		zone  string
		at    time.Time
		hours uint16
	}{
		{"Europe/Berlin", time.Date(2024, 3, 30, 0, 0, 0, 0, time.UTC), 72},
		{"America/St_Johns", time.Date(1905, 6, 1, 0, 0, 0, 0, time.UTC), 20000},
		{"Australia/Lord_Howe", time.Date(2150, 10, 1, 0, 0, 0, 0, time.UTC), 9000},
		{"Pacific/Kiritimati", time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC), 24},
		{"America/Sao_Paulo", time.Date(1963, 10, 1, 0, 0, 0, 0, time.UTC), 65535},
	} {
		f.Add(index(seed.zone), seed.at.Unix(), seed.hours)
	}
	earliest := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	latest := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, zone uint16, unix int64, hours uint16) {
		name := names[int(zone)%len(names)]
		loc, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if loc == time.UTC {
			return
		}
		span := latest.Unix() - earliest
		from := time.Unix(earliest+(unix%span+span)%span, 0).UTC()
		to := from.Add(time.Duration(hours) * time.Hour)
		if to.After(latest) {
			to = latest
		}
		text := serialize(VTimezone(loc, from, to))
		r, err := parseVTimezone(text, to.Year()+1)
		if err != nil {
			t.Fatalf("%s, %s to %s: %v\n%s", name, from, to, err, text)
		}
		probes := []time.Time{from, to}
		_, next := from.In(loc).ZoneBounds()
		for n := 0; !next.IsZero() && !next.After(to) && n < 100; n++ {
			for _, at := range []time.Time{next.Add(-time.Hour), next, next.Add(time.Hour)} {
				if !at.Before(from) && !at.After(to) {
					probes = append(probes, at.UTC())
				}
			}
			_, next = next.In(loc).ZoneBounds()
		}
		for _, at := range probes {
			wall := at.In(loc)
			local := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
			got, err := r.toUTC(local)
			if first, isSecond := tztest.FirstOccurrence(loc, at); err != nil || !got.Equal(at) && !(isSecond && got.Equal(first)) {
				t.Errorf("%s, span %s to %s: %s (local %s): VTIMEZONE gives %s, %v\n%s", name, from.Format(time.RFC3339), to.Format(time.RFC3339),
					at.Format(time.RFC3339), local.Format(localFormat), got.Format(time.RFC3339), err, text)
			}
		}
	})
}
