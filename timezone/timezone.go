// Package timezone resolves the zone names people type (IANA names in any
// case, backward-compatible links, Windows names) to canonical IANA zones, and
// writes iCalendar VTIMEZONE components for a zone over a span of time.
//
// Zone data comes from one tz database, embedded in the package: zoneinfo.zip,
// a copy of the Go toolchain's lib/time/zoneinfo.zip (release TZDataVersion).
// Unlike time.LoadLocation, Load never reads the host's zoneinfo (ZONEINFO,
// /usr/share/zoneinfo) nor the toolchain's GOROOT, so every binary built from
// the same source gives the same offsets and the same VTIMEZONEs, on any host.
// The zip's data is "slim"; Load writes out each zone's transitions through
// 2037 first, so that ZoneBounds gives true transitions (see fatten).
// gen.go copies the zip and generates the name tables (tables.go) from it,
// tzdata.zi and CLDR's windowsZones.xml.
//
// The package does not import time/tzdata: Load does not need it, and it would
// add a second copy of the same database to every binary. Code that calls
// time.LoadLocation directly gets the host's zoneinfo, as usual.
package timezone

//go:generate go run gen.go

import (
	"archive/zip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrUnknownZone is matched (errors.Is) by every error Load returns for a name
// that is not a zone. Callers map it to a client error (HTTP 400).
var ErrUnknownZone = errors.New("unknown time zone")

// UnknownZoneError reports a name that Load could not resolve, with the
// closest valid names.
type UnknownZoneError struct {
	Name        string   // what was asked for
	Suggestions []string // valid names close to Name, best first; may be empty
	Offset      bool     // Name is a UTC offset such as +05:30, and Suggestions zones at it now
}

// Error names the input and the suggestions.
func (e *UnknownZoneError) Error() string {
	var b strings.Builder
	switch {
	case strings.TrimSpace(e.Name) == "":
		b.WriteString("empty time zone name")
	case e.Offset:
		fmt.Fprintf(&b, "time zone %q is a UTC offset, and offsets are not zones (they change with daylight saving time)", e.Name)
	default:
		fmt.Fprintf(&b, "unknown time zone %q", e.Name)
	}
	if len(e.Suggestions) > 0 {
		if e.Offset {
			b.WriteString("; use a city zone such as ")
		} else {
			b.WriteString("; did you mean ")
		}
		for i, s := range e.Suggestions {
			switch {
			case i == 0:
			case i == len(e.Suggestions)-1:
				b.WriteString(" or ")
			default:
				b.WriteString(", ")
			}
			b.WriteString(s)
		}
		if !e.Offset {
			b.WriteString("?")
		}
	} else if e.Offset || e.Name == "" {
		b.WriteString("; use an IANA zone such as Europe/Berlin")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnknownZone) true.
func (e *UnknownZoneError) Is(target error) bool { return target == ErrUnknownZone }

// Names returns every canonical zone name of the tz database, sorted. Each is
// a zone of the embedded zoneinfo.zip and loads with Load. Load maps Etc/UTC
// and Etc/GMT to time.UTC, whose String is "UTC"; every other name loads as
// itself.
func Names() []string { return slices.Clone(canonicalNames) }

// Links returns the tz database's backward-compatible names (Asia/Calcutta,
// US/Pacific), each mapped to the name in Names that Load resolves it to.
// Browsers and older systems still report some of them as the local zone.
// The map is the caller's to change.
func Links() map[string]string {
	m := make(map[string]string, len(links))
	for _, l := range links {
		m[l[0]] = l[1]
	}
	return m
}

// index maps names (exact spelling and lower case) to canonical names.
type index struct {
	exact map[string]string
	lower map[string]string
}

var names = sync.OnceValue(func() *index {
	ix := &index{
		exact: make(map[string]string, len(canonicalNames)+len(links)+len(windowsZones)),
		lower: make(map[string]string, len(canonicalNames)+len(links)+len(windowsZones)),
	}
	add := func(name, canonical string) {
		ix.exact[name] = canonical
		if _, taken := ix.lower[strings.ToLower(name)]; !taken {
			ix.lower[strings.ToLower(name)] = canonical
		}
	}
	// Canonical names first, so that no other name shadows one in lower case.
	for _, n := range canonicalNames {
		add(n, n)
	}
	for _, l := range links {
		add(l[0], l[1])
	}
	for _, w := range windowsZones {
		if !offsetLike.MatchString(w[0]) { // "UTC-08" and the like: see Load
			add(w[0], w[1])
		}
	}
	for _, n := range []string{"UTC", "Z", "GMT", "UCT", "Zulu"} {
		add(n, "Etc/UTC")
	}
	return ix
})

// offsetLike matches what people write for UTC offsets: +05:30, -0800,
// UTC+2, GMT-3, UTC +5:30, +5.
var offsetLike = regexp.MustCompile(`(?i)^\s*(?:utc|gmt|z)?\s*[+\-−]\s*[0-9]{1,2}(?:[:.h]?[0-9]{2}){0,2}\s*$`)

var locations sync.Map // canonical name → *time.Location

// Load resolves a zone name as people type it: a canonical IANA name
// (case-insensitive), a backward-compatible link (US/Pacific), a Windows zone
// name (W. Europe Standard Time) or UTC and its aliases (Z, GMT, UCT, Zulu,
// Etc/UTC, Etc/GMT). Leading and trailing spaces are ignored.
//
// The returned location's String is the canonical IANA name (US/Pacific gives
// America/Los_Angeles); UTC and its aliases give time.UTC. Any other input,
// UTC offsets such as +05:30 or UTC+2 included, gives an *UnknownZoneError
// that matches ErrUnknownZone. Windows names that are offsets (UTC-08) are
// rejected too: they never observe daylight saving time, which a user who
// types one rarely means.
//
// Zones come from the embedded zoneinfo.zip only (see the package comment).
// Locations are cached; Load is safe for concurrent use.
func Load(name string) (*time.Location, error) {
	ix := names()
	canonical, ok := ix.exact[name]
	if !ok {
		trimmed := strings.TrimSpace(name)
		canonical, ok = ix.lower[strings.ToLower(trimmed)]
		if !ok {
			return nil, unknown(trimmed)
		}
	}
	return loadCanonical(canonical)
}

// loadCanonical loads a canonical zone name, cached.
func loadCanonical(canonical string) (*time.Location, error) {
	if canonical == "Etc/UTC" || canonical == "Etc/GMT" {
		return time.UTC, nil
	}
	if loc, ok := locations.Load(canonical); ok {
		return loc.(*time.Location), nil
	}
	data, err := zoneData(canonical)
	if err != nil {
		// The tables and the embedded database disagree: a build problem.
		return nil, fmt.Errorf("load zone %s: %w", canonical, err)
	}
	if data, err = fatten(canonical, data); err != nil {
		return nil, fmt.Errorf("load zone %s: %w", canonical, err)
	}
	loc, err := time.LoadLocationFromTZData(canonical, data)
	if err != nil {
		return nil, fmt.Errorf("load zone %s: %w", canonical, err)
	}
	loc2, _ := locations.LoadOrStore(canonical, loc)
	return loc2.(*time.Location), nil
}

// zoneinfoZip is the zone database: a copy of the Go toolchain's
// lib/time/zoneinfo.zip, made by gen.go. Its files are TZif data, stored
// (not compressed), named like the zones.
//
//go:embed zoneinfo.zip
var zoneinfoZip string

// zoneFiles indexes the files of zoneinfoZip by name. Only the zip's central
// directory is read here; a zone's data is read when the zone is first loaded.
var zoneFiles = sync.OnceValues(func() (map[string]*zip.File, error) {
	r, err := zip.NewReader(strings.NewReader(zoneinfoZip), int64(len(zoneinfoZip)))
	if err != nil {
		return nil, fmt.Errorf("embedded zoneinfo.zip: %w", err)
	}
	files := make(map[string]*zip.File, len(r.File))
	for _, f := range r.File {
		files[f.Name] = f
	}
	return files, nil
})

// zoneData returns the TZif data of zone name from the embedded zoneinfo.zip,
// as it is there.
func zoneData(name string) ([]byte, error) {
	files, err := zoneFiles()
	if err != nil {
		return nil, err
	}
	f, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("not in the embedded zoneinfo.zip")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("embedded zoneinfo.zip: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc) // checks the CRC-32 at the end
	if err != nil {
		return nil, fmt.Errorf("embedded zoneinfo.zip: %w", err)
	}
	return data, nil
}

// unknown builds the error for a name that is not in the tables.
func unknown(name string) error {
	if name == "" {
		return &UnknownZoneError{Name: name}
	}
	if offsetLike.MatchString(name) {
		return &UnknownZoneError{Name: name, Suggestions: zonesAtOffset(name), Offset: true}
	}
	return &UnknownZoneError{Name: name, Suggestions: suggest(name)}
}

// maxSuggestions bounds the names an error suggests.
const maxSuggestions = 3

// suggestion is a name that an error may suggest, prepared for comparison.
type suggestion struct {
	name    string
	full    []rune // name in lower case
	last    []rune // its last path component in lower case; nil without a '/'
	fullBag bag
	lastBag bag
	rank    int // prefer canonical names, then links, then Windows names
}

// suggestions lists the names suggest compares against, each once, and the
// length in runes of the longest.
var suggestions = sync.OnceValues(func() ([]suggestion, int) {
	var out []suggestion
	seen := make(map[string]bool)
	longest := 0
	add := func(n string, rank int) {
		if seen[n] { // "UTC" is both a link and a Windows name
			return
		}
		seen[n] = true
		s := suggestion{name: n, full: []rune(strings.ToLower(n)), rank: rank}
		s.fullBag = bagOf(s.full)
		if i := strings.LastIndexByte(n, '/'); i >= 0 {
			s.last = []rune(strings.ToLower(n[i+1:]))
			s.lastBag = bagOf(s.last)
		}
		longest = max(longest, len(s.full))
		out = append(out, s)
	}
	for _, n := range canonicalNames {
		add(n, 0)
	}
	for _, l := range links {
		add(l[0], 1)
	}
	for _, w := range windowsZones {
		if !offsetLike.MatchString(w[0]) {
			add(w[0], 2)
		}
	}
	return out, longest
})

// suggest returns the names closest to name by edit distance, comparing
// case-insensitively against whole names and against their last path
// component, so that "Berln" suggests Europe/Berlin.
func suggest(name string) []string {
	const maxInput = 64 // bound the work an arbitrary input can cause
	q := []rune(strings.ToLower(name))
	if len(q) > maxInput {
		return nil
	}
	qLast := q
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		qLast = []rune(strings.ToLower(name[i+1:]))
	}
	qBag, qLastBag := bagOf(q), bagOf(qLast)
	// A suggestion must be reasonably close: a third of the input, at least 1.
	limit := max(1, len(q)/3)
	type candidate struct {
		s    *suggestion
		dist int
	}
	less := func(a, b candidate) bool {
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		if a.s.rank != b.s.rank {
			return a.s.rank < b.s.rank
		}
		return a.s.name < b.s.name
	}
	all, longest := suggestions()
	rows := make([]int, 2*(longest+1))
	var best []candidate // the closest so far, sorted by less
	for i := range all {
		s := &all[i]
		// Only a distance up to bound can still make the list: the limit, or
		// once the list is full, the distance of its last entry (which a
		// candidate at the same distance may displace by rank or name).
		bound := limit
		if len(best) == maxSuggestions {
			bound = best[maxSuggestions-1].dist
		}
		d := distanceWithin(q, s.full, &qBag, &s.fullBag, bound, rows)
		if s.last != nil && d > 0 {
			d = min(d, distanceWithin(qLast, s.last, &qLastBag, &s.lastBag, min(d, bound), rows))
		}
		if d > bound {
			continue
		}
		c := candidate{s, d}
		if len(best) == maxSuggestions {
			if !less(c, best[maxSuggestions-1]) {
				continue
			}
			best = best[:maxSuggestions-1]
		}
		at := len(best)
		for at > 0 && less(c, best[at-1]) {
			at--
		}
		best = slices.Insert(best, at, c)
	}
	out := make([]string, 0, len(best))
	for _, c := range best {
		out = append(out, c.s.name)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// distanceWithin returns the Levenshtein distance between a and b if it is at
// most bound, and some number greater than bound otherwise. aBag and bBag are
// the bags of a and b; rows is scratch space of at least 2*(len(b)+1) ints.
func distanceWithin(a, b []rune, aBag, bBag *bag, bound int, rows []int) int {
	if abs(len(a)-len(b)) > bound {
		return bound + 1 // each edit changes the length by at most one
	}
	if bagDistance(aBag, bBag) > bound {
		return bound + 1
	}
	prev, cur := rows[:len(b)+1], rows[len(b)+1:2*(len(b)+1)]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > bound {
			return bound + 1 // the distance is at least the minimum of any row
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// bag counts the runes of a string in 32 classes (r mod 32). It gives a cheap
// lower bound of the edit distance: an insertion or deletion changes one
// count by one, a substitution at most two counts by one each, so it takes at
// least as many edits as the larger of the total surplus and the total
// deficit of one bag against the other. Sharing classes only lowers that
// bound. Names are shorter than 256 runes.
type bag [32]uint8

func bagOf(rs []rune) bag {
	var b bag
	for _, r := range rs {
		b[r&31]++
	}
	return b
}

func bagDistance(a, b *bag) int {
	surplus, deficit := 0, 0
	for i := range a {
		switch d := int(a[i]) - int(b[i]); {
		case d > 0:
			surplus += d
		case d < 0:
			deficit -= d
		}
	}
	return max(surplus, deficit)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// zonesAtOffset suggests city zones whose standard offset is the one in
// offset (+05:30 → Asia/Colombo, Asia/Kolkata), or nil.
func zonesAtOffset(offset string) []string {
	m := offsetParts.FindStringSubmatch(strings.ToLower(offset))
	if m == nil {
		return nil
	}
	h, _ := strconv.Atoi(m[2])
	mins, _ := strconv.Atoi(m[3]) // 0 when absent
	secs := h*3600 + mins*60
	if m[1] == "-" || m[1] == "−" {
		secs = -secs
	}
	return standardOffsets()[secs]
}

var offsetParts = regexp.MustCompile(`([+\-−])\s*([0-9]{1,2})(?:[:.h]?([0-9]{2}))?`)

// standardOffsets maps a standard UTC offset in seconds to up to
// maxSuggestions zones of the form Region/City that observe it, by name.
var standardOffsets = sync.OnceValue(func() map[int][]string {
	// The offsets of this year, so the suggestions follow the current rules.
	year := time.Now().Year()
	jan := time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC)
	jul := time.Date(year, time.July, 1, 0, 0, 0, 0, time.UTC)
	byOffset := make(map[int][]string)
	for _, n := range canonicalNames {
		if !strings.Contains(n, "/") || strings.HasPrefix(n, "Etc/") {
			continue
		}
		loc, err := loadCanonical(n)
		if err != nil {
			continue
		}
		for _, t := range []time.Time{jan, jul} {
			t = t.In(loc)
			if t.IsDST() {
				continue
			}
			_, off := t.Zone()
			if list := byOffset[off]; len(list) < maxSuggestions && !slices.Contains(list, n) {
				byOffset[off] = append(list, n)
			}
		}
	}
	return byOffset
})
