package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// decodeJSON reads a c3voc/frab schedule.json (fixtures/schema/schema.json),
// including pretalx's and frab's exports.
//
// A schedule that loads is decoded by decodeJSONFast, which reads each value
// once. Anything else, from a syntax error to an invalid duration, is left
// to decodeJSONPrecise, which names the JSON path of every problem but
// copies and scans the document again at every level of nesting (eight
// times for an event's members). The messages are the precise decoder's.
func (d *decoder) decodeJSON(data []byte) (result, error) {
	if json.Valid(data) {
		fast := d.scratch()
		if r, ok := fast.decodeJSONFast(data); ok {
			*d = *fast
			return r, nil
		}
	}
	return d.decodeJSONPrecise(data)
}

// scratch returns a copy of d to attempt a decoding with, to be dropped if
// it fails: what the attempt warns or records must not reach d.
func (d *decoder) scratch() *decoder {
	s := *d
	s.warnings = slices.Clone(d.warnings)
	s.guids = maps.Clone(d.guids)
	return &s
}

// jsonConfPath is the JSON path of the conference object.
const jsonConfPath = "schedule.conference"

// decodeJSONPrecise walks the document level by level through
// json.RawMessage so that every error can name its JSON path; syntax errors
// name a line and column instead.
func (d *decoder) decodeJSONPrecise(data []byte) (result, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return result{}, d.jsonSyntaxError(data, err)
	}
	j := jsonReader{d: d}
	sched, err := j.object(top["schedule"], "schedule")
	if err != nil {
		return result{}, err
	}
	var r result
	if r.version, err = j.str(sched, "schedule", "version"); err != nil {
		return result{}, err
	}
	baseURL, err := j.str(sched, "schedule", "base_url")
	if err != nil {
		return result{}, err
	}

	const cpath = jsonConfPath
	conf, err := j.object(sched["conference"], cpath)
	if err != nil {
		return result{}, err
	}
	var c Conference
	var acronym, tz string
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"acronym", &acronym}, {"title", &c.Title}, {"url", &c.URL},
		{"time_zone_name", &tz}, {"start", &r.start},
	} {
		if *f.dst, err = j.str(conf, cpath, f.key); err != nil {
			return result{}, err
		}
	}
	c.URL = webURLOf(c.URL, baseURL)
	if err := d.jsonConference(&c, acronym, tz); err != nil {
		return result{}, err
	}

	trackColors, err := j.trackColors(conf, cpath)
	if err != nil {
		return result{}, err
	}
	online, err := j.onlineRooms(conf, cpath)
	if err != nil {
		return result{}, err
	}

	days, err := j.array(conf["days"], cpath+".days", true)
	if err != nil {
		return result{}, err
	}
	for i, raw := range days {
		path := fmt.Sprintf("%s.days[%d]", cpath, i)
		dy, events, err := j.day(raw, path, &c, trackColors, online)
		if err != nil {
			return result{}, err
		}
		c.Days = append(c.Days, dy)
		r.events = append(r.events, events...)
	}
	r.conf = c
	return r, nil
}

// The checks below are shared by both JSON decoders, so that they cannot
// disagree about a schedule both can read.

// jsonConference completes the conference from its acronym (or title) and
// time_zone_name.
func (d *decoder) jsonConference(c *Conference, acronym, tz string) error {
	var err error
	if c.Acronym, err = d.acronym(acronym, c.Title, d.at(jsonConfPath+".acronym")); err != nil {
		return err
	}
	if c.Location, err = d.loadZone(tz, d.at(jsonConfPath+".time_zone_name")); err != nil {
		return err
	}
	c.TimeZone = c.Location.String()
	return nil
}

// jsonDayKeys are the members of a day object that newDay reads, by the
// names it asks for.
var jsonDayKeys = map[string]string{"date": "date", "start": "day_start", "end": "day_end"}

