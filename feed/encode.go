package feed

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

// Render builds the calendar for events of s as v describes and serializes
// it: the bytes a feed serves.
func Render(s *Schedule, events []Event, v View) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(sizeHint(events))
	if err := Write(&buf, Calendar(s, events, v)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sizeHint estimates a feed's size, so its buffer grows once: a few hundred
// bytes of properties per event besides its texts, and the VTIMEZONE.
func sizeHint(events []Event) int {
	n := 4 << 10
	for _, e := range events {
		n += 640 + len(e.Title) + len(e.Subtitle) + len(e.Abstract) + len(e.Description) + len(e.URL)
		for _, p := range e.Speakers {
			n += len(p.Name) + 2
		}
	}
	return n + n/16 // escapes and folds
}

// Write serializes cal as RFC 5545 requires: CRLF line ends, lines folded at
// 75 octets without splitting a UTF-8 character (§3.1), TEXT values escaped
// (§3.3.11) and parameter values with special characters quoted (§3.2).
//
// golang-ical builds the tree; this writer replaces its serializer, which
// writes LF by default, backslash-escapes parameter values instead of
// quoting them, passes carriage returns through raw, and allocates a string
// per line — too slow for a 10,000-session feed.
func Write(w io.Writer, cal *ics.Calendar) error {
	out, direct := w.(*bytes.Buffer) // in memory already: no need to buffer
	var bw *bufio.Writer
	e := encoder{w: out}
	if !direct {
		bw = bufio.NewWriterSize(w, 32<<10)
		e.w = bw
	}
	e.line("BEGIN:VCALENDAR")
	for i := range cal.CalendarProperties {
		e.property(&cal.CalendarProperties[i].BaseProperty)
	}
	for _, c := range cal.Components {
		e.component(c)
	}
	e.line("END:VCALENDAR")
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write calendar: %w", err)
		}
	}
	return nil
}

type encoder struct {
	w   io.Writer
	buf []byte // the current unfolded content line
	out []byte // the current line folded, as written
}

// component writes one component and its sub-components.
func (e *encoder) component(c ics.Component) {
	name := componentName(c)
	e.line("BEGIN:" + name)
	for _, p := range c.UnknownPropertiesIANAProperties() {
		e.property(&p.BaseProperty)
	}
	for _, sub := range c.SubComponents() {
		e.component(sub)
	}
	e.line("END:" + name)
}

// componentName is the iCalendar name of a golang-ical component.
func componentName(c ics.Component) string {
	switch c.(type) {
	case *ics.VEvent:
		return "VEVENT"
	case *ics.VTimezone:
		return "VTIMEZONE"
	case *ics.Standard:
		return "STANDARD"
	case *ics.Daylight:
		return "DAYLIGHT"
	case *ics.VAlarm:
		return "VALARM"
	case *ics.VTodo:
		return "VTODO"
	case *ics.VJournal:
		return "VJOURNAL"
	case *ics.VBusy:
		return "VFREEBUSY"
	}
	return "X-UNKNOWN"
}

// property writes one content line: name, parameters (sorted, so the bytes
// are deterministic), value.
func (e *encoder) property(p *ics.BaseProperty) {
	b := append(e.buf[:0], p.IANAToken...)
	if len(p.ICalParameters) > 0 {
		var names [4]string
		keys := names[:0]
		for k := range p.ICalParameters {
			keys = append(keys, k)
		}
		if len(keys) > 1 {
			slices.Sort(keys)
		}
		for _, k := range keys {
			b = append(b, ';')
			b = append(b, k...)
			b = append(b, '=')
			for i, v := range p.ICalParameters[k] {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendParamValue(b, v)
			}
		}
	}
	b = append(b, ':')
	if isText(p) {
		b = appendText(b, p.Value)
	} else {
		b = appendRaw(b, p.Value)
	}
	e.buf = b
	e.fold(b)
}

