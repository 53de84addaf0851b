package feed

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/confcal/confcal/timezone"
)

// DefaultMaxBytes is the largest schedule ParseSchedule and Load read when
// not told otherwise: far above real exports, small enough that a wrong URL
// cannot exhaust memory.
const DefaultMaxBytes = 128 << 20

// Errors a decoder returns, wrapped in a *DecodeError; test with errors.Is.
var (
	// ErrUnknownFormat means the content is neither frab/c3voc JSON nor
	// frab/pentabarf XML.
	ErrUnknownFormat = errors.New("unknown schedule format: want frab/c3voc schedule.json (starts with '{') or frab/pentabarf schedule.xml (starts with '<')")
	// ErrEmpty means the source has no content at all.
	ErrEmpty = errors.New("empty schedule")
	// ErrNoTimeZone means neither the schedule nor the options name the
	// conference's zone; legacy pentabarf files (FOSDEM) have none.
	ErrNoTimeZone = errors.New("schedule has no time_zone_name: give the venue's IANA zone with -schedule-tz, e.g. Europe/Brussels")
	// ErrTooLarge means the source is larger than the size limit.
	ErrTooLarge = errors.New("schedule too large")
)

// ParseOptions tunes Parse.
type ParseOptions struct {
	// Source names the schedule in errors and warnings: a file name or URL.
	Source string
	// TimeZone is the IANA zone of the venue, used when the schedule has no
	// time_zone_name of its own (legacy pentabarf XML). The schedule's own
	// zone wins when both exist.
	TimeZone string
	// Acronym is the conference's acronym when the schedule has none of its
	// own (legacy pentabarf XML). Without it one is derived from the title;
	// a reload passes the acronym the conference has been served under, so
	// that a new title does not make it another conference.
	Acronym string
}

// DecodeError is a problem that stops a schedule from loading. It names the
// source, where in it the problem is, and what is wrong, e.g.
//
//	pretalx.json: schedule.conference.days[0].rooms["Gray Room"][2].duration: "1:70": minutes must be 0–59
//	fosdem.xml:120:9: schedule/day[1]/room[@name="Janson"]/event[3]/duration: "1:70": minutes must be 0–59
type DecodeError struct {
	Source string // file name or URL; may be empty
	Line   int    // 1-based line, when known (XML always; JSON for syntax errors)
	Column int    // 1-based column (in bytes), when Line is known
	Path   string // JSON path or XML element path, when known
	Err    error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return strings.TrimSuffix(b.String(), ": ")
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ParseSchedule reads a frab/c3voc schedule.json or frab/pentabarf
// schedule.xml from r, of at most DefaultMaxBytes. Use Parse to name the
// source in errors or to give the zone of a legacy XML file.
func ParseSchedule(r io.Reader) (*Schedule, error) {
	data, err := readAll(r, DefaultMaxBytes)
	if err != nil {
		return nil, &DecodeError{Err: err}
	}
	return Parse(data, ParseOptions{})
}

// readAll reads r to the end, failing with ErrTooLarge beyond limit bytes.
func readAll(r io.Reader, limit int64) ([]byte, error) { return readAllInto(nil, r, limit) }

// readAllInto is readAll appending to buf, whose capacity may already fit.
//
// The buffer grows by doubling, but never past limit+1 bytes: a source that
// sends more than the limit, such as a small gzipped body that inflates
// without end, costs at most the limit and a half, not three times it.
func readAllInto(buf []byte, r io.Reader, limit int64) ([]byte, error) {
	limit = min(limit, math.MaxInt-1)
	r = io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(max(2*int64(cap(buf)), bytes.MinRead), limit+1))
			if cap(grown) == cap(buf) { // full at limit+1: more than the limit
				break
			}
			buf = append(grown[:0], buf...)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return buf, nil
}

