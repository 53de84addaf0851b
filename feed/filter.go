package feed

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Filter selects events. Within a kind the values are alternatives (any of
// the tracks); across kinds they must all hold (one of the tracks and one of
// the speakers). An empty filter selects every event.
type Filter struct {
	Tracks   []string // track slugs
	Speakers []string // speaker slugs
}

// IsZero reports whether f selects every event.
func (f Filter) IsZero() bool { return len(f.Tracks) == 0 && len(f.Speakers) == 0 }

// canonical returns f with its values sorted and without repeats, so that
// equivalent queries share one cache entry.
func (f Filter) canonical() Filter {
	return Filter{Tracks: sortedSet(f.Tracks), Speakers: sortedSet(f.Speakers)}
}

func sortedSet(values []string) []string {
	if len(values) == 0 {
		return nil
	}
	out := slices.Clone(values)
	slices.Sort(out)
	return slices.Compact(out)
}

// Key is a canonical text form of f: equivalent filters have equal keys.
func (f Filter) Key() string {
	c := f.canonical()
	return "t=" + strings.Join(c.Tracks, ",") + ";s=" + strings.Join(c.Speakers, ",")
}

// Select returns the events that f selects, in schedule order.
func (s *Schedule) Select(f Filter) []Event {
	if f.IsZero() {
		return s.Events
	}
	var out []Event
	for _, e := range s.Events {
		if f.matches(e) {
			out = append(out, e)
		}
	}
	return out
}

func (f Filter) matches(e Event) bool {
	if len(f.Tracks) > 0 && !slices.Contains(f.Tracks, e.Track.Slug) {
		return false
	}
	if len(f.Speakers) > 0 && !slices.ContainsFunc(e.Speakers, func(p Speaker) bool {
		return slices.Contains(f.Speakers, p.Slug)
	}) {
		return false
	}
	return true
}

// Name describes the selection for people, e.g. "Spotlight · Gao Huang";
// empty for the whole schedule.
func (s *Schedule) Name(f Filter) string {
	var parts []string
	for _, slug := range f.canonical().Tracks {
		if t, ok := s.Track(slug); ok {
			parts = append(parts, t.Name)
		}
	}
	var who []string
	for _, slug := range f.canonical().Speakers {
		if p, ok := s.Speaker(slug); ok {
			who = append(who, p.Name)
		}
	}
	name := strings.Join(parts, ", ")
	if len(who) > 0 {
		if name != "" {
			name += " · "
		}
		name += strings.Join(who, ", ")
	}
	return name
}

// NotFoundError reports a track, speaker or session the schedule does not
// have, with the closest ones it does.
type NotFoundError struct {
	Kind        string // "track", "speaker" or "session"
	Value       string
	Suggestions []string
	Shared      bool // Value names more than one, all in Suggestions
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("unknown %s %q", e.Kind, e.Value)
	if e.Shared {
		return fmt.Sprintf("%q names %d %ss; ask for one: %s", e.Value, len(e.Suggestions), e.Kind, quoteList(e.Suggestions))
	}
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + quoteList(e.Suggestions) + "?"
	}
	return msg
}

// quoteList writes values as "a", "b" or "c".
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// ResolveTrack finds a track by slug or by name, ignoring case and accents.
func (s *Schedule) ResolveTrack(value string) (Track, error) {
	if t, ok := s.findTrack(value); ok {
		return t, nil
	}
	return Track{}, &NotFoundError{Kind: "track", Value: value, Suggestions: closest(Slug(value), s.trackSlugs(), 5)}
}

// ResolveSpeaker finds a speaker by slug or by name, ignoring case and accents.
func (s *Schedule) ResolveSpeaker(value string) (Speaker, error) {
	if p, ok := s.findSpeaker(value); ok {
		return p, nil
	}
	return Speaker{}, &NotFoundError{Kind: "speaker", Value: value, Suggestions: closest(Slug(value), s.speakerSlugs(), 5)}
}

// trackSlugs lists the tracks' slugs, in the schedule's order.
func (s *Schedule) trackSlugs() []string {
	slugs := make([]string, len(s.Tracks))
	for i, t := range s.Tracks {
		slugs[i] = t.Slug
	}
	return slugs
}

// speakerSlugs lists the speakers' slugs, in the schedule's order.
func (s *Schedule) speakerSlugs() []string {
	slugs := make([]string, len(s.Speakers))
	for i, p := range s.Speakers {
		slugs[i] = p.Slug
	}
	return slugs
}

// findTrack is ResolveTrack without the suggestions: the track with value
// as its slug, else as its name, else with value's slug. A name comes before
// the slug made of it: "C++" is its own track when "C" has the slug "c".
func (s *Schedule) findTrack(value string) (Track, bool) {
	if t, ok := s.Track(value); ok {
		return t, true
	}
	if t, ok := s.trackNamed(value); ok {
		return t, true
	}
	return s.Track(Slug(value))
}

// trackNamed returns the track of the given name, ignoring case, spacing
// and Unicode normalization.
func (s *Schedule) trackNamed(name string) (Track, bool) {
	key := nameKey(name)
	for _, t := range s.Tracks {
		if nameKey(t.Name) == key {
			return t, true
		}
	}
	return Track{}, false
}

// findSpeaker is ResolveSpeaker without the suggestions. A name is matched
// before its slug: when Ana Lima has the slug "ana-lima", Ana Líma is still
// herself.
func (s *Schedule) findSpeaker(value string) (Speaker, bool) {
	if p, ok := s.Speaker(value); ok {
		return p, true
	}
	base := Slug(value)
	if namesakes := s.namesakes[base]; len(namesakes) > 0 {
		key, found := nameKey(value), -1
		for _, i := range namesakes {
			if nameKey(s.Speakers[i].Name) == key {
				if found >= 0 {
					found = -1 // two people of that name: only slugs tell them apart
					break
				}
				found = i
			}
		}
		if found >= 0 {
			return s.Speakers[found], true
		}
	}
	return s.Speaker(base)
}

// closest returns up to n candidates nearest to want: those that contain it
// or that it contains first, then by edit distance, for "did you mean".
// Candidates further than about half their length are no help and are left out.
func closest(want string, candidates []string, n int) []string {
	type scored struct {
		name string
		dist int
	}
	var found []scored
	for _, c := range candidates {
		d := editDistance(want, c)
		if want != "" && (strings.Contains(c, want) || strings.Contains(want, c)) {
			d = min(d, 1)
		}
		if d <= max(2, len(c)/2) {
			found = append(found, scored{c, d})
		}
	}
	slices.SortFunc(found, func(a, b scored) int { return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.name, b.name)) })
	out := make([]string, 0, min(n, len(found)))
	for _, f := range found[:min(n, len(found))] {
		out = append(out, f.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