func (e *encoder) line(s string) {
	e.buf = append(e.buf[:0], s...)
	e.fold(e.buf)
}

// fold writes b as physical lines of at most 75 octets, each continuation
// starting with a space, breaking only before the first byte of a character.
func (e *encoder) fold(b []byte) {
	out := e.out[:0]
	limit := 75
	for len(b) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		out = append(out, b[:cut]...)
		out = append(out, "\r\n "...)
		b = b[cut:]
		limit = 74 // the leading space counts
	}
	out = append(out, b...)
	e.out = append(out, "\r\n"...)
	e.w.Write(e.out)
}

// isText reports whether the value of p is TEXT, to be escaped: as its
// VALUE parameter says, or else by its name's default type (RFC 5545 §3.8),
// unknown and X- names being TEXT. It answers as p.GetValueType() ==
// ics.ValueDataTypeText does, without ranging over the parameters.
func isText(p *ics.BaseProperty) bool {
	if v := p.ICalParameters[string(ics.ParameterValue)]; len(v) == 1 {
		return ics.ValueDataType(v[0]) == ics.ValueDataTypeText
	}
	switch ics.Property(p.IANAToken) {
	case ics.PropertyAttach, ics.PropertyTzurl, ics.PropertyUrl, // URI
		ics.PropertyGeo,                                                                             // FLOAT
		ics.PropertyPercentComplete, ics.PropertyPriority, ics.PropertyRepeat, ics.PropertySequence, // INTEGER
		ics.PropertyCompleted, ics.PropertyDtend, ics.PropertyDue, ics.PropertyDtstart, ics.PropertyRecurrenceId,
		ics.PropertyExdate, ics.PropertyRdate, ics.PropertyCreated, ics.PropertyDtstamp, ics.PropertyLastModified, // DATE-TIME
		ics.PropertyDuration, ics.PropertyTrigger, // DURATION
		ics.PropertyFreebusy,                             // PERIOD
		ics.PropertyTzoffsetfrom, ics.PropertyTzoffsetto, // UTC-OFFSET
		ics.PropertyAttendee, ics.PropertyOrganizer, // CAL-ADDRESS
		ics.PropertyRrule: // RECUR
		return false
	}
	return true
}

// appendText escapes a TEXT value (RFC 5545 §3.3.11). A carriage return
// alone or before a newline becomes one escaped newline; other control
// characters are not allowed in TEXT and are dropped. Runs of ordinary
// bytes are copied whole: abstracts are long and mostly plain.
func appendText(b []byte, s string) []byte {
	for len(s) > 0 {
		i := 0
		for i < len(s) && !textSpecial[s[i]] {
			i++
		}
		b = append(b, s[:i]...)
		if i == len(s) {
			break
		}
		switch c := s[i]; c {
		case '\\', ';', ',':
			b = append(b, '\\', c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b = append(b, '\\', 'n')
		case '\n':
			b = append(b, '\\', 'n')
		}
		s = s[i+1:]
	}
	return b
}

// textSpecial marks the bytes appendText does not copy as they are.
var textSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t'
	}
	t[0x7f], t['\\'], t[';'], t[','] = true, true, true, true
	return t
}()

// appendRaw appends a value that is not TEXT (a URI, a time, a number)
// as it is, but for control characters: no such value has any, and a line
// break would end the property and start another. They are dropped.
func appendRaw(b []byte, v string) []byte {
	start := 0
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			b = append(b, v[start:i]...)
			start = i + 1
		}
	}
	return append(b, v[start:]...)
}

// appendParamValue writes a parameter value, quoted when it contains a
// character that would end it (RFC 5545 §3.2). A double quote cannot appear
// in a parameter value at all, so it is dropped.
func appendParamValue(b []byte, v string) []byte {
	v = strings.Map(func(r rune) rune {
		if r == '"' || r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, v)
	if strings.ContainsAny(v, ",;:") {
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	}
	return append(b, v...)
}