// Parse decodes a schedule, detecting the format from the content (never
// from a file name or Content-Type, which are often wrong): after an optional
// byte order mark and white space, '{' is JSON and '<' is XML.
//
// Every error is a *DecodeError. Problems that do not make the schedule
// ambiguous are reported in Schedule.Warnings instead.
func Parse(data []byte, opts ParseOptions) (*Schedule, error) {
	// The decoders never see the byte order mark (JSON does not allow
	// one); the version is still that of the bytes as they came.
	text := trimBOM(data)
	body := bytes.TrimLeft(text, " \t\r\n")
	d := &decoder{opts: opts, guids: make(map[string]string)}
	var (
		r   result
		err error
	)
	switch {
	case len(body) == 0:
		return nil, &DecodeError{Source: opts.Source, Err: ErrEmpty}
	case body[0] == '{':
		r, err = d.decodeJSON(text)
	case body[0] == '<':
		r, err = d.decodeXML(text)
	default:
		return nil, &DecodeError{Source: opts.Source, Err: ErrUnknownFormat}
	}
	if err != nil {
		return nil, err
	}
	return d.finish(data, r)
}

// trimBOM drops a UTF-8 byte order mark from the start of data.
func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) }

// result is what a format decoder found, before the model checks it.
type result struct {
	conf    Conference
	events  []Event
	version string // the schedule's own version string
	start   string // the conference's start date, if given
}

// maxKeyLen bounds a GUID and an acronym, in bytes. They key the change
// journal, whose file takes keys of 32 KiB at most, and name sessions and
// conferences in UIDs and URLs; real ones are UUIDs and short names.
const maxKeyLen = 1024

// decoder holds what both formats share while decoding: options, warnings
// and the checks that need the whole schedule (unique GUIDs).
type decoder struct {
	opts     ParseOptions
	warnings []string
	guids    map[string]string // GUID → where it was first seen

	// Offsets that disagree with the zone tend to affect every event of a
	// file alike, and so do durations that disagree with the end an event
	// also has, and zero-length events (markers such as "doors open"): each
	// is reported once, with a count; so are links that are not web
	// addresses, which an export gives alike.
	offsets, ends, zeros, links repeated
}

// repeated is a warning that many events of a file may give alike: the
// first is told, and how many more there were.
type repeated struct {
	first string
	count int
}

// add notes one more event with the warning; msg makes the first's text.
func (w *repeated) add(msg func() string) {
	if w.count++; w.count == 1 {
		w.first = msg()
	}
}

// String is the warning, or "" when no event gave it.
func (w repeated) String() string {
	if w.count > 1 {
		return w.first + fmt.Sprintf(" (and %d more events like this)", w.count-1)
	}
	return w.first
}

func (d *decoder) warnf(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	if d.opts.Source != "" {
		msg = d.opts.Source + ": " + msg
	}
	d.warnings = append(d.warnings, msg)
}

