package feed

import (
	"strconv"
	"strings"
	"sync"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/confcal/confcal/timezone"
)

// ProductID is the PRODID of every calendar confcal writes.
const ProductID = "-//confcal//confcal//EN"

// View says what one feed shows and how: the selection, its name, the
// display zone and the extras a subscriber asked for.
type View struct {
	Name    string         // what the selection is, e.g. "Spotlight"; empty for the whole schedule
	Zone    *time.Location // display zone; time.UTC writes "Z" times and no VTIMEZONE; nil is the conference's zone
	Alarm   time.Duration  // reminder before each session; 0 for none
	Source  string         // the feed's own URL, for SOURCE (RFC 7986); may be empty
	Refresh time.Duration  // suggested polling interval; 0 leaves it to the client
}

// Title is the calendar's display name, e.g.
// "DyNN @ ICML 2022 · Spotlight (times in Europe/Berlin)".
func (v View) Title(s *Schedule) string {
	title := s.Conference.Title
	if v.Name != "" {
		title += " · " + v.Name
	}
	return title + " (times in " + zoneName(v.zone(s)) + ")"
}

// zone is the display zone: Zone, or the conference's zone when Zone is nil.
func (v View) zone(s *Schedule) *time.Location {
	if v.Zone == nil {
		return s.Conference.Location
	}
	return v.Zone
}

// zoneName is the zone's IANA name; "UTC" for UTC.
func zoneName(loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return "UTC"
	}
	return loc.String()
}

// Calendar builds the iCalendar object for events of s as v describes.
// The result depends only on its arguments: the same schedule, events and
// view give the same bytes, so ETags are stable across replicas. Serialize
// it with Write.
func Calendar(s *Schedule, events []Event, v View) *ics.Calendar {
	zone := v.zone(s)
	title := v.Title(s)
	cal := &ics.Calendar{CalendarProperties: []ics.CalendarProperty{
		calProp("VERSION", "2.0"),
		calProp("PRODID", ProductID),
		calProp("CALSCALE", "GREGORIAN"),
		calProp("METHOD", "PUBLISH"),
		calProp("NAME", title), // RFC 7986 §5.1
		calProp("X-WR-CALNAME", title),
		calProp("X-WR-CALDESC", calendarDescription(s, v)),
		calProp("X-WR-TIMEZONE", zoneName(zone)),
	}}
	if !s.Updated.IsZero() {
		cal.CalendarProperties = append(cal.CalendarProperties, calProp("LAST-MODIFIED", utc(s.Updated)))
	}
	if v.Refresh > 0 {
		cal.CalendarProperties = append(cal.CalendarProperties,
			calPropParam("REFRESH-INTERVAL", icalDuration(v.Refresh), "VALUE", "DURATION"), // RFC 7986 §5.7
			calProp("X-PUBLISHED-TTL", icalDuration(v.Refresh)))
	}
	if v.Source != "" {
		cal.CalendarProperties = append(cal.CalendarProperties, calPropParam("SOURCE", v.Source, "VALUE", "URI")) // RFC 7986 §5.8
	}
	if s.Conference.URL != "" {
		cal.CalendarProperties = append(cal.CalendarProperties, calPropParam("URL", s.Conference.URL, "VALUE", "URI"))
	}

	cal.Components = make([]ics.Component, 0, len(events)+1)
	switch {
	case zone != time.UTC && len(events) > 0:
		first, last := span(events)
		if vt := timezone.VTimezone(zone, first, last); vt != nil {
			cal.Components = append(cal.Components, vt)
		}
	case len(events) == 0:
		// A calendar holds at least one component (RFC 5545 §3.6), and a
		// feed may match no session: filters that never meet, or sessions
		// that have all gone. It holds its display zone instead.
		cal.Components = append(cal.Components, emptyZone(s, zone))
	}
	stamp := ""
	if !s.Updated.IsZero() {
		stamp = utc(s.Updated)
	}
	for _, e := range events {
		cal.Components = append(cal.Components, event(s, e, zone, stamp, v.Alarm))
	}
	return cal
}

