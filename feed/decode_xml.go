package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/ianaindex"
)

// decodeXML reads a frab/pentabarf schedule.xml
// (fixtures/schema/schedule.xml.xsd): frab's and pretalx's exports, and
// legacy pentabarf files (FOSDEM) with no per-event <date> and no
// time_zone_name. It walks the tokens itself so that every error can name
// the line and column of the element at fault.
func (d *decoder) decodeXML(data []byte) (result, error) {
	x := &xmlReader{d: d, dec: xml.NewDecoder(bytes.NewReader(data)), fields: make(map[string]place)}
	x.dec.CharsetReader = charsetReader

	if err := x.root(); err != nil {
		return result{}, err
	}
	var (
		r      result
		xc     = xmlConference{at: x.place("schedule/conference")}
		colors = make(map[string]string) // track name → colour
		days   int
	)
	// Appending 100,000 events one by one would copy them over and over.
	r.events = make([]Event, 0, eventsHint(bytes.Count(data, []byte("</event>")), len(data)))
	err := x.children(func(se xml.StartElement, at place) error {
		switch se.Name.Local {
		case "version":
			return x.textInto(&r.version)
		case "url":
			return x.textInto(&xc.baseURL)
		case "conference":
			return x.conference(at, &xc, colors)
		case "tracks":
			// Not in the XSD, but some generators list tracks here.
			return x.tracks(colors)
		case "day":
			days++
			at.path = fmt.Sprintf("schedule/day[%d]", days)
			if err := xc.zone(d); err != nil {
				return err
			}
			dy, err := x.day(se, at, xc.c.Location, xc.change, colors, &r.events)
			if err != nil {
				return err
			}
			xc.c.Days = append(xc.c.Days, dy)
			return nil
		}
		return x.skip()
	})
	if err != nil {
		return result{}, err
	}
	if err := xc.zone(d); err != nil {
		return result{}, err
	}
	c := xc.c
	if c.Acronym, err = d.acronym(xc.acronym, c.Title, xc.at); err != nil {
		return result{}, err
	}
	c.URL = webURLOf(c.URL, xc.baseURL)
	c.Venue = xc.venue
	if xc.city != "" && !strings.Contains(xc.venue, xc.city) {
		c.Venue = strings.TrimPrefix(xc.venue+", "+xc.city, ", ")
	}
	r.conf, r.start = c, xc.start
	return r, nil
}

// xmlConference is what a schedule.xml says about its conference, gathered
// as decodeXML reads it.
type xmlConference struct {
	c           Conference
	at          place // <conference>, or its <time_zone_name>: where a problem with the zone is
	acronym, tz string
	start       string
	venue, city string
	baseURL     string // <url> of the schedule, or <base_url> of the conference
	change      *clock // day_change: when one conference day turns into the next
}

// zone loads the conference's zone, once: the first <day> needs it.
func (xc *xmlConference) zone(d *decoder) error {
	if xc.c.Location != nil {
		return nil
	}
	loc, err := d.loadZone(xc.tz, xc.at)
	if err != nil {
		return err
	}
	xc.c.Location, xc.c.TimeZone = loc, loc.String()
	return nil
}

// conference reads the <conference> element just started at at into xc,
// and the colours of its tracks into colors.
func (x *xmlReader) conference(at place, xc *xmlConference, colors map[string]string) error {
	xc.at = at
	xc.at.path = "schedule/conference"
	return x.children(func(se xml.StartElement, at place) error {
		at.path = "schedule/conference/" + se.Name.Local
		switch se.Name.Local {
		case "title":
			return x.textInto(&xc.c.Title)
		case "acronym":
			return x.textInto(&xc.acronym)
		case "start":
			return x.textInto(&xc.start)
		case "time_zone_name":
			xc.at = at
			return x.textInto(&xc.tz)
		case "url":
			return x.textInto(&xc.c.URL)
		case "base_url":
			return x.textInto(&xc.baseURL)
		case "venue":
			return x.textInto(&xc.venue)
		case "city":
			return x.textInto(&xc.city)
		case "track":
			return x.track(se, at, colors)
		case "day_change":
			// Legacy pentabarf: sessions listed under a day whose time is
			// before this happen on the next date.
			var s string
			if err := x.textInto(&s); err != nil || s == "" {
				return err
			}
			c, err := parseClock(s)
			if err != nil {
				return at.errorf(err)
			}
			xc.change = &c
			return nil
		}
		return x.skip()
	})
}

// tracks reads the <tracks> element just started into colors.
func (x *xmlReader) tracks(colors map[string]string) error {
	return x.children(func(se xml.StartElement, at place) error {
		if se.Name.Local != "track" {
			return x.skip()
		}
		at.path = "schedule/tracks/track"
		return x.track(se, at, colors)
	})
}

// charsetReader lets legacy files declare an encoding other than UTF-8
// (ISO-8859-1 was common in pentabarf's days).
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	enc, err := ianaindex.IANA.Encoding(label)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	return enc.NewDecoder().Reader(in), nil
}

