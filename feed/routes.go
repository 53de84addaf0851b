package feed

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// addRoutes lists the whole HTTP surface of the service. The conference
// routes exist twice: at the root for the default conference, and under
// /{conference}/ for every loaded one.
func addRoutes(r *mux.Router, s *server, gatherer prometheus.Gatherer) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle("/healthz", handleHealthz()).Methods(get...)
	r.Handle("/readyz", handleReadyz(s.opts.Ready)).Methods(get...)
	if gatherer != nil {
		r.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})).Methods(get...)
	}
	r.Handle("/static/{file}", s.handleStatic()).Methods(get...) // ?v= content hash
	addConferenceRoutes(r, s, "")
	addConferenceRoutes(r, s, "/{conference}")
}

// addConferenceRoutes adds the routes of a conference under prefix.
func addConferenceRoutes(r *mux.Router, s *server, prefix string) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(prefix+"/feed.ics", s.handleFeed()).Methods(get...)                  // ?track=&speaker=&tz=&alarm=
	r.Handle(prefix+"/tracks/{track}.ics", s.handleFeed()).Methods(get...)        // ?tz=&alarm=
	r.Handle(prefix+"/speakers/{speaker}.ics", s.handleFeed()).Methods(get...)    // ?tz=&alarm=
	r.Handle(prefix+"/sessions/{session}.ics", s.handleSession()).Methods(get...) // ?tz=&alarm=
	r.Handle(prefix+"/schedule.json", s.handleScheduleJSON()).Methods(get...)
	r.Handle(prefix+"/", s.handlePage()).Methods(get...)
	r.Handle(prefix+"/embed", s.handleEmbed()).Methods(get...) // ?track=&speaker=&tz=
}
