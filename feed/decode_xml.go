package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
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
	x := &xmlReader{d: d, dec: xml.NewDecoder(bytes.NewReader(data))}
	x.dec.CharsetReader = charsetReader

	root, err := x.root()
	if err != nil {
		return result{}, err
	}
	var (
		r           result
		c           Conference
		confAt      = x.place("schedule/conference")
		tz          string
		acronym     string
		venue, city string
		baseURL     string
		trackColors = make(map[string]string)
		days        int
	)
	zone := func() error {
		if c.Location != nil {
			return nil
		}
		loc, err := d.loadZone(tz, confAt)
		if err != nil {
			return err
		}
		c.Location, c.TimeZone = loc, loc.String()
		return nil
	}

	err = x.children(root, func(se xml.StartElement, at place) error {
		switch se.Name.Local {
		case "version":
			return x.textInto(&r.version)
		case "url":
			return x.textInto(&baseURL)
		case "conference":
			confAt = at
			confAt.path = "schedule/conference"
			return x.children(se, func(se xml.StartElement, at place) error {
				at.path = "schedule/conference/" + se.Name.Local
				switch se.Name.Local {
				case "title":
					return x.textInto(&c.Title)
				case "acronym":
					return x.textInto(&acronym)
				case "start":
					return x.textInto(&r.start)
				case "time_zone_name":
					confAt = at
					return x.textInto(&tz)
				case "url":
					return x.textInto(&c.URL)
				case "base_url":
					return x.textInto(&baseURL)
				case "venue":
					return x.textInto(&venue)
				case "city":
					return x.textInto(&city)
				case "track":
					return x.track(se, at, trackColors)
				}
				return x.skip()
			})
		case "tracks":
			// Not in the XSD, but some generators list tracks here.
			return x.children(se, func(se xml.StartElement, at place) error {
				if se.Name.Local != "track" {
					return x.skip()
				}
				return x.track(se, at, trackColors)
			})
		case "day":
			days++
			at.path = fmt.Sprintf("schedule/day[%d]", days)
			if err := zone(); err != nil {
				return err
			}
			dy, events, err := x.day(se, at, days, c.Location, trackColors)
			if err != nil {
				return err
			}
			c.Days = append(c.Days, dy)
			r.events = append(r.events, events...)
			return nil
		}
		return x.skip()
	})
	if err != nil {
		return result{}, err
	}
	if err := zone(); err != nil {
		return result{}, err
	}
	if c.Acronym, err = d.acronym(acronym, c.Title, confAt); err != nil {
		return result{}, err
	}
	c.URL = cmpOr(c.URL, baseURL)
	c.Venue = venue
	if city != "" && !strings.Contains(venue, city) {
		c.Venue = strings.TrimPrefix(venue+", "+city, ", ")
	}
	r.conf = c
	return r, nil
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