// jsonDayPlace returns where the members of the day at path are, by the
// names newDay asks for.
func jsonDayPlace(d *decoder, path string) func(name string) place {
	return func(name string) place { return d.at(path + "." + jsonDayKeys[name]) }
}

// finishJSONEvent completes an event once all its members are read.
func finishJSONEvent(r *rawEvent) {
	r.guid = strings.TrimSpace(r.guid)
	r.track = strings.TrimSpace(r.track)
	r.hasEnd = r.end != ""
	r.hasDurationField = r.duration != ""
}

// jsonValue is what both JSON decoders read for a member of an event or a
// person.
type jsonValue int

const (
	jsonSkipped jsonValue = iota // a member the schedule does not use
	jsonString                   // a string, or null for ""
	jsonIdent                    // a string, an integer as text, or null for ""
	jsonPersons                  // the event's persons
)

// eventMember says how to read the member key of an event and, for a string
// or an identifier, where it goes; a date or start is noted as present. It
// lists the event members that both JSON decoders read.
func eventMember(e *rawEvent, key string) (jsonValue, *string) {
	switch key {
	case "id":
		return jsonIdent, &e.id
	case "guid":
		return jsonString, &e.guid
	case "code":
		return jsonString, &e.code
	case "date":
		e.hasDate = true
		return jsonString, &e.date
	case "start":
		e.hasStart = true
		return jsonString, &e.start
	case "duration":
		return jsonString, &e.duration
	case "end":
		return jsonString, &e.end
	case "room":
		return jsonString, &e.room
	case "slug":
		return jsonString, &e.slug
	case "url":
		return jsonString, &e.url
	case "title":
		return jsonString, &e.title
	case "subtitle":
		return jsonString, &e.subtitle
	case "type":
		return jsonString, &e.kind
	case "track":
		return jsonString, &e.track
	case "language":
		return jsonString, &e.language
	case "abstract":
		return jsonString, &e.abstract
	case "description":
		return jsonString, &e.description
	case "persons":
		return jsonPersons, nil
	}
	return jsonSkipped, nil
}

// jsonPerson is a frab person {id, public_name} or a pretalx one
// {guid | code, name}.
type jsonPerson struct{ guid, code, id, name, public string }

// personMember is eventMember for the members of a person.
func personMember(p *jsonPerson, key string) (jsonValue, *string) {
	switch key {
	case "guid":
		return jsonString, &p.guid
	case "code":
		return jsonString, &p.code
	case "id":
		return jsonIdent, &p.id
	case "name":
		return jsonString, &p.name
	case "public_name":
		return jsonString, &p.public
	}
	return jsonSkipped, nil
}

func (p *jsonPerson) speaker() Speaker {
	return Speaker{
		ID:   strings.TrimSpace(firstNonBlank(p.guid, p.code, p.id)),
		Name: strings.TrimSpace(firstNonBlank(p.name, p.public)),
	}
}

// jsonSyntaxError turns encoding/json's error into one with a line and
// column: those of the offending byte, or of the end of data when the
// document stops before it is complete.
func (d *decoder) jsonSyntaxError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// A document cut short inside a literal or a number is reported as
		// an invalid character after its last byte ("invalid character ' '
		// in literal true"); a decoder tells it apart by its error, whatever
		// the message.
		if errors.Is(json.NewDecoder(bytes.NewReader(data)).Decode(new(json.RawMessage)), io.ErrUnexpectedEOF) {
			line, col := lineColumn(data, int64(len(data)))
			return &DecodeError{Source: d.opts.Source, Line: line, Column: col, Err: errors.New("invalid JSON: unexpected end of JSON input")}
		}
		off := syntax.Offset
		if jsonOffsetCountsByte() {
			off--
		}
		line, col := lineColumn(data, off)
		return &DecodeError{Source: d.opts.Source, Line: line, Column: col, Err: fmt.Errorf("invalid JSON: %w", err)}
	case errors.As(err, &typ):
		return &DecodeError{Source: d.opts.Source, Err: fmt.Errorf("want a JSON object with a \"schedule\", got %s", typ.Value)}
	}
	return &DecodeError{Source: d.opts.Source, Err: err}
}

