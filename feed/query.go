package feed

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/confcal/confcal/timezone"
)

// Limits on a feed query, so a request cannot make the service do
// unbounded work.
const (
	MaxQueryLength = 2048 // bytes of the raw query string
	MaxValues      = 32   // track and speaker values together
	MaxAlarm       = 7 * 24 * time.Hour
)

// Query is a parsed feed request: what to select and how to show it.
type Query struct {
	Filter Filter
	Zone   *time.Location
	Alarm  time.Duration
}

// QueryError reports a malformed query parameter: which, what was wrong and
// what would be right.
type QueryError struct {
	Param       string
	Value       string
	Problem     string
	Suggestions []string
}

func (e *QueryError) Error() string {
	msg := e.Param
	if e.Value != "" {
		msg += "=" + e.Value
	}
	msg += ": " + e.Problem
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + quoteList(e.Suggestions) + "?"
	}
	return msg
}

// queryParams are the parameters one kind of URL takes, and how errors
// list them.
type queryParams struct {
	names []string
	text  string
}

// Query parameters. Filters may be given only where the path does not fix
// the selection already; the embed also takes its colours.
var (
	feedParams  = queryParams{[]string{"track", "speaker", "tz", "alarm"}, "track, speaker, tz and alarm"}
	viewParams  = queryParams{[]string{"tz", "alarm"}, "tz and alarm"}
	embedParams = queryParams{[]string{"track", "speaker", "tz", "alarm", "theme"}, "track, speaker, tz, alarm and theme"}
)

// themes are the values of the embed's theme=: its colours, whatever the
// visitor's setting.
var themes = []string{"light", "dark"}

// ParseQuery reads a raw query string for s. With filters false only the
// display parameters (tz, alarm) are accepted, as on /tracks/{track}.ics.
// Unknown parameters are errors, not silently ignored: "?trak=x" must not
// give an unfiltered feed.
func ParseQuery(s *Schedule, raw string, filters bool) (Query, error) {
	params := viewParams
	if filters {
		params = feedParams
	}
	q, _, err := parseQuery(s, raw, params)
	return q, err
}

// ParseEmbedQuery reads the query of the embeddable view: what ParseQuery
// takes with filters, and theme: "light" or "dark", or "" (left out or
// empty, as a form's "automatic" choice sends it) to follow the visitor's
// setting.
func ParseEmbedQuery(s *Schedule, raw string) (q Query, theme string, err error) {
	q, values, err := parseQuery(s, raw, embedParams)
	if err != nil {
		return Query{}, "", err
	}
	switch v := values["theme"]; {
	case len(v) > 1:
		return Query{}, "", &QueryError{Param: "theme", Problem: "given more than once"}
	case len(v) == 1 && v[0] != "" && !slices.Contains(themes, v[0]):
		return Query{}, "", &QueryError{Param: "theme", Value: v[0],
			Problem:     "must be " + strings.Join(themes, " or ") + "; leave it out to follow each visitor's setting",
			Suggestions: closest(strings.ToLower(v[0]), themes, 1)}
	case len(v) == 1:
		theme = v[0]
	}
	return q, theme, nil
}

// parseQuery reads a raw query string for s, taking params. It returns
// the values too, for the parameters only some URLs take.
func parseQuery(s *Schedule, raw string, params queryParams) (Query, url.Values, error) {
	if len(raw) > MaxQueryLength {
		return Query{}, nil, &QueryError{Param: "query", Problem: fmt.Sprintf("too long (%d bytes; at most %d)", len(raw), MaxQueryLength)}
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return Query{}, nil, &QueryError{Param: "query", Problem: "malformed: " + err.Error()}
	}
	for _, name := range sortedKeys(values) {
		switch {
		case slices.Contains(params.names, name):
		case IsTrackingParam(name):
			delete(values, name)
		case slices.Contains(feedParams.names, name):
			return Query{}, nil, &QueryError{Param: name, Problem: "not taken here: the path already chooses the sessions and this URL takes " +
				params.text + "; to combine tracks and speakers use /feed.ics?track=…&speaker=…"}
		default:
			return Query{}, nil, &QueryError{Param: name, Problem: "unknown parameter; this URL takes " + params.text,
				Suggestions: closest(strings.ToLower(name), params.names, 1)}
		}
	}
	q, err := parseSelection(s, values)
	return q, values, err
}

// parseSelection reads the filter and the display parameters of a query.
func parseSelection(s *Schedule, values url.Values) (Query, error) {
	var err error
	q := Query{Zone: s.Conference.Location}
	if tz := values["tz"]; len(tz) > 0 {
		if q.Zone, err = parseZone(tz); err != nil {
			return Query{}, err
		}
	}
	if alarm := values["alarm"]; len(alarm) > 0 {
		if q.Alarm, err = parseAlarm(alarm); err != nil {
			return Query{}, err
		}
	}
	tracks, err := splitValues("track", values["track"], func(v string) bool { _, ok := s.findTrack(v); return ok })
	if err != nil {
		return Query{}, err
	}
	speakers, err := splitValues("speaker", values["speaker"], func(v string) bool { _, ok := s.findSpeaker(v); return ok })
	if err != nil {
		return Query{}, err
	}
	if n := len(tracks) + len(speakers); n > MaxValues {
		return Query{}, &QueryError{Param: "track/speaker", Problem: fmt.Sprintf("too many values (%d; at most %d)", n, MaxValues)}
	}
	for _, v := range tracks {
		t, err := resolveTrackValue(s, v)
		if err != nil {
			return Query{}, err
		}
		q.Filter.Tracks = append(q.Filter.Tracks, t.Slug)
	}
	for _, v := range speakers {
		p, err := s.ResolveSpeaker(strings.TrimSpace(v))
		if err != nil {
			return Query{}, err
		}
		q.Filter.Speakers = append(q.Filter.Speakers, p.Slug)
	}
	q.Filter = q.Filter.canonical()
	return q, nil
}

