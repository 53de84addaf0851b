package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confcal/confcal/fixtures"
	"github.com/confcal/confcal/timezone"
)

// wantEvent is what a test checks of one event, found by GUID.
type wantEvent struct {
	guid     string
	id       string
	start    string // RFC 3339 in UTC
	duration time.Duration
	room     string
	online   bool
	track    string
	color    string
	speakers []string // slugs
}

func TestParseFiles(t *testing.T) {
	tests := []struct {
		file     string
		opts     ParseOptions
		acronym  string
		zone     string
		venue    string
		events   int
		days     []string
		tracks   []string
		speakers []string
		updated  string
		warnings []string // substrings, one per warning, in order
		want     []wantEvent
	}{
		{
			file:     "decode/legacy-pentabarf.xml",
			opts:     ParseOptions{TimeZone: "Europe/Brussels"},
			acronym:  "fosdem-2024",
			zone:     "Europe/Brussels",
			venue:    "ULB (Université Libre de Bruxelles), Brussels",
			events:   5,
			days:     []string{"2024-02-03", "2024-02-04"},
			tracks:   []string{"community", "go", "keynotes"},
			speakers: []string{"fosdem-staff", "jurgen-schmidhuber", "richard-hartmann", "zihao-deng"},
			updated:  "2024-02-03T00:00:00Z",
			warnings: []string{`schedule/conference: no acronym; using "fosdem-2024" from the title`},
			want: []wantEvent{
				{guid: "3f1d8f0e-7d5a-4f43-9a52-0c1d5f2b7a01", id: "15870", start: "2024-02-03T08:30:00Z", duration: 25 * time.Minute,
					room: "Janson", track: "Keynotes", speakers: []string{"fosdem-staff", "richard-hartmann"}},
				{guid: "3f1d8f0e-7d5a-4f43-9a52-0c1d5f2b7a02", id: "15871", start: "2024-02-03T22:00:00Z", duration: time.Hour,
					room: "Janson", track: "Community", speakers: []string{"jurgen-schmidhuber"}},
				// Listed on Feb 3 after the 23:00 session: it happens on Feb 4.
				{guid: "3f1d8f0e-7d5a-4f43-9a52-0c1d5f2b7a03", id: "15872", start: "2024-02-03T23:30:00Z", duration: 45 * time.Minute,
					room: "Janson", track: "Community"},
				// Earlier than Janson's first session, but first in its own room: same day.
				{guid: "3f1d8f0e-7d5a-4f43-9a52-0c1d5f2b7a04", id: "15880", start: "2024-02-03T08:00:00Z", duration: 90 * time.Minute,
					room: "K.1.105 (La Fontaine)", track: "Go", speakers: []string{"zihao-deng"}},
				{guid: "3f1d8f0e-7d5a-4f43-9a52-0c1d5f2b7a05", id: "15900", start: "2024-02-04T16:00:00Z", duration: 15 * time.Minute,
					room: "Janson", track: "Keynotes", speakers: []string{"fosdem-staff"}},
			},
		},
		{
			file:     "decode/frab.xml",
			acronym:  "gpn22",
			zone:     "Europe/Berlin",
			events:   3,
			days:     []string{"2024-03-30", "2024-03-31"},
			tracks:   []string{"hardware", "software"},
			speakers: []string{"zhangyang-atlas-wang"},
			updated:  "2024-03-29T18:00:00Z", // from <version>
			want: []wantEvent{
				// 23:30 CET for two hours: the clocks skip 02:00–03:00, it ends 02:30 CEST.
				{guid: "0d6d0a56-93a7-5c5c-9d5f-000000000001", id: "101", start: "2024-03-30T22:30:00Z", duration: 2 * time.Hour,
					room: "Medientheater", track: "Hardware", color: "#ff8800", speakers: []string{"zhangyang-atlas-wang"}},
				{guid: "0d6d0a56-93a7-5c5c-9d5f-000000000002", id: "102", start: "2024-03-31T08:00:00Z", duration: 45 * time.Minute,
					room: "Medientheater", track: "Software", color: "#0088ff", speakers: []string{"zhangyang-atlas-wang"}},
				// No <date>; 01:30 is before the day's start (10:00), so April 1, CEST.
				{guid: "0d6d0a56-93a7-5c5c-9d5f-000000000003", id: "103", start: "2024-03-31T23:30:00Z", duration: 30 * time.Minute,
					room: "Medientheater"},
			},
		},
		{
			file:     "decode/pretalx.json",
			acronym:  "democon",
			zone:     "America/New_York",
			events:   3,
			days:     []string{"2024-06-10"},
			tracks:   []string{"machine-learning"},
			speakers: []string{"ana-lima", "ana-lima-7c27", "brian-robinson"},
			updated:  "2024-06-10T00:00:00Z",
			warnings: []string{`schedule.conference.tracks[1].color: "not-a-colour" is not a colour`,
				`schedule.conference.days[0].rooms["Gray Room"][1].end: 2024-06-10T11:15:00-04:00 is 1:15 after the start, but the duration is 00:30; using the end`},
			want: []wantEvent{
				{guid: "6b1e6f9c-6d0e-5b43-9a1c-6f3e7b8a0001", id: "Q9ZX7K", start: "2024-06-10T13:00:00Z", duration: 30 * time.Minute,
					room: "Gray Room", track: "Machine Learning", color: "#1f77b4", speakers: []string{"brian-robinson", "ana-lima"}},
				// end overrides duration; a null track is no track.
				{guid: "6b1e6f9c-6d0e-5b43-9a1c-6f3e7b8a0002", id: "42", start: "2024-06-10T14:00:00Z", duration: 75 * time.Minute,
					room: "Gray Room"},
				// A room of type "online"; "Ana Líma" is another person than "Ana Lima".
				{guid: "6b1e6f9c-6d0e-5b43-9a1c-6f3e7b8a0003", id: "RM3N5T", start: "2024-06-10T17:00:00Z", duration: 90 * time.Minute,
					room: "Stream", online: true, speakers: []string{"ana-lima-7c27", "ana-lima"}},
			},
		},
		{
			file:     "decode/frab.json",
			acronym:  "camp2024",
			zone:     "Europe/Berlin",
			events:   3,
			days:     []string{"2024-03-30", "2024-03-31"},
			tracks:   []string{"ccc", "science"},
			speakers: []string{"jinxx", "smtw"},
			updated:  "2024-03-30T00:00:00Z",
			want: []wantEvent{
				{guid: "a0a0fcfe-b7fb-46e3-84b6-000000000001", id: "1", start: "2024-03-30T10:00:00Z", duration: 30 * time.Minute,
					room: "Curie", track: "CCC", speakers: []string{"jinxx", "smtw"}},
				// No date: 01:30 is before day_start, so the 31st, still CET.
				{guid: "a0a0fcfe-b7fb-46e3-84b6-000000000002", id: "2", start: "2024-03-31T00:30:00Z", duration: time.Hour,
					room: "Curie", track: "CCC", speakers: []string{"smtw"}},
				{guid: "a0a0fcfe-b7fb-46e3-84b6-000000000003", id: "3", start: "2024-03-31T09:00:00Z", duration: 45 * time.Minute,
					room: "Meitner", track: "Science", speakers: []string{"jinxx"}},
			},
		},
		{
			file:     "pretalx-democon.json",
			acronym:  "democon",
			zone:     "UTC",
			events:   36,
			days:     []string{"2020-12-14", "2020-12-15", "2020-12-16"},
			tracks:   []string{"horizontal", "phased"},
			updated:  "2020-12-14T00:00:00Z",
			warnings: []string{`schedule.conference.days[0].rooms["Gray Room"][0].date: 2020-12-14T09:00:00+01:00 has UTC offset +01:00, but UTC is at +00:00 then; using the instant as written (and 35 more events like this)`},
			want: []wantEvent{
				{guid: "8079583e-8321-506c-95af-fd2903a5f075", id: "25", start: "2020-12-14T08:00:00Z", duration: 30 * time.Minute,
					room: "Gray Room", track: "Phased", speakers: []string{"brian-robinson"}},
			},
		},
		{
			file:    "frab-camp2019.json",
			acronym: "Camp2019",
			zone:    "Europe/Berlin",
			events:  79,
			days:    []string{"2019-08-21", "2019-08-22", "2019-08-23", "2019-08-24", "2019-08-25"},
			tracks:  []string{"art-culture", "ccc", "entertainment", "ethics-society-politics", "hardware-making", "science", "security"},
			updated: "2019-08-21T00:00:00Z",
			want: []wantEvent{
				{guid: "a0a0fcfe-b7fb-46e3-84b6-97a5406016b4", id: "10386", start: "2019-08-21T09:00:00Z", duration: 30 * time.Minute,
					room: "Curie", track: "CCC", speakers: []string{"jinxx", "smtw"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := mustReadFile(t, filepath.Join("testdata", tc.file))
			opts := tc.opts
			opts.Source = filepath.Base(tc.file)
			s, err := Parse(data, opts)
			if err != nil {
				t.Fatal(err)
			}
			c := s.Conference
			if c.Acronym != tc.acronym || c.TimeZone != tc.zone || c.Location.String() != tc.zone || c.Venue != tc.venue {
				t.Errorf("conference = %q, zone %q (%v), venue %q; want %q, %q, %q", c.Acronym, c.TimeZone, c.Location, c.Venue, tc.acronym, tc.zone, tc.venue)
			}
			if len(s.Events) != tc.events {
				t.Errorf("%d events, want %d", len(s.Events), tc.events)
			}
			var days []string
			for _, d := range c.Days {
				days = append(days, d.Date)
			}
			if !slices.Equal(days, tc.days) {
				t.Errorf("days = %q, want %q", days, tc.days)
			}
			if got := pluck(s.Tracks, func(t Track) string { return t.Slug }); !slices.Equal(got, tc.tracks) {
				t.Errorf("tracks = %q, want %q", got, tc.tracks)
			}
			if tc.speakers != nil {
				if got := pluck(s.Speakers, func(p Speaker) string { return p.Slug }); !slices.Equal(got, tc.speakers) {
					t.Errorf("speakers = %q, want %q", got, tc.speakers)
				}
			}
			if got := s.Updated.Format(time.RFC3339); got != tc.updated {
				t.Errorf("Updated = %s, want %s", got, tc.updated)
			}
			if s.Version != contentVersion(data) || len(s.Version) != 32 {
				t.Errorf("Version = %q, want %q", s.Version, contentVersion(data))
			}
			if len(s.Warnings) != len(tc.warnings) {
				t.Errorf("warnings = %q, want %d like %q", s.Warnings, len(tc.warnings), tc.warnings)
			} else {
				for i, w := range tc.warnings {
					if !strings.Contains(s.Warnings[i], w) || !strings.HasPrefix(s.Warnings[i], opts.Source+": ") {
						t.Errorf("warning %d = %q, want %q", i, s.Warnings[i], w)
					}
				}
			}
			for _, w := range tc.want {
				e, ok := s.Event(w.guid)
				if !ok {
					t.Errorf("no event %s", w.guid)
					continue
				}
				if got := e.Start.Format(time.RFC3339); got != w.start || e.Start.Location() != time.UTC {
					t.Errorf("%s: start %s (%v), want %s UTC", w.guid, got, e.Start.Location(), w.start)
				}
				if e.ID != w.id || e.Duration != w.duration || e.Room != w.room || e.Online != w.online {
					t.Errorf("%s: id %q, %v, room %q, online %v; want %q, %v, %q, %v", w.guid, e.ID, e.Duration, e.Room, e.Online, w.id, w.duration, w.room, w.online)
				}
				if e.Track.Name != w.track || e.Track.Color != w.color {
					t.Errorf("%s: track %q %q, want %q %q", w.guid, e.Track.Name, e.Track.Color, w.track, w.color)
				}
				if got := pluck(e.Speakers, func(p Speaker) string { return p.Slug }); !slices.Equal(got, w.speakers) {
					t.Errorf("%s: speakers %q, want %q", w.guid, got, w.speakers)
				}
			}
		})
	}
}

func pluck[T any](items []T, slug func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, slug(it))
	}
	return out
}

func mustReadFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestParseRealExports checks what the real exports hold beyond the table.
func TestParseRealExports(t *testing.T) {
	s, err := Parse(mustReadFile(t, "testdata/frab-camp2019.json"), ParseOptions{Source: "camp2019.json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Speakers) != 90 {
		t.Errorf("%d speakers, want 90", len(s.Speakers))
	}
	p, ok := s.Speaker("jinxx")
	if !ok || p.ID != "7797" || p.Name != "jinxx" {
		t.Errorf("speaker jinxx = %+v, %v", p, ok)
	}
	e, _ := s.Event("Camp2019-10386-opening_ceremony")
	if e.Title != "Opening Ceremony" || e.URL != "https://fahrplan.events.ccc.de/camp/2019/Fahrplan/events/10386.html" || e.Language != "en" || e.Type != "lecture" {
		t.Errorf("opening = %+v", e)
	}
	if c := s.Conference; c.Title != "Chaos Communication Camp 2019" || c.URL != "https://fahrplan.events.ccc.de/camp/2019/Fahrplan/" {
		t.Errorf("conference = %+v", c)
	}

	s, err = Parse(mustReadFile(t, "testdata/pretalx-democon.json"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Speakers) != 27 {
		t.Errorf("%d speakers, want 27", len(s.Speakers))
	}
	if p, ok := s.Speaker("brian-robinson"); !ok || p.ID != "NQTF8Y" {
		t.Errorf("speaker brian-robinson = %+v, %v: want the pretalx code as ID", p, ok)
	}
}

// TestParseDeterministic: the same bytes give the same schedule, stamp and
// version, and different bytes a different version.
func TestParseDeterministic(t *testing.T) {
	data := mustReadFile(t, "testdata/decode/frab.json")
	a, err := Parse(data, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseSchedule(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != b.Version || !a.Updated.Equal(b.Updated) || len(a.Events) != len(b.Events) {
		t.Errorf("two parses differ: %s %v, %s %v", a.Version, a.Updated, b.Version, b.Updated)
	}
	c, err := Parse(append(data, '\n'), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Version == a.Version {
		t.Errorf("a changed file kept version %s", a.Version)
	}
}

// A minimal valid document of each format, for error cases to break.
const (
	okJSON = `{"schedule": {"version": "1", "conference": {"acronym": "demo", "title": "Demo", "time_zone_name": "Europe/Berlin",
  "days": [{"index": 1, "date": "2024-03-30", "day_start": "2024-03-30T09:00:00+01:00", "day_end": "2024-03-31T03:00:00+02:00",
    "rooms": {"Hall A": [
      {"guid": "g1", "id": 1, "date": "2024-03-30T10:00:00+01:00", "start": "10:00", "duration": "00:30", "title": "One", "persons": []},
      {"guid": "g2", "id": 2, "date": "2024-03-30T11:00:00+01:00", "start": "11:00", "duration": "DURATION", "title": "Two", "persons": []}
    ]}}]}}}`
	okXML = `<?xml version="1.0"?>
<schedule>
  <version>1</version>
  <conference>
    <acronym>demo</acronym>
    <title>Demo</title>
    TZ
  </conference>
  <day index="1" date="2024-02-03">
    <room name="Janson">
      <event id="1" guid="g1">
        <start>09:30</start>
        <duration>00:30</duration>
        <title>One</title>
      </event>
      <event id="2" guid="g2">
        <start>10:30</start>
        <duration>DURATION</duration>
        <title>Two</title>
      </event>
    </room>
  </day>
</schedule>`
)

func TestParseErrors(t *testing.T) {
	tz := "<time_zone_name>Europe/Brussels</time_zone_name>"
	xmlDoc := func(duration, zone string) string {
		return strings.NewReplacer("DURATION", duration, "TZ", zone).Replace(okXML)
	}
	jsonDoc := func(old, new string) string {
		return strings.Replace(strings.Replace(okJSON, "DURATION", "01:00", 1), old, new, 1)
	}
	tests := []struct {
		name   string
		in     string
		opts   ParseOptions
		want   string // the whole message, after "test.x: "
		is     error
		line   int
		column int
	}{
		{name: "empty", in: " \n\t", want: "empty schedule", is: ErrEmpty},
		{name: "nothing", in: "", want: "empty schedule", is: ErrEmpty},
		{name: "unknown format", in: "BEGIN:VCALENDAR\r\n", want: ErrUnknownFormat.Error(), is: ErrUnknownFormat},
		{name: "html", in: "<!DOCTYPE html>\n<html><body>Not Found</body></html>", is: ErrUnknownFormat, line: 2, column: 1,
			want: ErrUnknownFormat.Error() + ": the root element is <html>, not <schedule>"},
		{name: "json syntax", in: "{\"schedule\": {\n  \"version\": \"1\",\n  \"conference\": {,}}}", line: 3, column: 18,
			want: "invalid JSON: invalid character ',' looking for beginning of object key string"},
		{name: "json truncated", in: "{\"schedule\": {", line: 1, column: 15, want: "invalid JSON: unexpected end of JSON input"},
		{name: "json array", in: "[1]", want: ErrUnknownFormat.Error(), is: ErrUnknownFormat},
		{name: "json no schedule", in: `{"version": "1"}`, want: "schedule: missing"},
		{name: "json days not an array", in: jsonDoc(`"days": [`, `"days": "none", "x": [`), want: "schedule.conference.days: want an array, got a string"},
		{name: "json duration minutes", in: strings.Replace(okJSON, "DURATION", "1:70", 1),
			want: `schedule.conference.days[0].rooms["Hall A"][1].duration: "1:70": minutes must be 0–59`},
		{name: "json duration garbage", in: strings.Replace(okJSON, "DURATION", "half an hour", 1),
			want: `schedule.conference.days[0].rooms["Hall A"][1].duration: "half an hour": want a duration like 01:30`},
		{name: "json duration missing", in: jsonDoc(`"duration": "00:30", `, ``),
			want: `schedule.conference.days[0].rooms["Hall A"][0].duration: missing duration`},
		{name: "json missing guid", in: jsonDoc(`"guid": "g1", `, ``),
			want: `schedule.conference.days[0].rooms["Hall A"][0].guid: event 1 ("One") has no guid`},
		{name: "json guid too long", in: jsonDoc(`"guid": "g1"`, `"guid": "`+strings.Repeat("g", 1025)+`"`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].guid: event 1 ("One") has a guid of 1025 bytes; at most 1024`},
		{name: "json acronym too long", in: jsonDoc(`"acronym": "demo"`, `"acronym": "`+strings.Repeat("d", 1025)+`"`),
			want: `schedule.conference.acronym: an acronym of 1025 bytes; at most 1024`},
		{name: "json duplicate guid", in: jsonDoc(`"guid": "g2"`, `"guid": "g1"`),
			want: `schedule.conference.days[0].rooms["Hall A"][1].guid: duplicate guid g1 (first used at schedule.conference.days[0].rooms["Hall A"][0])`},
		{name: "json end before start", in: jsonDoc(`"start": "10:00",`, `"start": "10:00", "end": "2024-03-30T09:59:00+01:00",`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].end: "2024-03-30T09:59:00+01:00" is before the start 2024-03-30T10:00:00+01:00`},
		{name: "json date never set", in: jsonDoc(`"2024-03-30T10:00:00+01:00"`, `"0001-01-01T00:00:00Z"`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].date: event 1 ("One") starts 0001-01-01T00:00:00Z, before the year 1900: a date never set?`},
		{name: "json end past 9999", in: strings.Replace(jsonDoc(`"2024-03-30T10:00:00+01:00"`, `"9999-12-30T20:00:00Z"`), `"00:30"`, `"05:00"`, 1),
			want: `schedule.conference.days[0].rooms["Hall A"][0].duration: event 1 ("One") ends 9999-12-31T01:00:00Z, after 9999-12-31T00:00:00Z, the latest end iCalendar can write in every zone`},
		{name: "json end field past 9999", in: jsonDoc(`"start": "10:00",`, `"start": "10:00", "end": "9999-12-31T10:00:00Z",`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].end: event 1 ("One") ends 9999-12-31T10:00:00Z, after 9999-12-31T00:00:00Z, the latest end iCalendar can write in every zone`},
		{name: "json date past 9999", in: jsonDoc(`"2024-03-30T10:00:00+01:00"`, `"9999-12-31T10:00:00Z"`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].date: event 1 ("One") ends 9999-12-31T10:30:00Z, after 9999-12-31T00:00:00Z, the latest end iCalendar can write in every zone`},
		{name: "json end centuries later", in: jsonDoc(`"start": "10:00",`, `"start": "10:00", "end": "2400-01-01T10:00:00Z",`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].end: event 1 ("One") ends 2400-01-01T10:00:00Z, centuries after it starts`},
		{name: "json bad date", in: jsonDoc(`"2024-03-30T10:00:00+01:00"`, `"30.03.2024 10:00"`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].date: "30.03.2024 10:00": want a date-time like 2024-02-03T09:30:00+01:00`},
		{name: "json bad start", in: jsonDoc(`"date": "2024-03-30T10:00:00+01:00", "start": "10:00"`, `"start": "25:00"`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].start: "25:00": hours must be 0–23`},
		{name: "json no start", in: jsonDoc(`"date": "2024-03-30T10:00:00+01:00", "start": "10:00",`, ``),
			want: `schedule.conference.days[0].rooms["Hall A"][0].start: event has neither a date nor a start time`},
		{name: "json bad day date", in: jsonDoc(`"date": "2024-03-30"`, `"date": "2024-02-30"`),
			want: `schedule.conference.days[0].date: "2024-02-30": want a date like 2024-02-03`},
		{name: "json day ends before start", in: jsonDoc(`"day_end": "2024-03-31T03:00:00+02:00"`, `"day_end": "2024-03-30T08:00:00+01:00"`),
			want: `schedule.conference.days[0].day_end: day ends at or before its start 2024-03-30T09:00:00+01:00`},
		{name: "json bad day_start", in: jsonDoc(`"day_start": "2024-03-30T09:00:00+01:00"`, `"day_start": "9 Uhr"`),
			want: `schedule.conference.days[0].day_start: "9 Uhr": want a date-time like 2024-02-03T09:30:00+01:00`},
		{name: "json title a number", in: jsonDoc(`"title": "One"`, `"title": 1`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].title: want a string, got a number`},
		{name: "json id a float", in: jsonDoc(`"id": 1,`, `"id": 1.5,`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].id: want an integer or a string, got 1.5`},
		{name: "json persons not objects", in: jsonDoc(`"persons": []`, `"persons": [[]]`),
			want: `schedule.conference.days[0].rooms["Hall A"][0].persons[0]: want an object, got an array`},
		{name: "json rooms not an object", in: jsonDoc(`"rooms": {"Hall A": [`, `"rooms": [], "x": {"Hall A": [`),
			want: `schedule.conference.days[0].rooms: want an object of room name → events, got an array`},
		{name: "json unknown zone", in: jsonDoc(`"Europe/Berlin"`, `"Berlin"`), is: timezone.ErrUnknownZone,
			want: `schedule.conference.time_zone_name: ` + zoneError(t, "Berlin")},
		{name: "json no zone", in: jsonDoc(`"time_zone_name": "Europe/Berlin",`, ``), is: ErrNoTimeZone,
			want: `schedule.conference.time_zone_name: ` + ErrNoTimeZone.Error()},
		{name: "json bad zone option", in: jsonDoc(`"time_zone_name": "Europe/Berlin",`, ``), opts: ParseOptions{TimeZone: "Mars/Olympus"},
			is: timezone.ErrUnknownZone, want: `time zone option: ` + zoneError(t, "Mars/Olympus")},
		{name: "json bad zone option, own zone", in: jsonDoc(``, ``), opts: ParseOptions{TimeZone: "Berlin"},
			is: timezone.ErrUnknownZone, want: `time zone option: ` + zoneError(t, "Berlin")},
		{name: "xml bad zone option, own zone", in: xmlDoc("00:30", tz), opts: ParseOptions{TimeZone: "Berlin"},
			is: timezone.ErrUnknownZone, want: `time zone option: ` + zoneError(t, "Berlin")},
		{name: "json acronym a route", in: jsonDoc(`"acronym": "demo"`, `"acronym": "tracks"`),
			want: `schedule.conference.acronym: acronym "tracks" is taken by the service's own URLs (/tracks/…); give the conference another`},
		{name: "json acronym a dot", in: jsonDoc(`"acronym": "demo"`, `"acronym": " . "`),
			want: `schedule.conference.acronym: acronym "." cannot be a segment of the conference's URLs (/./feed.ics): it is . or .. or holds a /`},
		{name: "json acronym a path", in: jsonDoc(`"acronym": "demo"`, `"acronym": "demo/2024"`),
			want: `schedule.conference.acronym: acronym "demo/2024" cannot be a segment of the conference's URLs (/demo/2024/feed.ics): it is . or .. or holds a /`},
		{name: "json no acronym or title", in: jsonDoc(`"acronym": "demo", "title": "Demo",`, ``),
			want: `schedule.conference.acronym: the conference has neither an acronym nor a title`},

		{name: "xml duration minutes", in: xmlDoc("1:70", tz), line: 18, column: 9,
			want: `schedule/day[1]/room[@name="Janson"]/event[2]/duration: "1:70": minutes must be 0–59`},
		{name: "xml no zone", in: xmlDoc("00:30", ""), is: ErrNoTimeZone, line: 4, column: 3,
			want: `schedule/conference: ` + ErrNoTimeZone.Error()},
		{name: "xml unknown zone", in: xmlDoc("00:30", "<time_zone_name>Berlin</time_zone_name>"), is: timezone.ErrUnknownZone, line: 7, column: 5,
			want: `schedule/conference/time_zone_name: ` + zoneError(t, "Berlin")},
		{name: "xml missing guid", in: strings.Replace(xmlDoc("00:30", tz), ` guid="g2"`, ``, 1), line: 16, column: 7,
			want: `schedule/day[1]/room[@name="Janson"]/event[2]/@guid: event 2 ("Two") has no guid`},
		{name: "xml duplicate guid", in: strings.Replace(xmlDoc("00:30", tz), `"g2"`, `"g1"`, 1), line: 16, column: 7,
			want: `schedule/day[1]/room[@name="Janson"]/event[2]/@guid: duplicate guid g1 (first used at schedule/day[1]/room[@name="Janson"]/event[1] (line 11))`},
		{name: "xml bad start", in: strings.Replace(xmlDoc("00:30", tz), "10:30", "10h30", 1), line: 17, column: 9,
			want: `schedule/day[1]/room[@name="Janson"]/event[2]/start: "10h30": want a time of day like 09:30`},
		{name: "xml bad date", in: strings.Replace(xmlDoc("00:30", tz), "<start>09:30</start>", "<date>3.2.2024 09:30</date><start>09:30</start>", 1), line: 12, column: 9,
			want: `schedule/day[1]/room[@name="Janson"]/event[1]/date: "3.2.2024 09:30": want a date-time like 2024-02-03T09:30:00+01:00`},
		{name: "xml day in year 1", in: strings.Replace(xmlDoc("00:30", tz), `date="2024-02-03"`, `date="0001-02-03"`, 1), line: 12, column: 9,
			want: `schedule/day[1]/room[@name="Janson"]/event[1]/start: event 1 ("One") starts 0001-02-03T09:12:30Z, before the year 1900: a date never set?`},
		{name: "xml bad day date", in: strings.Replace(xmlDoc("00:30", tz), `date="2024-02-03"`, `date="3.2.2024"`, 1), line: 9, column: 3,
			want: `schedule/day[1]/@date: "3.2.2024": want a date like 2024-02-03`},
		{name: "xml bad day start", in: strings.Replace(xmlDoc("00:30", tz), `date="2024-02-03"`, `date="2024-02-03" start="9 Uhr"`, 1), line: 9, column: 3,
			want: `schedule/day[1]/@start: "9 Uhr": want a date-time like 2024-02-03T09:30:00+01:00`},
		{name: "xml day ends before start", in: strings.Replace(xmlDoc("00:30", tz), `date="2024-02-03"`, `start="2024-02-03T09:00:00+01:00" end="2024-02-03T09:00:00+01:00"`, 1), line: 9, column: 3,
			want: `schedule/day[1]/@end: day ends at or before its start 2024-02-03T09:00:00+01:00`},
		{name: "xml no day date", in: strings.Replace(xmlDoc("00:30", tz), ` date="2024-02-03"`, ``, 1), line: 12, column: 9,
			want: `schedule/day[1]/room[@name="Janson"]/event[1]/start: start time without a date: the day has no date attribute and the event no <date>`},
		{name: "xml end before start", in: strings.Replace(xmlDoc("00:30", tz), "<title>One</title>", "<date>2024-02-03T09:30:00+01:00</date><end>2024-02-03T09:00:00+01:00</end>", 1), line: 14, column: 47,
			want: `schedule/day[1]/room[@name="Janson"]/event[1]/end: "2024-02-03T09:00:00+01:00" is before the start 2024-02-03T09:30:00+01:00`},
		{name: "xml syntax", in: strings.Replace(xmlDoc("00:30", tz), "</title>\n      </event>", "</titel>\n      </event>", 1), line: 14, column: 19,
			want: "invalid XML: XML syntax error on line 14: element <title> closed by </titel>"},
		{name: "xml truncated", in: xmlDoc("00:30", tz)[:200], line: 9, column: 3,
			want: "invalid XML: XML syntax error on line 9: unexpected EOF"},
		{name: "xml wrong root", in: `<?xml version="1.0"?><rss version="2.0"/>`, is: ErrUnknownFormat, line: 1, column: 22,
			want: ErrUnknownFormat.Error() + ": the root element is <rss>, not <schedule>"},
		{name: "xml no root", in: `<?xml version="1.0"?>`, is: ErrUnknownFormat, line: 1, column: 22,
			want: ErrUnknownFormat.Error() + ": no root element"},
		{name: "xml bad day_change", in: xmlDoc("00:30", tz+"<day_change>4 Uhr</day_change>"), line: 7, column: 53,
			want: `schedule/conference/day_change: "4 Uhr": want a time of day like 09:30`},
		{name: "xml unknown encoding", in: `<?xml version="1.0" encoding="klingon"?><schedule/>`, line: 1, column: 1,
			want: `invalid XML: xml: opening charset "klingon": unsupported encoding "klingon"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Source = "test.x"
			s, err := Parse([]byte(tc.in), opts)
			if err == nil {
				t.Fatalf("no error; parsed %d events", len(s.Events))
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %q is not a *DecodeError", err, err)
			}
			prefix := "test.x: "
			if tc.line > 0 {
				prefix = "test.x:" + strconv.Itoa(tc.line) + ":" + strconv.Itoa(tc.column) + ": "
			}
			if got := err.Error(); !strings.HasPrefix(got, prefix+tc.want) {
				t.Errorf("error\n  %s\nwant\n  %s", got, prefix+tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%q, %v) = false", err, tc.is)
			}
		})
	}
}

// TestParseJSONSyntaxPosition: a JSON syntax error names the line and
// column of the offending byte, or of the end of the document when it is cut
// short, wherever it stops.
func TestParseJSONSyntaxPosition(t *testing.T) {
	const end = "invalid JSON: unexpected end of JSON input"
	tests := []struct {
		name         string
		in           string
		line, column int
		want         string // the message, when it is the same in every build of encoding/json
	}{
		{name: "bad byte", in: `{"a":1]`, line: 1, column: 7},
		{name: "bad byte on a later line", in: "{\n  \"a\": 1,\n  \"b\": x\n}", line: 3, column: 8},
		{name: "bad byte in a string", in: "{\"a\": \"x\x01\"}", line: 1, column: 9},
		{name: "bad byte after the document", in: `{"a":1} }`, line: 1, column: 9},
		{name: "first byte of a document", in: `{x}`, line: 1, column: 2},
		{name: "truncated", in: `{"a":1`, line: 1, column: 7, want: end},
		{name: "truncated in an object", in: `{"schedule": {`, line: 1, column: 15, want: end},
		{name: "truncated after a newline", in: "{\"a\":1\n", line: 2, column: 1, want: end},
		{name: "truncated in a string", in: `{"a":"x`, line: 1, column: 8, want: end},
		{name: "truncated in an escape", in: `{"a":"\u12`, line: 1, column: 11, want: end},
		{name: "truncated in a literal", in: `{"a":tru`, line: 1, column: 9, want: end},
		{name: "truncated in a number", in: `{"a":-`, line: 1, column: 7, want: end},
		{name: "truncated in a fraction", in: "{\"a\":\n1.", line: 2, column: 3, want: end},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), ParseOptions{Source: "test.json"})
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if de.Line != tc.line || de.Column != tc.column {
				t.Errorf("%v: at %d:%d, want %d:%d", err, de.Line, de.Column, tc.line, tc.column)
			}
			if tc.want != "" && de.Err.Error() != tc.want {
				t.Errorf("message %q, want %q", de.Err, tc.want)
			}
		})
	}
}

// zoneError is the timezone package's own message for name.
func zoneError(t *testing.T, name string) string {
	t.Helper()
	_, err := timezone.Load(name)
	if err == nil {
		t.Fatalf("timezone.Load(%q) succeeded", name)
	}
	return err.Error()
}

func TestParseUnknownZoneSuggests(t *testing.T) {
	in := strings.Replace(strings.Replace(okJSON, "DURATION", "01:00", 1), `"Europe/Berlin"`, `"Berlin"`, 1)
	_, err := Parse([]byte(in), ParseOptions{Source: "x.json"})
	var uz *timezone.UnknownZoneError
	if !errors.As(err, &uz) || !slices.Contains(uz.Suggestions, "Europe/Berlin") || !strings.Contains(err.Error(), "Europe/Berlin") {
		t.Errorf("error %v: want a suggestion of Europe/Berlin", err)
	}
}

func TestParseWarnings(t *testing.T) {
	base := strings.Replace(okJSON, "DURATION", "01:00", 1)
	t.Run("no events", func(t *testing.T) {
		in := strings.Replace(base, `"rooms": {"Hall A": [`, `"rooms": {}, "x": {"Hall A": [`, 1)
		s, err := Parse([]byte(in), ParseOptions{Source: "x.json"})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Events) != 0 || !slices.Equal(s.Warnings, []string{"x.json: the schedule has no events"}) {
			t.Errorf("events %d, warnings %q", len(s.Events), s.Warnings)
		}
	})
	t.Run("acronym option", func(t *testing.T) {
		in := strings.Replace(base, `"acronym": "demo", `, ``, 1)
		s, err := Parse([]byte(in), ParseOptions{Acronym: "kept"})
		if err != nil {
			t.Fatal(err)
		}
		want := `schedule.conference.acronym: no acronym; keeping "kept"`
		if s.Conference.Acronym != "kept" || !slices.Equal(s.Warnings, []string{want}) {
			t.Errorf("acronym %q, warnings %q", s.Conference.Acronym, s.Warnings)
		}
		if s, err := Parse([]byte(base), ParseOptions{Acronym: "kept"}); err != nil || s.Conference.Acronym != "demo" {
			t.Errorf("the schedule's own acronym: %v; want demo to win", err)
		}
	})
	t.Run("xml track colours and a nameless person", func(t *testing.T) {
		in := strings.NewReplacer("DURATION", "01:00",
			"TZ", `<time_zone_name>Europe/Brussels</time_zone_name><track name="Main" color="red"/>`,
			"</conference>", "</conference>\n  <tracks><track color=\"#12345\">Side</track><track color=\"#00ADD8\">Go</track></tracks>",
			"<title>One</title>", "<title>One</title><track>Go</track><persons><person id=\"7\"> </person></persons>",
		).Replace(okXML)
		s, err := Parse([]byte(in), ParseOptions{Source: "x.xml"})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`x.xml: schedule/conference/track/@color (line 7): "red" is not a colour like #1a2b3c; ignored`,
			`x.xml: schedule/tracks/track/@color (line 9): "#12345" is not a colour like #1a2b3c; ignored`,
			`x.xml: person (line 15): person without a name; skipped`,
		}
		if !slices.Equal(s.Warnings, want) {
			t.Errorf("warnings %q, want %q", s.Warnings, want)
		}
		if e, _ := s.Event("g1"); e.Track.Color != "#00add8" || len(e.Speakers) != 0 {
			t.Errorf("track %+v, speakers %+v; want #00add8 and none", e.Track, e.Speakers)
		}
	})
	t.Run("zone option overridden", func(t *testing.T) {
		s, err := Parse([]byte(base), ParseOptions{TimeZone: "America/New_York"})
		if err != nil {
			t.Fatal(err)
		}
		want := "schedule.conference.time_zone_name: the schedule's zone Europe/Berlin overrides the time zone option America/New_York"
		if s.Conference.TimeZone != "Europe/Berlin" || !slices.Equal(s.Warnings, []string{want}) {
			t.Errorf("zone %s, warnings %q", s.Conference.TimeZone, s.Warnings)
		}
	})
	t.Run("offset disagrees", func(t *testing.T) {
		in := strings.Replace(base, `"2024-03-30T11:00:00+01:00"`, `"2024-03-30T12:00:00+02:00"`, 1)
		s, err := Parse([]byte(in), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := `schedule.conference.days[0].rooms["Hall A"][1].date: 2024-03-30T12:00:00+02:00 has UTC offset +02:00, but Europe/Berlin is at +01:00 then; using the instant as written`
		if !slices.Equal(s.Warnings, []string{want}) {
			t.Errorf("warnings %q, want %q", s.Warnings, want)
		}
		if e, _ := s.Event("g2"); !e.Start.Equal(time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("start %v, want the instant as written", e.Start)
		}
	})
	t.Run("duration and end disagree", func(t *testing.T) {
		for _, tc := range []struct{ name, one, two, want string }{
			{"agree", "00:30", "01:00", ""},
			{"one disagrees", "00:45", "01:00",
				`x.json: schedule.conference.days[0].rooms["Hall A"][0].end: 2024-03-30T10:30:00+01:00 is 0:30 after the start, but the duration is 00:45; using the end`},
			{"two disagree", "00:45", "0:59:30",
				`x.json: schedule.conference.days[0].rooms["Hall A"][0].end: 2024-03-30T10:30:00+01:00 is 0:30 after the start, but the duration is 00:45; using the end (and 1 more events like this)`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := strings.NewReplacer(
					`"start": "10:00", "duration": "00:30"`, `"start": "10:00", "duration": "`+tc.one+`", "end": "2024-03-30T10:30:00+01:00"`,
					`"start": "11:00", "duration": "DURATION"`, `"start": "11:00", "duration": "`+tc.two+`", "end": "2024-03-30T12:00:00+01:00"`,
				).Replace(okJSON)
				s, err := Parse([]byte(in), ParseOptions{Source: "x.json"})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				if tc.want != "" {
					want = []string{tc.want}
				}
				if !slices.Equal(s.Warnings, want) {
					t.Errorf("warnings %q, want %q", s.Warnings, want)
				}
				if a, _ := s.Event("g1"); a.Duration != 30*time.Minute {
					t.Errorf("duration %v, want the end's 30m", a.Duration)
				}
			})
		}
	})
	t.Run("zero-length events", func(t *testing.T) {
		jsonDoc := strings.Replace(okJSON, "DURATION", "01:00", 1)
		xmlDoc := strings.NewReplacer("DURATION", "01:00", "TZ", "").Replace(okXML)
		for _, tc := range []struct {
			name, in string
			replace  []string
			want     string
		}{
			{"json duration", jsonDoc, []string{`"duration": "00:30"`, `"duration": "00:00"`},
				`x: schedule.conference.days[0].rooms["Hall A"][0]: event 1 ("One") lasts no time (ends as it starts); left out of the feeds`},
			{"json end at the start", jsonDoc, []string{`"start": "10:00", "duration": "00:30"`, `"start": "10:00", "end": "2024-03-30T10:00:00+01:00"`},
				`x: schedule.conference.days[0].rooms["Hall A"][0]: event 1 ("One") lasts no time (ends as it starts); left out of the feeds`},
			{"xml duration", xmlDoc, []string{"<duration>00:30</duration>", "<duration>0:00:00</duration>"},
				`x: schedule/day[1]/room[@name="Janson"]/event[1] (line 11): event 1 ("One") lasts no time (ends as it starts); left out of the feeds`},
			{"json before 1900", jsonDoc, []string{`"date": "2024-03-30T10:00:00+01:00", "start": "10:00", "duration": "00:30"`, `"date": "1899-03-30T10:00:00+01:00", "start": "10:00", "duration": "00:00"`},
				`x: schedule.conference.days[0].rooms["Hall A"][0]: event 1 ("One") lasts no time (ends as it starts); left out of the feeds`},
			{"two", xmlDoc, []string{"<duration>00:30</duration>", "<duration>00:00</duration>", "</event>\n    </room>", "</event>\n<event guid=\"g3\"><start>12:00</start><duration>00:00</duration><title>Three</title></event>\n    </room>"},
				`x: schedule/day[1]/room[@name="Janson"]/event[1] (line 11): event 1 ("One") lasts no time (ends as it starts); left out of the feeds (and 1 more events like this)`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := strings.NewReplacer(tc.replace...).Replace(tc.in)
				if in == tc.in {
					t.Fatal("nothing replaced")
				}
				s, err := Parse([]byte(in), ParseOptions{Source: "x", TimeZone: "Europe/Berlin"})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(s.Warnings, []string{tc.want}) {
					t.Errorf("warnings %q, want %q", s.Warnings, tc.want)
				}
				if got := pluck(s.Events, func(e Event) string { return e.GUID }); !slices.Equal(got, []string{"g2"}) {
					t.Errorf("events %q, want only g2", got)
				}
				if strings.HasPrefix(tc.name, "json") {
					checkJSONDecoders(t, []byte(in), ParseOptions{Source: "x"})
				}
			})
		}
	})
	t.Run("date without offset", func(t *testing.T) {
		in := strings.Replace(base, `"2024-03-30T11:00:00+01:00"`, `"2024-03-30T11:00:00"`, 1)
		s, err := Parse([]byte(in), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := s.Event("g2"); !e.Start.Equal(time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)) || len(s.Warnings) != 0 {
			t.Errorf("start %v, warnings %q: want 10:00Z, taken in the conference zone", e.Start, s.Warnings)
		}
	})
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"0:05", 5 * time.Minute, ""},
		{"00:30", 30 * time.Minute, ""},
		{"1:30", 90 * time.Minute, ""},
		{"12:00", 12 * time.Hour, ""},
		{"100:00", 100 * time.Hour, ""},
		{"01:30:15", 90*time.Minute + 15*time.Second, ""},
		{"1:30:5", 90*time.Minute + 5*time.Second, ""}, // the XSD allows one digit of seconds
		{"1:30:05", 90*time.Minute + 5*time.Second, ""},
		{"1:30:", 0, "want a duration like 01:30"},
		{"1:30:005", 0, "want a duration like 01:30"},
		{" 00:45 ", 45 * time.Minute, ""},
		{"1:70", 0, "minutes must be 0–59"},
		{"1:00:60", 0, "seconds must be 0–59"},
		{"00:00", 0, ""}, // the event decides what to make of it
		{"0:00:00", 0, ""},
		{"", 0, "missing duration"},
		{"90", 0, "want a duration like 01:30"},
		{"1:5", 0, "want a duration like 01:30"},
		{"-1:30", 0, "want a duration like 01:30"},
		{"+1:30", 0, "want a duration like 01:30"},
		{"1:30:00:00", 0, "want a duration like 01:30"},
		{"PT1H", 0, "want a duration like 01:30"},
		{"١:٣٠", 0, "want a duration like 01:30"},
	}
	for _, tc := range tests {
		got, err := parseDuration(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseDuration(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestUpdated(t *testing.T) {
	days := []Day{{Date: "2024-03-30"}}
	tests := []struct {
		version string
		days    []Day
		start   string
		want    string
	}{
		{"2024-03-01T12:00:00+01:00", days, "", "2024-03-01T11:00:00Z"},
		{"2024-03-01 12:00", days, "", "2024-03-01T12:00:00Z"},
		{"2024-03-01", days, "", "2024-03-01T00:00:00Z"},
		{"v1.1", days, "", "2024-03-30T00:00:00Z"},
		{"", nil, "2024-03-29", "2024-03-29T00:00:00Z"},
		{"", nil, "", "1970-01-01T00:00:00Z"},
	}
	for _, tc := range tests {
		if got := updated(tc.version, tc.days, tc.start, nil).Format(time.RFC3339); got != tc.want {
			t.Errorf("updated(%q, %v, %q) = %s, want %s", tc.version, tc.days, tc.start, got, tc.want)
		}
	}
}

// fuzzSeeds adds every test file with the given extension to f.
func fuzzSeeds(f *testing.F, ext string) {
	for _, pattern := range []string{"testdata/*" + ext, "testdata/decode/*" + ext} {
		names, _ := filepath.Glob(pattern)
		for _, name := range names {
			f.Add(mustReadFile(f, name))
		}
	}
}

// checkFuzzed is what must hold of any input: no panic, and a schedule
// that parses has events with positive durations and unique GUIDs.
func checkFuzzed(t *testing.T, data []byte) {
	s, err := Parse(data, ParseOptions{Source: "fuzz", TimeZone: "Europe/Brussels"})
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error %T is not a *DecodeError: %v", err, err)
		}
		return
	}
	seen := make(map[string]bool)
	for _, e := range s.Events {
		if e.Duration <= 0 {
			t.Errorf("event %q: duration %v", e.GUID, e.Duration)
		}
		if e.GUID == "" || seen[e.GUID] {
			t.Errorf("event GUID %q empty or repeated", e.GUID)
		}
		seen[e.GUID] = true
	}
	if s.Conference.Location == nil || s.Conference.Acronym == "" || len(s.Version) != 32 {
		t.Errorf("conference %+v, version %q", s.Conference, s.Version)
	}
	checkFuzzedFeeds(t, s)
	checkFuzzedLinks(t, s)
}

// checkFuzzedLinks serves s and follows the links its listing gives, at the
// root and under the conference's own prefix: the page and embed answer,
// and the conference's feed and, at the root, the feeds of the first
// tracks, speakers and sessions answer with a calendar of as many sessions
// as the listing says.
func checkFuzzedLinks(t *testing.T, s *Schedule) {
	store, err := NewStore(s)
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://cal.example.org"
	h := quietHandler(store, Options{BaseURL: base})
	get := func(link string) *httptest.ResponseRecorder {
		t.Helper()
		target, ok := strings.CutPrefix(link, base)
		if !ok {
			t.Fatalf("link %q is not under %s", link, base)
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("link %q: %v", link, err)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, req.RequestURI = u, target
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		return rec
	}
	for _, prefix := range []string{"", "/" + url.PathEscape(s.Conference.Acronym)} {
		get(base + prefix + "/")
		get(base + prefix + "/embed")
		var l Listing
		if err := json.Unmarshal(get(base+prefix+"/schedule.json").Body.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		// The first few of each kind, once: a fuzzed schedule is checked
		// in a few milliseconds, and the seeds include large schedules.
		few := 4
		if prefix != "" {
			few = 0
		}
		feeds := map[string]int{l.Conference.Feed: len(s.Events)}
		for _, tr := range l.Tracks[:min(few, len(l.Tracks))] {
			feeds[tr.Feed] = tr.Sessions
		}
		for _, p := range l.Speakers[:min(few, len(l.Speakers))] {
			feeds[p.Feed] = p.Sessions
		}
		for _, e := range l.Sessions[:min(few, len(l.Sessions))] {
			feeds[e.ICS] = 1
		}
		for link, want := range feeds {
			body := get(link).Body.Bytes()
			checkRFC5545(t, body)
			if n := bytes.Count(body, []byte("BEGIN:VEVENT\r\n")); n != want {
				t.Errorf("%s: %d sessions, the listing says %d", link, n, want)
			}
		}
	}
}

// checkFuzzedFeeds renders every session of s, whatever its content, in
// the conference's zone and in two others, one of them UTC, and checks each
// calendar with checkCalendar.
func checkFuzzedFeeds(t *testing.T, s *Schedule) {
	for _, v := range []View{
		{},
		{Zone: time.UTC, Name: "All", Alarm: 10 * time.Minute},
		{Zone: mustZone(t, "Australia/Lord_Howe"), Source: "https://example.org/feed.ics", Refresh: time.Hour},
	} {
		data, err := Render(s, s.Events, v)
		if err != nil {
			t.Fatalf("render in %s: %v", zoneName(v.zone(s)), err)
		}
		checkCalendar(t, s, s.Events, v, data)
	}
}

func FuzzParseJSON(f *testing.F) {
	fuzzSeeds(f, ".json")
	f.Add([]byte(strings.Replace(okJSON, "DURATION", "01:00", 1)))
	f.Add([]byte("\xef\xbb\xbf" + strings.Replace(okJSON, "DURATION", "01:00", 1)))
	f.Add(fixtures.DyNN2022)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzed(t, data)
		checkJSONDecoders(t, data, ParseOptions{Source: "fuzz", TimeZone: "Europe/Brussels"})
	})
}

func FuzzParseXML(f *testing.F) {
	fuzzSeeds(f, ".xml")
	f.Add([]byte(strings.NewReplacer("DURATION", "01:00", "TZ", "").Replace(okXML)))
	f.Fuzz(checkFuzzed)
}

// TestParseXMLLatin1: legacy files may declare ISO-8859-1.
func TestParseXMLLatin1(t *testing.T) {
	in := strings.NewReplacer(`<?xml version="1.0"?>`, `<?xml version="1.0" encoding="ISO-8859-1"?>`,
		"DURATION", "01:00", "TZ", "", "<title>Two</title>", "<title>Two</title><persons><person id=\"9\">J\xfcrgen</person></persons>").Replace(okXML)
	s, err := Parse([]byte(in), ParseOptions{TimeZone: "Europe/Brussels"})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := s.Speaker("jurgen"); !ok || p.Name != "Jürgen" || p.ID != "9" {
		t.Errorf("speaker %+v, %v; want Jürgen decoded from Latin-1", p, ok)
	}
}

// TestDecodeJSONAgree parses schedules with each JSON decoder: the fast one
// must take every valid one, and give what the precise one gives.
func TestDecodeJSONAgree(t *testing.T) {
	base := strings.Replace(okJSON, "DURATION", "01:00", 1)
	docs := map[string][]byte{
		"embedded dynn2022": fixtures.DyNN2022,
		"synthetic":         syntheticJSON(1000),
		// What the shared checks warn about, and members the decoders
		// must read alike.
		"warnings": []byte(strings.NewReplacer(
			`"acronym": "demo", `, `"tracks": [{"name": "T", "color": "red"}, {"name": "U", "color": "#ABCDEF"}], "rooms": [{"name": "Hall A", "type": "online"}, {"name": "Hall B"}], `,
			`"2024-03-30T11:00:00+01:00"`, `"2024-03-30T12:00:00+02:00"`,
			`"persons": []`, `"persons": [{"public_name": " "}, {"id": 7, "public_name": "Seven", "name": null}, {"code": "C", "guid": "G", "name": "Ann"}]`,
		).Replace(base)),
		"escapes and odd layout": []byte(`{"x": [{"schedule": 1}], "schedule": {"conference": {"days": [{"rooms": {"Gr\u00fcn \"B\"": [
			{"title": "T\u00e9l\u00e9 \ud83e\udd80 \\ \/", "duration": "0:45", "start": "23:30", "id": "\u0031", "gu\u0069d": "g\n1", "track": "  Go  ",
			 "persons": null, "Title": 7, "date": null},
			{"guid": "g2", "id": -0, "start": "00:30", "duration": "1:00", "persons": [{"id": 9223372036854775807, "name": "Max"}]}
		], "Empty": null, "Other": []}, "date": "2024-10-26", "index": "two"}],
		"time_zone_name": "Europe/Berlin", "title": "Odd Conf", "url": "  "}, "base_url": " https://odd.example.org/ ", "version": null}}`),
		"invalid UTF-8": []byte("{\"schedule\": {\"conference\": {\"acronym\": \"a\xffb\", \"time_zone_name\": \"UTC\", \"days\": [{\"date\": \"2024-01-01\", \"rooms\": {\"R\xc3\": [{\"guid\": \"g\", \"start\": \"10:00\", \"duration\": \"0:30\", \"title\": \"\xe2\x82\"}]}}]}}}"),
	}
	for _, pattern := range []string{"testdata/*.json", "testdata/decode/*.json"} {
		names, _ := filepath.Glob(pattern)
		for _, name := range names {
			docs[name] = mustReadFile(t, name)
		}
	}
	docs["byte order mark"] = append([]byte("\xef\xbb\xbf"), base...)
	if len(docs) < 10 {
		t.Fatalf("only %d documents", len(docs))
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			if !checkJSONDecoders(t, data, ParseOptions{Source: "x.json"}) {
				t.Error("the fast decoder declined a valid schedule")
			}
		})
	}
}