// jsonOffsetCountsByte reports whether a json.SyntaxError's Offset counts
// the offending byte, as encoding/json's own scanner does, rather than the
// bytes before it, as its implementation on encoding/json/v2 does
// (GOEXPERIMENT=jsonv2).
var jsonOffsetCountsByte = sync.OnceValue(func() bool {
	var syntax *json.SyntaxError
	return errors.As(json.Unmarshal([]byte("x"), new(any)), &syntax) && syntax.Offset == 1
})

func (d *decoder) at(path string) place { return place{source: d.opts.Source, path: path} }

// jsonReader reads typed values out of raw JSON, naming the path on error.
type jsonReader struct{ d *decoder }

// jsonKind names the JSON type of a raw value for messages.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// object reads a JSON object; a missing or null one is an error.
func (j jsonReader) object(raw json.RawMessage, path string) (map[string]json.RawMessage, error) {
	if isNull(raw) {
		return nil, j.d.at(path).errorf(errors.New("missing"))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, j.d.at(path).errorf(fmt.Errorf("want an object, got %s", jsonKind(raw)))
	}
	return m, nil
}

// array reads a JSON array; a missing or null one is an error only when required.
func (j jsonReader) array(raw json.RawMessage, path string, required bool) ([]json.RawMessage, error) {
	if isNull(raw) {
		if required {
			return nil, j.d.at(path).errorf(errors.New("missing"))
		}
		return nil, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, j.d.at(path).errorf(fmt.Errorf("want an array, got %s", jsonKind(raw)))
	}
	return a, nil
}

// str reads obj[key] as a string; missing and null read as "".
func (j jsonReader) str(obj map[string]json.RawMessage, path, key string) (string, error) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", j.d.at(path + "." + key).errorf(fmt.Errorf("want a string, got %s", jsonKind(raw)))
	}
	return validUTF8(s), nil
}

// ident reads obj[key] as an identifier: a string, or an integer as text
// (frab and pretalx write numeric ids).
func (j jsonReader) ident(obj map[string]json.RawMessage, path, key string) (string, error) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] == '"' {
		return j.str(obj, path, key)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
	}
	return "", j.d.at(path + "." + key).errorf(fmt.Errorf("want an integer or a string, got %s", raw))
}

// trackColors reads conference.tracks[{name, color}].
func (j jsonReader) trackColors(conf map[string]json.RawMessage, cpath string) (map[string]string, error) {
	tracks, err := j.array(conf["tracks"], cpath+".tracks", false)
	if err != nil {
		return nil, err
	}
	colors := make(map[string]string)
	for i, raw := range tracks {
		path := fmt.Sprintf("%s.tracks[%d]", cpath, i)
		t, err := j.object(raw, path)
		if err != nil {
			return nil, err
		}
		name, err := j.str(t, path, "name")
		if err != nil {
			return nil, err
		}
		c, err := j.str(t, path, "color")
		if err != nil {
			return nil, err
		}
		j.d.trackColor(j.d.at(path+".color"), name, c, colors)
	}
	return colors, nil
}

// onlineRooms reads conference.rooms[] and returns the names of rooms of
// type "online": their sessions are given remotely.
func (j jsonReader) onlineRooms(conf map[string]json.RawMessage, cpath string) (map[string]bool, error) {
	rooms, err := j.array(conf["rooms"], cpath+".rooms", false)
	if err != nil {
		return nil, err
	}
	online := make(map[string]bool)
	for i, raw := range rooms {
		path := fmt.Sprintf("%s.rooms[%d]", cpath, i)
		room, err := j.object(raw, path)
		if err != nil {
			return nil, err
		}
		name, err := j.str(room, path, "name")
		if err != nil {
			return nil, err
		}
		typ, err := j.str(room, path, "type")
		if err != nil {
			return nil, err
		}
		if typ == "online" {
			online[name] = true
		}
	}
	return online, nil
}

