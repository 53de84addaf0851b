package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/confcal/confcal/feed"
	"github.com/confcal/confcal/internal/interop"
)

// TestRunFeedsInterop fetches feeds from the running service as calendar
// clients would and has independent iCalendar implementations (ical.js,
// python-icalendar, libical) read them: every session must land on the
// instant the schedule gives, in every zone, and nothing else may appear.
func TestRunFeedsInterop(t *testing.T) {
	inst := start(t, nil)
	_, body := fetch(t, inst.url+"/schedule.json", nil)
	var listing feed.Listing
	if err := json.Unmarshal(body, &listing); err != nil {
		t.Fatal(err)
	}
	want := make(map[string]feed.ListedSession, len(listing.Sessions))
	for _, s := range listing.Sessions {
		want[s.GUID] = s
	}
	paths := []string{
		"/feed.ics",                           // the venue's zone, America/New_York
		"/feed.ics?tz=UTC",                    // Z times, no VTIMEZONE
		"/feed.ics?tz=Europe/Berlin",          // the subscriber's zone
		"/feed.ics?tz=Australia/Lord_Howe",    // 30-minute DST, southern winter
		"/feed.ics?tz=Asia/Kathmandu",         // +05:45
		"/feed.ics?tz=Pacific/Chatham",        // +12:45, the sessions cross midnight
		"/feed.ics?tz=America/St_Johns",       // -02:30 in summer
		"/tracks/spotlight.ics?tz=Asia/Tokyo", // a filtered feed
		"/speakers/jurgen-schmidhuber.ics?tz=W.+Europe+Standard+Time",
		"/feed.ics?track=poster,keynote&speaker=Tal+Schuster&tz=us/pacific&alarm=10m",
		// Filters that never meet: a calendar with no event, read as one.
		"/feed.ics?track=keynote&speaker=xin-wang&tz=Europe/Berlin",
		"/feed.ics?track=keynote&speaker=xin-wang&tz=UTC",
	}
	empty := func(p string) bool { return strings.Contains(p, "speaker=xin-wang") }
	feeds := make(map[string][]byte, len(paths))
	for _, p := range paths {
		resp, b := fetch(t, inst.url+p, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, b)
		}
		feeds[p] = b
	}
	for _, r := range interop.Readers() {
		t.Run(r.Name, func(t *testing.T) {
			interop.Require(t, r)
			for _, p := range paths {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				events, err := r.Read(ctx, feeds[p])
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if len(events) == 0 != empty(p) {
					t.Errorf("%s: read %d events", p, len(events))
				}
				for _, e := range events {
					s, ok := want[e.UID]
					switch {
					case e.Err != "":
						t.Errorf("%s: %s could not read %s: %s", p, r, e.UID, e.Err)
					case !ok:
						t.Errorf("%s: unknown UID %s", p, e.UID)
					case !e.Start.Equal(s.Start) || !e.End.Equal(s.End):
						t.Errorf("%s: %q read as %s–%s, want %s–%s", p, s.Title, e.Start, e.End, s.Start, s.End)
					}
				}
			}
			if n := len(mustRead(t, r, feeds["/feed.ics"])); n != len(listing.Sessions) {
				t.Errorf("the whole feed has %d events, want %d", n, len(listing.Sessions))
			}
		})
	}
}

func mustRead(t *testing.T, r interop.Reader, ics []byte) []interop.Event {
	t.Helper()
	events, err := r.Read(context.Background(), ics)
	if err != nil {
		t.Fatal(err)
	}
	return events
}
