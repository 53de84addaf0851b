package feed

import (
	"testing"
	"time"

	"github.com/confcal/confcal/fixtures"
)

// workshop decodes the embedded DyNN workshop, as the service does.
func workshop(t testing.TB) *Schedule {
	t.Helper()
	s, err := Parse(fixtures.DyNN2022, ParseOptions{Source: "embedded " + fixtures.Default})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWorkshop checks the embedded schedule as decoded: the facts the
// workshop published, at the instants they happened.
func TestWorkshop(t *testing.T) {
	s := workshop(t)
	if len(s.Warnings) > 0 {
		t.Errorf("warnings: %q", s.Warnings)
	}
	if s.Conference.Acronym != "dynn2022" || s.Conference.TimeZone != "America/New_York" {
		t.Errorf("conference %s in %s", s.Conference.Acronym, s.Conference.TimeZone)
	}
	if len(s.Events) != 43 {
		t.Fatalf("%d sessions, want 43", len(s.Events))
	}
	counts := map[string]int{}
	for _, e := range s.Events {
		counts[e.Track.Slug]++
		if !e.End().After(e.Start) {
			t.Errorf("%q ends at or before its start", e.Title)
		}
	}
	if counts["spotlight"] != 10 || counts["poster"] != 24 {
		t.Errorf("%d spotlights and %d posters, want 10 and 24", counts["spotlight"], counts["poster"])
	}
	first, last := s.Events[0], s.Events[len(s.Events)-1]
	if want := time.Date(2022, 7, 22, 13, 0, 0, 0, time.UTC); !first.Start.Equal(want) || first.Title != "Welcome note" {
		t.Errorf("first session %q at %s, want Welcome note at %s", first.Title, first.Start, want)
	}
	if want := time.Date(2022, 7, 23, 0, 0, 0, 0, time.UTC); !last.End().Equal(want) {
		t.Errorf("last session %q ends %s, want %s", last.Title, last.End(), want)
	}
	keynote, ok := s.Event("dynn2022-2-spatially-and-temporally-adaptive-neural-networks")
	if !ok || !keynote.Online || keynote.Track.Name != "Keynote" {
		t.Errorf("the virtual keynote: found %v, online %v, track %q", ok, keynote.Online, keynote.Track.Name)
	}
	for _, slug := range []string{"jurgen-schmidhuber", "zihao-deng", "zhangyang-atlas-wang", "marco-levorato"} {
		if _, ok := s.Speaker(slug); !ok {
			t.Errorf("no speaker %s", slug)
		}
	}
}

// TestWorkshopGolden renders the workshop as subscribers see it, in the
// venue's zone, in a zone far away and in UTC.
func TestWorkshopGolden(t *testing.T) {
	s := workshop(t)
	tests := []struct {
		name   string
		filter Filter
		zone   string
	}{
		{"dynn2022_all_america_new_york", Filter{}, "America/New_York"},
		{"dynn2022_track_spotlight_europe_berlin", Filter{Tracks: []string{"spotlight"}}, "Europe/Berlin"},
		{"dynn2022_speaker_tal-schuster_asia_kolkata", Filter{Speakers: []string{"tal-schuster"}}, "Asia/Kolkata"},
		{"dynn2022_track_keynote_utc", Filter{Tracks: []string{"keynote"}}, "UTC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zone := mustZone(t, tc.zone)
			got := render(t, Calendar(s, s.Select(tc.filter), View{Name: s.Name(tc.filter), Zone: zone, Refresh: DefaultRefresh,
				Source: "https://cal.example.org" + FeedPath(tc.filter)}))
			checkGolden(t, tc.name, got)
		})
	}
}