// day reads one entry of conference.days and its events, room by room in
// the order of the file (which matters for after-midnight sessions).
func (j jsonReader) day(raw json.RawMessage, path string, c *Conference, trackColors map[string]string, online map[string]bool) (Day, []Event, error) {
	obj, err := j.object(raw, path)
	if err != nil {
		return Day{}, nil, err
	}
	dy, err := j.d.newDay(func(name string) (string, error) {
		return j.str(obj, path, jsonDayKeys[name])
	}, jsonDayPlace(j.d, path), c.Location, nil)
	if err != nil {
		return Day{}, nil, err
	}

	rooms, err := j.orderedObject(obj["rooms"], path+".rooms")
	if err != nil {
		return Day{}, nil, err
	}
	var events []Event
	for _, room := range rooms {
		rpath := fmt.Sprintf("%s.rooms[%s]", path, strconv.Quote(room.key))
		list, err := j.array(room.value, rpath, false)
		if err != nil {
			return Day{}, nil, err
		}
		for k, raw := range list {
			re, err := j.event(raw, fmt.Sprintf("%s[%d]", rpath, k))
			if err != nil {
				return Day{}, nil, err
			}
			e, ok, err := j.d.event(re, &dy, room.key, trackColors, online)
			if err != nil {
				return Day{}, nil, err
			}
			if ok {
				events = append(events, e)
			}
		}
	}
	return dy.listed(), events, nil
}

type member struct {
	key   string
	value json.RawMessage
}

// orderedObject reads a JSON object's members in document order (a map
// would lose it, and with it deterministic error reports).
func (j jsonReader) orderedObject(raw json.RawMessage, path string) ([]member, error) {
	if isNull(raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, j.d.at(path).errorf(fmt.Errorf("want an object of room name → events, got %s", jsonKind(raw)))
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, j.d.at(path).errorf(err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, j.d.at(path).errorf(err)
		}
		members = append(members, member{key: validUTF8(key), value: v})
	}
	return members, nil
}

// event reads one event object into a rawEvent. Its members are read in
// the order of their names, so that of several problems the same is
// reported every time.
func (j jsonReader) event(raw json.RawMessage, path string) (*rawEvent, error) {
	obj, err := j.object(raw, path)
	if err != nil {
		return nil, err
	}
	r := &rawEvent{at: j.d.at(path), sep: "."}
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		how, dst := eventMember(r, key)
		if how != jsonPersons {
			if err := j.member(obj, path, key, how, dst); err != nil {
				return nil, err
			}
			continue
		}
		persons, err := j.array(obj[key], path+"."+key, false)
		if err != nil {
			return nil, err
		}
		for k, raw := range persons {
			p, err := j.person(raw, fmt.Sprintf("%s.%s[%d]", path, key, k))
			if err != nil {
				return nil, err
			}
			if p.Name != "" {
				r.speakers = append(r.speakers, p)
			}
		}
	}
	finishJSONEvent(r)
	return r, nil
}

// person reads a person object. A person without a name is skipped with a
// warning.
func (j jsonReader) person(raw json.RawMessage, path string) (Speaker, error) {
	obj, err := j.object(raw, path)
	if err != nil {
		return Speaker{}, err
	}
	var jp jsonPerson
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		how, dst := personMember(&jp, key)
		if err := j.member(obj, path, key, how, dst); err != nil {
			return Speaker{}, err
		}
	}
	p := jp.speaker()
	if p.Name == "" {
		j.d.warnf(path, namelessPerson)
	}
	return p, nil
}

// member reads obj[key] into dst as how says.
func (j jsonReader) member(obj map[string]json.RawMessage, path, key string, how jsonValue, dst *string) error {
	var err error
	switch how {
	case jsonString:
		*dst, err = j.str(obj, path, key)
	case jsonIdent:
		*dst, err = j.ident(obj, path, key)
	}
	return err
}

