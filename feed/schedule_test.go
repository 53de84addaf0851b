package feed

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testConference(t *testing.T) Conference {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return Conference{Acronym: "demo", Title: "Demo", TimeZone: "Europe/Berlin", Location: loc}
}

func TestNewSchedule(t *testing.T) {
	conf := testConference(t)
	at := func(h, m int) time.Time { return time.Date(2024, 3, 30, h, m, 0, 0, conf.Location) }
	events := []Event{
		{GUID: "g3", ID: "10", Slug: "ten", Start: at(11, 0), Duration: time.Hour, Title: "Ten",
			Track: Track{Name: "Go"}, Speakers: []Speaker{{ID: "2", Name: "Ana Líma"}}},
		{GUID: "g2", ID: "9", Slug: "nine", Start: at(10, 0), Duration: time.Hour, Title: "Nine",
			Track: Track{Name: "Machine Learning", Color: "#112233"}, Speakers: []Speaker{{ID: "1", Name: "Ana Lima"}}},
		{GUID: "g1", ID: "2", Slug: "two", Start: at(10, 0), Duration: time.Hour, Title: "Two",
			Track: Track{Name: "machine learning"}, Speakers: []Speaker{{ID: "2", Name: "Ana Líma"}, {Name: "Jürgen Schmidhuber"}}},
		{GUID: "g4", ID: "11", Start: at(12, 0), Duration: time.Hour, Title: "No track"},
	}
	orig := slices.Clone(events)
	s, err := NewSchedule(conf, events)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(events, orig, func(a, b Event) bool { return a.GUID == b.GUID && a.Track == b.Track }) {
		t.Error("NewSchedule modified its argument")
	}

	// Sorted by start, then numeric ID (2 before 9, not "10" before "2").
	if got := pluck(s.Events, func(e Event) string { return e.ID }); !slices.Equal(got, []string{"2", "9", "10", "11"}) {
		t.Errorf("event order %q", got)
	}
	for _, e := range s.Events {
		if e.Start.Location() != time.UTC {
			t.Errorf("event %s start in %v, want UTC", e.ID, e.Start.Location())
		}
	}

	// Tracks whose names fold alike are one track, named as first seen
	// (after sorting), keeping the first colour given.
	if got := pluck(s.Tracks, func(t Track) string { return t.Slug + "=" + t.Name + t.Color }); !slices.Equal(got, []string{"go=Go", "machine-learning=machine learning#112233"}) {
		t.Errorf("tracks %q", got)
	}
	if tr, ok := s.Track("machine-learning"); !ok || tr.Color != "#112233" {
		t.Errorf("Track(machine-learning) = %+v, %v", tr, ok)
	}
	if e, _ := s.Event("g2"); e.Track.Slug != "machine-learning" || e.Track.Color != "#112233" {
		t.Errorf("event g2 track %+v", e.Track)
	}
	if e, _ := s.Event("g4"); e.Track != (Track{}) {
		t.Errorf("event without a track has %+v", e.Track)
	}

	// Different people whose names fold alike: the one whose name is the
	// slug's words gets it, even when the other appears first; the other
	// gets a hash of its ID.
	want := []string{"ana-lima=Ana Lima/1", "ana-lima-a8c3=Ana Líma/2", "jurgen-schmidhuber=Jürgen Schmidhuber/"}
	if got := pluck(s.Speakers, func(p Speaker) string { return p.Slug + "=" + p.Name + "/" + p.ID }); !slices.Equal(got, want) {
		t.Errorf("speakers %q, want %q", got, want)
	}
	if e, _ := s.Event("ten"); len(e.Speakers) != 1 || e.Speakers[0].Slug != "ana-lima-a8c3" {
		t.Errorf("event ten speakers %+v", e.Speakers)
	}

	// Events are found by slug, ID and GUID.
	for _, key := range []string{"nine", "9", "g2"} {
		if e, ok := s.Event(key); !ok || e.GUID != "g2" {
			t.Errorf("Event(%q) = %s, %v", key, e.GUID, ok)
		}
	}
	if _, ok := s.Event(""); ok {
		t.Error(`Event("") found an event`)
	}
	first, last := s.Span()
	if !first.Equal(at(10, 0)) || !last.Equal(at(13, 0)) {
		t.Errorf("Span = %v, %v", first, last)
	}
}