// IsTrackingParam reports whether a query parameter is one that links
// pick up on the way to the service (campaign tags, click ids). They say
// nothing about what to serve and are ignored, so that a shared link still
// works; any other unknown parameter is an error.
func IsTrackingParam(name string) bool {
	if strings.HasPrefix(name, "utm_") {
		return true
	}
	switch name {
	case "fbclid", "gclid", "gbraid", "wbraid", "dclid", "msclkid", "twclid", "yclid", "igshid",
		"mc_cid", "mc_eid", "_ga", "_gl", "mkt_tok":
		return true
	}
	return false
}

func sortedKeys(values url.Values) []string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// splitValues accepts repeated parameters and comma-separated lists alike.
// A value that names one thing as a whole (known reports whether it does)
// is kept whole, so a speaker called "Smith, John" can be given by name.
// Empty items are dropped (a trailing comma is harmless), but a parameter
// with nothing in it is an error: "?track=" must not serve every track.
func splitValues(param string, values []string, known func(string) bool) ([]string, error) {
	var out []string
	for _, v := range values {
		if strings.Contains(v, ",") && known(strings.TrimSpace(v)) {
			out = append(out, strings.TrimSpace(v))
			continue
		}
		n := len(out)
		for item := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(item) != "" {
				out = append(out, item) // untrimmed: its spaces may have been plus signs
			}
		}
		if len(out) == n {
			return nil, &QueryError{Param: param, Value: v, Problem: "empty: name a " + param + " (by name or slug), or leave the parameter out"}
		}
	}
	return out, nil
}

// resolveTrackValue resolves a track= value as it came out of the query.
// A "+" typed into a URL arrives as a space, and "C++" as "C  ": when the
// value with plus signs is a track's name, that is the track, and when the
// value as it came is another track, the request is refused rather than
// answered with the wrong one.
func resolveTrackValue(s *Schedule, raw string) (Track, error) {
	v := strings.TrimSpace(raw)
	if strings.Contains(raw, " ") {
		plus := strings.ReplaceAll(raw, " ", "+")
		if pt, ok := s.trackNamed(plus); ok {
			if t, ok := s.findTrack(v); ok && t.Slug != pt.Slug {
				return Track{}, &QueryError{Param: "track", Value: v, Problem: fmt.Sprintf(
					"a + in a URL is a space, so this is %q or %q: write %%2B for a plus sign, or use the track's slug", t.Name, pt.Name),
					Suggestions: []string{t.Slug, pt.Slug}}
			}
			return pt, nil
		}
	}
	return s.ResolveTrack(v)
}

func parseZone(values []string) (*time.Location, error) {
	if len(values) > 1 {
		return nil, &QueryError{Param: "tz", Problem: "given more than once; a feed has one display zone"}
	}
	name := values[0]
	loc, err := timezone.Load(name)
	if err != nil && strings.Contains(strings.TrimRight(name, " "), " ") {
		// A "+" typed into a URL arrives as a space: tz=Etc/GMT+5, tz=+05:30.
		plus := strings.ReplaceAll(strings.TrimRight(name, " "), " ", "+")
		ploc, perr := timezone.Load(plus)
		if uz, ok := errors.AsType[*timezone.UnknownZoneError](perr); perr == nil || ok && uz.Offset {
			name, loc, err = plus, ploc, perr
		}
	}
	if err != nil {
		qe := &QueryError{Param: "tz", Value: name, Problem: err.Error()}
		if uz, ok := errors.AsType[*timezone.UnknownZoneError](err); ok {
			qe.Problem = "not a time zone: use an IANA name such as Europe/Berlin, or a Windows zone name"
			if uz.Offset {
				qe.Problem = "a UTC offset, not a time zone: offsets change with daylight saving time, so use the zone of a city"
			}
			qe.Suggestions = uz.Suggestions
		}
		return nil, qe
	}
	return loc, nil
}

// parseAlarm reads a reminder such as "10m", "1h" or "1h30m".
func parseAlarm(values []string) (time.Duration, error) {
	if len(values) > 1 {
		return 0, &QueryError{Param: "alarm", Problem: "given more than once"}
	}
	v := values[0]
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, &QueryError{Param: "alarm", Value: v, Problem: "not a duration; use minutes or hours, e.g. 10m, 1h or 1h30m"}
	case d < time.Minute || d > MaxAlarm:
		return 0, &QueryError{Param: "alarm", Value: v, Problem: "must be between 1m and 168h (a week) before the session"}
	case d%time.Minute != 0:
		return 0, &QueryError{Param: "alarm", Value: v, Problem: "must be whole minutes, e.g. 10m"}
	}
	return d, nil
}