// decodeJSONFast decodes data, which encoding/json has found valid, reading
// each value once; only the days, and each day's rooms, are skipped over
// first, since what they need may follow them. It reports false as soon as
// it meets anything that decodeJSONPrecise would report, or would resolve in
// a way this pass does not follow: a value of the wrong type, a missing
// object, an object or array given twice under one key, an invalid date,
// and so on. d then holds part of a decoding and must be dropped.
//
// On success the result is decodeJSONPrecise's: the members are the same,
// read with encoding/json's rules for strings and numbers, and the shared
// checks see the same values in the same order, so warnings agree too.
func (d *decoder) decodeJSONFast(data []byte) (result, bool) {
	f := &jsonFast{d: d, s: jsonScan{data: data}}
	var (
		r                      result
		c                      Conference
		baseURL                string
		hasSchedule, hasConfig bool
	)
	s := &f.s
	ok := s.object(func(key []byte) bool {
		if string(key) != "schedule" {
			return s.skip()
		}
		if hasSchedule || s.peek() != '{' {
			return false
		}
		hasSchedule = true
		return s.object(func(key []byte) bool {
			switch string(key) {
			case "version":
				return s.strInto(&r.version)
			case "base_url":
				return s.strInto(&baseURL)
			case "conference":
				if hasConfig || s.peek() != '{' {
					return false
				}
				hasConfig = true
				return f.conference(&c, &r)
			}
			return s.skip()
		})
	})
	if !ok || !hasConfig {
		return result{}, false
	}
	c.URL = webURLOf(c.URL, baseURL)
	r.conf = c
	return r, true
}

// jsonFast is the state of decodeJSONFast.
type jsonFast struct {
	d     *decoder
	s     jsonScan
	event rawEvent // the event being read, reused
}

// conference reads schedule.conference, then its days: they need the zone,
// the tracks and the rooms, which may come after them in the object.
func (f *jsonFast) conference(c *Conference, r *result) bool {
	s := &f.s
	var (
		acronym, tz string
		tracks      []struct{ name, color string }
		online      = make(map[string]bool)
		days        jsonScan // at conference.days
		events      int      // in days
		hasDays     bool
		hasTracks   bool
		hasRooms    bool
	)
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "acronym":
			return s.strInto(&acronym)
		case "title":
			return s.strInto(&c.Title)
		case "url":
			return s.strInto(&c.URL)
		case "time_zone_name":
			return s.strInto(&tz)
		case "start":
			return s.strInto(&r.start)
		case "tracks":
			if hasTracks {
				return false
			}
			hasTracks = true
			return s.objects(func(int) bool {
				var name, color string
				ok := s.object(func(key []byte) bool {
					switch string(key) {
					case "name":
						return s.strInto(&name)
					case "color":
						return s.strInto(&color)
					}
					return s.skip()
				})
				tracks = append(tracks, struct{ name, color string }{name, color})
				return ok
			})
		case "rooms":
			if hasRooms {
				return false
			}
			hasRooms = true
			return s.objects(func(int) bool {
				var name, typ string
				ok := s.object(func(key []byte) bool {
					switch string(key) {
					case "name":
						return s.strInto(&name)
					case "type":
						return s.strInto(&typ)
					}
					return s.skip()
				})
				if typ == "online" {
					online[name] = true
				}
				return ok
			})
		case "days":
			if hasDays || s.peek() != '[' {
				return false
			}
			hasDays, days = true, *s
			var ok bool
			events, ok = s.skipDays()
			return ok
		}
		return s.skip()
	})
	if !ok || !hasDays {
		return false
	}
	// Appending 100,000 events one by one would copy them over and over.
	r.events = make([]Event, 0, eventsHint(events, len(f.s.data)))

	if err := f.d.jsonConference(c, acronym, tz); err != nil {
		return false
	}
	colors := make(map[string]string)
	for i, t := range tracks {
		f.d.trackColor(f.d.at(fmt.Sprintf("%s.tracks[%d].color", jsonConfPath, i)), t.name, t.color, colors)
	}
	return days.objects(func(i int) bool {
		return f.day(&days, i, c, r, colors, online)
	})
}

