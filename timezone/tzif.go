package timezone

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"time"
)

// fatUntil is where fatten stops writing out transitions: the end of 2037,
// as zic -b fat does.
var fatUntil = time.Date(2038, time.January, 1, 0, 0, 0, 0, time.UTC)

// fatten returns TZif data with the transitions that its footer (a POSIX TZ
// rule for the times after its last transition) implies before fatUntil
// written out as transitions, as in the "fat" TZif files of zic -b fat.
//
// Go's zoneinfo.zip is "slim": a zone that still observes daylight saving
// time has its last transition in the year its current rule began, and the
// time package computes later periods from the rule, one calendar year at a
// time. ZoneBounds then reports the ends of those years as period bounds too,
// and in a leap year reports December 31 00:00 UTC as the end of the period
// that contains it, so a walk from bound to bound stops there. Host zoneinfo
// (Debian's, say) is fat through 2037. Writing the transitions out gives
// locations whose bounds through 2037 are the zone's true transitions, as
// the code that walks them expects; the offsets and abbreviations are the
// same either way (TestFattenSameZone).
//
// Data that has no footer, or that fatten cannot read, is returned as it is.
func fatten(name string, data []byte) ([]byte, error) {
	f, err := parseTZif(data)
	if err != nil || f.footer == "" {
		return data, nil
	}
	slim, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, err
	}
	t := time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)
	if n := len(f.times); n > 0 {
		t = time.Unix(f.times[n-1], 0).UTC()
	}
	for {
		next := nextBound(slim, t)
		if next.IsZero() || !next.Before(fatUntil) {
			break
		}
		before, after := next.Add(-time.Second).In(slim), next.In(slim)
		abbr, off := after.Zone()
		if prevAbbr, prevOff := before.Zone(); prevAbbr != abbr || prevOff != off || before.IsDST() != after.IsDST() {
			idx, err := f.typeIndex(abbr, off, after.IsDST())
			if err != nil {
				return data, nil
			}
			f.times = append(f.times, next.Unix())
			f.indices = append(f.indices, idx)
		}
		t = next
	}
	return f.encode(), nil
}

// nextBound returns the first instant after t at which ZoneBounds starts a
// new period of loc, or the zero Time if there is none. It steps over the
// stuck bound of a rule-computed leap year (see fatten): the rule's periods
// for a year end with the year, so the next period starts a day later at the
// latest.
func nextBound(loc *time.Location, t time.Time) time.Time {
	_, end := t.In(loc).ZoneBounds()
	if end.IsZero() || end.After(t) {
		return end
	}
	start, end := t.Add(24 * time.Hour).In(loc).ZoneBounds()
	switch {
	case start.After(t):
		return start
	case end.After(t):
		return end
	}
	return time.Time{}
}

// tzif is the version 2+ (64-bit) data of a TZif file (RFC 8536), with the
// version 1 part kept as it is.
type tzif struct {
	v1      []byte // header and data of the version 1 part, as read
	v2head  []byte // the first 20 bytes of the version 2 header
	times   []int64
	indices []byte
	types   []byte // 6 bytes each: utoff (4), isdst, abbreviation index
	chars   []byte // abbreviations, each ending in NUL
	leaps   []byte
	isstd   []byte
	isut    []byte
	footer  string // TZ rule between newlines, or ""
}

var errTZif = errors.New("unsupported TZif data")

func parseTZif(data []byte) (*tzif, error) {
	counts := func(h []byte) (isut, isstd, leap, transitions, typ, char int) {
		c := func(i int) int { return int(binary.BigEndian.Uint32(h[20+4*i:])) }
		return c(0), c(1), c(2), c(3), c(4), c(5)
	}
	if len(data) < 44 || string(data[:4]) != "TZif" || data[4] < '2' {
		return nil, errTZif
	}
	isut, isstd, leap, nt, typ, char := counts(data)
	v1len := 44 + nt*5 + typ*6 + char + leap*8 + isstd + isut
	if len(data) < v1len+44 {
		return nil, errTZif
	}
	h := data[v1len : v1len+44]
	if string(h[:4]) != "TZif" {
		return nil, errTZif
	}
	isut, isstd, leap, nt, typ, char = counts(h)
	rest := data[v1len+44:]
	take := func(n int) []byte {
		if n > len(rest) {
			n = len(rest)
		}
		b := rest[:n:n]
		rest = rest[n:]
		return b
	}
	f := &tzif{v1: data[:v1len], v2head: h[:20]}
	timeBytes := take(nt * 8)
	f.indices = slices.Clone(take(nt))
	f.types = slices.Clone(take(typ * 6))
	f.chars = slices.Clone(take(char))
	f.leaps = take(leap * 12)
	f.isstd = slices.Clone(take(isstd))
	f.isut = slices.Clone(take(isut))
	if len(f.isut) != isut || (isut != 0 && isut != typ) || (isstd != 0 && isstd != typ) {
		return nil, errTZif
	}
	for i := 0; i < nt; i++ {
		f.times = append(f.times, int64(binary.BigEndian.Uint64(timeBytes[8*i:])))
	}
	if len(rest) < 2 || rest[0] != '\n' || rest[len(rest)-1] != '\n' {
		return nil, errTZif
	}
	f.footer = string(rest[1 : len(rest)-1])
	return f, nil
}

// typeIndex returns the index of the local time type abbr, off, isDST,
// adding it if there is none.
func (f *tzif) typeIndex(abbr string, off int, isDST bool) (byte, error) {
	dst := byte(0)
	if isDST {
		dst = 1
	}
	for i := 0; i+6 <= len(f.types); i += 6 {
		t := f.types[i : i+6]
		if int(int32(binary.BigEndian.Uint32(t))) == off && t[4] == dst && cString(f.chars, int(t[5])) == abbr {
			return byte(i / 6), nil
		}
	}
	n := len(f.types) / 6
	if n >= 255 {
		return 0, errTZif
	}
	ai := bytes.Index(f.chars, append([]byte(abbr), 0))
	if ai < 0 {
		ai = len(f.chars)
		f.chars = append(append(f.chars, abbr...), 0)
	}
	if ai > 255 {
		return 0, errTZif
	}
	f.types = binary.BigEndian.AppendUint32(f.types, uint32(int32(off)))
	f.types = append(f.types, dst, byte(ai))
	if len(f.isstd) > 0 {
		f.isstd = append(f.isstd, 0)
	}
	if len(f.isut) > 0 {
		f.isut = append(f.isut, 0)
	}
	return byte(n), nil
}

// cString returns the NUL-terminated string at b[i:].
func cString(b []byte, i int) string {
	if i >= len(b) {
		return ""
	}
	if j := bytes.IndexByte(b[i:], 0); j >= 0 {
		return string(b[i : i+j])
	}
	return string(b[i:])
}

func (f *tzif) encode() []byte {
	out := append([]byte(nil), f.v1...)
	out = append(out, f.v2head...)
	for _, c := range []int{len(f.isut), len(f.isstd), len(f.leaps) / 12, len(f.times), len(f.types) / 6, len(f.chars)} {
		out = binary.BigEndian.AppendUint32(out, uint32(c))
	}
	for _, t := range f.times {
		out = binary.BigEndian.AppendUint64(out, uint64(t))
	}
	out = append(out, f.indices...)
	out = append(out, f.types...)
	out = append(out, f.chars...)
	out = append(out, f.leaps...)
	out = append(out, f.isstd...)
	out = append(out, f.isut...)
	out = append(out, '\n')
	out = append(out, f.footer...)
	return append(out, '\n')
}