// emptyZone is the VTIMEZONE of a feed without events: the display zone
// over the schedule's span, or for UTC one of its own (UTC times are written
// with Z and need none otherwise).
func emptyZone(s *Schedule, zone *time.Location) ics.Component {
	first, last := s.Span()
	if first.IsZero() {
		first, last = s.Updated, s.Updated
	}
	if vt := timezone.VTimezone(zone, first, last); vt != nil {
		return vt
	}
	return utcZone
}

// utcZone is the VTIMEZONE of UTC. Nothing may modify it.
var utcZone = func() *ics.VTimezone {
	vt := ics.NewTimezone("UTC")
	st := vt.AddStandard()
	st.SetProperty(ics.ComponentPropertyDtStart, "19700101T000000")
	st.SetProperty(ics.ComponentProperty("TZOFFSETFROM"), "+0000")
	st.SetProperty(ics.ComponentProperty("TZOFFSETTO"), "+0000")
	st.SetProperty(ics.ComponentProperty("TZNAME"), "UTC")
	return vt
}()

// prop is a component property without parameters.
func prop(name, value string) ics.IANAProperty {
	return ics.IANAProperty{BaseProperty: ics.BaseProperty{IANAToken: name, Value: value}}
}

// propParam is a component property with one parameter, e.g. TZID=….
func propParam(name, value, param, paramValue string) ics.IANAProperty {
	p := prop(name, value)
	p.ICalParameters = sharedParam(param, paramValue)
	return p
}

// params holds one parameter map per (name, value): a feed has thousands of
// TZID=… and VALUE=URI parameters and only a few distinct ones. The maps
// are shared, so nothing may modify a calendar's parameters in place.
var params sync.Map // paramKey → map[string][]string

type paramKey struct{ name, value string }

func sharedParam(name, value string) map[string][]string {
	key := paramKey{name, value}
	if m, ok := params.Load(key); ok {
		return m.(map[string][]string)
	}
	m, _ := params.LoadOrStore(key, map[string][]string{name: {value}})
	return m.(map[string][]string)
}

// calProp is a calendar property without parameters.
func calProp(name, value string) ics.CalendarProperty {
	return ics.CalendarProperty{BaseProperty: prop(name, value).BaseProperty}
}

// calPropParam is a calendar property with one parameter, e.g. VALUE=URI.
func calPropParam(name, value, param, paramValue string) ics.CalendarProperty {
	return ics.CalendarProperty{BaseProperty: propParam(name, value, param, paramValue).BaseProperty}
}

// calendarDescription is the calendar's X-WR-CALDESC.
func calendarDescription(s *Schedule, v View) string {
	what := "All sessions"
	if v.Name != "" {
		what = "Sessions: " + v.Name
	}
	desc := what + " of " + s.Conference.Title + ", times in " + zoneName(v.zone(s)) + "."
	if s.Conference.URL != "" {
		desc += " " + s.Conference.URL
	}
	return desc
}

// span returns the first start and last end of events.
func span(events []Event) (first, last time.Time) {
	for i, e := range events {
		if i == 0 || e.Start.Before(first) {
			first = e.Start
		}
		if end := e.End(); end.After(last) {
			last = end
		}
	}
	return first, last
}

