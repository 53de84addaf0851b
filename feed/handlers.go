package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
)

// handleFeed serves a feed: the whole schedule or a filtered part of it, in
// the requested zone. /tracks/{track}.ics and /speakers/{speaker}.ics are
// the same feed with the filter in the path.
//
// The render cache is keyed by the feed's canonical URL, so every spelling
// of a feed (a name for a slug, a parameter links pick up) shares one
// variant. Calendar clients poll the same URL over and over: one that
// served a feed is answered before routing (see polled), without this
// parse.
func (s *server) handleFeed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sched, prefix, err := s.schedule(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		q, err := feedRequest(sched, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		source := s.baseURL(r) + prefix + FeedURL(sched, q)
		key := sched.Conference.Acronym + "\x00" + sched.Version + "\x00" + source
		body, err := s.cache.get(key, func() (*rendered, error) {
			out, err := s.render(sched, sched.Select(q.Filter), View{
				Name: sched.Name(q.Filter), Zone: q.Zone, Alarm: q.Alarm, Source: source, Refresh: s.opts.Refresh,
			})
			if err != nil {
				return nil, err
			}
			out.labels = [3]string{feedKind(q.Filter), trackLabel(q.Filter), zoneClass(sched, q)}
			return out, nil
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		disposition := headerValue(contentDisposition("inline", sched.FileName(q.Filter)))
		code, _ := s.serve(w, r, body, hdrCalendar, disposition)
		s.countFeed(sched, body, r, code)
		s.rememberPoll(r, sched, key, disposition)
	})
}

// countFeed counts a served feed in the feed metric.
func (s *server) countFeed(sched *Schedule, body *rendered, r *http.Request, code int) {
	s.metrics.feeds.WithLabelValues(sched.Conference.Acronym, body.labels[0], body.labels[1], body.labels[2],
		ClientFamily(r.UserAgent()), strconv.Itoa(code)).Inc()
}

// feedRequest reads what a feed request asks for: the query, and the track
// or speaker in the path.
func feedRequest(sched *Schedule, r *http.Request) (Query, error) {
	vars := mux.Vars(r)
	track, byTrack := vars["track"]
	speaker, bySpeaker := vars["speaker"]
	q, err := ParseQuery(sched, r.URL.RawQuery, !byTrack && !bySpeaker)
	if err != nil {
		return Query{}, err
	}
	switch {
	case byTrack:
		t, err := sched.ResolveTrack(track)
		if err != nil {
			return Query{}, err
		}
		q.Filter.Tracks = []string{t.Slug}
	case bySpeaker:
		p, err := sched.ResolveSpeaker(speaker)
		if err != nil {
			return Query{}, err
		}
		q.Filter.Speakers = []string{p.Slug}
	}
	return q, nil
}

// calendarType is the media type of feeds (RFC 5545 §8.1).
const calendarType = "text/calendar; charset=utf-8"

// handleSession serves one session as a calendar file to download and import.
func (s *server) handleSession() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sched, prefix, err := s.schedule(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		id := mux.Vars(r)["session"]
		e, ok := sched.Event(id)
		if !ok {
			nf := &NotFoundError{Kind: "session", Value: id, Suggestions: sched.sessionsNamed(id)}
			nf.Shared = len(nf.Suggestions) > 1
			if !nf.Shared {
				nf.Suggestions = closest(id, sessionKeys(sched), 3)
			}
			s.error(w, r, nf)
			return
		}
		q, err := ParseQuery(sched, r.URL.RawQuery, false)
		if err != nil {
			s.error(w, r, err)
			return
		}
		source := s.baseURL(r) + prefix + "/sessions/" + url.PathEscape(sessionKey(e)) + ".ics" + feedQuery(sched, q)
		key := strings.Join([]string{sched.Conference.Acronym, sched.Version, "session", e.GUID, q.Zone.String(),
			q.Alarm.String(), source}, "\x00")
		body, err := s.cache.get(key, func() (*rendered, error) {
			out, err := s.render(sched, []Event{e}, View{Name: e.Title, Zone: q.Zone, Alarm: q.Alarm, Source: source})
			if err != nil {
				return nil, err
			}
			out.labels = [3]string{kindSession, "", zoneClass(sched, q)}
			return out, nil
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		code, _ := s.serve(w, r, body, hdrCalendar, headerValue(contentDisposition("attachment", sessionKey(e)+".ics")))
		s.countFeed(sched, body, r, code)
	})
}

// contentDisposition is a Content-Disposition value that offers filename.
// A name that is not plain ASCII goes in filename* as UTF-8 (RFC 6266,
// RFC 8187), with an ASCII filename beside it for old clients.
func contentDisposition(disposition, filename string) string {
	plain := true
	for i := 0; i < len(filename); i++ {
		if c := filename[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%' {
			plain = false
			break
		}
	}
	if plain {
		return disposition + `; filename="` + filename + `"`
	}
	ext := path.Ext(filename)
	fallback := strings.Map(func(r rune) rune {
		if r >= 0x80 {
			return '-'
		}
		return r
	}, Slug(strings.TrimSuffix(filename, ext)))
	fallback = strings.Trim(dashes.ReplaceAllString(fallback, "-"), "-")
	if fallback == "" {
		fallback = "calendar"
	}
	var b strings.Builder
	b.WriteString(disposition + `; filename="` + fallback + ext + `"; filename*=UTF-8''`)
	for i := 0; i < len(filename); i++ {
		// attr-char (RFC 8187 §3.2.1); anything else is percent-encoded.
		if c := filename[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

var dashes = regexp.MustCompile(`-+`)

// sessionKey is how a session is named in URLs: as its schedule named it
// (see assignKeys), else by its slug, ID or GUID.
func sessionKey(e Event) string {
	switch {
	case e.key != "":
		return e.key
	case e.Slug != "":
		return e.Slug
	case e.ID != "":
		return e.ID
	}
	return e.GUID
}

func sessionKeys(s *Schedule) []string {
	keys := make([]string, len(s.Events))
	for i, e := range s.Events {
		keys[i] = sessionKey(e)
	}
	return keys
}

// render builds, serializes and compresses one feed variant.
func (s *server) render(sched *Schedule, events []Event, v View) (*rendered, error) {
	start := time.Now()
	data, err := Render(sched, events, v)
	if err != nil {
		return nil, err
	}
	out := newRendered(data, sched.LastModified())
	s.metrics.observeRender(time.Since(start))
	return out, nil
}

// FeedPath is the canonical path of the feed for f, relative to its
// conference: /tracks/{slug}.ics and /speakers/{slug}.ics for a single
// track or speaker, /feed.ics with a query otherwise.
func FeedPath(f Filter) string {
	f = f.canonical()
	switch {
	case len(f.Tracks) == 1 && len(f.Speakers) == 0:
		return "/tracks/" + url.PathEscape(f.Tracks[0]) + ".ics"
	case len(f.Speakers) == 1 && len(f.Tracks) == 0:
		return "/speakers/" + url.PathEscape(f.Speakers[0]) + ".ics"
	}
	v := filterValues(f)
	if len(v) == 0 {
		return "/feed.ics"
	}
	return "/feed.ics?" + encodeQuery(v)
}

// filterValues are the track= and speaker= parameters that select what f
// does: values sorted, unique and comma-separated.
func filterValues(f Filter) url.Values {
	f = f.canonical()
	v := url.Values{}
	if len(f.Tracks) > 0 {
		v.Set("track", strings.Join(f.Tracks, ","))
	}
	if len(f.Speakers) > 0 {
		v.Set("speaker", strings.Join(f.Speakers, ","))
	}
	return v
}

// queryUnescape keeps "/" and "," readable in feed URLs: both are allowed
// in a query (RFC 3986 §3.4), and people read and edit these URLs.
var queryUnescape = strings.NewReplacer("%2F", "/", "%2C", ",")

// encodeQuery is url.Values.Encode with "/" and "," left as they are.
func encodeQuery(v url.Values) string { return queryUnescape.Replace(v.Encode()) }

// FeedURL is the canonical URL of the feed q asks for, relative to its
// conference: FeedPath of the filter, then the display parameters.
func FeedURL(s *Schedule, q Query) string {
	path, query := FeedPath(q.Filter), feedQuery(s, q)
	if query != "" && strings.Contains(path, "?") {
		return path + "&" + query[1:]
	}
	return path + query
}

// feedQuery is the canonical display part of a feed URL: tz (unless it is
// the conference's zone) and alarm, appended to a path from FeedPath.
func feedQuery(s *Schedule, q Query) string {
	v := url.Values{}
	if zone := zoneName(q.Zone); zone != s.Conference.TimeZone {
		v.Set("tz", zone)
	}
	if q.Alarm > 0 {
		v.Set("alarm", alarmText(q.Alarm))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + encodeQuery(v)
}

// alarmText writes a reminder the way people type it: "10m", "1h", "1h30m".
func alarmText(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return strconv.Itoa(m) + "m"
	case m == 0:
		return strconv.Itoa(h) + "h"
	}
	return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
}

// serve writes a rendered variant the way calendar clients and CDNs expect:
// validators, conditional requests, gzip when accepted and HEAD. It returns
// the status code and the number of body bytes written.
//
// Feeds carry only the headers clients and CDNs use: each costs every
// poll, and past eight net/http's header maps grow from one group into
// tables, which costs a poll more than the rest of its headers. So there
// is no X-Content-Type-Options: browsers never render text/calendar as a
// page, and a public feed (CORS "*") included as a script gives a page
// nothing it could not fetch. Pages and JSON set it themselves.
//
// contentType and disposition are header values, as headerValue gives them;
// a nil disposition sends none.
func (s *server) serve(w http.ResponseWriter, r *http.Request, body *rendered, contentType, disposition []string) (code, n int) {
	return serveRendered(w, r, body, contentType, disposition, s.cacheControl)
}

// serveRendered is serve with the Cache-Control header value given.
func serveRendered(w http.ResponseWriter, r *http.Request, body *rendered, contentType, disposition, cacheControl []string) (code, n int) {
	// Header values are shared, read-only slices and names are set in
	// their canonical form: a poll allocates nothing for its headers.
	h := w.Header()
	gz := acceptsGzip(headerGet(r.Header, "Accept-Encoding"))
	etag, length, data := body.hdr.etag, body.hdr.length, body.plain
	if gz {
		etag, length, data = body.hdr.etagGz, body.hdr.lengthGz, body.gzipped
	}
	h["Vary"] = hdrVary
	h["Cache-Control"] = cacheControl
	h["Access-Control-Allow-Origin"] = hdrAnyOrigin
	if held, ok := notModified(r, body, gz); ok {
		// Only what updates a cached copy (RFC 9110 §15.4.5), naming the
		// copy the client holds.
		h["Etag"] = held
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified, 0
	}
	h["Etag"] = etag
	h["Content-Type"] = contentType
	if gz {
		h["Content-Encoding"] = hdrGzip
	}
	if disposition != nil {
		h["Content-Disposition"] = disposition
	}
	if body.hdr.lastModified != nil {
		h["Last-Modified"] = body.hdr.lastModified
	}
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		n, _ = w.Write(data) // a failed write means the client went away
	}
	return http.StatusOK, n
}

// headerGet is h.Get(key) for a key already in canonical form, without
// canonicalizing it again.
func headerGet(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Header values every response shares. Nothing may modify them in place.
var (
	hdrCalendar   = []string{calendarType}
	hdrGzip       = []string{"gzip"}
	hdrVary       = []string{"Accept-Encoding"}
	hdrAnyOrigin  = []string{"*"}
	hdrNosniff    = []string{"nosniff"}
	hdrExposeETag = []string{"ETag"}
)

// headerValues interns header values such as content types and feed file
// names, up to a bound, so that serving them allocates nothing.
var (
	headerValues    sync.Map // string → []string
	headerValuesLen atomic.Int32
)

func headerValue(v string) []string {
	if hv, ok := headerValues.Load(v); ok {
		return hv.([]string)
	}
	if headerValuesLen.Load() >= 4096 {
		return []string{v}
	}
	hv, loaded := headerValues.LoadOrStore(v, []string{v})
	if !loaded {
		headerValuesLen.Add(1)
	}
	return hv.([]string)
}

// notModified evaluates If-None-Match, or If-Modified-Since when there is
// no If-None-Match (RFC 9110 §13.2.2), for a request that selected the
// gzip representation or not. It returns the ETag header of the copy the
// client holds when that copy is current. A client that asks for gzip but
// holds the identity representation is told its copy is current: the
// content is the same, identity is always acceptable, and the 304 names
// the identity ETag, so that a cache updates the copy it has (RFC 9111
// §4.3.4).
func notModified(r *http.Request, body *rendered, gz bool) (etag []string, ok bool) {
	selected := body.hdr.etag
	if gz {
		selected = body.hdr.etagGz
	}
	if inm := headerGet(r.Header, "If-None-Match"); inm != "" {
		identity := false
		for tag := range strings.SplitSeq(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/") // weak comparison
			if tag == "*" || tag == selected[0] {
				return selected, true
			}
			identity = identity || gz && tag == body.etag
		}
		if identity {
			return body.hdr.etag, true
		}
		return nil, false
	}
	if ims := headerGet(r.Header, "If-Modified-Since"); ims != "" && !body.modified.IsZero() {
		// A date later than now is not a Last-Modified this server sent
		// (RFC 2616 §14.25 calls it invalid), and comparing with it would
		// answer 304 until then: it is ignored.
		t, err := http.ParseTime(ims)
		return selected, err == nil && !body.modified.After(t) && !t.After(time.Now())
	}
	return nil, false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: gzip
// (or its alias x-gzip) with a q-value above zero, or else "*" with one
// (RFC 9110 §12.5.3). Items may come in any order and "q" in any case.
func acceptsGzip(header string) bool {
	gzipQ, anyQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		q := qValue(params)
		switch {
		case strings.EqualFold(coding, "gzip") || strings.EqualFold(coding, "x-gzip"):
			gzipQ = max(gzipQ, q)
		case coding == "*":
			anyQ = max(anyQ, q)
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

// qValue is the weight among the parameters of an Accept or
// Accept-Encoding item ("q=0.5", the name in any case), 1 without one
// (RFC 9110 §12.4.2).
func qValue(params string) float64 {
	for param := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(param, "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				return v
			}
		}
	}
	return 1
}

// schedule returns the schedule a request is for and the path prefix of
// its conference ("" on the root routes).
func (s *server) schedule(r *http.Request) (*Schedule, string, error) {
	acronym, ok := mux.Vars(r)["conference"]
	if !ok {
		return s.store.Default(), "", nil
	}
	if sched, ok := s.conference(acronym); ok {
		return sched, "/" + url.PathEscape(sched.Conference.Acronym), nil
	}
	nf := &NotFoundError{Kind: "conference", Value: acronym, Suggestions: closest(acronym, s.store.Acronyms(), 3)}
	if rootPages[acronym] {
		// "/feed.ics/" or "/embed/": a slash too many.
		nf.Suggestions = []string{"/" + acronym}
	}
	return nil, "", nf
}

// rootPages are the pages at the root that a stray slash turns into a
// conference's path: "/feed.ics/".
var rootPages = map[string]bool{"feed.ics": true, "schedule.json": true, "embed": true, "healthz": true, "readyz": true, "metrics": true}

// conference returns the schedule of a conference by its acronym, in any case.
func (s *server) conference(acronym string) (*Schedule, bool) {
	if sched, ok := s.store.Get(acronym); ok {
		return sched, true
	}
	for _, a := range s.store.Acronyms() {
		if strings.EqualFold(a, acronym) {
			return s.store.Get(a)
		}
	}
	return nil, false
}

// baseURL is the public URL of the service, configured or as requested.
func (s *server) baseURL(r *http.Request) string { return string(s.appendBaseURL(nil, r)) }

// appendBaseURL appends the public URL of the service, configured or as
// requested.
func (s *server) appendBaseURL(b []byte, r *http.Request) []byte {
	if s.base != "" {
		return append(b, s.base...)
	}
	if proto := r.Header["X-Forwarded-Proto"]; r.TLS != nil || len(proto) > 0 && strings.EqualFold(proto[0], "https") {
		b = append(b, "https://"...)
	} else {
		b = append(b, "http://"...)
	}
	return append(b, r.Host...)
}

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
}

func handleReadyz(ready func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/"); ok && !strings.Contains(name, "/") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if sched, ok := s.conference(name); ok {
			// A conference's page is at /{conference}/.
			target := "/" + url.PathEscape(sched.Conference.Acronym) + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
	}
	s.writeError(w, r, http.StatusNotFound, errorBody{Error: "no such page: " + r.URL.Path,
		Hint: "feeds are at /feed.ics, /tracks/{track}.ics, /speakers/{speaker}.ics and /sessions/{id}.ics; the schedule at /schedule.json"})
}

func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", allowed)
	s.writeError(w, r, http.StatusMethodNotAllowed, errorBody{Error: r.Method + " is not allowed here", Hint: "use GET or HEAD"})
}

// wantsJSON reports whether Accept prefers application/json to plain
// text: JSON is named with a q-value above zero, and no text type is
// preferred to it (RFC 9110 §12.5.1).
func wantsJSON(accept []string) bool {
	jsonQ, textQ := -1.0, -1.0
	for _, field := range accept {
		for item := range strings.SplitSeq(field, ",") {
			media, params, _ := strings.Cut(item, ";")
			media = strings.ToLower(strings.TrimSpace(media))
			q := qValue(params)
			switch {
			case media == "application/json":
				jsonQ = max(jsonQ, q)
			case strings.HasPrefix(media, "text/"):
				textQ = max(textQ, q)
			}
		}
	}
	return jsonQ > 0 && jsonQ >= textQ
}

// errorBody is what an error response says, as text or JSON.
type errorBody struct {
	Error       string   `json:"error"`
	Param       string   `json:"param,omitempty"`
	Value       string   `json:"value,omitempty"`
	Suggestions []string `json:"suggestions,omitempty"`
	Hint        string   `json:"hint,omitempty"`
}

// error maps an error to its status and writes it: unknown things are 404,
// malformed queries 400, anything else 500 (logged, not shown).
func (s *server) error(w http.ResponseWriter, r *http.Request, err error) {
	if nf, ok := errors.AsType[*NotFoundError](err); ok {
		body := errorBody{Error: nf.Error(), Param: nf.Kind, Value: nf.Value, Suggestions: nf.Suggestions}
		if sched, _, serr := s.schedule(r); serr == nil {
			body.Hint = choices(sched, nf.Kind)
		}
		s.writeError(w, r, http.StatusNotFound, body)
		return
	}
	if qe, ok := errors.AsType[*QueryError](err); ok {
		s.writeError(w, r, http.StatusBadRequest, errorBody{Error: qe.Error(), Param: qe.Param, Value: qe.Value, Suggestions: qe.Suggestions})
		return
	}
	s.logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	s.writeError(w, r, http.StatusInternalServerError, errorBody{Error: "internal error"})
}

// choices lists what a kind of value may be, for an error's hint.
func choices(s *Schedule, kind string) string {
	switch kind {
	case "track":
		return "tracks: " + strings.Join(s.trackSlugs(), ", ")
	case "speaker":
		return "speakers are matched by name or slug, ignoring case and accents; /schedule.json lists all " +
			strconv.Itoa(len(s.Speakers))
	case "session":
		return "sessions are named by slug, id or guid; /schedule.json lists them"
	}
	return ""
}

// writeError writes body as JSON when the client asks for it, plain text otherwise.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, code int, body errorBody) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	if wantsJSON(r.Header.Values("Accept")) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(body) // a failed write means the client went away
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	msg := body.Error
	if body.Hint != "" {
		msg += "\n" + body.Hint
	}
	fmt.Fprintln(w, msg)
}
