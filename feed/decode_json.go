package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// decodeJSON reads a c3voc/frab schedule.json (fixtures/schema/schema.json),
// including pretalx's and frab's exports. It walks the document level by
// level through json.RawMessage so that every error can name its JSON path;
// syntax errors name a line and column instead.
func (d *decoder) decodeJSON(data []byte) (result, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return result{}, d.jsonSyntaxError(data, err)
	}
	j := jsonReader{d: d}
	sched, err := j.object(top["schedule"], "schedule", true)
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

	const cpath = "schedule.conference"
	conf, err := j.object(sched["conference"], cpath, true)
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
	c.URL = strings.TrimSpace(cmpOr(c.URL, baseURL))
	if c.Acronym, err = d.acronym(acronym, c.Title, d.at(cpath+".acronym")); err != nil {
		return result{}, err
	}
	if c.Location, err = d.loadZone(tz, d.at(cpath+".time_zone_name")); err != nil {
		return result{}, err
	}
	c.TimeZone = c.Location.String()

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
		dy, events, err := j.day(raw, path, i, &c, trackColors, online)
		if err != nil {
			return result{}, err
		}
		c.Days = append(c.Days, dy)
		r.events = append(r.events, events...)
	}
	r.conf = c
	return r, nil
}

// jsonSyntaxError turns encoding/json's error into one with a line and column.
func (d *decoder) jsonSyntaxError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// Offset counts the offending byte; point at it, not after it.
		off := syntax.Offset
		if off > 0 && !strings.Contains(syntax.Error(), "unexpected end") {
			off--
		}
		line, col := lineColumn(data, off)
		return &DecodeError{Source: d.opts.Source, Line: line, Column: col, Err: fmt.Errorf("invalid JSON: %w", err)}
	case errors.As(err, &typ):
		return &DecodeError{Source: d.opts.Source, Err: fmt.Errorf("want a JSON object with a \"schedule\", got %s", typ.Value)}
	}
	return &DecodeError{Source: d.opts.Source, Err: err}
}

func (d *decoder) at(path string) place { return place{source: d.opts.Source, path: path} }

// jsonReader reads typed values out of raw JSON, naming the path on error.
type jsonReader struct{ d *decoder }