// event builds one VEVENT. Times are written as local wall time with a TZID
// (or in UTC with "Z"); golang-ical's SetStartAt always writes UTC, which
// some clients read differently when a TZID is present.
// stamp is DTSTAMP and LAST-MODIFIED, formatted once per calendar; when the
// schedule says nothing of its age, the session's start is used. A session
// the journal saw change since has its own, with its SEQUENCE.
func event(s *Schedule, e Event, zone *time.Location, stamp string, alarm time.Duration) *ics.VEvent {
	switch {
	case !e.Modified.IsZero() && !e.Modified.Equal(s.Updated):
		stamp = utc(e.Modified)
	case stamp == "":
		stamp = utc(e.Start)
	}
	// A cancelled session says so in its title too: not every app shows
	// STATUS (RFC 5545 §3.8.1.11).
	summary, status := e.Title, "CONFIRMED"
	if e.Cancelled {
		summary, status = "Cancelled: "+e.Title, "CANCELLED"
	}
	props := make([]ics.IANAProperty, 0, 18)
	props = append(props,
		prop("UID", e.GUID),
		prop("DTSTAMP", stamp),
		prop("LAST-MODIFIED", stamp),
		dateTime("DTSTART", e.Start, zone),
		dateTime("DTEND", e.End(), zone),
		prop("SEQUENCE", strconv.Itoa(e.Sequence)),
		prop("SUMMARY", summary),
		prop("DESCRIPTION", s.description(e)),
		prop("LOCATION", location(s, e)),
	)
	// One CATEGORIES property per category: a comma inside a track name
	// must not split it into two.
	if e.Track.Name != "" {
		props = append(props, prop("CATEGORIES", e.Track.Name))
	}
	if e.Type != "" && !strings.EqualFold(e.Type, e.Track.Name) {
		props = append(props, prop("CATEGORIES", e.Type))
	}
	if u := eventURL(s, e); u != "" {
		props = append(props, propParam("URL", u, "VALUE", "URI"))
	}
	transp := "OPAQUE"
	if isBreak(e) || e.Cancelled {
		transp = "TRANSPARENT"
	}
	props = append(props, prop("STATUS", status), prop("CLASS", "PUBLIC"), prop("TRANSP", transp))
	ev := &ics.VEvent{ComponentBase: ics.ComponentBase{Properties: props}}
	if alarm > 0 && !e.Cancelled { // no reminder for a session that will not happen
		ev.Components = []ics.Component{&ics.VAlarm{ComponentBase: ics.ComponentBase{Properties: []ics.IANAProperty{
			prop("ACTION", "DISPLAY"),
			prop("TRIGGER", "-"+icalDuration(alarm)),
			prop("DESCRIPTION", e.Title),
		}}}}
	}
	return ev
}

// dateTime is a DATE-TIME property in zone: local time with TZID, or UTC.
// A local time that occurs twice (the hour repeated when clocks go back) is
// written in UTC instead: RFC 5545 §3.3.5 says such a time means its first
// occurrence, but libical and ical.js read the second, so no local form is
// read right everywhere.
func dateTime(name string, t time.Time, zone *time.Location) ics.IANAProperty {
	if zone == time.UTC || repeatedWallTime(t, zone) {
		return prop(name, utc(t))
	}
	return propParam(name, basicFormat(t.In(zone), false), "TZID", zone.String())
}

