package feed

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
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

// maxFileName bounds a feed's file name; a selection too long to name
// gets the conference's.
const maxFileName = 100

// FileName is the name a feed of f is saved under: the conference's
// acronym, then the slugs of its tracks and speakers, as in
// "dynn2022-spotlight.ics". Files saved from different feeds then differ.
func (s *Schedule) FileName(f Filter) string {
	f = f.canonical()
	name := s.Conference.Acronym
	for _, slug := range slices.Concat(f.Tracks, f.Speakers) {
		name += "-" + slug
	}
	if len(name) > maxFileName {
		name = s.Conference.Acronym
	}
	return name + ".ics"
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

// maxSuggestInput bounds, in bytes, the input closest compares with the
// candidates: names in schedules are far shorter, and a longer input is no
// typo of one. Without it, the longest path a request's headers carry,
// compared in full with each of 10,000 sessions, took seconds of CPU.
const maxSuggestInput = 256

// closest returns up to n candidates nearest to want: those that contain it
// or that it contains first, then by edit distance, for "did you mean".
// Candidates further than about half their length are no help and are left out.
// An input longer than maxSuggestInput gets none.
func closest(want string, candidates []string, n int) []string {
	var m matcher
	return m.closest(want, candidates, n)
}

// matcher is the state of one call of closest: the input, the scratch space
// reused from one candidate to the next, and a count of the work done.
type matcher struct {
	want  []rune
	other []rune // the candidate being compared, in runes
	rows  []int
	cells int // edit-distance cells filled so far
}

// closest is the function closest, counting its work in m.cells.
func (m *matcher) closest(want string, candidates []string, n int) []string {
	if len(want) > maxSuggestInput || n <= 0 {
		return nil
	}
	type scored struct {
		name string
		dist int
	}
	less := func(a, b scored) bool {
		return a.dist < b.dist || a.dist == b.dist && a.name < b.name
	}
	m.want = []rune(want)
	var best []scored // the n nearest so far, sorted by less
	for _, c := range candidates {
		// Only a distance up to bound can make the list: half the candidate's
		// length, or once the list is full, the distance of its last entry
		// (which a candidate at the same distance may displace by name).
		bound := max(2, len(c)/2)
		if len(best) == n {
			bound = min(bound, best[n-1].dist)
		}
		var d int
		switch {
		case want == c:
			d = 0
		case want != "" && (strings.Contains(c, want) || strings.Contains(want, c)):
			d = 1
		default:
			d = m.distanceWithin(c, bound)
		}
		if d > bound {
			continue
		}
		sc := scored{c, d}
		if len(best) == n {
			if !less(sc, best[n-1]) {
				continue
			}
			best = best[:n-1]
		}
		at := len(best)
		for at > 0 && less(sc, best[at-1]) {
			at--
		}
		best = slices.Insert(best, at, sc)
	}
	out := make([]string, 0, len(best))
	for _, b := range best {
		out = append(out, b.name)
	}
	return out
}

// distanceWithin returns the Levenshtein distance in runes between m.want
// and b if it is at most bound, and bound+1 otherwise. It fills only the
// cells of the table within bound of its diagonal, as the others exceed
// bound, and stops at the first row all above bound: at most
// (runes of b + bound) * (2*bound + 1) cells, whatever the length of m.want.
func (m *matcher) distanceWithin(b string, bound int) int {
	a := m.want
	nb := utf8.RuneCountInString(b)
	if abs(len(a)-nb) > bound {
		return bound + 1 // each edit changes the length by at most one
	}
	m.other = m.other[:0]
	for _, r := range b {
		m.other = append(m.other, r)
	}
	rb := m.other
	inf := bound + 1 // any distance above bound; cells are capped at it
	if cap(m.rows) < 2*(nb+1) {
		m.rows = make([]int, 2*(nb+1))
	}
	prev, cur := m.rows[:nb+1], m.rows[nb+1:2*(nb+1)]
	for j := range prev {
		prev[j] = min(j, inf)
		cur[j] = inf
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-bound), min(nb, i+bound)
		// The cells out of the band read here must exceed bound: the one
		// left of it is set so, and no earlier row reached the one above
		// its right end, which keeps its first value.
		if lo == 1 {
			cur[0] = min(i, inf)
		} else {
			cur[lo-1] = inf
		}
		rowMin := cur[lo-1]
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost, inf)
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		m.cells += hi - lo + 1
		if rowMin > bound {
			return inf // no later row has a smaller minimum
		}
		prev, cur = cur, prev
	}
	return prev[nb]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