// TestNewScheduleDeterministic: the input order does not change slugs.
func TestNewScheduleDeterministic(t *testing.T) {
	conf := testConference(t)
	start := time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)
	events := []Event{
		{GUID: "a", ID: "1", Start: start, Duration: time.Hour, Speakers: []Speaker{{ID: "x", Name: "Ana Lima"}}},
		{GUID: "b", ID: "2", Start: start.Add(time.Hour), Duration: time.Hour, Speakers: []Speaker{{ID: "y", Name: "Ana Líma"}}},
	}
	a, err := NewSchedule(conf, events)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSchedule(conf, []Event{events[1], events[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Schedule{a, b} {
		if p, _ := s.Speaker("ana-lima"); p.ID != "x" {
			t.Errorf("ana-lima is %+v, want Ana Lima", p)
		}
		if got := pluck(s.Speakers, func(p Speaker) string { return p.Slug + "=" + p.ID }); !slices.Equal(got, []string{"ana-lima=x", "ana-lima-e3c3=y"}) {
			t.Errorf("speakers %q", got)
		}
	}
}

func TestNewScheduleErrors(t *testing.T) {
	conf := testConference(t)
	start := time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)
	ok := Event{GUID: "g1", ID: "1", Title: "One", Start: start, Duration: time.Hour}
	tests := []struct {
		name   string
		conf   func(*Conference)
		events []Event
		want   string
	}{
		{"no acronym", func(c *Conference) { c.Acronym = "" }, nil, "conference has no acronym"},
		{"no zone", func(c *Conference) { c.Location = nil }, nil, "conference demo has no time zone"},
		{"acronym a path", func(c *Conference) { c.Acronym = "demo/2024" }, nil, `acronym "demo/2024" cannot be a segment of the conference's URLs`},
		{"acronym a dot", func(c *Conference) { c.Acronym = ".." }, nil, `acronym ".." cannot be a segment`},
		{"no guid", nil, []Event{ok, {ID: "2", Title: "Two", Start: start, Duration: time.Hour}}, `event "Two" (id 2) has no guid`},
		{"duplicate guid", nil, []Event{ok, {GUID: "g1", ID: "2", Title: "Two", Start: start, Duration: time.Hour}}, `duplicate guid g1`},
		{"zero duration", nil, []Event{{GUID: "g1", Title: "One", Start: start}}, `event "One" (guid g1): ends at or before its start`},
		{"negative duration", nil, []Event{{GUID: "g1", Title: "One", Start: start, Duration: -time.Minute}}, `ends at or before its start`},
		{"zero date", nil, []Event{{GUID: "g1", Title: "One", Start: time.Time{}, Duration: time.Hour}},
			`event "One" (guid g1): starts 0001-01-01T00:00:00Z, before the year 1900: a date never set?`},
		{"past 9999", nil, []Event{{GUID: "g1", Title: "One", Start: time.Date(9999, 12, 30, 23, 0, 0, 0, time.UTC), Duration: 2 * time.Hour}},
			`event "One" (guid g1): ends 9999-12-31T01:00:00Z, after 9999-12-31T00:00:00Z, the latest end iCalendar can write in every zone`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := conf
			if tc.conf != nil {
				tc.conf(&c)
			}
			_, err := NewSchedule(c, tc.events)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestNewScheduleSpanBounds: a session may start at the first instant of
// 1900 and end at the latest instant checkSpan allows, in any zone.
func TestNewScheduleSpanBounds(t *testing.T) {
	conf := testConference(t)
	events := []Event{
		{GUID: "first", Title: "First", Start: earliestStart, Duration: time.Hour},
		{GUID: "last", Title: "Last", Start: latestEnd.Add(-time.Hour), Duration: time.Hour},
		{GUID: "kiritimati", Title: "Kiritimati", Start: latestEnd.Add(-time.Hour).In(time.FixedZone("+14", 14*3600)), Duration: time.Hour},
	}
	if _, err := NewSchedule(conf, events); err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{
		{GUID: "early", Title: "Early", Start: earliestStart.Add(-time.Second), Duration: time.Hour},
		{GUID: "late", Title: "Late", Start: latestEnd.Add(-time.Hour), Duration: time.Hour + time.Second},
	} {
		if _, err := NewSchedule(conf, []Event{e}); err == nil {
			t.Errorf("%s: a session from %v for %v is taken", e.GUID, e.Start, e.Duration)
		}
	}
}

// TestNewScheduleTrackSlugs: tracks are told apart by name; of names that
// fold to one slug, the one that is the slug's words gets it, the others a
// hash of their name, so slugs do not change when sessions move or when
// another track with the same slug comes or goes.
func TestNewScheduleTrackSlugs(t *testing.T) {
	conf := testConference(t)
	start := time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		tracks []string // one event per name, in this order of start
		want   []string // slug=name, sorted by slug
	}{
		{"languages", []string{"C", "C++", "C#"}, []string{"c=C", "c-4c21=C++", "c-9629=C#"}},
		{"languages moved", []string{"C#", "C++", "C"}, []string{"c=C", "c-4c21=C++", "c-9629=C#"}},
		{"one language fewer", []string{"C", "C++"}, []string{"c=C", "c-4c21=C++"}},
		{"no plain name", []string{"C++", "C#"}, []string{"c-4c21=C++", "c-9629=C#"}},
		{"case and spacing are one track", []string{"Machine  Learning", "machine learning", "C"}, []string{"c=C", "machine-learning=Machine  Learning"}},
		{"Unicode normalization is one track", []string{"Caf\u00e9", "Cafe\u0301"}, []string{"cafe=Caf\u00e9"}},
		{"a name like a suffixed slug", []string{"C 2", "C++", "C"}, []string{"c=C", "c-2=C 2", "c-4c21=C++"}},
		{"a name like a hashed slug", []string{"C 4c21", "C++", "C"}, []string{"c=C", "c-4c21=C 4c21", "c-4c21-2=C++"}},
		{"no letters", []string{"++", "#"}, []string{"track-1=#", "track-2=++"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var events []Event
			for i, name := range tc.tracks {
				events = append(events, Event{GUID: "g" + strconv.Itoa(i), ID: strconv.Itoa(i), Start: start.Add(time.Duration(i) * time.Hour),
					Duration: time.Hour, Track: Track{Name: name}})
			}
			s, err := NewSchedule(conf, events)
			if err != nil {
				t.Fatal(err)
			}
			if got := pluck(s.Tracks, func(t Track) string { return t.Slug + "=" + t.Name }); !slices.Equal(got, tc.want) {
				t.Errorf("tracks %q, want %q", got, tc.want)
			}
			for _, e := range s.Events {
				if tr, ok := s.Track(e.Track.Slug); !ok || tr != e.Track {
					t.Errorf("event %s has track %+v; the schedule has %+v", e.GUID, e.Track, tr)
				}
				if tr, err := s.ResolveTrack(e.Track.Name); err != nil || tr.Slug != e.Track.Slug {
					t.Errorf("ResolveTrack(%q) = %+v, %v; want %s", e.Track.Name, tr, err, e.Track.Slug)
				}
			}
		})
	}
}

// Two people whose names differ only by accents have slugs "ana-lima" and
// "ana-lima-5a90"; each is found by name, and the slugs find each too.
func TestResolveSpeakerByNameFirst(t *testing.T) {
	conf := testConference(t)
	start := time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)
	s, err := NewSchedule(conf, []Event{
		{GUID: "aaaaaaaa-0000-4000-8000-000000000001", ID: "1", Start: start, Duration: time.Hour, Title: "One",
			Speakers: []Speaker{{ID: "p1", Name: "Ana Lima"}}},
		{GUID: "aaaaaaaa-0000-4000-8000-000000000002", ID: "2", Start: start.Add(time.Hour), Duration: time.Hour, Title: "Two",
			Speakers: []Speaker{{ID: "p2", Name: "Ana Líma"}}},
		{GUID: "aaaaaaaa-0000-4000-8000-000000000003", ID: "3", Start: start.Add(2 * time.Hour), Duration: time.Hour, Title: "Three",
			Speakers: []Speaker{{ID: "p3", Name: "Kim Park"}, {ID: "p4", Name: "KIM PARK"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ value, wantID string }{
		{"Ana Lima", "p1"},
		{"Ana Líma", "p2"},
		{"ana  líma", "p2"},
		{"Ana Li\u0301ma", "p2"}, // decomposed accent
		{"ana-lima", "p1"},
		{"ana-lima-5a90", "p2"},
		{"Kim Park", "p3"}, // a name two people share goes by its slug
		{"kim-park-6090", "p4"},
	}
	for _, tc := range tests {
		p, err := s.ResolveSpeaker(tc.value)
		if err != nil || p.ID != tc.wantID {
			t.Errorf("ResolveSpeaker(%q) = %+v, %v; want %s", tc.value, p, err, tc.wantID)
		}
	}
}

// A namesake who arrives, even with an earlier session, takes no one's
// slug: Ana Lima keeps "ana-lima", and Ana Líma keeps hers.
func TestSpeakerSlugsStayWithNamesakes(t *testing.T) {
	conf := testConference(t)
	start := time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)
	ev := func(n int, id, name string) Event {
		return Event{GUID: fmt.Sprintf("g%d", n), ID: strconv.Itoa(n), Start: start.Add(time.Duration(n) * time.Hour), Duration: time.Hour,
			Speakers: []Speaker{{ID: id, Name: name}}}
	}
	slugs := func(events ...Event) map[string]string {
		s, err := NewSchedule(conf, events)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, p := range s.Speakers {
			m[p.ID] = p.Slug
		}
		return m
	}
	before := slugs(ev(2, "p1", "Ana Lima"), ev(3, "p2", "Ana Líma"))
	after := slugs(ev(1, "p3", "Ána Lima"), ev(2, "p1", "Ana Lima"), ev(3, "p2", "Ana Líma"))
	if before["p1"] != "ana-lima" || after["p1"] != "ana-lima" || after["p2"] != before["p2"] || after["p3"] == "ana-lima" {
		t.Errorf("slugs before %v, after %v", before, after)
	}
}

func TestWebURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://mini.example.org/talk/1": true, "http://example.org": true, "HTTPS://example.org/": true,
		"https://example.org/a?b=c,d;e": true, "https://example.org/ünï": true,
		"https://example.org/50%off": true, "https://example.org/100%": true, "https://example.org/a%20b": true,
		"https://%": false, "https://exa%mple.org/": false, "https://ex%0d%0aample.org/": false, "http://[fe80::1%25en0]/": true,
		"javascript:alert(1)": false, "JavaScript:alert(1)": false, "data:text/html,hi": false, "mailto:a@example.org": false,
		"/talk/1": false, "example.org/talk": false, "https:talk": false, "": false, "http://[::1": false,
		"https://example.org/\r\nEND:VEVENT": false, "https://example.org/\rX-INJ:1": false, "https://example.org/\nX": false,
		"https://example.org/a\x00b": false, "https://example.org/a\tb": false, "https://example.org/a b": false,
		"https://example.org/a\u2028b": false, "https://example.org/a\u0085b": false, "https://example.org/a\x7fb": false,
	} {
		if got := webURL(u); (got != "") != want {
			t.Errorf("webURL(%q) = %q", u, got)
		}
	}
}