// root finds the document element, which must be <schedule>.
func (x *xmlReader) root() (xml.StartElement, error) {
	for {
		x.line, x.col = x.dec.InputPos()
		line, col := x.line, x.col
		tok, err := x.dec.Token()
		if err == io.EOF {
			return xml.StartElement{}, &DecodeError{Source: x.d.opts.Source, Line: line, Column: col, Err: fmt.Errorf("%w: no root element", ErrUnknownFormat)}
		}
		if err != nil {
			return xml.StartElement{}, x.syntaxError(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "schedule" {
				return xml.StartElement{}, &DecodeError{Source: x.d.opts.Source, Line: line, Column: col,
					Err: fmt.Errorf("%w: the root element is <%s>, not <schedule>", ErrUnknownFormat, se.Name.Local)}
			}
			return se, nil
		}
	}
}

// children calls fn for each child element of parent, with the place of its
// start tag, until parent's end tag. fn must consume the child entirely
// (textInto, skip or children do).
func (x *xmlReader) children(parent xml.StartElement, fn func(xml.StartElement, place) error) error {
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
	name := cmpOr(attr(se, "name"), text)
	c := attr(se, "color")
	if col, ok := color(c); !ok {
		x.d.warnf(at.String(), "track colour %q is not like #1a2b3c; ignored", c)
	} else if name != "" && col != "" {
		colors[name] = col
	}
	return nil
}

// day reads one <day> and its rooms' events.
func (x *xmlReader) day(se xml.StartElement, at place, n int, loc *time.Location, trackColors map[string]string) (Day, []Event, error) {
	out := Day{Index: n}
	if idx, err := strconv.Atoi(attr(se, "index")); err == nil {
		out.Index = idx
	}
	dy := &day{loc: loc, firstClock: make(map[string]clock)}
	if date := attr(se, "date"); date != "" {
		c, err := parseDate(date)
		if err != nil {
			return Day{}, nil, at.attrError("date", err)
		}
		dy.date = c
		out.Date = c.String()
	}
	var startGiven, endGiven bool
	for _, name := range []string{"start", "end"} {
		s := attr(se, name)
		if s == "" {
			continue
		}
		t, err := parseInstant(s, loc)
		if err != nil {
			return Day{}, nil, at.attrError(name, err)
		}
		if name == "start" {
			out.Start, dy.start, startGiven = t, t, true
		} else {
			out.End, endGiven = t, true
		}
	}
	if out.Date == "" && startGiven {
		s := out.Start.In(loc)
		dy.date = civilDate{s.Year(), s.Month(), s.Day()}
		out.Date = dy.date.String()
	}
	if startGiven && endGiven && !out.End.After(out.Start) {
		return Day{}, nil, at.attrError("end", fmt.Errorf("day ends at or before its start %s", out.Start.Format(timeRFC3339)))
	}

	var events []Event
	err := x.children(se, func(se xml.StartElement, rat place) error {
		if se.Name.Local != "room" {
			return x.skip()
		}
		room := attr(se, "name")
		rat.path = fmt.Sprintf("%s/room[@name=%s]", at.path, strconv.Quote(room))
		k := 0
		return x.children(se, func(se xml.StartElement, eat place) error {
			if se.Name.Local != "event" {
				return x.skip()
			}
			k++
			eat.path = fmt.Sprintf("%s/event[%d]", rat.path, k)
			re, err := x.event(se, eat)
			if err != nil {
				return err
			}
			e, err := x.d.event(re, dy, room, trackColors, nil)
			if err != nil {
				return err
			}
			events = append(events, e)
			return nil
		})
	})
	if err != nil {
		return Day{}, nil, err
	}
	if !startGiven && !dy.date.isZero() {
		out.Start = dy.date.at(clock{}, loc)
	}
	if !endGiven && !dy.date.isZero() {
		// The next midnight, or later when sessions run past it.
		out.End = dy.date.addDays(1).at(clock{}, loc)
		for _, e := range events {
			if e.End().After(out.End) {
				out.End = e.End()
			}
		}
	}
	return out, events, nil
}

// attrError reports a bad attribute of the element at p.
func (p place) attrError(name string, err error) *DecodeError {
	p.path += "/@" + name
	return p.errorf(err)
}

// event reads one <event> element.
func (x *xmlReader) event(se xml.StartElement, at place) (*rawEvent, error) {
	r := &rawEvent{
		at:     at,
		sep:    "/",
		fields: make(map[string]place),
		guid:   attr(se, "guid"),
		id:     attr(se, "id"),
		code:   attr(se, "code"),
	}
	fields := map[string]*string{
		"date": &r.date, "start": &r.start, "duration": &r.duration, "end": &r.end,
		"room": &r.room, "slug": &r.slug, "url": &r.url, "title": &r.title,
		"subtitle": &r.subtitle, "type": &r.kind, "track": &r.track,
		"language": &r.language, "abstract": &r.abstract, "description": &r.description,
	}
	var guid string
	err := x.children(se, func(se xml.StartElement, fat place) error {
		name := se.Name.Local
		fat.path = at.path + "/" + name
		r.fields[name] = fat
		switch name {
		case "persons":
			return x.persons(se, fat, r)
		case "guid":
			return x.textInto(&guid)
		}
		dst, ok := fields[name]
		if !ok {
			return x.skip()
		}
		switch name {
		case "date":
			r.hasDate = true
		case "start":
			r.hasStart = true
		case "end":
			r.hasEnd = true
		case "duration":
			r.hasDurationField = true
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
	r.guid = cmpOr(r.guid, guid)
	r.hasEnd = r.hasEnd && r.end != ""
	r.hasDurationField = r.hasDurationField && r.duration != ""
	return r, nil
}

// persons reads <persons><person id="…" guid="…">Name</person>…</persons>.
func (x *xmlReader) persons(se xml.StartElement, at place, r *rawEvent) error {
	return x.children(se, func(se xml.StartElement, pat place) error {
		if se.Name.Local != "person" {
			return x.skip()
		}
		name, err := x.text()
		if err != nil {
			return err
		}
		if name == "" {
			x.d.warnf(pat.String(), "person without a name; skipped")
			return nil
		}
		r.speakers = append(r.speakers, Speaker{
			ID:   cmpOr(attr(se, "guid"), attr(se, "code"), attr(se, "id")),
			Name: name,
		})
		return nil
	})
}
