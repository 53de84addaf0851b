package feed

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// Options tune the HTTP service; the zero value is usable.
type Options struct {
	// BaseURL is the public URL of the service ("https://cal.example.org"),
	// used in SOURCE and the feed links of /schedule.json. Empty: taken
	// from each request.
	BaseURL string
	// Refresh is the polling interval suggested to calendar clients
	// (REFRESH-INTERVAL, X-PUBLISHED-TTL). Zero means DefaultRefresh.
	Refresh time.Duration
	// CacheBytes bounds the render cache. Zero means DefaultCacheBytes.
	CacheBytes int64
	// MaxAge is the Cache-Control max-age of feeds, for CDNs and browsers.
	// Zero means DefaultMaxAge.
	MaxAge time.Duration
	// Ready reports whether the service should receive traffic (/readyz).
	// Nil means always.
	Ready func() bool
	// AccessLog gets a line per request. Nil means none.
	AccessLog *AccessLog
}

// Defaults for Options.
const (
	DefaultRefresh    = 6 * time.Hour
	DefaultCacheBytes = 64 << 20
	DefaultMaxAge     = 5 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	return o
}

// server is what the handlers share.
type server struct {
	logger  *slog.Logger
	store   *Store
	opts    Options
	metrics *metrics
	cache   *renderCache
	polls   polls
	// cacheControl is the Cache-Control of feeds, from opts.MaxAge.
	cacheControl []string
	// base is opts.BaseURL without a trailing slash.
	base string
}

// NewServer returns the whole HTTP surface of the service for the schedules
// in store, registering its metrics with reg (exposed on /metrics when reg
// is also a Gatherer).
func NewServer(logger *slog.Logger, store *Store, reg prometheus.Registerer, opts Options) http.Handler {
	_, h := newServer(logger, store, reg, opts)
	return h
}

// newServer is NewServer, with the server behind the handler.
func newServer(logger *slog.Logger, store *Store, reg prometheus.Registerer, opts Options) (*server, http.Handler) {
	opts = opts.withDefaults()
	m := newMetrics(reg)
	reg.MustRegister(newScheduleCollector(store))
	srv := &server{
		logger:  logger,
		store:   store,
		opts:    opts,
		metrics: m,
		cache:   newRenderCache(opts.CacheBytes, m),
		base:    strings.TrimSuffix(opts.BaseURL, "/"),
		cacheControl: []string{"public, max-age=" + strconv.Itoa(int(opts.MaxAge.Seconds())) +
			", stale-while-revalidate=60, stale-if-error=86400"},
	}
	r := mux.NewRouter()
	r.StrictSlash(false)
	r.Use(srv.observe)
	var gatherer prometheus.Gatherer
	if g, ok := reg.(prometheus.Gatherer); ok {
		gatherer = g
	}
	addRoutes(r, srv, gatherer)
	r.NotFoundHandler = srv.observe(http.HandlerFunc(srv.notFound))
	r.MethodNotAllowedHandler = srv.observe(http.HandlerFunc(srv.methodNotAllowed))
	return srv, srv.recoverPanics(srv.polled(r))
}

// statusWriter records what a handler wrote, for metrics and the log.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe records every request in the metrics and the log, labelled by
// route template: never the raw path, which is unbounded. A request whose
// handler panics is recorded too, as the 500 it gets.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.recovered(sw, r, v, routeTemplate(r), start)
			}
		}()
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.record(r, routeTemplate(r), sw.code, sw.bytes, start)
	})
}

// record counts a request that got the status code and n bytes of body in
// the metrics, and writes its access-log line.
func (s *server) record(r *http.Request, route string, code, n int, start time.Time) {
	elapsed := time.Since(start) // reads only the monotonic clock
	end := start.Add(elapsed)
	s.metrics.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(code)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
	s.metrics.responseSize.WithLabelValues(route).Observe(float64(n))
	s.opts.AccessLog.log(&access{time: end, method: r.Method, route: route, status: code, bytes: n,
		duration: elapsed, client: ClientFamily(r.UserAgent()), remote: r.RemoteAddr})
}

// routeTemplate is the mux path template that matched r, or "unmatched".
func routeTemplate(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		if t, err := route.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "unmatched"
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodOptions, http.MethodPatch:
		return m
	}
	return "other"
}

// recovered answers a request whose handler panicked with v: it logs the
// panic, answers 500 and records the request as a 500 under route. A
// response already begun cannot become a 500: the request is recorded as
// one and the connection aborted, so the client cannot take a truncated
// body for a whole one. http.ErrAbortHandler is a handler's own way to
// abort, and is passed on as it is.
func (s *server) recovered(w *statusWriter, r *http.Request, v any, route string, start time.Time) {
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.logPanic(r, v)
	began := w.code != 0
	if !began {
		s.internalError(w, r)
	}
	s.record(r, route, http.StatusInternalServerError, w.bytes, start)
	if began {
		panic(http.ErrAbortHandler)
	}
}

// internalError answers 500 without the headers of the response the
// handler was preparing: a feed's length, encoding or validators would
// describe a body the error does not have.
func (s *server) internalError(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, name := range []string{"Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Content-Disposition", "Vary"} {
		delete(h, name)
	}
	s.writeError(w, r, http.StatusInternalServerError, errorBody{Error: "internal error"})
}

func (s *server) logPanic(r *http.Request, v any) {
	s.logger.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v),
		"stack", string(debug.Stack()))
}

// recoverPanics turns a panic that escaped every handler (the router's own)
// into a 500 and a log line, so one bad request cannot take the service
// down. Route handlers and remembered polls record their panics themselves,
// where the route and the start of the request are known.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logPanic(r, v)
				s.internalError(w, r)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
