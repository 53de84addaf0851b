// Package feed turns a conference schedule into iCalendar feeds: the schedule
// model and the decoders of the frab/c3voc interchange formats, filtering,
// rendering, the render cache, and the HTTP routes that serve the feeds.
//
// The domain files (schedule, decode, filter, calendar) do not import net/http;
// the HTTP files sit on top of them.
package feed

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Conference describes the event a schedule belongs to.
type Conference struct {
	Acronym  string // short, URL-safe name, e.g. "dynn2022"
	Title    string
	TimeZone string         // canonical IANA name of the venue's zone
	Location *time.Location // TimeZone, loaded
	URL      string
	Venue    string // where in-person sessions happen, when the source names it
	Days     []Day
}

// Day is one conference day, as the source lists it.
type Day struct {
	Date string // civil date in the conference zone, YYYY-MM-DD; empty when the source gives none
}

// Event is one session of the schedule. Instants are in UTC.
type Event struct {
	GUID        string // stable across versions of the schedule; the feed's UID
	ID          string // the source's id (frab/pretalx integer, as text)
	Slug        string
	Start       time.Time
	Duration    time.Duration
	Room        string
	Online      bool // given remotely; Room names the online room, if any
	Title       string
	Subtitle    string
	Type        string
	Track       Track // zero when the session has no track
	Language    string
	Abstract    string
	Description string
	URL         string
	Speakers    []Speaker

	// The revision, set by a Journal (zero values render as the first
	// load of a schedule). Calendar apps update an event only when its
	// SEQUENCE grows (RFC 5545 §3.8.7.4).
	Sequence  int       // bumped whenever the session materially changes
	Modified  time.Time // when that change was noticed; zero means Schedule.Updated
	Cancelled bool      // gone from the source; kept in feeds as STATUS:CANCELLED for a while

	key string // how URLs name the session, unique in its schedule; set by NewSchedule
}

// End is the instant the event ends.
func (e Event) End() time.Time { return e.Start.Add(e.Duration) }

// Speaker is a person who gives a session.
type Speaker struct {
	ID   string // the source's guid or id; empty when the source has none
	Name string
	Slug string // unique within the schedule; set by NewSchedule
}

// Track groups sessions of one kind or theme.
type Track struct {
	Name  string
	Slug  string // unique within the schedule; set by NewSchedule
	Color string // "#rrggbb" when the source gives one
}

// Schedule is an immutable snapshot of one conference's programme. Events are
// sorted by start, then ID; tracks and speakers are sorted by slug.
type Schedule struct {
	Conference Conference
	Events     []Event
	Tracks     []Track
	Speakers   []Speaker

	// Version identifies the source content (a hash of its bytes) and,
	// once a Journal revised events, their revisions, so renders of an old
	// snapshot are never served for a new one.
	Version string
	// Updated is when the schedule last changed, as far as the source says;
	// feeds use it for DTSTAMP and LAST-MODIFIED instead of the clock.
	Updated time.Time
	// Revised is when a Journal first saw the schedule as it is (its
	// Version); zero without one.
	Revised time.Time
	// Warnings are problems worth telling the organizer that did not stop
	// the schedule from loading.
	Warnings []string

	tracks   map[string]int // slug → index in Tracks
	speakers map[string]int // slug → index in Speakers
	// namesakes lists, by slug of their name, the speakers whose names
	// fold to one slug (Ana Lima, Ana Líma): indexes in Speakers.
	namesakes map[string][]int
	events    map[string]int // GUID, ID and slug in lower case → index in Events; -1 when sessions share it

	// descriptions caches each event's DESCRIPTION text (GUID → string) as
	// feeds first need it: it is the same in every filter and zone.
	descriptions *sync.Map
}

// reservedAcronyms are the first segments of the root routes that have
// more segments under them (/tracks/{track}.ics, /static/{file}): the URLs
// of a conference with such an acronym would be theirs.
var reservedAcronyms = []string{"sessions", "speakers", "static", "tracks"}

// checkAcronym says what is wrong with a conference's acronym, if it cannot
// be the first segment of the conference's URLs (/{acronym}/feed.ics).
func checkAcronym(a string) error {
	switch {
	case a == "." || a == ".." || strings.Contains(a, "/"):
		return fmt.Errorf("acronym %q cannot be a segment of the conference's URLs (/%s/feed.ics): it is . or .. or holds a /", a, a)
	case slices.Contains(reservedAcronyms, a):
		return fmt.Errorf("acronym %q is taken by the service's own URLs (/%s/…); give the conference another", a, a)
	}
	return nil
}