// loadZone resolves the conference zone: the schedule's own name, else the
// option, else ErrNoTimeZone. A name that is not an IANA zone is an error
// with suggestions from the timezone package; it is never guessed. The
// option is checked even when the schedule names its own zone, so that a
// typo in it shows at once rather than with the first schedule needing it.
func (d *decoder) loadZone(name string, at place) (*time.Location, error) {
	var opt *time.Location
	if d.opts.TimeZone != "" {
		var err error
		if opt, err = timezone.Load(d.opts.TimeZone); err != nil {
			return nil, &DecodeError{Source: d.opts.Source, Err: fmt.Errorf("time zone option: %w", err)}
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		if opt == nil {
			return nil, at.errorf(ErrNoTimeZone)
		}
		return opt, nil
	}
	loc, err := timezone.Load(name)
	if err != nil {
		return nil, at.errorf(err)
	}
	if opt != nil && opt.String() != loc.String() {
		d.warnf(at.path, "the schedule's zone %s overrides the time zone option %s", loc, opt)
	}
	return loc, nil
}

// place is where in the source a value was found, for errors and warnings.
type place struct {
	source       string
	path         string
	line, column int
}

func (p place) errorf(err error) *DecodeError {
	return &DecodeError{Source: p.source, Path: p.path, Line: p.line, Column: p.column, Err: err}
}

func (p place) String() string {
	if p.line > 0 {
		return fmt.Sprintf("%s (line %d)", p.path, p.line)
	}
	return p.path
}

// rawEvent is an event as a format decoder read it: text fields, not yet
// interpreted, each with the place it came from.
type rawEvent struct {
	at     place            // the event itself
	fields map[string]place // where each field was, by its name in the format
	sep    string           // path separator of the format: "." or "/"

	guid, id, code                   string
	date, start, duration, end       string
	room, slug, url, title, subtitle string
	kind, track, language            string
	abstract, description            string
	speakers                         []Speaker

	// Whether the source had the field at all: an absent <date> means a
	// legacy file; an absent duration is fine when there is an end.
	hasDate, hasStart, hasEnd, hasDurationField bool
}

// field returns the place of one of the event's fields, or of the event when
// the field was absent.
func (r *rawEvent) field(name string) place {
	if p, ok := r.fields[name]; ok {
		return p
	}
	p := r.at
	p.path += r.sep + name
	return p
}

// day is a conference day as the event conversion needs it.
type day struct {
	date       civilDate
	start, end time.Time // zero when the source gives none
	change     *clock    // the conference's day_change (legacy XML); nil when none
	loc        *time.Location

	firstClock map[string]clock // first event's start in each room, in document order
}

// newDay reads a day's date, start and end, which field returns by the
// names "date", "start" and "end" and at says where they are, and makes the
// day its events are placed on; change is the conference's day_change, if
// any. A day without a date has the date of its start. The start and end
// decide which sessions belong after midnight (eventStart), so a day that
// ends before it starts is an error.
func (d *decoder) newDay(field func(name string) (string, error), at func(name string) place, loc *time.Location, change *clock) (day, error) {
	dy := day{loc: loc, change: change, firstClock: make(map[string]clock)}
	date, err := field("date")
	if err != nil {
		return day{}, err
	}
	if date != "" {
		if dy.date, err = parseDate(date); err != nil {
			return day{}, at("date").errorf(err)
		}
	}
	instant := func(name string) (time.Time, error) {
		s, err := field(name)
		if err != nil || s == "" {
			return time.Time{}, err
		}
		t, err := parseInstant(s, loc)
		if err != nil {
			return time.Time{}, at(name).errorf(err)
		}
		return t, nil
	}
	if dy.start, err = instant("start"); err != nil {
		return day{}, err
	}
	if dy.end, err = instant("end"); err != nil {
		return day{}, err
	}
	if dy.date.isZero() && !dy.start.IsZero() {
		s := dy.start.In(loc)
		dy.date = civilDate{s.Year(), s.Month(), s.Day()}
	}
	if !dy.start.IsZero() && !dy.end.IsZero() && !dy.end.After(dy.start) {
		return day{}, at("end").errorf(fmt.Errorf("day ends at or before its start %s", dy.start.Format(time.RFC3339)))
	}
	return dy, nil
}

// listed is the day as Conference.Days lists it.
func (dy *day) listed() Day {
	if dy.date.isZero() {
		return Day{}
	}
	return Day{Date: dy.date.String()}
}

// event converts a raw event and checks what can be checked with a place to
// point to: the model's NewSchedule repeats the checks as a safety net. It
// reports false, with a warning, for an event that lasts no time at all.
//
// Such an event is left out rather than refusing the schedule: many
// schedules have zero-minute markers ("doors open"), and one of them must
// not keep the rest from loading; but an iCalendar event must end after it
// starts (RFC 5545 §3.8.2.2), and a length made up for it would be a
// silent guess.
func (d *decoder) event(r *rawEvent, dy *day, roomKey string, trackColors map[string]string, online map[string]bool) (Event, bool, error) {
	e, err := d.convert(r, dy, roomKey, trackColors, online)
	if err != nil {
		return Event{}, false, err
	}
	if e.Duration == 0 {
		d.zeros.add(func() string {
			return fmt.Sprintf("%s: event %s lasts no time (ends as it starts); left out of the feeds", r.at, describe(r))
		})
		return Event{}, false, nil
	}
	return e, true, nil
}

// convert is event without the check of the event's length.
func (d *decoder) convert(r *rawEvent, dy *day, roomKey string, trackColors map[string]string, online map[string]bool) (Event, error) {
	e := Event{
		ID:          cmp.Or(r.id, r.code),
		GUID:        r.guid,
		Slug:        r.slug,
		Room:        cmp.Or(r.room, roomKey),
		Title:       r.title,
		Subtitle:    r.subtitle,
		Type:        r.kind,
		Language:    r.language,
		Abstract:    plainText(r.abstract),
		Description: plainText(r.description),
		Speakers:    r.speakers,
	}
	if u := strings.TrimSpace(r.url); u != "" {
		if e.URL = webURL(u); e.URL == "" {
			d.links.add(func() string {
				return fmt.Sprintf("%s: %s is not an http(s) address; left out", r.field("url").path, quoteShort(r.url))
			})
		}
	}
	e.Online = online[e.Room]
	if r.track != "" {
		e.Track = Track{Name: r.track, Color: trackColors[r.track]}
	}

	if e.GUID == "" {
		return Event{}, r.field("guid").errorf(fmt.Errorf("event %s has no guid", describe(r)))
	}
	if len(e.GUID) > maxKeyLen {
		return Event{}, r.field("guid").errorf(fmt.Errorf("event %s has a guid of %d bytes; at most %d", describe(r), len(e.GUID), maxKeyLen))
	}
	if first, dup := d.guids[e.GUID]; dup {
		return Event{}, r.field("guid").errorf(fmt.Errorf("duplicate guid %s (first used at %s)", e.GUID, first))
	}
	d.guids[e.GUID] = r.at.String()

	start, err := d.eventStart(r, dy, roomKey)
	if err != nil {
		return Event{}, err
	}
	e.Start = start

	if r.hasDurationField || !r.hasEnd {
		dur, err := parseDuration(r.duration)
		if err != nil {
			return Event{}, r.field("duration").errorf(err)
		}
		e.Duration = dur
	}
	end := start.Add(e.Duration)
	if r.hasEnd {
		end, err = parseInstant(r.end, dy.loc)
		if err != nil {
			return Event{}, r.field("end").errorf(err)
		}
		if end.Before(start) {
			return Event{}, r.field("end").errorf(fmt.Errorf("%q is before the start %s", r.end, start.In(dy.loc).Format(time.RFC3339)))
		}
		// The end is the more precise of the two (pretalx computes the
		// duration from it, rounded), but a disagreement may be a mistake
		// the organizer wants to hear of.
		if dur := end.Sub(start); r.hasDurationField && dur != e.Duration {
			d.ends.add(func() string {
				return fmt.Sprintf("%s: %s is %s after the start, but the duration is %s; using the end",
					r.field("end").path, r.end, formatDuration(dur), strings.TrimSpace(r.duration))
			})
		}
	}
	// An event that lasts no time is left out by event, whatever its date:
	// a marker with a date never set keeps no schedule from loading.
	if !end.Equal(start) {
		if err := checkEventSpan(r, start, end); err != nil {
			return Event{}, err
		}
	}
	e.Duration = end.Sub(start)
	return e, nil
}

// checkEventSpan is checkSpan for an event from start to end, pointing at
// the field that is out of bounds.
func checkEventSpan(r *rawEvent, start, end time.Time) error {
	err := checkSpan(start, end)
	if err == nil {
		return nil
	}
	// The start is to blame when it is out of bounds itself; otherwise
	// the end, or the duration that gives it.
	field := "start"
	switch {
	case start.Before(earliestStart) || start.After(latestEnd):
		if r.hasDate && r.date != "" {
			field = "date"
		}
	case r.hasEnd:
		field = "end"
	default:
		field = "duration"
	}
	return r.field(field).errorf(fmt.Errorf("event %s %w", describe(r), err))
}

// eventStart finds the instant an event starts. The full date-time wins when
// the source has one; otherwise the event's clock time is taken on the day's
// date in the conference zone, moved to the next date when it belongs after
// midnight.
func (d *decoder) eventStart(r *rawEvent, dy *day, roomKey string) (time.Time, error) {
	if r.hasDate && r.date != "" {
		at := r.field("date")
		t, err := parseInstant(r.date, dy.loc)
		if err != nil {
			return time.Time{}, at.errorf(err)
		}
		// An offset that disagrees with the conference zone is a warning, not
		// an error: the instant itself is unambiguous, and real exporters
		// write such files (pretalx's demo says UTC but writes +01:00), so
		// refusing them would refuse schedules that render correctly.
		if _, off := t.Zone(); hasOffset(r.date) {
			if _, want := t.In(dy.loc).Zone(); off != want {
				d.offsets.add(func() string {
					return fmt.Sprintf("%s: %s has UTC offset %s, but %s is at %s then; using the instant as written",
						at.path, r.date, formatOffset(off), dy.loc, formatOffset(want))
				})
			}
		}
		return t, nil
	}
	if !r.hasStart || r.start == "" {
		return time.Time{}, r.field("start").errorf(errors.New("event has neither a date nor a start time"))
	}
	c, err := parseClock(r.start)
	if err != nil {
		return time.Time{}, r.field("start").errorf(err)
	}
	if dy.date.isZero() {
		return time.Time{}, r.field("start").errorf(errors.New("start time without a date: the day has no date attribute and the event no <date>"))
	}
	t, later := dy.date.at(c, dy.loc), dy.date.addDays(1).at(c, dy.loc)
	// Schedules list a night's last sessions (00:30) on the day they belong
	// to in the programme, but they happen on the next date. What the
	// source says decides, most specific first: the day's start (a time
	// before it is on the next date, unless the day has ended by then);
	// else the conference's day_change, the time of day at which one
	// programme day turns into the next; else an event that starts earlier
	// than the first event of its room on that day is after midnight
	// (rooms are listed in time order by every exporter we know).
	next := false
	switch {
	case !dy.start.IsZero():
		next = t.Before(dy.start) && (dy.end.IsZero() || later.Before(dy.end))
	case dy.change != nil:
		next = c.before(*dy.change)
	default:
		if first, ok := dy.firstClock[roomKey]; !ok {
			dy.firstClock[roomKey] = c
		} else {
			next = c.before(first)
		}
	}
	if next {
		t = later
	}
	return t, nil
}

// describe names an event in messages about it (a missing guid, no
// length): by its id and title, else its id or code, else its title.
func describe(r *rawEvent) string {
	switch {
	case r.id != "" && r.title != "":
		return fmt.Sprintf("%s (%q)", r.id, r.title)
	case r.id != "" || r.code != "":
		return cmp.Or(r.id, r.code)
	default:
		return strconv.Quote(r.title)
	}
}

// finish checks the whole schedule, builds it and stamps it.
func (d *decoder) finish(data []byte, r result) (*Schedule, error) {
	for _, w := range []repeated{d.offsets, d.ends, d.zeros, d.links} {
		if w.count > 0 {
			d.warnf("", "%s", w)
		}
	}
	if u := strings.TrimSpace(r.conf.URL); u != "" {
		if r.conf.URL = webURL(u); r.conf.URL == "" {
			d.warnf("", "the conference's url %s is not an http(s) address; left out", quoteShort(u))
		}
	}
	if len(r.events) == 0 {
		d.warnf("", "the schedule has no events")
	}
	s, err := NewSchedule(r.conf, r.events)
	if err != nil {
		return nil, &DecodeError{Source: d.opts.Source, Err: err}
	}
	s.Warnings = d.warnings
	s.Version = contentVersion(data)
	s.Updated = updated(r.version, s.Conference.Days, r.start, s.Events)
	return s, nil
}

// contentVersion identifies schedule content: the hex of the first 16 bytes of
// its SHA-256.
func contentVersion(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// updated picks a deterministic "last changed" instant for DTSTAMP and
// LAST-MODIFIED. It must not be the clock or a file's mtime: replicas load the
// same bytes at different times, and their feeds must be byte-identical. It is
// the schedule's version when that is a date (some exporters write one),
// else midnight UTC of the first conference day, which is fixed by the
// content and precedes every session.
func updated(version string, days []Day, confStart string, events []Event) time.Time {
	if t, ok := parseVersionDate(version); ok {
		return t
	}
	for _, dy := range days {
		if c, err := parseDate(dy.Date); err == nil {
			return c.at(clock{}, time.UTC)
		}
	}
	if c, err := parseDate(confStart); err == nil {
		return c.at(clock{}, time.UTC)
	}
	if len(events) > 0 {
		return events[0].Start.UTC().Truncate(24 * time.Hour)
	}
	return time.Unix(0, 0).UTC()
}

// parseVersionDate reads a schedule version that is a date or date-time.
func parseVersionDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseDuration reads "H:MM", "HH:MM" or "HH:MM:SS", "00:00" included (the
// caller decides what a zero-length event is). The XSD allows
// seconds of one digit ("1:30:5"); schema.json allows hours of any length,
// of which three digits are more than any session needs.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("missing duration")
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) > 3 || len(parts[1]) != 2 || (len(parts) == 3 && (len(parts[2]) < 1 || len(parts[2]) > 2)) {
		return 0, fmt.Errorf("%q: want a duration like 01:30", s)
	}
	var n [3]int
	for i, p := range parts {
		v, ok := digits(p)
		if !ok {
			return 0, fmt.Errorf("%q: want a duration like 01:30", s)
		}
		n[i] = v
	}
	if n[1] > 59 {
		return 0, fmt.Errorf("%q: minutes must be 0–59", s)
	}
	if n[2] > 59 {
		return 0, fmt.Errorf("%q: seconds must be 0–59", s)
	}
	return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second, nil
}

// formatDuration writes d as parseDuration reads it: "1:15", or "1:15:30"
// when it has seconds.
func formatDuration(d time.Duration) string {
	h, m, s := int(d/time.Hour), int(d/time.Minute%60), int(d/time.Second%60)
	if s != 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", h, m)
}

// clock is a time of day.
type clock struct{ hour, min, sec int }

func (c clock) before(o clock) bool {
	return cmp.Or(cmp.Compare(c.hour, o.hour), cmp.Compare(c.min, o.min), cmp.Compare(c.sec, o.sec)) < 0
}

// parseClock reads "HH:MM" or "HH:MM:SS" (one hour digit is accepted).
func parseClock(s string) (clock, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	bad := fmt.Errorf("%q: want a time of day like 09:30", s)
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[1]) != 2 || (len(parts) == 3 && len(parts[2]) != 2) {
		return clock{}, bad
	}
	var n [3]int
	for i, p := range parts {
		v, ok := digits(p)
		if !ok {
			return clock{}, bad
		}
		n[i] = v
	}
	switch {
	case n[0] > 23:
		return clock{}, fmt.Errorf("%q: hours must be 0–23", s)
	case n[1] > 59:
		return clock{}, fmt.Errorf("%q: minutes must be 0–59", s)
	case n[2] > 59:
		return clock{}, fmt.Errorf("%q: seconds must be 0–59", s)
	}
	return clock{n[0], n[1], n[2]}, nil
}