// TestDecodeJSONDeclines: the fast decoder leaves to the precise one what it
// would resolve differently, and its attempt leaves no trace in the result.
func TestDecodeJSONDeclines(t *testing.T) {
	base := strings.Replace(okJSON, "DURATION", "01:00", 1)
	for _, tc := range []struct {
		name    string
		replace []string // old, new, … each old once in the document
	}{
		// A warning the attempt gave must not reach the result twice.
		{"duplicate persons after a warning", []string{`"title": "One", "persons": []`, `"title": "One", "persons": [{"name": ""}]`,
			`"title": "Two", "persons": []`, `"title": "Two", "persons": [{"name": "A"}], "persons": [{"name": "B"}]`}},
		{"duplicate rooms", []string{`"rooms": {`, `"rooms": {"X": [{"guid": "x", "start": "09:00", "duration": "0:10"}]}, "rooms": {`}},
		{"duplicate days", []string{`"days": [`, `"days": [], "days": [`}},
		{"duplicate schedule", []string{`{"schedule": {`, `{"schedule": {"conference": null}, "schedule": {`}},
		{"a type error after a warning", []string{`"title": "One", "persons": []`, `"title": "One", "persons": [{"name": ""}, {"name": 1}]`}},
		{"an event error after a warning", []string{`"title": "One", "persons": []`, `"title": "One", "persons": [{"name": ""}]}, {"guid": "g3"`}},
		{"a syntax error", []string{`"title": "One", "persons": []`, `"title": "One", "persons": [}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.NewReplacer(tc.replace...).Replace(base)
			for i := 0; i < len(tc.replace); i += 2 {
				if strings.Count(base, tc.replace[i]) != 1 {
					t.Fatalf("%q not once in the document", tc.replace[i])
				}
			}
			if checkJSONDecoders(t, []byte(in), ParseOptions{Source: "x.json"}) {
				t.Error("the fast decoder took the document")
			}
		})
	}
}

// TestJSONScanStrings: the fast decoder's scanner finds the closing quote of
// a string past every escape, whether it reads the string or skips it alone
// or within an object or array. An unterminated string, which encoding/json
// rejects before the scanner runs, panics rather than give an index past
// the data.
func TestJSONScanStrings(t *testing.T) {
	many := `"` + strings.Repeat(`\n\"\\`, 1000) + `"`
	for _, tc := range []struct {
		in      string // a string, then anything
		end     int    // the index of its closing quote
		escaped bool
	}{
		{`""`, 1, false},
		{`"abc", "d"`, 4, false},
		{`"Grün"`, 6, false},
		{`"\""`, 3, true},
		{`"\\"`, 3, true},
		{`"\\\""`, 5, true},
		{`"\\\\", "x"`, 5, true},
		{`"a\\", "b"`, 4, true},
		{`"\\\"\\"]`, 7, true},
		{`"\"\"\""`, 7, true},
		{`"\u0022"`, 7, true},
		{`"\/\b\f\n\r\t"`, 13, true},
		{`"x\n"`, 4, true}, // an escape just before the quote ending the data
		{many, len(many) - 1, true},
		{many + `, "\"", ` + many, len(many) - 1, true},
	} {
		if !json.Valid([]byte(tc.in[:tc.end+1])) {
			t.Fatalf("%q: %q is no JSON string", tc.in, tc.in[:tc.end+1])
		}
		s := jsonScan{data: []byte(tc.in)}
		if end, escaped := s.stringEnd(); end != tc.end || escaped != tc.escaped {
			t.Errorf("stringEnd(%q) = %d, %v; want %d, %v", tc.in, end, escaped, tc.end, tc.escaped)
		}
		s = jsonScan{data: []byte(tc.in)}
		if b, ok := s.str(); !ok || s.pos != tc.end+1 {
			t.Errorf("str(%q) = %q, %v at %d; want the string up to %d", tc.in, b, ok, s.pos, tc.end+1)
		}
		s = jsonScan{data: []byte(tc.in)}
		if !s.skip() || s.pos != tc.end+1 {
			t.Errorf("skip(%q) stopped at %d, want %d", tc.in, s.pos, tc.end+1)
		}
	}

	for _, tc := range []struct {
		in  string // a value, then anything
		end int    // the index after the value
	}{
		{`["\"]", "\\"], 1`, 13},
		{`{"a\\": "}\"", "b": {"\\\"": ["]"]}}, 2`, 36},
		{`[["` + strings.Repeat(`\n`, 1000) + `"]]`, 2006},
		{`{"x": "\\"}`, 11},
	} {
		if !json.Valid([]byte(tc.in[:tc.end])) {
			t.Fatalf("%q: %q is no JSON value", tc.in, tc.in[:tc.end])
		}
		s := jsonScan{data: []byte(tc.in)}
		if !s.skip() || s.pos != tc.end {
			t.Errorf("skip(%q) stopped at %d, want %d", tc.in, s.pos, tc.end)
		}
	}

	panics := func(f func()) (panicked bool) {
		defer func() { panicked = recover() != nil }()
		f()
		return false
	}
	for _, in := range []string{`"`, `"abc`, `"abc\`, `"abc\"`, `"\\\"`, `"\u00`, `"` + strings.Repeat(`\n`, 1000), `["\"]`, `{"a": "\\`} {
		if in[0] == '"' && !panics(func() { (&jsonScan{data: []byte(in)}).stringEnd() }) {
			t.Errorf("stringEnd(%q) returned", in)
		}
		if !panics(func() { (&jsonScan{data: []byte(in)}).skip() }) {
			t.Errorf("skip(%q) returned", in)
		}
	}
}

// TestParseJSONEscapes: strings of many escapes, read (an abstract) or
// skipped (a link's title, a biography), decode as encoding/json reads
// them. How long they take is BenchmarkParseEscapes': in proportion to
// their length.
func TestParseJSONEscapes(t *testing.T) {
	const n = 20_000 // escapes in each of the strings of escapedJSON
	data := escapedJSON(n)
	if !checkJSONDecoders(t, data, ParseOptions{Source: "x.json"}) {
		t.Fatal("the fast decoder declined the document")
	}
	s, err := Parse(data, ParseOptions{Source: "x.json"})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Event("g2"); !ok || strings.Count(e.Abstract, "\n") != n {
		t.Fatalf("event g2 %+v, %v; want an abstract of %d line breaks", e, ok, n)
	}
}

// errDeclined is what parseJSONWith returns when the fast decoder declines.
var errDeclined = errors.New("the fast decoder declined")

// parseJSONWith parses a schedule.json as Parse does, with one decoder.
func parseJSONWith(data []byte, opts ParseOptions, fast bool) (*Schedule, error) {
	d := &decoder{opts: opts, guids: make(map[string]string)}
	text := trimBOM(data)
	var r result
	if fast {
		var ok bool
		if r, ok = d.decodeJSONFast(text); !json.Valid(text) || !ok {
			return nil, errDeclined
		}
	} else {
		var err error
		if r, err = d.decodeJSONPrecise(text); err != nil {
			return nil, err
		}
	}
	return d.finish(data, r)
}

// checkJSONDecoders checks that Parse gives what the precise JSON decoder
// gives, and so does the fast one when it takes data; it reports whether it did.
// A byte order mark before the document is read past, as Parse does.
func checkJSONDecoders(t *testing.T, data []byte, opts ParseOptions) bool {
	t.Helper()
	if body := bytes.TrimLeft(trimBOM(data), " \t\r\n"); len(body) == 0 || body[0] != '{' {
		return false // not for the JSON decoders
	}
	want, wantErr := parseJSONWith(data, opts, false)
	got, err := Parse(data, opts)
	if wantErr != nil || err != nil {
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("Parse: %v\nprecise decoder: %v", err, wantErr)
		}
		if !json.Valid(trimBOM(data)) {
			return false
		}
	} else if diff := scheduleDiff(got, want); diff != "" {
		t.Errorf("Parse and the precise decoder differ: %s", diff)
	}
	fast, err := parseJSONWith(data, opts, true)
	if errors.Is(err, errDeclined) {
		return false
	}
	if wantErr != nil || err != nil {
		t.Fatalf("fast decoder: %v\nprecise decoder: %v", err, wantErr)
	}
	if diff := scheduleDiff(fast, want); diff != "" {
		t.Errorf("the fast and the precise decoder differ: %s", diff)
	}
	return true
}

// scheduleDiff describes the first difference between two schedules, or
// returns "" when they are equal.
func scheduleDiff(a, b *Schedule) string {
	if a.Conference.Location.String() != b.Conference.Location.String() {
		return fmt.Sprintf("zone %v, %v", a.Conference.Location, b.Conference.Location)
	}
	x, y := *a, *b
	x.Conference.Location, y.Conference.Location = nil, nil
	if !reflect.DeepEqual(x.Conference, y.Conference) {
		return fmt.Sprintf("conference\n  %+v\n  %+v", x.Conference, y.Conference)
	}
	if !slices.Equal(x.Warnings, y.Warnings) {
		return fmt.Sprintf("warnings\n  %q\n  %q", x.Warnings, y.Warnings)
	}
	if len(x.Events) != len(y.Events) {
		return fmt.Sprintf("%d and %d events", len(x.Events), len(y.Events))
	}
	for i := range x.Events {
		if !reflect.DeepEqual(x.Events[i], y.Events[i]) {
			return fmt.Sprintf("event %d\n  %+v\n  %+v", i, x.Events[i], y.Events[i])
		}
	}
	if !reflect.DeepEqual(x, y) {
		return fmt.Sprintf("schedule\n  %+v\n  %+v", x, y)
	}
	return ""
}

// TestParseNextDate: which sessions listed under a day happen after
// midnight, from the day's start and end, the conference's day_change, or
// the order of a room's sessions.
func TestParseNextDate(t *testing.T) {
	// xmlDay is a schedule with one day of date 2024-02-03 in Brussels,
	// with the day's attributes, a conference element and the rooms' events
	// as "room start" pairs, each 30 minutes long.
	xmlDay := func(dayAttrs, conf string, events ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "<schedule><conference><acronym>x</acronym>%s</conference>\n<day index=\"1\" date=\"2024-02-03\"%s>", conf, dayAttrs)
		room := ""
		for i, ev := range events {
			r, start, _ := strings.Cut(ev, " ")
			if r != room {
				if room != "" {
					b.WriteString("</room>")
				}
				fmt.Fprintf(&b, "<room name=%q>", r)
				room = r
			}
			fmt.Fprintf(&b, "<event guid=\"g%d\" id=\"%d\"><start>%s</start><duration>00:30</duration><title>T</title></event>\n", i+1, i+1, start)
		}
		b.WriteString("</room></day></schedule>")
		return b.String()
	}
	const frabDay = ` start="2024-02-03T10:00:00+01:00" end="2024-02-04T04:00:00+01:00"`
	tests := []struct {
		name string
		in   string
		want []string // each event's start in Brussels, by GUID order
	}{
		{"day_change: first in its room, after midnight", xmlDay("", "<day_change>04:00:00</day_change>", "A 01:00", "A 10:00"),
			[]string{"2024-02-04 01:00", "2024-02-03 10:00"}},
		{"day_change: at and after it, same date", xmlDay("", "<day_change>04:00</day_change>", "A 04:00", "A 23:00", "B 03:59"),
			[]string{"2024-02-03 04:00", "2024-02-03 23:00", "2024-02-04 03:59"}},
		{"day_change at midnight moves nothing", xmlDay("", "<day_change>00:00:00</day_change>", "A 09:00", "A 00:30"),
			[]string{"2024-02-03 09:00", "2024-02-03 00:30"}},
		{"no day_change: earlier than the room's first", xmlDay("", "", "A 09:00", "A 00:30", "B 01:00"),
			[]string{"2024-02-03 09:00", "2024-02-04 00:30", "2024-02-03 01:00"}},
		{"the day's start wins over day_change", xmlDay(frabDay, "<day_change>04:00:00</day_change>", "A 09:00", "A 01:00"),
			[]string{"2024-02-03 09:00", "2024-02-04 01:00"}},
		{"before the day's start, but after its end on the next date", xmlDay(frabDay, "", "A 08:00", "A 03:30"),
			[]string{"2024-02-03 08:00", "2024-02-04 03:30"}},
		{"json day_start and day_end", `{"schedule": {"conference": {"acronym": "x", "time_zone_name": "Europe/Brussels", "days": [
			{"index": 1, "date": "2024-02-03", "day_start": "2024-02-03T10:00:00+01:00", "day_end": "2024-02-04T04:00:00+01:00", "rooms": {"A": [
			{"guid": "g1", "start": "01:00", "duration": "0:30"}, {"guid": "g2", "start": "08:00", "duration": "0:30"}]}}]}}}`,
			[]string{"2024-02-04 01:00", "2024-02-03 08:00"}},
		{"json day without a date: its start's", `{"schedule": {"conference": {"acronym": "x", "time_zone_name": "Europe/Brussels", "days": [
			{"index": 1, "day_start": "2024-02-03T10:00:00+01:00", "rooms": {"A": [
			{"guid": "g1", "start": "11:00", "duration": "0:30"}, {"guid": "g2", "start": "01:00", "duration": "0:30"}]}}]}}}`,
			[]string{"2024-02-03 11:00", "2024-02-04 01:00"}},
		{"xml day without a date: its start's", `<schedule><conference><acronym>x</acronym></conference><day start="2024-02-03T10:00:00+01:00"><room name="A">
			<event guid="g1"><start>11:00</start><duration>0:30</duration></event><event guid="g2"><start>01:00</start><duration>0:30</duration></event></room></day></schedule>`,
			[]string{"2024-02-03 11:00", "2024-02-04 01:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.in), ParseOptions{TimeZone: "Europe/Brussels"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := range tc.want {
				e, ok := s.Event("g" + strconv.Itoa(i+1))
				if !ok {
					t.Fatalf("no event g%d", i+1)
				}
				got = append(got, e.Start.In(s.Conference.Location).Format("2006-01-02 15:04"))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("starts %q, want %q", got, tc.want)
			}
		})
	}
}

// TestParseByteOrderMark: a UTF-8 byte order mark before either format is
// read past; the version is still that of the bytes as they came.
func TestParseByteOrderMark(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	jsonDoc := strings.Replace(okJSON, "DURATION", "01:00", 1)
	xmlDoc := strings.NewReplacer("DURATION", "01:00", "TZ", "").Replace(okXML)
	for _, tc := range []struct{ name, plain, marked string }{
		{"json", jsonDoc, bom + jsonDoc},
		{"json, then white space", jsonDoc, bom + "\r\n " + jsonDoc},
		{"xml", xmlDoc, bom + xmlDoc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := ParseOptions{Source: "x", TimeZone: "Europe/Brussels"}
			want, err := Parse([]byte(tc.plain), opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse([]byte(tc.marked), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != contentVersion([]byte(tc.marked)) {
				t.Errorf("version %s, want the hash of the bytes with the mark", got.Version)
			}
			got.Version = want.Version
			if diff := scheduleDiff(got, want); diff != "" {
				t.Errorf("with and without the mark: %s", diff)
			}
		})
	}
}

// TestParseXMLMarkup: an XML description or abstract may hold inline XHTML
// instead of escaped HTML; its text is kept, as plainText makes it.
func TestParseXMLMarkup(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"inline", `<p>Inline <b>XHTML</b></p>`, "Inline XHTML"},
		{"lines and a link", "<p>One<br/>two</p>\n<p>See <a href=\"https://example.org/?a=1&amp;b=2\">this</a>.</p>",
			"One\ntwo\n\nSee this (https://example.org/?a=1&b=2)."},
		{"a list", `<ul><li>one</li><li>two &amp; three</li></ul>`, "• one\n• two & three"},
		{"xhtml namespace", `<div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; b &lt; c</p></div>`, "a & b < c"},
		{"text after elements", `<b>Bold</b> then text`, "Bold then text"},
		{"escaped html", `&lt;p&gt;Escaped&lt;/p&gt;`, "Escaped"},
		{"plain text", `Takes a List&lt;String&gt;`, "Takes a List<String>"},
		{"only an image", `Tom &amp; Jerry<img src="x.png"/>`, "Tom & Jerry"},
		{"unknown elements", `<speaker>Ada</speaker> &amp; <speaker>Grace</speaker>`, "Ada & Grace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.NewReplacer("DURATION", "01:00", "TZ", "",
				"<title>One</title>", "<title>One</title><abstract>"+tc.in+"</abstract><description>"+tc.in+"</description>").Replace(okXML)
			s, err := Parse([]byte(in), ParseOptions{TimeZone: "Europe/Brussels"})
			if err != nil {
				t.Fatal(err)
			}
			e, _ := s.Event("g1")
			if e.Abstract != tc.want || e.Description != tc.want {
				t.Errorf("abstract %q, description %q; want %q", e.Abstract, e.Description, tc.want)
			}
		})
	}
}

// TestHostileURLs: a schedule's URLs are text from its source. One that is
// no web address (a line break in it, another scheme) is left out with a
// warning, and no value, whatever a Schedule holds, reaches a feed with a
// line break: it would end the property and add others, to the calendar
// of every subscriber.
func TestHostileURLs(t *testing.T) {
	const inject = "https://x.example/t\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:injected\r\nX-INJ:1"
	jsonURL, _ := json.Marshal(inject)
	xmlURL := strings.NewReplacer("\r", "&#13;", "\n", "&#10;").Replace(inject)
	okJSON := strings.Replace(okJSON, "DURATION", "01:00", 1)
	okXML := strings.NewReplacer("DURATION", "00:30", "TZ", "<time_zone_name>Europe/Brussels</time_zone_name>").Replace(okXML)
	for _, tc := range []struct {
		name, in string
		warning  string
	}{
		{"json event", strings.Replace(okJSON, `"title": "One"`, `"title": "One", "url": `+string(jsonURL), 1),
			`schedule.conference.days[0].rooms["Hall A"][0].url: "https://x.example/t\r\nEND:VEVENT`},
		{"json event, lone CR", strings.Replace(okJSON, `"title": "One"`, `"title": "One", "url": "https://x.example/t\rX-INJ:1"`, 1),
			`is not an http(s) address`},
		{"json event, javascript", strings.Replace(okJSON, `"title": "One"`, `"title": "One", "url": "javascript:alert(1)"`, 1),
			`"javascript:alert(1)" is not an http(s) address; left out`},
		{"json conference", strings.Replace(okJSON, `"title": "Demo"`, `"title": "Demo", "url": `+string(jsonURL), 1),
			`the conference's url "https://x.example/t\r\nEND:VEVENT`},
		{"xml event", strings.Replace(okXML, "<title>One</title>", "<title>One</title><url>"+xmlURL+"</url>", 1),
			`is not an http(s) address; left out`},
		{"xml conference", strings.Replace(okXML, "<title>Demo</title>", "<title>Demo</title><url>"+xmlURL+"</url>", 1),
			`the conference's url "https://x.example/t\r\nEND:VEVENT`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.in), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
				t.Errorf("no warning with %q in %q", tc.warning, s.Warnings)
			}
			if s.Conference.URL != "" || s.Events[0].URL != "" {
				t.Errorf("kept: conference %q, event %q", s.Conference.URL, s.Events[0].URL)
			}
			checkNoInjection(t, s)
		})
	}
	t.Run("schedule built in code", func(t *testing.T) {
		s := miniSchedule(t)
		conf, events := s.Conference, slices.Clone(s.Events)
		conf.URL, events[0].URL = inject, inject
		built, err := NewSchedule(conf, events)
		if err != nil {
			t.Fatal(err)
		}
		checkNoInjection(t, built)
	})
}

