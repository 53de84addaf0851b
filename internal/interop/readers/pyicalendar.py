"""Reads an iCalendar file with python-icalendar and prints one line per
VEVENT: UID, DTSTART and DTEND as Unix seconds, tab-separated.

icalendar turns each VTIMEZONE whose TZID is not a zone pytz knows into a
tzinfo (Timezone.to_tz) as it parses; a DTSTART whose TZID names such a
VTIMEZONE resolves to that tzinfo, built from the file. A TZID that pytz knows
(Europe/Berlin) resolves to pytz's zone, as Python clients read real feeds. For a local time
that occurs twice (the overlap when clocks go back) RFC 5545 §3.3.5 means the
first occurrence, so both readings are asked of the tzinfo and the earlier one
wins; pytz's own default would take the second.
"""
import sys

import pytz
from icalendar import Calendar
from icalendar.timezone_cache import _timezone_cache


def seconds(ev, name):
    if name not in ev:
        return ''
    prop = ev[name]
    tzid = prop.params.get('TZID')
    if not tzid:
        return str(int(prop.dt.timestamp()))
    if tzid in _timezone_cache and tzid not in pytz.all_timezones:
        tz = _timezone_cache[tzid]  # built from the file's VTIMEZONE
    elif tzid in pytz.all_timezones:
        tz = pytz.timezone(tzid)  # a zone it knows by name, as a Python client reads it
    else:
        raise ValueError('%s: TZID %s resolved neither to the file\'s VTIMEZONE nor to a known zone' % (name, tzid))
    naive = prop.dt.replace(tzinfo=None)
    try:
        aware = tz.localize(naive, is_dst=None)
    except pytz.exceptions.AmbiguousTimeError:
        aware = min(tz.localize(naive, is_dst=True), tz.localize(naive, is_dst=False))
    except pytz.exceptions.NonExistentTimeError:
        aware = tz.localize(naive, is_dst=False)
    return str(int(aware.timestamp()))


def main():
    out = []
    for path in sys.argv[1:]:
        with open(path, 'rb') as f:
            cal = Calendar.from_ical(f.read())
        for ev in cal.walk('VEVENT'):
            uid = str(ev.get('UID'))
            try:
                out.append('\t'.join([uid, seconds(ev, 'DTSTART'), seconds(ev, 'DTEND')]))
            except Exception as e:  # report per event, keep reading
                out.append('\t'.join(['ERR', uid, ' '.join(str(e).split())]))
    sys.stdout.write(''.join(line + '\n' for line in out))


if __name__ == '__main__':
    main()