// digits reads a short run of ASCII digits (strconv.Atoi would take signs).
func digits(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = 10*n + int(r-'0')
	}
	return n, true
}

// civilDate is a calendar date without a zone.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func (c civilDate) isZero() bool { return c.year == 0 }

func (c civilDate) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", c.year, c.month, c.day)
}

// at is the instant the clock shows c in loc. A time in a DST gap is
// normalised by the time package (02:30 on a spring-forward night becomes
// 03:30), which is what a wall clock would show.
func (c civilDate) at(k clock, loc *time.Location) time.Time {
	return time.Date(c.year, c.month, c.day, k.hour, k.min, k.sec, 0, loc)
}

func (c civilDate) addDays(n int) civilDate {
	t := time.Date(c.year, c.month, c.day+n, 12, 0, 0, 0, time.UTC)
	return civilDate{t.Year(), t.Month(), t.Day()}
}

// parseDate reads YYYY-MM-DD; a date-time is accepted and its date used
// (schedule.json allows either for the conference's start and end).
func parseDate(s string) (civilDate, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return civilDate{}, fmt.Errorf("%q: want a date like 2024-02-03", s)
	}
	return civilDate{t.Year(), t.Month(), t.Day()}, nil
}

// parseInstant reads an RFC 3339 date-time. One without a UTC offset is
// taken in loc: the format requires an offset, but the meaning is clear.
func parseInstant(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want a date-time like 2024-02-03T09:30:00+01:00", s)
}