// day reads conference.days[i] and its events from s.
func (f *jsonFast) day(s *jsonScan, i int, c *Conference, r *result, colors map[string]string, online map[string]bool) bool {
	var (
		date, start, end string
		rooms            jsonScan // at the day's rooms
		hasRooms         bool
	)
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "date":
			return s.strInto(&date)
		case "day_start":
			return s.strInto(&start)
		case "day_end":
			return s.strInto(&end)
		case "rooms":
			if hasRooms {
				return false
			}
			hasRooms, rooms = true, *s
		}
		return s.skip()
	})
	if !ok {
		return false
	}
	path := fmt.Sprintf("%s.days[%d]", jsonConfPath, i)
	header := map[string]string{"date": date, "start": start, "end": end}
	dy, err := f.d.newDay(func(name string) (string, error) {
		return header[name], nil
	}, jsonDayPlace(f.d, path), c.Location, nil)
	if err != nil {
		return false
	}
	if hasRooms && rooms.peek() != 'n' {
		if rooms.peek() != '{' {
			return false
		}
		ok := rooms.object(func(key []byte) bool {
			room := string(key)
			rpath := fmt.Sprintf("%s.rooms[%s]", path, strconv.Quote(room))
			return rooms.objects(func(k int) bool {
				e := &f.event
				*e = rawEvent{at: f.d.at(rpath + "[" + strconv.Itoa(k) + "]"), sep: "."}
				if !f.readEvent(&rooms, e) {
					return false
				}
				ev, ok, err := f.d.event(e, &dy, room, colors, online)
				if err != nil {
					return false
				}
				if ok {
					r.events = append(r.events, ev)
				}
				return true
			})
		})
		if !ok {
			return false
		}
	}
	c.Days = append(c.Days, dy.listed())
	return true
}

// readEvent reads the event object at s into e.
func (f *jsonFast) readEvent(s *jsonScan, e *rawEvent) bool {
	hasPersons := false
	ok := s.object(func(key []byte) bool {
		how, dst := eventMember(e, string(key))
		if how != jsonPersons {
			return s.member(how, dst)
		}
		if hasPersons {
			return false
		}
		hasPersons = true
		return s.objects(func(k int) bool {
			var jp jsonPerson
			ok := s.object(func(key []byte) bool {
				return s.member(personMember(&jp, string(key)))
			})
			if p := jp.speaker(); p.Name != "" {
				e.speakers = append(e.speakers, p)
			} else {
				f.d.warnf(fmt.Sprintf("%s.persons[%d]", e.at.path, k), namelessPerson)
			}
			return ok
		})
	})
	finishJSONEvent(e)
	return ok
}

// jsonScan reads a JSON document that encoding/json found valid, so it
// checks no syntax. Its readers report false for a value of a type the
// schedule does not allow there.
type jsonScan struct {
	data []byte
	pos  int
}

// peek returns the first byte of the next token.
func (s *jsonScan) peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// object calls member with the key of each member of the object at s,
// which must read or skip the value; it stops when member returns false.
func (s *jsonScan) object(member func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
		return true
	}
	for {
		s.peek()
		key, ok := s.str()
		if !ok {
			return false
		}
		s.peek()
		s.pos++ // ':'
		if !member(key) {
			return false
		}
		if s.peek() == '}' {
			s.pos++
			return true
		}
		s.pos++ // ','
	}
}

// array calls elem with the index of each element of the array at s, which
// must read or skip it, and reads nothing for null.
func (s *jsonScan) array(elem func(i int) bool) bool {
	switch s.peek() {
	case 'n':
		return s.skip()
	case '[':
	default:
		return false
	}
	s.pos++
	if s.peek() == ']' {
		s.pos++
		return true
	}
	for i := 0; ; i++ {
		if !elem(i) {
			return false
		}
		if s.peek() == ']' {
			s.pos++
			return true
		}
		s.pos++ // ','
	}
}

