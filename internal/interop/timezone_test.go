package interop_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/confcal/confcal/internal/interop"
	"github.com/confcal/confcal/internal/tztest"
	"github.com/confcal/confcal/timezone"
)

// TestVTimezoneEveryZone writes, for every zone, one VEVENT per probe instant
// (each transition from 1970 to 2037, one hour either side of it, and fixed
// instants) with DTSTART as TZID plus local time, and the VTIMEZONE that
// timezone.VTimezone builds for the instant's year. Each reader must read
// every event at the instant the tz database gives.
//
// The TZIDs are renamed to X-test/<zone>/<year> so that no reader can fall
// back on a zone it knows by name: only the VTIMEZONE in the file counts.
// Instants in the second occurrence of a repeated wall time are read, per
// RFC 5545 §3.3.5, as the first occurrence; they are counted, not failed.
func TestVTimezoneEveryZone(t *testing.T) {
	if testing.Short() {
		t.Skip("every zone: skipped in -short mode")
	}
	cals, want := everyZoneCalendars(t)
	dir := t.TempDir()
	var files []string
	for i, cal := range cals {
		if i == 0 {
			if _, err := ics.ParseCalendar(strings.NewReader(string(cal))); err != nil {
				t.Fatalf("golang-ical cannot parse the test calendar: %v", err)
			}
		}
		file := filepath.Join(dir, fmt.Sprintf("zone%03d.ics", i))
		if err := os.WriteFile(file, cal, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	for _, r := range interop.Readers() {
		t.Run(r.Name, func(t *testing.T) {
			interop.Require(t, r)
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			started := time.Now()
			events, err := r.ReadFiles(ctx, files...)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != len(want) {
				t.Fatalf("read %d events, want %d", len(events), len(want))
			}
			var failures, second, wantSecond, rounded int
			zones := map[string]bool{}
			for _, ev := range events {
				w, ok := want[ev.UID]
				if !ok {
					t.Fatalf("unexpected UID %q", ev.UID)
				}
				zones[w.zone] = true
				if w.second {
					wantSecond++
				}
				switch {
				case ev.Err == "" && ev.Start.Equal(w.at) && ev.End.Equal(w.at.Add(time.Hour)):
				case ev.Err == "" && w.second && ev.Start.Equal(w.first):
					second++
				case ev.Err == "" && w.offset%60 != 0 &&
					ev.Start.Sub(w.at).Abs() < time.Minute && ev.End.Equal(w.at.Add(time.Hour)):
					// python-icalendar rounds UTC offsets to whole minutes
					// (Timezone._extract_offsets) and ical.js drops their
					// seconds: library limitations, reachable only with
					// offsets such as Africa/Monrovia's -0:44:30 (until 1972),
					// which the VTIMEZONE writes exactly (-004430).
					rounded++
				default:
					failures++
					if failures <= 20 {
						t.Errorf("%s: %s at local %s: read %s %s", w.zone, w.at.Format(time.RFC3339), w.local, ev.Start.Format(time.RFC3339), ev.Err)
					}
				}
			}
			if second != wantSecond {
				t.Errorf("second occurrences read as first: %d, want %d", second, wantSecond)
			}
			t.Logf("%s: %d zones, %d events, %d failures, %d second occurrences read as first (RFC 5545), %d with UTC offset seconds dropped by the reader, %s",
				r.Name, len(zones), len(events), failures, second, rounded, time.Since(started).Round(time.Millisecond))
		})
	}
}

// expectation is what an event of the test calendar must be read as.
type expectation struct {
	zone   string
	at     time.Time // the instant DTSTART stands for
	local  string    // DTSTART as written
	second bool      // local also names an earlier instant…
	first  time.Time // …this one
	offset int       // UTC offset at, in seconds
}

// everyZoneCalendars returns one calendar per zone and what each of their
// events must be read as, by UID.
func everyZoneCalendars(t *testing.T) ([][]byte, map[string]expectation) {
	t.Helper()
	var cals [][]byte
	want := map[string]expectation{}
	crlf := &ics.SerializationConfiguration{MaxLength: 75, PropertyMaxLength: 75, NewLine: "\r\n"}
	for _, name := range timezone.Names() {
		loc, err := timezone.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if loc == time.UTC {
			continue
		}
		var b, events strings.Builder
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//confcal//interop test//EN\r\n")
		written := map[int]string{}
		for _, at := range tztest.ProbeInstants(loc) {
			year := at.Year()
			tzid, ok := written[year]
			if !ok {
				tzid = fmt.Sprintf("X-test/%s/%d", name, year)
				vt := timezone.VTimezone(loc, at, at).Serialize(crlf)
				// The VTIMEZONE is shared and read-only: rename in its text.
				b.WriteString(strings.Replace(vt, "\r\nTZID:"+name+"\r\n", "\r\nTZID:"+tzid+"\r\n", 1))
				written[year] = tzid
			}
			local := at.In(loc).Format("20060102T150405")
			uid := name + "/" + strconv.FormatInt(at.Unix(), 10)
			first, second := tztest.FirstOccurrence(loc, at)
			_, offset := at.In(loc).Zone()
			want[uid] = expectation{zone: name, at: at, local: local, second: second, first: first, offset: offset}
			events.WriteString("BEGIN:VEVENT\r\n")
			writeFolded(&events, "UID:"+uid)
			events.WriteString("DTSTAMP:20220722T000000Z\r\n")
			writeFolded(&events, "DTSTART;TZID="+tzid+":"+local)
			events.WriteString("DTEND:" + at.Add(time.Hour).Format("20060102T150405Z") + "\r\n")
			events.WriteString("SUMMARY:probe\r\nEND:VEVENT\r\n")
		}
		b.WriteString(events.String())
		b.WriteString("END:VCALENDAR\r\n")
		cals = append(cals, []byte(b.String()))
	}
	return cals, want
}

// writeFolded writes a content line, folded at 75 octets (RFC 5545 §3.1).
func writeFolded(b *strings.Builder, line string) {
	for len(line) > 75 {
		b.WriteString(line[:75] + "\r\n ")
		line = line[75:]
	}
	b.WriteString(line + "\r\n")
}
