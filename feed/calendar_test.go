package feed

import (
	"bytes"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

var update = flag.Bool("update", false, "rewrite golden .ics files in testdata")

// TestCalendarGolden renders the mini schedule through every filter kind and
// in several zones, one of them across the spring-forward of its own zone,
// and compares with the reviewed files in testdata.
func TestCalendarGolden(t *testing.T) {
	s := miniSchedule(t)
	tests := []struct {
		name   string
		filter Filter
		zone   string
		alarm  time.Duration
	}{
		{"all_europe_berlin", Filter{}, "Europe/Berlin", 0},
		{"all_utc", Filter{}, "UTC", 0},
		{"track_go-friends_america_new_york", Filter{Tracks: []string{"go-friends"}}, "America/New_York", 0},
		{"speaker_jurgen-schmidhuber_asia_kolkata_alarm", Filter{Speakers: []string{"jurgen-schmidhuber"}}, "Asia/Kolkata", 10 * time.Minute},
		{"track_rust_speaker_zihao-deng_australia_lord_howe", Filter{Tracks: []string{"rust"}, Speakers: []string{"zihao-deng"}}, "Australia/Lord_Howe", 0},
		// No session matches: the calendar still holds a component.
		{"track_rust_speaker_jurgen-schmidhuber_europe_berlin", Filter{Tracks: []string{"rust"}, Speakers: []string{"jurgen-schmidhuber"}}, "Europe/Berlin", 0},
		{"track_rust_speaker_jurgen-schmidhuber_utc", Filter{Tracks: []string{"rust"}, Speakers: []string{"jurgen-schmidhuber"}}, "UTC", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zone := time.UTC
			if tc.zone != "UTC" {
				zone = mustZone(t, tc.zone)
			}
			v := View{Name: s.Name(tc.filter), Zone: zone, Alarm: tc.alarm, Refresh: 6 * time.Hour,
				Source: "https://cal.example.org/mini2024" + FeedPath(tc.filter)}
			got := render(t, Calendar(s, s.Select(tc.filter), v))
			checkGolden(t, tc.name, got)
		})
	}
}

// TestCalendarInstants checks that every event's DTSTART/DTEND, read back
// as wall time in the named zone, is the event's instant: the conversion at
// the edge must not shift anything, DST or not.
func TestCalendarInstants(t *testing.T) {
	s := miniSchedule(t)
	for _, zoneName := range []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"} {
		t.Run(zoneName, func(t *testing.T) {
			zone := mustZone(t, zoneName)
			data := string(render(t, Calendar(s, s.Events, View{Zone: zone})))
			data = data[strings.Index(data, "BEGIN:VEVENT"):] // VTIMEZONE has DTSTARTs of its own
			re := regexp.MustCompile(`(?m)^(DTSTART|DTEND)(;TZID=([^:]+))?:(\d{8}T\d{6}Z?)\r$`)
			matches := re.FindAllStringSubmatch(data, -1)
			if len(matches) != 2*len(s.Events) {
				t.Fatalf("found %d DTSTART/DTEND lines, want %d", len(matches), 2*len(s.Events))
			}
			for i, m := range matches {
				e := s.Events[i/2]
				want := e.Start
				if m[1] == "DTEND" {
					want = e.End()
				}
				var got time.Time
				var err error
				if strings.HasSuffix(m[4], "Z") {
					if zoneName != "UTC" {
						t.Errorf("%s written in UTC in a %s feed", m[1], zoneName)
					}
					got, err = time.Parse("20060102T150405Z", m[4])
				} else {
					if m[3] != zoneName {
						t.Errorf("TZID %q, want %q", m[3], zoneName)
					}
					got, err = time.ParseInLocation("20060102T150405", m[4], zone)
				}
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(want) {
					t.Errorf("%s of %q: %s reads as %s, want %s", m[1], e.Title, m[0], got.UTC(), want.UTC())
				}
			}
		})
	}
}

// TestCalendarDeterministic: the same input gives the same bytes, and a
// session has one UID whatever the filter or zone.
func TestCalendarDeterministic(t *testing.T) {
	s := miniSchedule(t)
	berlin := mustZone(t, "Europe/Berlin")
	a := render(t, Calendar(s, s.Events, View{Zone: berlin}))
	b := render(t, Calendar(miniSchedule(t), miniSchedule(t).Events, View{Zone: berlin}))
	if !bytes.Equal(a, b) {
		t.Error("two renders of the same schedule differ")
	}
	uid := regexp.MustCompile(`(?m)^UID:(.*)\r$`)
	tokyo := render(t, Calendar(s, s.Select(Filter{Tracks: []string{"rust"}}), View{Zone: mustZone(t, "Asia/Tokyo")}))
	all := uid.FindAllStringSubmatch(string(a), -1)
	one := uid.FindAllStringSubmatch(string(tokyo), -1)
	if len(one) != 1 || one[0][1] != s.Events[1].GUID {
		t.Errorf("rust feed UIDs %v, want [%s]", one, s.Events[1].GUID)
	}
	if len(all) != len(s.Events) || all[1][1] != one[0][1] {
		t.Errorf("UIDs differ between variants: %v and %v", all, one)
	}
	if bytes.Contains(a, []byte("\r\r")) || bytes.Contains(a, []byte("Line two")) == false {
		t.Error("carriage return in the abstract not normalised")
	}
}