// objects is array for arrays of objects.
func (s *jsonScan) objects(elem func(i int) bool) bool {
	return s.array(func(i int) bool { return s.peek() == '{' && elem(i) })
}

// skipDays steps over conference.days at s and counts the events of its
// rooms.
func (s *jsonScan) skipDays() (events int, ok bool) {
	ok = s.objects(func(int) bool {
		return s.object(func(key []byte) bool {
			if string(key) != "rooms" || s.peek() != '{' {
				return s.skip()
			}
			return s.object(func([]byte) bool {
				if s.peek() != '[' {
					return s.skip()
				}
				return s.array(func(int) bool {
					events++
					return s.skip()
				})
			})
		})
	})
	return events, ok
}

// member reads the value at s into dst as how says, or skips it.
func (s *jsonScan) member(how jsonValue, dst *string) bool {
	switch how {
	case jsonString:
		return s.strInto(dst)
	case jsonIdent:
		return s.identInto(dst)
	}
	return s.skip()
}

// strInto reads a string, or null as "", into dst.
func (s *jsonScan) strInto(dst *string) bool {
	switch s.peek() {
	case 'n':
		*dst = ""
		return s.skip()
	case '"':
		b, ok := s.str()
		*dst = string(b)
		return ok
	}
	return false
}

// identInto reads an identifier into dst as jsonReader.ident does: a
// string, an integer as text, or null as "".
func (s *jsonScan) identInto(dst *string) bool {
	switch c := s.peek(); {
	case c == '"' || c == 'n':
		return s.strInto(dst)
	case c == '-' || '0' <= c && c <= '9':
		start := s.pos
		s.skip()
		i, err := strconv.ParseInt(string(s.data[start:s.pos]), 10, 64)
		*dst = strconv.FormatInt(i, 10)
		return err == nil
	}
	return false
}

// str reads the string at s, decoded as encoding/json decodes it. The bytes
// may be part of the document: copy them to keep them.
func (s *jsonScan) str() ([]byte, bool) {
	start := s.pos
	end, escaped := s.stringEnd()
	s.pos = end + 1
	if b := s.data[start+1 : end]; !escaped && utf8.Valid(b) {
		return b, true
	}
	// Escapes and invalid UTF-8 (which becomes U+FFFD) are rare: leave them
	// to encoding/json rather than repeat its rules.
	var v string
	if err := json.Unmarshal(s.data[start:s.pos], &v); err != nil {
		return nil, false
	}
	return []byte(v), true
}

// stringEnd returns the index of the closing quote of the string at s, and
// whether the string has escapes. It reads each byte once, so a string of
// many escapes takes time in proportion to its length. An unterminated
// string, which encoding/json rejects, makes it panic.
func (s *jsonScan) stringEnd() (end int, escaped bool) {
	i := s.pos + 1
	// q is the first quote from i on until an escaped quote puts i past
	// it: only then is the next one searched for.
	q := s.pos
	for {
		if q < i {
			q = i + bytes.IndexByte(s.data[i:], '"')
		}
		b := bytes.IndexByte(s.data[i:q], '\\')
		if b < 0 {
			return q, escaped
		}
		// Skip the escaped character, which may be the quote at q; the hex
		// digits of \uXXXX are no quotes.
		escaped, i = true, i+b+2
	}
}

// skip steps over the value at s.
func (s *jsonScan) skip() bool {
	switch s.peek() {
	case '"':
		end, _ := s.stringEnd()
		s.pos = end + 1
	case '{', '[':
		depth := 0
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '"':
				end, _ := s.stringEnd()
				s.pos = end
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return true
				}
			}
			s.pos++
		}
	default: // a number, true, false or null
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return true
			}
			s.pos++
		}
	}
	return true
}
