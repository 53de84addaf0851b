package feed

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseQuery(t *testing.T) {
	s := miniSchedule(t)
	tests := []struct {
		name     string
		raw      string
		filters  bool
		tracks   []string
		speakers []string
		zone     string
		alarm    time.Duration
	}{
		{"empty", "", true, nil, nil, "Europe/Berlin", 0},
		{"track by slug", "track=rust", true, []string{"rust"}, nil, "Europe/Berlin", 0},
		{"track by name, any case", "track=GO+%26+friends", true, []string{"go-friends"}, nil, "Europe/Berlin", 0},
		{"repeated tracks", "track=rust&track=go-friends", true, []string{"go-friends", "rust"}, nil, "Europe/Berlin", 0},
		{"comma-separated, repeats folded", "track=rust,go-friends,rust,", true, []string{"go-friends", "rust"}, nil, "Europe/Berlin", 0},
		{"speaker by accented name", "speaker=J%C3%BCrgen+Schmidhuber", true, nil, []string{"jurgen-schmidhuber"}, "Europe/Berlin", 0},
		{"speaker by unaccented slug", "speaker=jurgen-schmidhuber", true, nil, []string{"jurgen-schmidhuber"}, "Europe/Berlin", 0},
		{"speaker in capitals", "speaker=ZIHAO+DENG", true, nil, []string{"zihao-deng"}, "Europe/Berlin", 0},
		{"combined", "track=rust&speaker=zihao-deng&tz=Asia/Tokyo", true, []string{"rust"}, []string{"zihao-deng"}, "Asia/Tokyo", 0},
		{"zone lower case", "tz=america/new_york", true, nil, nil, "America/New_York", 0},
		{"zone UTC", "tz=UTC", true, nil, nil, "UTC", 0},
		{"Windows zone", "tz=W.+Europe+Standard+Time", true, nil, nil, "Europe/Berlin", 0},
		{"plus typed into a URL", "tz=Etc/GMT+5", true, nil, nil, "Etc/GMT+5", 0},
		{"plus encoded", "tz=Etc/GMT%2B5", true, nil, nil, "Etc/GMT+5", 0},
		{"alarm", "alarm=10m", true, nil, nil, "Europe/Berlin", 10 * time.Minute},
		{"alarm hours", "alarm=1h30m&tz=UTC", false, nil, nil, "UTC", 90 * time.Minute},
		{"tracking parameters ignored", "utm_source=newsletter&track=rust&fbclid=IwAR0&gclid=x", true, []string{"rust"}, nil, "Europe/Berlin", 0},
		{"tracking parameters on a path feed", "utm_medium=email&tz=UTC", false, nil, nil, "UTC", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseQuery(s, tc.raw, tc.filters)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tc.raw, err)
			}
			if !slices.Equal(q.Filter.Tracks, tc.tracks) || !slices.Equal(q.Filter.Speakers, tc.speakers) {
				t.Errorf("filter = %+v, want tracks %v speakers %v", q.Filter, tc.tracks, tc.speakers)
			}
			if got := zoneName(q.Zone); got != tc.zone {
				t.Errorf("zone = %s, want %s", got, tc.zone)
			}
			if q.Alarm != tc.alarm {
				t.Errorf("alarm = %v, want %v", q.Alarm, tc.alarm)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	s := miniSchedule(t)
	tests := []struct {
		name    string
		raw     string
		filters bool
		notFnd  bool     // a NotFoundError rather than a QueryError
		want    []string // in the message
	}{
		{"typo in track", "track=rsut", true, true, []string{`unknown track "rsut"`, `"rust"`}},
		{"typo in speaker", "speaker=jurgen-schmidhubr", true, true, []string{`unknown speaker`, `"jurgen-schmidhuber"`}},
		{"bad zone", "tz=Europe/Berln", true, false, []string{"tz=Europe/Berln", "Europe/Berlin"}},
		{"city alone", "tz=Berlin", true, false, []string{"Europe/Berlin"}},
		{"offset zone", "tz=%2B05:30", true, false, []string{"tz=+05:30", "a UTC offset, not a time zone", "Asia/Kolkata"}},
		{"offset typed into a URL", "tz=UTC+2", true, false, []string{"tz=UTC+2: a UTC offset"}},
		{"bare offset typed into a URL", "tz=+05:30", true, false, []string{"tz=+05:30: a UTC offset", "Asia/Kolkata"}},
		{"two zones", "tz=UTC&tz=Asia/Tokyo", true, false, []string{"more than once"}},
		{"typo in parameter", "trak=rust", true, false, []string{"trak: unknown parameter", `"track"`}},
		{"filter on a path feed", "track=rust", false, false, []string{"track: not taken here", "tz and alarm", "/feed.ics?track="}},
		{"empty track", "track=", true, false, []string{"track: empty", "leave the parameter out"}},
		{"only commas", "speaker=,+,", true, false, []string{"speaker=, ,: empty"}},
		{"an empty one among others", "track=rust&track=", true, false, []string{"track: empty"}},
		{"tracking parameter then a typo", "utm_source=x&trak=rust", true, false, []string{"trak: unknown parameter"}},
		{"bad alarm", "alarm=soon", true, false, []string{"alarm=soon", "10m"}},
		{"alarm too long", "alarm=200h", true, false, []string{"between 1m and 168h"}},
		{"alarm seconds", "alarm=90s", true, false, []string{"whole minutes"}},
		{"malformed", "track=%zz", true, false, []string{"malformed"}},
		{"too long", "track=" + strings.Repeat("a", MaxQueryLength), true, false, []string{"too long"}},
		{"too many values", "track=" + strings.Repeat("rust,", MaxValues+1), true, false, []string{"too many values"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseQuery(s, tc.raw, tc.filters)
			if err == nil {
				t.Fatalf("ParseQuery(%q) succeeded", tc.raw)
			}
			var nf *NotFoundError
			var qe *QueryError
			if tc.notFnd && !errors.As(err, &nf) || !tc.notFnd && !errors.As(err, &qe) {
				t.Errorf("error %T %v, want NotFound=%v", err, err, tc.notFnd)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// A name with a comma in it can be given whole, encoded or not, and still
// splits into a list when it names nothing as a whole.
func TestParseQueryCommaInName(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	start := time.Date(2024, 3, 30, 9, 0, 0, 0, berlin)
	s, err := NewSchedule(Conference{Acronym: "c", Title: "C", TimeZone: "Europe/Berlin", Location: berlin}, []Event{
		{GUID: "11111111-1111-4111-8111-111111111111", ID: "1", Start: start, Duration: time.Hour, Title: "One",
			Speakers: []Speaker{{ID: "p1", Name: "Smith, John"}}},
		{GUID: "22222222-2222-4222-8222-222222222222", ID: "2", Start: start, Duration: time.Hour, Title: "Two",
			Speakers: []Speaker{{ID: "p2", Name: "Ada"}, {ID: "p3", Name: "Grace"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		raw  string
		want []string
	}{
		{"speaker=Smith,+John", []string{"smith-john"}},
		{"speaker=Smith%2C%20John", []string{"smith-john"}},
		{"speaker=smith-john,ada", []string{"ada", "smith-john"}},
		{"speaker=Ada,Grace", []string{"ada", "grace"}},
		{"speaker=Ada%2CGrace", []string{"ada", "grace"}},
	}
	for _, tc := range tests {
		q, err := ParseQuery(s, tc.raw, true)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tc.raw, err)
			continue
		}
		if !slices.Equal(q.Filter.Speakers, tc.want) {
			t.Errorf("ParseQuery(%q) speakers = %v, want %v", tc.raw, q.Filter.Speakers, tc.want)
		}
	}
}

// "+" in a query is a space: "track=C++" arrives as "C  ". It must never
// serve track C when there is a C++.
func TestParseQueryPlusInTrack(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	start := time.Date(2024, 3, 30, 9, 0, 0, 0, berlin)
	schedule := func(tracks ...string) *Schedule {
		var events []Event
		for i, name := range tracks {
			events = append(events, Event{GUID: fmt.Sprintf("11111111-1111-4111-8111-%012d", i), ID: strconv.Itoa(i),
				Start: start, Duration: time.Hour, Title: name, Track: Track{Name: name}})
		}
		s, err := NewSchedule(Conference{Acronym: "c", Title: "C", TimeZone: "Europe/Berlin", Location: berlin}, events)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	both, plusOnly := schedule("C", "C++", "Go & Friends"), schedule("C++", "Rust")
	tests := []struct {
		name string
		s    *Schedule
		raw  string
		want string // the track's name, or the error's text
	}{
		{"encoded plus", both, "track=C%2B%2B", "C++"},
		{"the slug", both, "track=c-4c21", "C++"},
		{"plain C", both, "track=C", "C"},
		{"plus typed, both exist", both, "track=C++", `a + in a URL is a space, so this is "C" or "C++"`},
		{"plus typed in a list", both, "track=C++,go-friends", `this is "C" or "C++"`},
		{"plus typed, only C++", plusOnly, "track=C++", "C++"},
		{"plus typed in a list, only C++", plusOnly, "track=rust,C++", "C++"},
		{"plus as a space", both, "track=Go+%26+Friends", "Go & Friends"},
	}
	for _, tc := range tests {
		q, err := ParseQuery(tc.s, tc.raw, true)
		var got string
		switch {
		case err != nil:
			got = err.Error()
		default:
			for _, slug := range q.Filter.Tracks {
				tr, _ := tc.s.Track(slug)
				if tr.Name == tc.want {
					got = tr.Name
				}
			}
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: ParseQuery(%q) = %v, %v; want %q", tc.name, tc.raw, q.Filter.Tracks, err, tc.want)
		}
	}
}

func TestSelect(t *testing.T) {
	s := miniSchedule(t)
	tests := []struct {
		name   string
		filter Filter
		want   []string // IDs
	}{
		{"all", Filter{}, []string{"1", "2", "3", "4"}},
		{"one track", Filter{Tracks: []string{"go-friends"}}, []string{"1", "3"}},
		{"tracks are alternatives", Filter{Tracks: []string{"go-friends", "rust"}}, []string{"1", "2", "3"}},
		{"one speaker", Filter{Speakers: []string{"jurgen-schmidhuber"}}, []string{"1", "3"}},
		{"speakers are alternatives", Filter{Speakers: []string{"zhangyang-atlas-wang", "zihao-deng"}}, []string{"1", "2"}},
		{"kinds combine", Filter{Tracks: []string{"rust"}, Speakers: []string{"jurgen-schmidhuber"}}, nil},
		{"track and speaker", Filter{Tracks: []string{"go-friends"}, Speakers: []string{"zhangyang-atlas-wang"}}, []string{"1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range s.Select(tc.filter) {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Select(%+v) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func TestFilterKeyCanonical(t *testing.T) {
	a := Filter{Tracks: []string{"b", "a", "b"}, Speakers: []string{"y", "x"}}
	b := Filter{Tracks: []string{"a", "b"}, Speakers: []string{"x", "y"}}
	if a.Key() != b.Key() {
		t.Errorf("keys differ: %q and %q", a.Key(), b.Key())
	}
	if a.Key() == (Filter{Tracks: []string{"a"}}).Key() {
		t.Error("different filters share a key")
	}
	if (Filter{Tracks: []string{"x"}}).Key() == (Filter{Speakers: []string{"x"}}).Key() {
		t.Error("a track and a speaker with the same slug share a key")
	}
}

func TestFeedPath(t *testing.T) {
	tests := []struct {
		f    Filter
		want string
	}{
		{Filter{}, "/feed.ics"},
		{Filter{Tracks: []string{"spotlight"}}, "/tracks/spotlight.ics"},
		{Filter{Speakers: []string{"gao-huang"}}, "/speakers/gao-huang.ics"},
		{Filter{Tracks: []string{"poster", "keynote"}}, "/feed.ics?track=keynote,poster"},
		{Filter{Tracks: []string{"poster"}, Speakers: []string{"gao-huang"}}, "/feed.ics?speaker=gao-huang&track=poster"},
	}
	for _, tc := range tests {
		if got := FeedPath(tc.f); got != tc.want {
			t.Errorf("FeedPath(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestFeedURL(t *testing.T) {
	s := miniSchedule(t)
	tests := map[string]string{
		"":                             "/feed.ics",
		"tz=Europe/Berlin":             "/feed.ics", // the conference's own zone is the default
		"track=rust&tz=Asia/Tokyo":     "/tracks/rust.ics?tz=Asia/Tokyo",
		"track=rust,go-friends&tz=UTC": "/feed.ics?track=go-friends,rust&tz=UTC",
		"speaker=ZIHAO+DENG&alarm=90m&track=rust": "/feed.ics?speaker=zihao-deng&track=rust&alarm=1h30m",
	}
	for raw, want := range tests {
		q, err := ParseQuery(s, raw, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := FeedURL(s, q); got != want {
			t.Errorf("FeedURL(%q) = %q, want %q", raw, got, want)
		}
		// The canonical URL asks for the same feed.
		path, query, _ := strings.Cut(want, "?")
		if slug, ok := strings.CutPrefix(path, "/tracks/"); ok {
			query = "track=" + strings.TrimSuffix(slug, ".ics") + "&" + query
		}
		again, err := ParseQuery(s, query, true)
		if err != nil || again.Filter.Key() != q.Filter.Key() || zoneName(again.Zone) != zoneName(q.Zone) || again.Alarm != q.Alarm {
			t.Errorf("%q does not parse back to the same query (%v)", want, err)
		}
	}
}

// FuzzParseQuery: no query makes parsing or selection panic, and whatever
// parses selects only events that match every kind of its filter.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{"", "track=rust", "speaker=J%C3%BCrgen&tz=Asia/Tokyo", "track=a,b,,c&alarm=10m",
		"tz=%2B05:30", "tz=W.+Europe+Standard+Time", "%", "track=%C3", "alarm=-1h"} {
		f.Add(seed, true)
	}
	s := miniSchedule(f)
	f.Fuzz(func(t *testing.T, raw string, filters bool) {
		q, err := ParseQuery(s, raw, filters)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if q.Zone == nil {
			t.Fatal("nil zone")
		}
		for _, e := range s.Select(q.Filter) {
			if !q.Filter.matches(e) {
				t.Errorf("selected %q which the filter does not match", e.Title)
			}
		}
		_ = s.Name(q.Filter)
		_ = FeedPath(q.Filter)
	})
}
