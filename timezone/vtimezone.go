package timezone

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	ics "github.com/arran4/golang-ical"
)

// localFormat is the RFC 5545 DATE-TIME form of a local ("floating") time.
const localFormat = "20060102T150405"

// VTimezone returns a VTIMEZONE component for loc that is correct for every
// instant in [from, to]: it covers the whole calendar years from the year
// before from to the year after to (within the years 0 to 9999), starting
// with the observance in effect at the start of that span (RFC 5545 §3.6.5).
//
// The observances are read from the zone database by probing loc for its
// transitions. A zone that follows one yearly rule throughout the span gets a
// STANDARD and a DAYLIGHT sub-component with RRULEs, verified against every
// transition of the span; any other zone gets one sub-component per onset.
// DAYLIGHT and STANDARD follow Time.IsDST, so a zone with negative daylight
// saving time (Europe/Dublin) has its winter as DAYLIGHT; the offsets are
// exact either way. A zone without transitions in the span gets a single
// STANDARD starting 19700101T000000 (16010101T000000 for a span that starts
// before 1970).
//
// VTimezone returns nil for time.UTC (and any location named "UTC"): callers
// write UTC times with a Z suffix and no VTIMEZONE.
//
// Results for locations returned by Load are cached per zone and span, and
// shared between callers: treat the returned component as read-only (adding
// it to a calendar's Components is fine; changing its properties is not).
// VTimezone is safe for concurrent use.
func VTimezone(loc *time.Location, from, to time.Time) *ics.VTimezone {
	if loc == nil || loc == time.UTC || loc.String() == "UTC" {
		return nil
	}
	if to.Before(from) {
		from, to = to, from
	}
	// Years stay within the four digits RFC 5545 writes: a span that ends
	// in 9999 covers no year after it.
	key := vtzKey{loc.String(), max(from.UTC().Year()-1, 0), min(to.UTC().Year()+1, 9999)}
	// Only cache zones whose name identifies their rules: ours, from Load.
	cached, _ := locations.Load(loc.String())
	cacheable := cached == loc
	if cacheable {
		if vt, ok := vtzCache.Load(key); ok {
			return vt.(*ics.VTimezone)
		}
	}
	vt := buildVTimezone(loc, key.first, key.last)
	if cacheable {
		if vtzCached.Load() >= maxCachedVTimezones {
			// Full: start over, so the spans in use now are cached again.
			vtzCache.Clear()
			vtzCached.Store(0)
		}
		if prev, loaded := vtzCache.LoadOrStore(key, vt); loaded {
			return prev.(*ics.VTimezone)
		}
		vtzCached.Add(1)
	}
	return vt
}

// vtzKey identifies a cached VTIMEZONE: a zone and the years it covers.
type vtzKey struct {
	zone        string
	first, last int
}

// maxCachedVTimezones bounds the cache; spans come from schedules, so a
// running service needs few entries, but the bound keeps memory flat anyway:
// when it is reached the cache is emptied.
const maxCachedVTimezones = 4096

var (
	vtzCache  sync.Map // vtzKey → *ics.VTimezone
	vtzCached atomic.Int64
)

// transition is one change of a zone's offset, abbreviation or DST flag.
type transition struct {
	at       time.Time // instant of the change, UTC
	from, to int       // UTC offsets before and after, in seconds
	abbr     string    // abbreviation after the change
	isDST    bool      // daylight saving time after the change
}

// onset is the wall-clock time at which the transition happens, in the offset
// before it: the form RFC 5545 wants in DTSTART.
func (tr transition) onset() time.Time {
	return tr.at.Add(time.Duration(tr.from) * time.Second).UTC()
}

// kind groups transitions that can share one sub-component.
type kind struct {
	from, to int
	abbr     string
	isDST    bool
}

func (tr transition) kind() kind { return kind{tr.from, tr.to, tr.abbr, tr.isDST} }

