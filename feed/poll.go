package feed

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Calendar clients poll the same few URLs over and over. Once a URL has
// served a feed, the next poll of it is answered from the render cache
// before routing: no route matching, no query parsing. Anything not
// cached (a new schedule version, an evicted variant, an unknown URL)
// goes through the router as usual.

// maxPolls bounds how many URLs are remembered; past it, new URLs are
// simply routed every time.
const maxPolls = 50000

// poll is what answering a remembered URL needs besides the cached bytes.
type poll struct {
	acronym     string // conference
	route       string // route template, for metrics and the log
	disposition string
}

// polls remembers URLs that served feeds.
type polls struct {
	m sync.Map // pollKey(r) → *poll
	n atomic.Int32
}

// pollKey names a request as a poll: its public base URL and request URI.
func pollKey(base string, r *http.Request) string { return base + r.URL.RequestURI() }

// remember notes that the request r, with the given public base URL, was
// served the feed of acronym by the route template.
func (p *polls) remember(base string, r *http.Request, acronym, route, disposition string) {
	if p.n.Load() >= maxPolls {
		return
	}
	if _, loaded := p.m.LoadOrStore(pollKey(base, r), &poll{acronym: acronym, route: route, disposition: disposition}); !loaded {
		p.n.Add(1)
	}
}

// polled answers remembered polls from the render cache and passes every
// other request to next.
func (s *server) polled(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		base := s.baseURL(r)
		v, ok := s.polls.m.Load(pollKey(base, r))
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		p := v.(*poll)
		sched, ok := s.store.Get(p.acronym)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		body, ok := s.cache.peek(feedKey(sched, base, r))
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		code := s.serve(sw, r, body, calendarType, p.disposition)
		s.countFeed(sched, body, r, code)
		s.record(r, p.route, sw, start)
	})
}