// xmlReader walks the tokens of a schedule.xml, remembering where each
// token started.
type xmlReader struct {
	d         *decoder
	dec       *xml.Decoder
	line, col int // where the token last returned by next starts

	// The event being read and the places of its fields, reused: the
	// decoder keeps neither.
	cur    rawEvent
	fields map[string]place
}

func (x *xmlReader) next() (xml.Token, error) {
	x.line, x.col = x.dec.InputPos()
	tok, err := x.dec.Token()
	if err != nil {
		return nil, x.syntaxError(err)
	}
	return tok, nil
}

func (x *xmlReader) place(path string) place {
	return place{source: x.d.opts.Source, path: path, line: x.line, column: x.col}
}

// syntaxError reports a malformed document at the decoder's position.
func (x *xmlReader) syntaxError(err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	// Point at the start of the token that failed, unless the problem is on
	// a later line of it (inside a long text).
	line, col := x.line, x.col
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) && syntax.Line != line {
		line, col = x.dec.InputPos()
	}
	return &DecodeError{Source: x.d.opts.Source, Line: line, Column: col, Err: fmt.Errorf("invalid XML: %w", err)}
}

// root reads up to the document element, which must be <schedule>.
func (x *xmlReader) root() error {
	for {
		x.line, x.col = x.dec.InputPos()
		line, col := x.line, x.col
		tok, err := x.dec.Token()
		if err == io.EOF {
			return &DecodeError{Source: x.d.opts.Source, Line: line, Column: col, Err: fmt.Errorf("%w: no root element", ErrUnknownFormat)}
		}
		if err != nil {
			return x.syntaxError(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "schedule" {
				return &DecodeError{Source: x.d.opts.Source, Line: line, Column: col,
					Err: fmt.Errorf("%w: the root element is <%s>, not <schedule>", ErrUnknownFormat, se.Name.Local)}
			}
			return nil
		}
	}
}

// children calls fn for each child element of the element just started,
// with the place of its start tag, until the element's end tag. fn must
// consume the child entirely (textInto, skip or children do).
func (x *xmlReader) children(fn func(xml.StartElement, place) error) error {
	for {
		tok, err := x.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			at := x.place(t.Name.Local)
			if err := fn(t, at); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// skip consumes the rest of the element just started.
func (x *xmlReader) skip() error {
	if err := x.dec.Skip(); err != nil {
		return x.syntaxError(err)
	}
	return nil
}

// text reads the character data of the element just started, up to its end
// tag, ignoring nested elements; spaces around it are trimmed.
func (x *xmlReader) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := x.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			if err := x.skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			return validUTF8(strings.TrimSpace(b.String())), nil
		}
	}
}

func (x *xmlReader) textInto(dst *string) error {
	s, err := x.text()
	*dst = s
	return err
}

// markup reads the content of the element just started as text does, but
// keeps nested elements as HTML markup: a <description> may hold inline
// XHTML (<p>, <b>, <a href>) instead of escaped HTML, and plainText turns
// either into text. Content without elements is returned as text returns
// it, since it may itself be escaped HTML. So is content whose elements
// would not make it HTML to plainText (only <img/>, or elements HTML does
// not know), with the text of its elements: as markup it would come out
// with its tags and entities.
func (x *xmlReader) markup() (string, error) {
	var text, markup strings.Builder // all character data; markup once an element is nested
	var open []bool                  // for each open nested element: whether to write its end tag
	nested := false
	for {
		tok, err := x.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
			if nested {
				markup.WriteString(html.EscapeString(string(t)))
			}
		case xml.StartElement:
			if !nested {
				nested = true
				markup.WriteString(html.EscapeString(text.String()))
			}
			name := strings.ToLower(t.Name.Local)
			markup.WriteString("<" + name)
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				fmt.Fprintf(&markup, " %s=\"%s\"", a.Name.Local, html.EscapeString(a.Value))
			}
			// <br/> is one line break, and <br></br> would be two.
			if voidElements[name] {
				markup.WriteString("/>")
			} else {
				markup.WriteString(">")
			}
			open = append(open, !voidElements[name])
		case xml.EndElement:
			if len(open) == 0 {
				s := text.String()
				if nested {
					s = markup.String()
					if _, ok := htmlKind(s); !ok {
						s = text.String()
					}
				}
				return validUTF8(strings.TrimSpace(s)), nil
			}
			if open[len(open)-1] {
				markup.WriteString("</" + strings.ToLower(t.Name.Local) + ">")
			}
			open = open[:len(open)-1]
		}
	}
}

// voidElements are the HTML elements that have no end tag.
var voidElements = map[string]bool{
	"area": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "source": true, "track": true, "wbr": true,
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return validUTF8(strings.TrimSpace(a.Value))
		}
	}
	return ""
}