func TestCalendarProperties(t *testing.T) {
	s := miniSchedule(t)
	data := string(render(t, Calendar(s, s.Select(Filter{Tracks: []string{"rust"}}), View{
		Name: "Rust", Zone: mustZone(t, "Europe/Berlin"), Alarm: 90 * time.Minute, Refresh: 6 * time.Hour,
		Source: "https://cal.example.org/tracks/rust.ics",
	})))
	for _, want := range []string{
		"VERSION:2.0", "PRODID:" + ProductID, "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		"NAME:Mini Conf 2024 · Rust (times in Europe/Berlin)",
		"X-WR-CALNAME:Mini Conf 2024 · Rust (times in Europe/Berlin)",
		"X-WR-TIMEZONE:Europe/Berlin", "REFRESH-INTERVAL;VALUE=DURATION:PT6H", "X-PUBLISHED-TTL:PT6H",
		"SOURCE;VALUE=URI:https://cal.example.org/tracks/rust.ics",
		"UID:22222222-2222-4222-8222-222222222222", "DTSTAMP:20240301T120000Z", "LAST-MODIFIED:20240301T120000Z",
		"DTSTART;TZID=Europe/Berlin:20240330T100000", "DTEND;TZID=Europe/Berlin:20240330T104500",
		"SUMMARY:Borrowing without tears", "LOCATION:Hall B\\, Kongresshaus", "CATEGORIES:Rust",
		"STATUS:CONFIRMED", "TRANSP:OPAQUE", "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT1H30M",
		"BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
	} {
		if !strings.Contains(data, want+"\r\n") {
			t.Errorf("calendar lacks %q", want)
		}
	}
}

func TestLocation(t *testing.T) {
	s := miniSchedule(t)
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Room: "Hall A"}, "Hall A, Kongresshaus"},
		{Event{Online: true, Room: "Online"}, "Online"},
		{Event{Online: true, Room: "Stream 1"}, "Online: Stream 1"},
		{Event{}, "Kongresshaus"},
		{Event{Room: "Kongresshaus"}, "Kongresshaus"},
	}
	for _, tc := range tests {
		if got := location(s, tc.e); got != tc.want {
			t.Errorf("location(%+v) = %q, want %q", tc.e, got, tc.want)
		}
	}
	bare := &Schedule{Conference: Conference{Title: "Bare"}}
	if got := location(bare, Event{}); got != "Bare" {
		t.Errorf("location with no room or venue = %q, want the conference title", got)
	}
}