// kind names the JSON type of a raw value for messages.
func kind(raw json.RawMessage) string {
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

// object reads a JSON object; a missing or null one is an error only when required.
func (j jsonReader) object(raw json.RawMessage, path string, required bool) (map[string]json.RawMessage, error) {
	if isNull(raw) {
		if required {
			return nil, j.d.at(path).errorf(errors.New("missing"))
		}
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, j.d.at(path).errorf(fmt.Errorf("want an object, got %s", kind(raw)))
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
		return nil, j.d.at(path).errorf(fmt.Errorf("want an array, got %s", kind(raw)))
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
		return "", j.d.at(path + "." + key).errorf(fmt.Errorf("want a string, got %s", kind(raw)))
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
		t, err := j.object(raw, path, true)
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
		if col, ok := color(c); !ok {
			j.d.warnf(path+".color", "%q is not a colour like #1a2b3c; ignored", c)
		} else if name != "" && col != "" {
			colors[name] = col
		}
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
		room, err := j.object(raw, path, true)
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
func (j jsonReader) day(raw json.RawMessage, path string, i int, c *Conference, trackColors map[string]string, online map[string]bool) (Day, []Event, error) {
	obj, err := j.object(raw, path, true)
	if err != nil {
		return Day{}, nil, err
	}
	out := Day{Index: i + 1}
	if idx, err := j.ident(obj, path, "index"); err != nil {
		return Day{}, nil, err
	} else if n, err := strconv.Atoi(idx); err == nil {
		out.Index = n
	}
	date, err := j.str(obj, path, "date")
	if err != nil {
		return Day{}, nil, err
	}
	dy := &day{loc: c.Location, firstClock: make(map[string]clock)}
	if date != "" {
		if dy.date, err = parseDate(date); err != nil {
			return Day{}, nil, j.d.at(path + ".date").errorf(err)
		}
		out.Date = dy.date.String()
	}
	for _, key := range []string{"day_start", "day_end"} {
		s, err := j.str(obj, path, key)
		if err != nil || s == "" {
			if err != nil {
				return Day{}, nil, err
			}
			continue
		}
		t, err := parseInstant(s, c.Location)
		if err != nil {
			return Day{}, nil, j.d.at(path + "." + key).errorf(err)
		}
		if key == "day_start" {
			out.Start, dy.start = t, t
		} else {
			out.End = t
		}
	}
	if out.Date == "" && !out.Start.IsZero() {
		s := out.Start.In(c.Location)
		dy.date = civilDate{s.Year(), s.Month(), s.Day()}
		out.Date = dy.date.String()
	}
	if !out.Start.IsZero() && !out.End.IsZero() && !out.End.After(out.Start) {
		return Day{}, nil, j.d.at(path + ".day_end").errorf(fmt.Errorf("day ends at or before its start %s", out.Start.Format(timeRFC3339)))
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
			e, err := j.d.event(re, dy, room.key, trackColors, online)
			if err != nil {
				return Day{}, nil, err
			}
			events = append(events, e)
		}
	}
	if out.Start.IsZero() && !dy.date.isZero() {
		out.Start = dy.date.at(clock{}, c.Location)
	}
	if out.End.IsZero() && !dy.date.isZero() {
		out.End = dy.date.addDays(1).at(clock{}, c.Location)
	}
	return out, events, nil
}

const timeRFC3339 = "2006-01-02T15:04:05Z07:00"

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
		return nil, j.d.at(path).errorf(fmt.Errorf("want an object of room name → events, got %s", kind(raw)))
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

// event reads one event object into a rawEvent.
func (j jsonReader) event(raw json.RawMessage, path string) (*rawEvent, error) {
	obj, err := j.object(raw, path, true)
	if err != nil {
		return nil, err
	}
	r := &rawEvent{at: j.d.at(path), sep: "."}
	if r.id, err = j.ident(obj, path, "id"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"guid", &r.guid}, {"code", &r.code}, {"date", &r.date}, {"start", &r.start},
		{"duration", &r.duration}, {"end", &r.end}, {"room", &r.room}, {"slug", &r.slug},
		{"url", &r.url}, {"title", &r.title}, {"subtitle", &r.subtitle}, {"type", &r.kind},
		{"track", &r.track}, {"language", &r.language}, {"abstract", &r.abstract},
		{"description", &r.description},
	} {
		if *f.dst, err = j.str(obj, path, f.key); err != nil {
			return nil, err
		}
	}
	r.guid = strings.TrimSpace(r.guid)
	r.track = strings.TrimSpace(r.track)
	_, r.hasDate = obj["date"]
	_, r.hasStart = obj["start"]
	r.hasEnd = r.end != ""
	r.hasDurationField = r.duration != ""

	persons, err := j.array(obj["persons"], path+".persons", false)
	if err != nil {
		return nil, err
	}
	for k, raw := range persons {
		p, err := j.person(raw, fmt.Sprintf("%s.persons[%d]", path, k))
		if err != nil {
			return nil, err
		}
		if p.Name != "" {
			r.speakers = append(r.speakers, p)
		}
	}
	return r, nil
}

// person reads a frab person {id, public_name} or a pretalx one
// {guid | code, name}. A person without a name is skipped with a warning.
func (j jsonReader) person(raw json.RawMessage, path string) (Speaker, error) {
	obj, err := j.object(raw, path, true)
	if err != nil {
		return Speaker{}, err
	}
	var p Speaker
	var guid, code, id, name, public string
	if guid, err = j.str(obj, path, "guid"); err != nil {
		return Speaker{}, err
	}
	if code, err = j.str(obj, path, "code"); err != nil {
		return Speaker{}, err
	}
	if id, err = j.ident(obj, path, "id"); err != nil {
		return Speaker{}, err
	}
	if name, err = j.str(obj, path, "name"); err != nil {
		return Speaker{}, err
	}
	if public, err = j.str(obj, path, "public_name"); err != nil {
		return Speaker{}, err
	}
	p.ID = strings.TrimSpace(cmpOr(guid, code, id))
	p.Name = strings.TrimSpace(cmpOr(name, public))
	if p.Name == "" {
		j.d.warnf(path, "person without a name; skipped")
	}
	return p, nil
}

// cmpOr returns the first argument that is not empty after trimming spaces.
func cmpOr(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