// track reads <track name="…" color="#…"/> (the name may also be the text).
func (x *xmlReader) track(se xml.StartElement, at place, colors map[string]string) error {
	text, err := x.text()
	if err != nil {
		return err
	}
	at.path += "/@color"
	x.d.trackColor(at, firstNonBlank(attr(se, "name"), text), attr(se, "color"), colors)
	return nil
}

// day reads one <day> and appends its rooms' events to events; change is
// the conference's day_change, if it has one.
func (x *xmlReader) day(se xml.StartElement, at place, loc *time.Location, change *clock, trackColors map[string]string, events *[]Event) (Day, error) {
	dy, err := x.d.newDay(func(name string) (string, error) {
		return attr(se, name), nil
	}, func(name string) place {
		p := at
		p.path += "/@" + name
		return p
	}, loc, change)
	if err != nil {
		return Day{}, err
	}
	err = x.children(func(se xml.StartElement, rat place) error {
		if se.Name.Local != "room" {
			return x.skip()
		}
		room := attr(se, "name")
		rat.path = fmt.Sprintf("%s/room[@name=%s]", at.path, strconv.Quote(room))
		k := 0
		return x.children(func(se xml.StartElement, eat place) error {
			if se.Name.Local != "event" {
				return x.skip()
			}
			k++
			eat.path = rat.path + "/event[" + strconv.Itoa(k) + "]"
			re, err := x.event(se, eat)
			if err != nil {
				return err
			}
			e, ok, err := x.d.event(re, &dy, room, trackColors, nil)
			if err != nil {
				return err
			}
			if ok {
				*events = append(*events, e)
			}
			return nil
		})
	})
	if err != nil {
		return Day{}, err
	}
	return dy.listed(), nil
}

// xmlFieldPlaces are the fields of an event whose own place an error or
// warning about the event can name (decoder.event asks rawEvent.field for
// them); the others' places are never asked for, so they are not recorded.
var xmlFieldPlaces = map[string]bool{"guid": true, "date": true, "start": true, "duration": true, "end": true}

// event reads one <event> element. The result is valid until the next call.
func (x *xmlReader) event(se xml.StartElement, at place) (*rawEvent, error) {
	clear(x.fields)
	r := &x.cur
	*r = rawEvent{
		at:     at,
		sep:    "/",
		fields: x.fields,
		guid:   attr(se, "guid"),
		id:     attr(se, "id"),
		code:   attr(se, "code"),
	}
	var guid string
	err := x.children(func(se xml.StartElement, fat place) error {
		name := se.Name.Local
		if xmlFieldPlaces[name] {
			fat.path = at.path + "/" + name
			r.fields[name] = fat
		}
		var dst *string
		switch name {
		case "persons":
			return x.persons(r)
		case "guid":
			dst = &guid
		case "date":
			dst, r.hasDate = &r.date, true
		case "start":
			dst, r.hasStart = &r.start, true
		case "duration":
			dst, r.hasDurationField = &r.duration, true
		case "end":
			dst, r.hasEnd = &r.end, true
		case "room":
			dst = &r.room
		case "slug":
			dst = &r.slug
		case "url":
			dst = &r.url
		case "title":
			dst = &r.title
		case "subtitle":
			dst = &r.subtitle
		case "type":
			dst = &r.kind
		case "track":
			dst = &r.track
		case "language":
			dst = &r.language
		case "abstract", "description":
			s, err := x.markup()
			if name == "abstract" {
				r.abstract = s
			} else {
				r.description = s
			}
			return err
		default:
			return x.skip()
		}
		return x.textInto(dst)
	})
	if err != nil {
		return nil, err
	}
	if _, ok := r.fields["guid"]; r.guid != "" || !ok {
		// The XSD has the guid as an attribute; <guid> is a legacy variant.
		p := at
		p.path += "/@guid"
		r.fields["guid"] = p
	}
	r.guid = firstNonBlank(r.guid, guid)
	r.hasEnd = r.hasEnd && r.end != ""
	r.hasDurationField = r.hasDurationField && r.duration != ""
	return r, nil
}

// persons reads <persons><person id="…" guid="…">Name</person>…</persons>,
// just started, into r.
func (x *xmlReader) persons(r *rawEvent) error {
	return x.children(func(se xml.StartElement, pat place) error {
		if se.Name.Local != "person" {
			return x.skip()
		}
		name, err := x.text()
		if err != nil {
			return err
		}
		if name == "" {
			x.d.warnf(pat.String(), namelessPerson)
			return nil
		}
		r.speakers = append(r.speakers, Speaker{
			ID:   firstNonBlank(attr(se, "guid"), attr(se, "code"), attr(se, "id")),
			Name: name,
		})
		return nil
	})
}

// eventsHint is how many events to make room for when a count of n in a
// document of size bytes suggests n: real events take hundreds of bytes, so
// a count beyond one per 128 bytes is not believed.
func eventsHint(n, size int) int {
	return min(n, size/128)
}