func TestICalDuration(t *testing.T) {
	tests := map[time.Duration]string{
		10 * time.Minute: "PT10M", time.Hour: "PT1H", 90 * time.Minute: "PT1H30M", 24 * time.Hour: "P1D",
		30 * time.Second: "PT30S", 0: "PT0S", 25 * time.Hour: "PT25H",
	}
	for d, want := range tests {
		if got := icalDuration(d); got != want {
			t.Errorf("icalDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestRepeatedWallTime: times in the hour that occurs twice when clocks go
// back are found on both sides of the change, and nothing else is.
func TestRepeatedWallTime(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")         // 2024-10-27 03:00 CEST → 02:00 CET (01:00 UTC)
	lordHowe := mustZone(t, "Australia/Lord_Howe") // 2024-04-07 02:00 → 01:30 (30-minute DST; 15:00 UTC)
	dublin := mustZone(t, "Europe/Dublin")         // negative DST in Go's data: 2024-10-27 02:00 IST → 01:00 GMT
	tests := []struct {
		zone *time.Location
		utc  string
		want bool
	}{
		{berlin, "2024-10-27T00:00:00Z", true},  // 02:00 CEST, first occurrence
		{berlin, "2024-10-27T00:59:59Z", true},  // 02:59:59 CEST
		{berlin, "2024-10-27T01:00:00Z", true},  // 02:00 CET, second occurrence
		{berlin, "2024-10-27T01:59:59Z", true},  // 02:59:59 CET
		{berlin, "2024-10-27T02:00:00Z", false}, // 03:00 CET, once
		{berlin, "2024-10-26T23:59:59Z", false}, // 01:59:59 CEST, once
		{berlin, "2024-03-31T01:30:00Z", false}, // spring forward repeats nothing
		{lordHowe, "2024-04-06T14:45:00Z", true},
		{lordHowe, "2024-04-06T15:15:00Z", true},
		{lordHowe, "2024-04-06T15:30:00Z", false},
		{dublin, "2024-10-27T00:30:00Z", true},
		{dublin, "2024-10-27T01:30:00Z", true},
		{dublin, "2024-10-27T02:00:00Z", false},
		{mustZone(t, "Asia/Kolkata"), "2024-10-27T01:00:00Z", false},
	}
	for _, tc := range tests {
		at, err := time.Parse(time.RFC3339, tc.utc)
		if err != nil {
			t.Fatal(err)
		}
		if got := repeatedWallTime(at, tc.zone); got != tc.want {
			t.Errorf("repeatedWallTime(%s in %s = %s) = %v, want %v", tc.utc, tc.zone, at.In(tc.zone).Format("15:04:05 MST"), got, tc.want)
		}
	}
	// In a feed, such a session is written in UTC, and its neighbours are not.
	p := dateTime("DTSTART", time.Date(2024, 10, 27, 0, 30, 0, 0, time.UTC), berlin)
	if p.Value != "20241027T003000Z" || len(p.ICalParameters) != 0 {
		t.Errorf("repeated wall time written as %+v, want UTC without TZID", p.BaseProperty)
	}
	p = dateTime("DTSTART", time.Date(2024, 10, 27, 2, 30, 0, 0, time.UTC), berlin)
	if p.Value != "20241027T033000" || p.ICalParameters["TZID"][0] != "Europe/Berlin" {
		t.Errorf("ordinary time written as %+v", p.BaseProperty)
	}
}

func TestBasicFormat(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2022, 7, 22, 13, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 3, 31, 3, 4, 5, 999, mustZone(t, "Europe/Berlin")),
		time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := basicFormat(at, false), at.Format("20060102T150405"); got != want {
			t.Errorf("basicFormat(%v) = %q, want %q", at, got, want)
		}
		if got, want := basicFormat(at, true), at.Format("20060102T150405Z"); got != want {
			t.Errorf("basicFormat(%v, utc) = %q, want %q", at, got, want)
		}
	}
}

// A View without a zone shows the conference's zone, and says so.
func TestCalendarConferenceZone(t *testing.T) {
	s := miniSchedule(t)
	data := strings.ReplaceAll(string(render(t, Calendar(s, s.Events, View{}))), "\r\n ", "")
	zone := s.Conference.TimeZone
	for _, want := range []string{
		"X-WR-CALNAME:Mini Conf 2024 (times in " + zone + ")\r\n",
		"X-WR-CALDESC:All sessions of Mini Conf 2024\\, times in " + zone + ".",
		"X-WR-TIMEZONE:" + zone + "\r\n", "TZID:" + zone + "\r\n",
	} {
		if !strings.Contains(data, want) {
			t.Errorf("calendar lacks %q", want)
		}
	}
}

// checkCalendar checks data, the calendar rendered for events of s as v
// describes: RFC 5545 as checkRFC5545 reads it, one VEVENT per event in
// order, each with a DTSTART and DTEND that read back as
// the event's instants, in the view's zone or in UTC.
func checkCalendar(t testing.TB, s *Schedule, events []Event, v View, data []byte) {
	t.Helper()
	checkRFC5545(t, data)
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		return // checkRFC5545 said so
	}
	got := cal.Events()
	if len(got) != len(events) {
		t.Fatalf("%d VEVENTs for %d sessions", len(got), len(events))
	}
	zone := v.zone(s)
	for i, ev := range got {
		e := events[i]
		for _, want := range []struct {
			prop ics.ComponentProperty
			at   time.Time
		}{{ics.ComponentPropertyDtStart, e.Start}, {ics.ComponentPropertyDtEnd, e.End()}} {
			p := ev.GetProperty(want.prop)
			if p == nil {
				t.Errorf("session %q: no %s", e.GUID, want.prop)
				continue
			}
			var at time.Time
			var err error
			if tzid := p.ICalParameters["TZID"]; len(tzid) > 0 {
				if zone == time.UTC || tzid[0] != zone.String() || len(tzid) != 1 {
					t.Errorf("session %q: %s with TZID %q in a feed in %s", e.GUID, want.prop, tzid, zoneName(zone))
				}
				at, err = time.ParseInLocation("20060102T150405", p.Value, zone)
			} else {
				at, err = time.Parse("20060102T150405Z", p.Value)
			}
			if err != nil || !at.Equal(want.at) {
				t.Errorf("session %q: %s:%s reads as %v (%v), want %v", e.GUID, want.prop, p.Value, at.UTC(), err, want.at.UTC())
			}
		}
	}
}
