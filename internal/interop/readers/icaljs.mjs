// Reads an iCalendar file with ical.js (the engine of Thunderbird) and prints
// one line per VEVENT: UID, DTSTART and DTEND as Unix seconds, tab-separated.
// A DTSTART with a TZID must resolve to a VTIMEZONE of the file itself, not to
// a zone ical.js knows by name. For a local time that occurs twice (the
// overlap when clocks go back) RFC 5545 §3.3.5 means the first occurrence,
// but ical.js returns the later one; so every offset ical.js gives the zone
// within a day of its answer is tried, and the earliest instant whose offset
// agrees wins. The offsets are still ical.js's own, from the file.
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

// expanded caches changeTimes per zone.
const expanded = new Map();

const out = [];
for (const path of process.argv.slice(2)) {
  const cal = new ICAL.Component(ICAL.parse(readFileSync(path, 'utf8')));
  for (const ev of cal.getAllSubcomponents('vevent')) {
    const uid = ev.getFirstPropertyValue('uid');
    try {
      out.push([uid, seconds(ev, 'dtstart'), seconds(ev, 'dtend')].join('\t'));
    } catch (e) {
      out.push(['ERR', uid, String(e.message).replace(/\s+/g, ' ')].join('\t'));
    }
  }
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));

function seconds(ev, name) {
  const prop = ev.getFirstProperty(name);
  if (!prop) return '';
  const t = prop.getFirstValue();
  const tzid = prop.getParameter('tzid');
  if (tzid && (!t.zone || t.zone.tzid !== tzid || !t.zone.component)) {
    throw new Error(`${name}: TZID ${tzid} not resolved to the file's VTIMEZONE`);
  }
  if (!tzid) return String(t.toUnixTime());
  return String(firstOccurrence(t, t.zone));
}

function firstOccurrence(t, zone) {
  const answer = t.toUnixTime();
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) / 1000;
  const changes = changeTimes(zone, t.year);
  // The offsets in effect within a day of the answer.
  const offsets = new Set([offsetAt(changes, answer)]);
  for (const c of changes) {
    if (Math.abs(c.at - answer) <= 26 * 3600) offsets.add(c.utcOffset).add(c.prevUtcOffset);
  }
  let best = answer;
  for (const off of offsets) {
    const cand = wall - off;
    if (offsetAt(changes, cand) === off && cand < best) best = cand;
  }
  return best;
}

// changeTimes returns ical.js's own expansion of zone (Timezone.changes, kept
// in UTC) through year + 1, with each change's instant as Unix seconds.
function changeTimes(zone, year) {
  let e = expanded.get(zone);
  if (!e || e.year < year + 1) {
    zone._ensureCoverage(year + 1);
    e = {
      year: year + 1,
      changes: zone.changes.map((c) => ({
        at: Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) / 1000,
        utcOffset: c.utcOffset,
        prevUtcOffset: c.prevUtcOffset,
      })),
    };
    expanded.set(zone, e);
  }
  return e.changes;
}

// offsetAt returns the UTC offset in seconds at Unix time secs.
function offsetAt(changes, secs) {
  let lo = 0, hi = changes.length; // first change after secs
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (changes[mid].at <= secs) lo = mid + 1; else hi = mid;
  }
  return lo === 0 ? changes[0].prevUtcOffset : changes[lo - 1].utcOffset;
}