// hasOffset reports whether an RFC 3339 date-time carries its own offset.
func hasOffset(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	return len(s) > 6 && (s[len(s)-6] == '+' || s[len(s)-6] == '-') && s[len(s)-3] == ':'
}

func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("%c%02d:%02d", sign, sec/3600, sec/60%60)
}

// namelessPerson is the warning about a person without a name, who is skipped.
const namelessPerson = "person without a name; skipped"

// parseColor reads a track colour "#rrggbb" (in either case) and returns
// it in lower case. It reports false when s is not a colour; an empty s is
// no colour at all, ("", true), which is not a mistake.
func parseColor(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	if len(s) != 7 || s[0] != '#' {
		return "", false
	}
	for _, r := range s[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// trackColor records the colour c of the track name in colors, or warns
// that it is not one; at is where c is.
func (d *decoder) trackColor(at place, name, c string, colors map[string]string) {
	if col, ok := parseColor(c); !ok {
		d.warnf(at.String(), "%q is not a colour like #1a2b3c; ignored", c)
	} else if name != "" && col != "" {
		colors[name] = col
	}
}

// lineColumn converts a byte offset in data to a 1-based line and column.
func lineColumn(data []byte, offset int64) (line, column int) {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	column = 1 + len(before) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, column
}

// acronym returns the conference's acronym, or, with a warning when the
// source has none (legacy pentabarf files), the one of the options or one
// derived from the title: the service needs one for its URLs, and refuses
// one that cannot be their first segment.
func (d *decoder) acronym(acronym, title string, at place) (string, error) {
	acronym, err := d.anyAcronym(acronym, title, at)
	switch {
	case err != nil:
	case len(acronym) > maxKeyLen:
		err = at.errorf(fmt.Errorf("an acronym of %d bytes; at most %d", len(acronym), maxKeyLen))
	default:
		if bad := checkAcronym(acronym); bad != nil {
			err = at.errorf(bad)
		}
	}
	return acronym, err
}

// anyAcronym is acronym without the bound on its length.
func (d *decoder) anyAcronym(acronym, title string, at place) (string, error) {
	if acronym = strings.TrimSpace(acronym); acronym != "" {
		return acronym, nil
	}
	if s := strings.TrimSpace(d.opts.Acronym); s != "" {
		d.warnf(at.path, "no acronym; keeping %q", s)
		return s, nil
	}
	if s := Slug(title); s != "" {
		d.warnf(at.path, "no acronym; using %s from the title", quoteShort(s))
		return s, nil
	}
	return "", at.errorf(errors.New("the conference has neither an acronym nor a title"))
}

// quoteShort is s quoted as Go does, control characters escaped, cut to
// its first 100 bytes: for warnings about text from a schedule.
func quoteShort(s string) string {
	if len(s) > 100 {
		cut := 100
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// webURLOf returns the first of urls that is a web address (see webURL),
// trimmed; when none is, the first that is not blank, for finish to warn
// of and leave out.
func webURLOf(urls ...string) string {
	for _, u := range urls {
		if u := webURL(strings.TrimSpace(u)); u != "" {
			return u
		}
	}
	return strings.TrimSpace(firstNonBlank(urls...))
}

// firstNonBlank returns the first of values that is not empty after
// trimming spaces, as it is, or "" when all are blank. Unlike cmp.Or it
// passes over values of only spaces.
func firstNonBlank(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// validUTF8 replaces invalid UTF-8 so that no text field carries it into a feed.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
