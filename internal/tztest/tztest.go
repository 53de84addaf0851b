// Package tztest holds what the time-zone proofs share: the instants worth
// checking in a zone, and where a wall time repeats when clocks go back.
package tztest

import (
	"slices"
	"time"
)

// ProbeInstants returns, for loc, each transition from 1970 to 2037 and the
// instants one hour either side of it, plus fixed instants of the first
// conference (2022-07-22 13:00 and 17:00 UTC).
func ProbeInstants(loc *time.Location) []time.Time {
	out := []time.Time{
		time.Date(2022, time.July, 22, 13, 0, 0, 0, time.UTC),
		time.Date(2022, time.July, 22, 17, 0, 0, 0, time.UTC),
	}
	end := time.Date(2038, time.January, 1, 0, 0, 0, 0, time.UTC)
	_, next := time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC).In(loc).ZoneBounds()
	for !next.IsZero() && next.Before(end) {
		out = append(out, next.Add(-time.Hour).UTC(), next.UTC(), next.Add(time.Hour).UTC())
		_, next = next.In(loc).ZoneBounds()
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// FirstOccurrence reports whether the wall time of at in loc already occurred
// at an earlier instant (the overlap when clocks go back), and that instant.
func FirstOccurrence(loc *time.Location, at time.Time) (time.Time, bool) {
	wall := at.In(loc)
	_, off := wall.Zone()
	local := at.Add(time.Duration(off) * time.Second) // wall time, as if UTC
	start, _ := wall.ZoneBounds()
	var first time.Time
	for range 3 { // the repeated hour can only come from a recent period
		if start.IsZero() {
			break
		}
		prev := start.Add(-time.Nanosecond).In(loc)
		_, prevOff := prev.Zone()
		ps, pe := prev.ZoneBounds()
		cand := local.Add(-time.Duration(prevOff) * time.Second)
		if !cand.Before(pe) {
			break
		}
		if ps.IsZero() || !cand.Before(ps) {
			first = cand
		}
		start = ps
	}
	return first, !first.IsZero()
}
