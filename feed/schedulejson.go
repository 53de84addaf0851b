package feed

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Listing is the /schedule.json document: the conference's tracks, speakers
// and sessions with the URLs of their feeds, for embedding on a website.
type Listing struct {
	Conference ListedConference `json:"conference"`
	Tracks     []ListedTrack    `json:"tracks"`
	Speakers   []ListedSpeaker  `json:"speakers"`
	Sessions   []ListedSession  `json:"sessions"`
}

// ListedConference describes the conference in a Listing.
type ListedConference struct {
	Acronym  string `json:"acronym"`
	Title    string `json:"title"`
	TimeZone string `json:"timeZone"`
	URL      string `json:"url,omitempty"`
	Venue    string `json:"venue,omitempty"`
	Feed     string `json:"feed"`
	Webcal   string `json:"webcal"` // the feed, to subscribe in one click
}

// ListedTrack is a track in a Listing.
type ListedTrack struct {
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Color    string `json:"color,omitempty"`
	Sessions int    `json:"sessions"`
	Feed     string `json:"feed"`
	Webcal   string `json:"webcal"`
}

// ListedSpeaker is a speaker in a Listing.
type ListedSpeaker struct {
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Sessions int    `json:"sessions"`
	Feed     string `json:"feed"`
	Webcal   string `json:"webcal"`
}

// ListedSession is a session in a Listing. Times are RFC 3339 in UTC.
type ListedSession struct {
	GUID     string    `json:"guid"`
	ID       string    `json:"id,omitempty"`
	Slug     string    `json:"slug,omitempty"`
	Title    string    `json:"title"`
	Subtitle string    `json:"subtitle,omitempty"`
	Type     string    `json:"type,omitempty"`
	Track    string    `json:"track,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Room     string    `json:"room,omitempty"`
	Online   bool      `json:"online"`
	// Cancelled sessions are gone from the source and stay listed for a
	// while, so subscribers learn of the cancellation.
	Cancelled bool         `json:"cancelled,omitempty"`
	Abstract  string       `json:"abstract,omitempty"`
	URL       string       `json:"url,omitempty"`
	Speakers  []SpeakerRef `json:"speakers"`
	ICS       string       `json:"ics"`
}

// SpeakerRef names a speaker of a ListedSession.
type SpeakerRef struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// NewListing describes s with feed URLs under base, the conference's root
// URL ("https://cal.example.org" or "https://cal.example.org/dynn2022").
func NewListing(s *Schedule, base string) Listing {
	l := Listing{
		Conference: ListedConference{
			Acronym: s.Conference.Acronym, Title: s.Conference.Title, TimeZone: s.Conference.TimeZone,
			URL: s.Conference.URL, Venue: s.Conference.Venue, Feed: base + FeedPath(Filter{}),
			Webcal: webcal(base + FeedPath(Filter{})),
		},
		Tracks:   make([]ListedTrack, 0, len(s.Tracks)),
		Speakers: make([]ListedSpeaker, 0, len(s.Speakers)),
		Sessions: make([]ListedSession, 0, len(s.Events)),
	}
	byTrack, bySpeaker := s.sessionCounts()
	for _, e := range s.Events {
		refs := make([]SpeakerRef, len(e.Speakers))
		for i, p := range e.Speakers {
			refs[i] = SpeakerRef{Name: p.Name, Slug: p.Slug}
		}
		l.Sessions = append(l.Sessions, ListedSession{
			GUID: e.GUID, ID: e.ID, Slug: e.Slug, Title: e.Title, Subtitle: e.Subtitle, Type: e.Type,
			Track: e.Track.Slug, Start: e.Start, End: e.End(), Room: e.Room, Online: e.Online, Cancelled: e.Cancelled,
			Abstract: e.Abstract, URL: e.URL, Speakers: refs,
			ICS: base + "/sessions/" + url.PathEscape(sessionKey(e)) + ".ics",
		})
	}
	for _, t := range s.Tracks {
		feed := base + FeedPath(Filter{Tracks: []string{t.Slug}})
		l.Tracks = append(l.Tracks, ListedTrack{Name: t.Name, Slug: t.Slug, Color: t.Color, Sessions: byTrack[t.Slug],
			Feed: feed, Webcal: webcal(feed)})
	}
	for _, p := range s.Speakers {
		feed := base + FeedPath(Filter{Speakers: []string{p.Slug}})
		l.Speakers = append(l.Speakers, ListedSpeaker{Name: p.Name, Slug: p.Slug, Sessions: bySpeaker[p.Slug],
			Feed: feed, Webcal: webcal(feed)})
	}
	return l
}

// sessionCounts counts the sessions of each track and of each speaker, by
// slug, cancelled ones included, as their feeds hold them.
func (s *Schedule) sessionCounts() (byTrack, bySpeaker map[string]int) {
	byTrack, bySpeaker = make(map[string]int, len(s.Tracks)), make(map[string]int, len(s.Speakers))
	for _, e := range s.Events {
		if e.Track.Slug != "" {
			byTrack[e.Track.Slug]++
		}
		for _, p := range e.Speakers {
			bySpeaker[p.Slug]++
		}
	}
	return byTrack, bySpeaker
}

// webcal is a feed's URL with the webcal scheme, which calendar apps
// (Apple Calendar, Outlook) open to subscribe.
func webcal(feed string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(feed, scheme); ok {
			return "webcal://" + rest
		}
	}
	return feed
}

// handleScheduleJSON serves the Listing of a conference, cached like feeds.
func (s *server) handleScheduleJSON() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sched, prefix, err := s.schedule(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if r.URL.RawQuery != "" {
			s.error(w, r, &QueryError{Param: "query", Value: r.URL.RawQuery, Problem: "/schedule.json takes no parameters"})
			return
		}
		base := s.baseURL(r) + prefix
		key := strings.Join([]string{sched.Conference.Acronym, sched.Version, "json", base}, "\x00")
		body, err := s.cache.get(key, func() (*rendered, error) {
			data, err := json.MarshalIndent(NewListing(sched, base), "", "  ")
			if err != nil {
				return nil, fmt.Errorf("encode schedule.json: %w", err)
			}
			return newRendered(append(data, '\n'), sched.LastModified()), nil
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		w.Header()["X-Content-Type-Options"] = hdrNosniff
		// Scripts on organizers' sites may revalidate it themselves, and
		// ETag is not a header they may read unless told.
		w.Header()["Access-Control-Expose-Headers"] = hdrExposeETag
		s.serve(w, r, body, headerValue("application/json; charset=utf-8"), nil)
	})
}