// Every session lies between these instants. RFC 5545 writes a year in four
// digits, in whatever zone a feed is shown (no zone is a day away from
// UTC); and a session before 1900 is an export's mistake, most often a date
// never set: the year 1 is the zero date of Go and .NET.
var (
	earliestStart = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	latestEnd     = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// checkSpan says what is wrong with a session from start to end, if it does
// not lie between earliestStart and latestEnd or lasts longer than a
// time.Duration holds (292 years).
func checkSpan(start, end time.Time) error {
	switch {
	case start.Before(earliestStart):
		return fmt.Errorf("starts %s, before the year 1900: a date never set?", start.UTC().Format(time.RFC3339))
	case end.After(latestEnd):
		return fmt.Errorf("ends %s, after %s, the latest end iCalendar can write in every zone", end.UTC().Format(time.RFC3339), latestEnd.Format(time.RFC3339))
	case end.Sub(start) == math.MaxInt64:
		return fmt.Errorf("ends %s, centuries after it starts", end.UTC().Format(time.RFC3339))
	}
	return nil
}

// NewSchedule validates the events, assigns track and speaker slugs, sorts
// the events and builds the indexes. It does not modify its arguments.
func NewSchedule(conf Conference, events []Event) (*Schedule, error) {
	if conf.Acronym == "" {
		return nil, fmt.Errorf("conference has no acronym")
	}
	if err := checkAcronym(conf.Acronym); err != nil {
		return nil, err
	}
	if conf.Location == nil {
		return nil, fmt.Errorf("conference %s has no time zone", conf.Acronym)
	}
	s := &Schedule{
		Conference: conf,
		Events:     make([]Event, len(events)),
		tracks:     make(map[string]int),
		speakers:   make(map[string]int),
		events:     make(map[string]int, 3*len(events)),

		descriptions: new(sync.Map),
	}
	copy(s.Events, events)
	slices.SortStableFunc(s.Events, func(a, b Event) int {
		return cmp.Or(a.Start.Compare(b.Start), compareIDs(a.ID, b.ID), cmp.Compare(a.GUID, b.GUID))
	})

	seenGUID := make(map[string]bool, len(events))
	for i := range s.Events {
		e := &s.Events[i]
		switch {
		case e.GUID == "":
			return nil, fmt.Errorf("event %q (id %s) has no guid", e.Title, e.ID)
		case seenGUID[strings.ToLower(e.GUID)]:
			return nil, fmt.Errorf("event %q: duplicate guid %s", e.Title, e.GUID)
		case e.Duration <= 0:
			return nil, fmt.Errorf("event %q (guid %s): ends at or before its start", e.Title, e.GUID)
		}
		if err := checkSpan(e.Start, e.End()); err != nil {
			return nil, fmt.Errorf("event %q (guid %s): %w", e.Title, e.GUID, err)
		}
		seenGUID[strings.ToLower(e.GUID)] = true
		e.Start = e.Start.UTC()
		e.Speakers = slices.Clone(e.Speakers)
	}

	s.assignTracks()
	s.assignSpeakers()
	s.assignKeys()
	return s, nil
}

// assignKeys names every session for URLs by its slug, else its ID, else
// its GUID: the first that no other session shares and that fits in a path
// segment. Pretalx gives every slot of a submission the same ID, and older
// versions the same slug; such a session is named by its GUID, so that its
// link serves it and not a namesake. The index finds a session by any of
// its names, in any case, unless another session shares the name; a GUID is
// never shared.
func (s *Schedule) assignKeys() {
	for i, e := range s.Events {
		s.events[strings.ToLower(e.GUID)] = i
	}
	for i, e := range s.Events {
		for _, name := range [...]string{e.Slug, e.ID} {
			if name == "" {
				continue
			}
			key := strings.ToLower(name)
			switch j, ok := s.events[key]; {
			case !ok:
				s.events[key] = i
			case j != i && (j < 0 || !strings.EqualFold(s.Events[j].GUID, name)):
				s.events[key] = -1 // shared
			}
		}
	}
	for i := range s.Events {
		e := &s.Events[i]
		e.key = e.GUID
		for _, name := range [...]string{e.Slug, e.ID} {
			if name != "" && !strings.Contains(name, "/") && s.events[strings.ToLower(name)] == i {
				e.key = name
				break
			}
		}
	}
}

// sessionsNamed returns the URL keys of the sessions that go by name, in
// any case: more than one when they share it.
func (s *Schedule) sessionsNamed(name string) []string {
	var keys []string
	for _, e := range s.Events {
		if strings.EqualFold(e.Slug, name) || strings.EqualFold(e.ID, name) || strings.EqualFold(e.GUID, name) {
			keys = append(keys, e.key)
		}
	}
	return keys
}

// compareIDs orders numeric IDs numerically and others as text.
func compareIDs(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(a, b)
}

// assignTracks collects the tracks and gives each a unique slug. Names
// that differ only in case, spacing or Unicode normalization are one track,
// named as first seen. Other names that fold to the same slug ("C", "C#",
// "C++") are different tracks: the one whose name is the slug's words ("C")
// gets the plain slug, the others the slug and a short hash of their name
// ("c-4c21"). A track's slug depends only on its own name and on whether
// another name shares its slug: it stays the same when sessions move, and
// tracks that come or go do not shift others' suffixes. The one way a slug
// passes to another track is when a name that is its words arrives after
// a track that had it alone ("C" after "C++").
func (s *Schedule) assignTracks() {
	byKey := make(map[string]int)
	for i := range s.Events {
		t := &s.Events[i].Track
		if t.Name == "" {
			*t = Track{}
			continue
		}
		key := nameKey(t.Name)
		j, ok := byKey[key]
		if !ok {
			j = len(s.Tracks)
			byKey[key] = j
			s.Tracks = append(s.Tracks, Track{Name: t.Name, Color: t.Color})
		} else if s.Tracks[j].Color == "" {
			s.Tracks[j].Color = t.Color
		}
	}
	names, ids := make([]string, len(s.Tracks)), make([]string, len(s.Tracks))
	for j, t := range s.Tracks {
		names[j], ids[j] = t.Name, nameKey(t.Name)
	}
	order := make([]int, len(s.Tracks))
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
	slugs, _ := uniqueSlugs(names, ids, order, "track", s.tracks)
	for j, slug := range slugs {
		s.Tracks[j].Slug = slug
	}
	for i := range s.Events {
		if t := &s.Events[i].Track; t.Name != "" {
			*t = s.Tracks[byKey[nameKey(t.Name)]]
		}
	}
	sortBySlug(s.Tracks, func(t Track) string { return t.Slug }, s.tracks)
}

// assignSpeakers collects the speakers in order of first appearance. A
// speaker is identified by the source's ID, or by name when there is none.
// Slugs are given as uniqueSlugs gives them, hashing that identity: of two
// people whose names fold alike, Ana Lima keeps "ana-lima" whether or not
// Ana Líma appears first; of two Kim Parks, the first to appear keeps
// "kim-park", and a third never shifts the second's slug.
func (s *Schedule) assignSpeakers() {
	identity := func(p Speaker) string {
		if p.ID == "" {
			return "name:" + p.Name
		}
		return "id:" + p.ID
	}
	byKey := make(map[string]int) // identity → index in Speakers, plus one
	var ids []string
	for i := range s.Events {
		for _, p := range s.Events[i].Speakers {
			if key := identity(p); byKey[key] == 0 {
				s.Speakers = append(s.Speakers, Speaker{ID: p.ID, Name: p.Name})
				ids = append(ids, key)
				byKey[key] = len(s.Speakers)
			}
		}
	}
	names := make([]string, len(s.Speakers))
	order := make([]int, len(s.Speakers))
	for j, p := range s.Speakers {
		names[j], order[j] = p.Name, j
	}
	renamed := make(map[string]string) // slug → the slug of the name, where they differ
	slugs, bases := uniqueSlugs(names, ids, order, "speaker", s.speakers)
	for j, slug := range slugs {
		s.Speakers[j].Slug = slug
		if slug != bases[j] {
			renamed[slug] = bases[j]
		}
	}
	for i := range s.Events {
		for k := range s.Events[i].Speakers {
			p := &s.Events[i].Speakers[k]
			*p = s.Speakers[byKey[identity(*p)]-1]
		}
	}
	sortBySlug(s.Speakers, func(p Speaker) string { return p.Slug }, s.speakers)
	for i, p := range s.Speakers {
		if base, ok := renamed[p.Slug]; ok {
			if s.namesakes == nil {
				s.namesakes = make(map[string][]int)
			}
			if len(s.namesakes[base]) == 0 {
				if j, ok := s.speakers[base]; ok {
					s.namesakes[base] = []int{j}
				}
			}
			s.namesakes[base] = append(s.namesakes[base], i)
		}
	}
}

// uniqueSlugs gives the items named names unique slugs, records each in
// taken (slug → index) and returns them, with the slugs of the names. A name whose slug no other name
// shares gets it. Of names that share one ("C", "C++", "C#"), the one name
// that is the slug's words ("C") keeps it and the others get the slug and
// a short hash of their identity in ids ("c-4c21"), so that a slug does not
// pass from one item to another as others come and go. When two names are
// the slug's words (two Kim Parks) the first in order keeps it. Names
// without letters or digits become kind-N, N counting in order, which also
// decides which of two equal hashes gets a further suffix.
func uniqueSlugs(names, ids []string, order []int, kind string, taken map[string]int) (slugs, bases []string) {
	bases = make([]string, len(names))
	sharing := make(map[string]int, len(names)) // base → names with it
	for j, name := range names {
		bases[j] = Slug(name)
		sharing[bases[j]]++
	}
	words := make(map[string]int) // shared base → the first, in order, of the names that are its words
	for _, j := range order {
		b := bases[j]
		if _, seen := words[b]; !seen && sharing[b] > 1 && nameKey(names[j]) == strings.ReplaceAll(b, "-", " ") {
			words[b] = j
		}
	}
	plain := func(j int) bool {
		w, ok := words[bases[j]]
		return sharing[bases[j]] == 1 || ok && w == j
	}
	// Plain slugs first, so that a hashed or numbered one never takes one.
	order = slices.Clone(order)
	slices.SortStableFunc(order, func(a, b int) int { return -cmp.Compare(btoi(plain(a)), btoi(plain(b))) })
	slugs = make([]string, len(names))
	for n, j := range order {
		base := bases[j]
		if base != "" && !plain(j) {
			h := fnv.New32a()
			h.Write([]byte(ids[j]))
			base += fmt.Sprintf("-%04x", h.Sum32()>>16)
		}
		slugs[j] = uniqueSlug(base, kind, n, taken)
		taken[slugs[j]] = j
	}
	return slugs, bases
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nameKey identifies a track or a person by name, ignoring case, spacing
// and Unicode normalization but not accents: Ana Líma and Ana Lima may be
// two people.
func nameKey(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(name)), " "))
}