// transitionAt describes the change of loc at instant at.
func transitionAt(loc *time.Location, at time.Time) transition {
	before := at.Add(-time.Nanosecond).In(loc)
	after := at.In(loc)
	_, from := before.Zone()
	abbr, to := after.Zone()
	return transition{at: at.UTC(), from: from, to: to, abbr: abbr, isDST: after.IsDST()}
}

// noop reports whether the change at tr changes nothing a reader can see.
func noop(loc *time.Location, tr transition) bool {
	before := tr.at.Add(-time.Nanosecond).In(loc)
	abbr, _ := before.Zone()
	return tr.from == tr.to && abbr == tr.abbr && before.IsDST() == tr.isDST
}

// transitions returns the changes of loc in [start, end) preceded by the
// change that started the period in effect at start, if any.
func transitions(loc *time.Location, start, end time.Time) []transition {
	var out []transition
	// The change that started the period in effect at start.
	t := start
	for {
		ps, _ := t.In(loc).ZoneBounds()
		if ps.IsZero() {
			break
		}
		if tr := transitionAt(loc, ps); !noop(loc, tr) {
			out = append(out, tr)
			break
		}
		t = ps.Add(-time.Nanosecond)
	}
	_, next := start.In(loc).ZoneBounds()
	for !next.IsZero() && next.Before(end) {
		if tr := transitionAt(loc, next); !noop(loc, tr) {
			out = append(out, tr)
		}
		next = nextBound(loc, next)
	}
	return out
}

