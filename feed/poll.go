package feed

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Calendar clients poll the same few URLs over and over. Once a URL has
// served a feed, the next poll of it is answered from the render cache
// before routing: no route matching, no query parsing, no building of
// keys or metric labels. Anything else (a new schedule version, an
// evicted variant, an unknown URL) goes through the router as usual, and
// a feed served there updates what is remembered of its URL.

// maxPolls bounds how many URLs are remembered: a new one past it takes
// the place of one at random, so that a flood of spellings of feeds (a
// client may make as many as it likes) costs the URLs it pushes out a
// routed poll each, not the fast path for good. maxPollKey bounds a
// remembered URL's length; a longer one is routed every time.
const (
	maxPolls   = 10000
	maxPollKey = 1024
)

// poll is what answering a remembered URL needs besides the cached bytes.
type poll struct {
	acronym     string   // conference
	version     string   // its schedule version when the URL was served
	cacheKey    string   // of the variant in the render cache
	route       string   // route template, for metrics and the log
	disposition []string // header value
	duration    prometheus.Observer
	size        prometheus.Observer
	// counters holds the counters of the polls seen so far, one per
	// method, status and client family: a copy-on-write list of at most
	// 2×2×7, looked up without hashing any label.
	counters atomic.Pointer[[]pollCounters]
}

// pollCounters are the counters one kind of poll of one URL increments.
type pollCounters struct {
	method, client string
	code           int
	requests       prometheus.Counter
	feeds          prometheus.Counter
}

// polls remembers URLs that served feeds.
type polls struct {
	mu  sync.RWMutex
	m   map[string]*poll // by appendPollKey's key
	max int              // how many are remembered at most; maxPolls when 0
}

// get returns what is remembered of the URL with the given poll key.
func (p *polls) get(key []byte) *poll {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.m[string(key)]
}

// remember notes, or updates, what the URL with the given poll key served.
func (p *polls) remember(key string, e *poll) {
	if len(key) > maxPollKey {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[string]*poll)
	}
	if _, ok := p.m[key]; !ok && len(p.m) >= cmp.Or(p.max, maxPolls) {
		for old := range p.m { // map order: one at random
			delete(p.m, old)
			break
		}
	}
	p.m[key] = e
}

// appendPollKey appends the name of r as a poll: the public base URL of
// the service and the request target as sent.
func (s *server) appendPollKey(b []byte, r *http.Request) []byte {
	b = s.appendBaseURL(b, r)
	if r.RequestURI != "" {
		return append(b, r.RequestURI...)
	}
	return append(b, r.URL.RequestURI()...)
}

// rememberPoll notes that r, for the schedule sched, was served the feed
// in the render cache under cacheKey.
func (s *server) rememberPoll(r *http.Request, sched *Schedule, cacheKey string, disposition []string) {
	route := routeTemplate(r)
	s.polls.remember(string(s.appendPollKey(nil, r)), &poll{
		acronym:     sched.Conference.Acronym,
		version:     sched.Version,
		cacheKey:    cacheKey,
		route:       route,
		disposition: disposition,
		duration:    s.metrics.duration.WithLabelValues(route),
		size:        s.metrics.responseSize.WithLabelValues(route),
	})
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
		var key [256]byte
		p := s.polls.get(s.appendPollKey(key[:0], r))
		body := s.cached(p)
		if body == nil {
			next.ServeHTTP(w, r)
			return
		}
		var code, n int // once serve has answered
		defer func() {
			if v := recover(); v != nil {
				s.recovered(&statusWriter{ResponseWriter: w, code: code, bytes: n}, r, v, p.route, start)
			}
		}()
		code, n = s.serve(w, r, body, hdrCalendar, p.disposition)
		client := ClientFamily(headerGet(r.Header, "User-Agent"))
		c := p.countersFor(s.metrics, body.labels, r.Method, client, code)
		c.requests.Inc()
		c.feeds.Inc()
		elapsed := time.Since(start) // reads only the monotonic clock
		end := start.Add(elapsed)
		p.duration.Observe(elapsed.Seconds())
		p.size.Observe(float64(n))
		s.opts.AccessLog.log(&access{time: end, method: r.Method, route: p.route, status: code, bytes: n,
			duration: elapsed, client: client, remote: r.RemoteAddr})
	})
}

// cached returns the variant a remembered URL serves, or nil when there is
// none or its schedule has changed since.
func (s *server) cached(p *poll) *rendered {
	if p == nil {
		return nil
	}
	sched, ok := s.store.Get(p.acronym)
	if !ok || sched.Version != p.version {
		return nil
	}
	body, _ := s.cache.peek(p.cacheKey)
	return body
}

// countersFor returns the counters of a poll of p with the given method,
// client family and status code, making them on first use with the feed's
// labels (kind, track, zone class) from its rendered variant.
func (p *poll) countersFor(m *metrics, labels [3]string, method, client string, code int) *pollCounters {
	if cs := p.counters.Load(); cs != nil {
		for i := range *cs {
			if c := &(*cs)[i]; c.code == code && c.method == method && c.client == client {
				return c
			}
		}
	}
	status := strconv.Itoa(code)
	c := pollCounters{
		method:   method,
		client:   client,
		code:     code,
		requests: m.requests.WithLabelValues(p.route, methodLabel(method), status),
		feeds:    m.feeds.WithLabelValues(p.acronym, labels[0], labels[1], labels[2], client, status),
	}
	for {
		old := p.counters.Load()
		var next []pollCounters
		if old != nil {
			next = slices.Clone(*old)
		}
		next = append(next, c)
		if p.counters.CompareAndSwap(old, &next) {
			return &c
		}
	}
}