// uniqueSlug returns base, or base with the smallest suffix "-N" not yet in
// taken. An empty base (a name with no letters or digits) becomes kind-N.
func uniqueSlug(base, kind string, n int, taken map[string]int) string {
	if base == "" {
		base = kind + "-" + strconv.Itoa(n+1)
	}
	slug := base
	for i := 2; ; i++ {
		if _, ok := taken[slug]; !ok {
			return slug
		}
		slug = base + "-" + strconv.Itoa(i)
	}
}

// sortBySlug sorts items by slug and rebuilds the slug index to match.
func sortBySlug[T any](items []T, slug func(T) string, index map[string]int) {
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(slug(a), slug(b)) })
	for i, item := range items {
		index[slug(item)] = i
	}
}

// Track returns the track with the given slug.
func (s *Schedule) Track(slug string) (Track, bool) {
	i, ok := s.tracks[slug]
	if !ok {
		return Track{}, false
	}
	return s.Tracks[i], true
}

// Speaker returns the speaker with the given slug.
func (s *Schedule) Speaker(slug string) (Speaker, bool) {
	i, ok := s.speakers[slug]
	if !ok {
		return Speaker{}, false
	}
	return s.Speakers[i], true
}

// Event returns the event with the given slug, ID or GUID, in any case. A
// name two sessions share finds neither: see assignKeys.
func (s *Schedule) Event(key string) (Event, bool) {
	i, ok := s.events[strings.ToLower(key)]
	if !ok || i < 0 {
		return Event{}, false
	}
	return s.Events[i], true
}

// Span returns the first start and the last end of the schedule's events;
// both are zero when there are none.
func (s *Schedule) Span() (first, last time.Time) { return span(s.Events) }

// webURL is u if it is a web page's address (absolute http or https, with
// no space or control character in it), else "". A schedule's source may
// give any text as a URL: a line break in one would end the property of a
// feed and start others, in the calendar of every subscriber, and other
// schemes (javascript:, data:) are not for links.
func webURL(u string) string {
	if strings.ContainsFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		// A % that starts no escape ("50%off") breaks no line: only the
		// scheme and the host are judged, and a host has no %.
		if p, err = url.Parse(strings.ReplaceAll(u, "%", "%25")); err == nil && strings.Contains(p.Host, "%") {
			return ""
		}
	}
	if err != nil || p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
		return ""
	}
	return u
}