// basicFormat writes t's wall time in the basic format of RFC 5545 §3.3.5,
// "20060102T150405", with "Z" when utc is true: time.Format does the same
// several times slower, and a feed writes thousands.
func basicFormat(t time.Time, utc bool) string {
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	if year < 0 || year > 9999 {
		layout := "20060102T150405"
		if utc {
			layout += "Z"
		}
		return t.Format(layout)
	}
	var b [16]byte
	digits := func(i, v, n int) {
		for j := i + n - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	digits(0, year, 4)
	digits(4, int(month), 2)
	digits(6, day, 2)
	b[8] = 'T'
	digits(9, hour, 2)
	digits(11, minute, 2)
	digits(13, second, 2)
	if utc {
		b[15] = 'Z'
		return string(b[:16])
	}
	return string(b[:15])
}

// repeatedWallTime reports whether t's wall clock time in zone also names
// another instant: t falls within the span before or after a transition
// that set the clocks back.
func repeatedWallTime(t time.Time, zone *time.Location) bool {
	local := t.In(zone)
	_, offset := local.Zone()
	// No zone shifts its clocks by more than three hours: with the same
	// offset three hours either side, no transition is near (the common case).
	if _, before := t.Add(-3 * time.Hour).In(zone).Zone(); before == offset {
		if _, after := t.Add(3 * time.Hour).In(zone).Zone(); after == offset {
			return false
		}
	}
	start, end := local.ZoneBounds()
	if !start.IsZero() {
		// Just after clocks went back: the same wall time came before.
		if _, before := start.Add(-time.Second).In(zone).Zone(); before > offset &&
			t.Sub(start) < time.Duration(before-offset)*time.Second {
			return true
		}
	}
	if !end.IsZero() {
		// Just before clocks go back: the same wall time comes again.
		if _, after := end.In(zone).Zone(); after < offset &&
			end.Sub(t) <= time.Duration(offset-after)*time.Second {
			return true
		}
	}
	return false
}

// utc formats t as an RFC 5545 UTC date-time.
func utc(t time.Time) string { return basicFormat(t.UTC(), true) }

// isBreak reports whether e is a break or social slot rather than a session
// one attends; those do not block the subscriber's time.
func isBreak(e Event) bool {
	switch strings.ToLower(e.Type) {
	case "break", "social", "pause", "lunch":
		return true
	}
	return false
}

// location is always set, since some clients drop events without one.
func location(s *Schedule, e Event) string {
	switch {
	case e.Online && e.Room != "" && !strings.EqualFold(e.Room, "online"):
		return "Online: " + e.Room
	case e.Online:
		return "Online"
	case e.Room != "" && s.Conference.Venue != "" && e.Room != s.Conference.Venue:
		return e.Room + ", " + s.Conference.Venue
	case e.Room != "":
		return e.Room
	case s.Conference.Venue != "":
		return s.Conference.Venue
	}
	return s.Conference.Title
}

// eventURL is the session's own page, or the conference's.
func eventURL(s *Schedule, e Event) string {
	if e.URL != "" {
		return e.URL
	}
	return s.Conference.URL
}

// description is eventDescription of e, computed once per schedule.
func (s *Schedule) description(e Event) string {
	if s.descriptions == nil { // a Schedule not made by NewSchedule
		return eventDescription(s, e)
	}
	if d, ok := s.descriptions.Load(e.GUID); ok {
		return d.(string)
	}
	d := eventDescription(s, e)
	s.descriptions.Store(e.GUID, d)
	return d
}

// eventDescription is what a subscriber reads when opening the event: the
// abstract, then who, what and where.
func eventDescription(s *Schedule, e Event) string {
	var b strings.Builder
	b.Grow(len(e.Subtitle) + len(e.Abstract) + len(e.Description) + 64*len(e.Speakers) + len(e.URL) + 128)
	para := func(p string) {
		if p = strings.TrimSpace(p); p == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p)
	}
	para(e.Subtitle)
	para(e.Abstract)
	para(e.Description)
	var facts []string
	if len(e.Speakers) > 0 {
		names := make([]string, len(e.Speakers))
		for i, p := range e.Speakers {
			names[i] = p.Name
		}
		facts = append(facts, "Speakers: "+strings.Join(names, ", "))
	}
	if e.Track.Name != "" {
		facts = append(facts, "Track: "+e.Track.Name)
	}
	if e.Online {
		facts = append(facts, "Given remotely (online)")
	}
	if u := eventURL(s, e); u != "" {
		facts = append(facts, u)
	}
	para(strings.Join(facts, "\n"))
	return b.String()
}

// icalDuration formats a positive duration as an RFC 5545 DURATION
// (e.g. PT10M, PT1H30M, P1D).
func icalDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	if days := d / (24 * time.Hour); days > 0 && d%(24*time.Hour) == 0 {
		b.WriteString(strconv.Itoa(int(days)) + "D")
		return b.String()
	}
	b.WriteString("T")
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.Itoa(int(h)) + "H")
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		b.WriteString(strconv.Itoa(int(m)) + "M")
	}
	if sec := d % time.Minute / time.Second; sec > 0 || b.Len() == 2 {
		b.WriteString(strconv.Itoa(int(sec)) + "S")
	}
	return b.String()
}
