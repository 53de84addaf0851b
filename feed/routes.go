package feed

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// addRoutes lists the whole HTTP surface of the service. The conference
// routes exist twice: at the root for the default conference, and under
// /{conference}/ for every loaded one.
func addRoutes(r *mux.Router, s *server, gatherer prometheus.Gatherer) {
	route(r, "/healthz", handleHealthz(), false)
	route(r, "/readyz", handleReadyz(s.opts.Ready), false)
	if gatherer != nil {
		route(r, "/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}), false)
	}
	route(r, "/static/{file}", s.handleStatic(), false) // ?v= content hash
	addConferenceRoutes(r, s, "")
	addConferenceRoutes(r, s, "/{conference}")
}

// addConferenceRoutes adds the routes of a conference under prefix. Feeds
// and the schedule's JSON are for other sites too (CORS).
func addConferenceRoutes(r *mux.Router, s *server, prefix string) {
	route(r, prefix+"/feed.ics", s.handleFeed(), true)                  // ?track=&speaker=&tz=&alarm=
	route(r, prefix+"/tracks/{track}.ics", s.handleFeed(), true)        // ?tz=&alarm=
	route(r, prefix+"/speakers/{speaker}.ics", s.handleFeed(), true)    // ?tz=&alarm=
	route(r, prefix+"/sessions/{session}.ics", s.handleSession(), true) // ?tz=&alarm=
	route(r, prefix+"/schedule.json", s.handleScheduleJSON(), true)
	route(r, prefix+"/", s.handlePage(), false)
	route(r, prefix+"/embed", s.handleEmbed(), false) // ?track=&speaker=&tz=
}

// allowed is what every route allows.
const allowed = "GET, HEAD, OPTIONS"

// route adds a route that answers GET and HEAD with h, and OPTIONS itself.
func route(r *mux.Router, path string, h http.Handler, cors bool) {
	r.Handle(path, h).Methods(http.MethodGet, http.MethodHead)
	r.Handle(path, preflight(cors)).Methods(http.MethodOptions)
}

// preflight answers OPTIONS with what the route allows and, on a route
// other sites may read (cors), a CORS preflight that lets any origin send
// the headers it asks for: a script revalidating a feed sends If-None-Match,
// which is not a CORS-safelisted header.
func preflight(cors bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Allow", allowed)
		if cors && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Methods", "GET, HEAD")
			if want := r.Header.Values("Access-Control-Request-Headers"); len(want) > 0 {
				h.Set("Access-Control-Allow-Headers", strings.Join(want, ", "))
			}
			h.Set("Access-Control-Max-Age", "86400")
			h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