// checkNoInjection renders every session of s and checks that the feed
// holds exactly those sessions, and nothing of the injected text as a line.
func checkNoInjection(t *testing.T, s *Schedule) {
	t.Helper()
	data := renderFeed(t, s, Filter{})
	if n := bytes.Count(data, []byte("BEGIN:VEVENT\r\n")); n != len(s.Events) {
		t.Errorf("%d VEVENTs for %d sessions", n, len(s.Events))
	}
	for _, line := range strings.Split(string(data), "\r\n") {
		if strings.HasPrefix(line, "UID:injected") || strings.HasPrefix(line, "X-INJ") {
			t.Errorf("injected line %q in\n%s", line, data)
		}
	}
}

// TestConferenceURLFallback: a conference url that is no web address gives
// way to a base_url that is one.
func TestConferenceURLFallback(t *testing.T) {
	okJSON := strings.Replace(okJSON, "DURATION", "01:00", 1)
	in := strings.Replace(okJSON, `"title": "Demo"`, `"title": "Demo", "url": "fahrplan.example.org/camp"`, 1)
	in = strings.Replace(in, `"version": "1",`, `"version": "1", "base_url": "https://fahrplan.example.org/camp/",`, 1)
	s, err := Parse([]byte(in), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Conference.URL != "https://fahrplan.example.org/camp/" {
		t.Errorf("conference url %q, want the base_url", s.Conference.URL)
	}
}

// TestAcronymFromTitleBounded: an acronym made from a title is held to the
// same length as one given.
func TestAcronymFromTitleBounded(t *testing.T) {
	okXML := strings.NewReplacer("DURATION", "00:30", "TZ", "<time_zone_name>Europe/Brussels</time_zone_name>").Replace(okXML)
	in := strings.Replace(strings.Replace(okXML, "<acronym>demo</acronym>", "", 1), "<title>Demo</title>", "<title>"+strings.Repeat("Demo ", 300)+"</title>", 1)
	_, err := Parse([]byte(in), ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), "an acronym of 1499 bytes; at most 1024") {
		t.Errorf("error %v, want one about the acronym's length", err)
	}
}