// buildVTimezone writes the VTIMEZONE of loc for the calendar years first
// through last (UTC).
func buildVTimezone(loc *time.Location, first, last int) *ics.VTimezone {
	start := time.Date(first, time.January, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(last+1, time.January, 1, 0, 0, 0, 0, time.UTC)
	vt := ics.NewTimezone(loc.String())
	trs := transitions(loc, start, end)

	inSpan := 0
	for _, tr := range trs {
		if !tr.at.Before(start) {
			inSpan++
		}
	}
	if inSpan == 0 {
		// No change in the span: one observance, from a date before any use.
		vt.Components = append(vt.Components, openingObservance(loc, start, false))
		return vt
	}
	if len(trs) > 0 && !trs[0].at.Before(start) {
		// The zone's earliest period reaches back to the start of time: give it
		// an explicit observance so that the span's start is covered.
		vt.Components = append(vt.Components, openingObservance(loc, start, start.In(loc).IsDST()))
	}

	if rules, ok := yearlyRules(trs, last); ok {
		for _, r := range rules {
			tr := r.first
			vt.Components = append(vt.Components, observance(tr.isDST, tr.onset(), tr.from, tr.to, tr.abbr, r.rule.String()))
		}
		return vt
	}
	for _, tr := range trs {
		vt.Components = append(vt.Components, observance(tr.isDST, tr.onset(), tr.from, tr.to, tr.abbr, ""))
	}
	return vt
}

// openingObservance is the observance of loc in effect at start, from a
// date before any use: 19700101T000000, or 16010101T000000 for a start
// before 1970.
func openingObservance(loc *time.Location, start time.Time, isDST bool) ics.Component {
	abbr, off := start.In(loc).Zone()
	onset := time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)
	if start.Before(onset) {
		onset = time.Date(1601, time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	return observance(isDST, onset, off, off, abbr, "")
}

// observance builds a STANDARD or DAYLIGHT sub-component. golang-ical has no
// AddDaylight, so both are built here alike.
func observance(isDST bool, onset time.Time, from, to int, abbr, rrule string) ics.Component {
	var cb ics.ComponentBase
	cb.SetProperty(ics.ComponentPropertyDtStart, onset.Format(localFormat))
	cb.SetProperty(ics.ComponentProperty("TZOFFSETFROM"), formatOffset(from))
	cb.SetProperty(ics.ComponentProperty("TZOFFSETTO"), formatOffset(to))
	if rrule != "" {
		cb.SetProperty(ics.ComponentPropertyRrule, rrule)
	}
	if abbr != "" {
		cb.SetProperty(ics.ComponentProperty("TZNAME"), abbr)
	}
	if isDST {
		return &ics.Daylight{ComponentBase: cb}
	}
	return &ics.Standard{ComponentBase: cb}
}

// formatOffset writes a UTC offset as RFC 5545 §3.3.14 wants it: +hhmm, with
// seconds only when they are not zero; zero is +0000, never -0000.
func formatOffset(secs int) string {
	sign := '+'
	if secs < 0 {
		sign = '-'
		secs = -secs
	}
	h, m, s := secs/3600, secs/60%60, secs%60
	if s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, h, m)
}

// yearlyRule is a yearly RRULE of the form the tz database uses most:
// the week-th weekday of month (week -1 is the last), at a wall-clock time.
type yearlyRule struct {
	month   time.Month
	week    int // 1..4, or -1 for the last
	weekday time.Weekday
	clock   time.Duration // wall-clock time of day
}

var dayNames = [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// String writes the rule as an RRULE value.
func (r yearlyRule) String() string {
	return fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", int(r.month), r.week, dayNames[r.weekday])
}

// in returns the wall-clock time (as a UTC time) at which r fires in year.
func (r yearlyRule) in(year int) time.Time {
	var day int
	if r.week > 0 {
		first := time.Date(year, r.month, 1, 0, 0, 0, 0, time.UTC).Weekday()
		day = 1 + (int(r.weekday)-int(first)+7)%7 + 7*(r.week-1)
	} else {
		lastDate := time.Date(year, r.month+1, 0, 0, 0, 0, 0, time.UTC)
		day = lastDate.Day() - (int(lastDate.Weekday())-int(r.weekday)+7)%7
	}
	return time.Date(year, r.month, day, 0, 0, 0, 0, time.UTC).Add(r.clock)
}

// ruleGroup is one kind of transition described by a yearly rule.
type ruleGroup struct {
	first transition
	rule  yearlyRule
}

// yearlyRules describes trs by one yearly rule per kind of transition if, and
// only if, there are exactly two kinds, each happens once a year from its
// first occurrence through lastYear, and each rule, expanded, gives exactly
// the transitions' onsets. Anything else is written as explicit onsets.
func yearlyRules(trs []transition, lastYear int) ([]ruleGroup, bool) {
	var kinds []kind
	byKind := map[kind][]transition{}
	for _, tr := range trs {
		k := tr.kind()
		if _, ok := byKind[k]; !ok {
			kinds = append(kinds, k)
		}
		byKind[k] = append(byKind[k], tr)
	}
	if len(kinds) != 2 {
		return nil, false
	}
	var groups []ruleGroup
	for _, k := range kinds {
		group := byKind[k]
		onset := group[0].onset()
		if onset.Year() > lastYear-1 || group[len(group)-1].onset().Year() != lastYear {
			return nil, false
		}
		found := false
		for _, r := range candidateRules(onset) {
			if reproduces(r, group) {
				groups = append(groups, ruleGroup{group[0], r})
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return groups, true
}

// candidateRules returns the yearly rules whose occurrence in onset's year is onset.
func candidateRules(onset time.Time) []yearlyRule {
	y, m, d := onset.Date()
	clock := onset.Sub(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
	// The last weekday of a month first: "lastSun" is the commonest rule.
	var out []yearlyRule
	if d+7 > time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		out = append(out, yearlyRule{m, -1, onset.Weekday(), clock})
	}
	if week := (d-1)/7 + 1; week <= 4 {
		out = append(out, yearlyRule{m, week, onset.Weekday(), clock})
	}
	return out
}

// reproduces reports whether r, from the first onset of group, fires exactly
// at every onset of group, once a year, with no year missing.
func reproduces(r yearlyRule, group []transition) bool {
	year := group[0].onset().Year()
	for i, tr := range group {
		if !r.in(year + i).Equal(tr.onset()) {
			return false
		}
	}
	return true
}
