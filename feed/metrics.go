package feed

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the service's Prometheus collectors. Every label is bounded:
// route templates, methods, status codes, the conferences' own tracks and a
// handful of client families; never a raw path, query, name or User-Agent.
type metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	responseSize *prometheus.HistogramVec
	feeds        *prometheus.CounterVec
	cacheHits    prometheus.Counter
	cacheMisses  prometheus.Counter
	cacheEvicts  prometheus.Counter
	cacheBytes   prometheus.Gauge
	renderTime   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "confcal_http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "confcal_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route template.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		responseSize: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "confcal_http_response_size_bytes",
			Help:    "Size of HTTP response bodies as sent, by route template.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 8),
		}, []string{"route"}),
		feeds: f.NewCounterVec(prometheus.CounterOpts{
			Name: "confcal_feed_requests_total",
			Help: "Feed requests by conference, feed kind, track, display-zone class, calendar-client family and result (200 or 304).",
		}, []string{"conference", "kind", "track", "zone", "client", "code"}),
		cacheHits: f.NewCounter(prometheus.CounterOpts{
			Name: "confcal_render_cache_hits_total",
			Help: "Requests for feeds, pages and schedule.json served from the render cache.",
		}),
		cacheMisses: f.NewCounter(prometheus.CounterOpts{
			Name: "confcal_render_cache_misses_total",
			Help: "Renders of feeds, pages and schedule.json for the render cache.",
		}),
		cacheEvicts: f.NewCounter(prometheus.CounterOpts{
			Name: "confcal_render_cache_evictions_total",
			Help: "Rendered responses dropped from the cache to stay within its byte budget.",
		}),
		cacheBytes: f.NewGauge(prometheus.GaugeOpts{
			Name: "confcal_render_cache_bytes",
			Help: "Bytes held by the render cache.",
		}),
		renderTime: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "confcal_render_duration_seconds",
			Help:    "Time to render and compress one feed variant on a cache miss.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 9),
		}),
	}
}

func (m *metrics) hit()             { m.cacheHits.Inc() }
func (m *metrics) miss()            { m.cacheMisses.Inc() }
func (m *metrics) evict()           { m.cacheEvicts.Inc() }
func (m *metrics) setBytes(n int64) { m.cacheBytes.Set(float64(n)) }

func (m *metrics) observeRender(d time.Duration) { m.renderTime.Observe(d.Seconds()) }

// Feed kinds, for the feed metric.
const (
	kindAll      = "all"
	kindTrack    = "track"
	kindSpeaker  = "speaker"
	kindCombined = "combined"
	kindSession  = "session"
)

func feedKind(f Filter) string {
	switch {
	case len(f.Tracks) > 0 && len(f.Speakers) > 0, len(f.Tracks) > 1, len(f.Speakers) > 1:
		return kindCombined
	case len(f.Tracks) == 1:
		return kindTrack
	case len(f.Speakers) == 1:
		return kindSpeaker
	}
	return kindAll
}

// trackLabel is the single track a feed shows, "" for none, "multiple" for
// several: bounded by the conference's own tracks.
func trackLabel(f Filter) string {
	switch len(f.Tracks) {
	case 0:
		return ""
	case 1:
		return f.Tracks[0]
	}
	return "multiple"
}

// zoneClass says whether a feed is in the conference's zone, UTC or another.
func zoneClass(s *Schedule, q Query) string {
	switch {
	case q.Zone == time.UTC:
		return "utc"
	case q.Zone.String() == s.Conference.TimeZone:
		return "conference"
	}
	return "other"
}

// Client families, from the User-Agent shapes calendar apps document.
const (
	clientGoogle      = "google"
	clientApple       = "apple"
	clientOutlook     = "outlook"
	clientThunderbird = "thunderbird"
	clientCalendar    = "other_calendar"
	clientBrowser     = "browser"
	clientOther       = "other"
)

// ClientFamily classifies a User-Agent into a small, fixed set of calendar
// client families, so it can be a metric label and a log field.
func ClientFamily(ua string) string {
	switch {
	case strings.Contains(ua, "Google-Calendar-Importer"), strings.Contains(ua, "Google-Calendar"):
		return clientGoogle
	case strings.Contains(ua, "dataaccessd"), strings.Contains(ua, "CalendarAgent"),
		strings.Contains(ua, "iOS/") && strings.Contains(ua, "Calendar"), strings.Contains(ua, "macOS/") && strings.Contains(ua, "Calendar"):
		return clientApple
	case strings.Contains(ua, "Microsoft Outlook"), strings.Contains(ua, "Microsoft Exchange"), strings.Contains(ua, "Outlook-iOS"),
		strings.Contains(ua, "Outlook-Android"), strings.Contains(ua, "Microsoft Office"):
		return clientOutlook
	case strings.Contains(ua, "Thunderbird"):
		return clientThunderbird
	case strings.Contains(ua, "DAVx5"), strings.Contains(ua, "ICSx5"), strings.Contains(ua, "Evolution"),
		strings.Contains(ua, "Fantastical"), strings.Contains(ua, "GNOME"), strings.Contains(ua, "KOrganizer"),
		strings.Contains(ua, "Proton"), strings.Contains(ua, "Fastmail"):
		return clientCalendar
	case strings.HasPrefix(ua, "Mozilla/"):
		return clientBrowser
	}
	return clientOther
}

// scheduleCollector reports the loaded schedules at scrape time, straight
// from the store, so the numbers cannot drift from what is served.
type scheduleCollector struct {
	store                              *Store
	sessions, tracks, speakers, update *prometheus.Desc
	info                               *prometheus.Desc
}

func newScheduleCollector(store *Store) *scheduleCollector {
	label := []string{"conference"}
	return &scheduleCollector{
		store:    store,
		sessions: prometheus.NewDesc("confcal_schedule_sessions", "Sessions in the conference's schedule.", label, nil),
		tracks:   prometheus.NewDesc("confcal_schedule_tracks", "Tracks in the conference's schedule.", label, nil),
		speakers: prometheus.NewDesc("confcal_schedule_speakers", "Speakers in the conference's schedule.", label, nil),
		update: prometheus.NewDesc("confcal_schedule_updated_timestamp_seconds",
			"The schedule's own date, as a Unix time: its version when that is a date, else its first day; "+
				"the DTSTAMP of sessions that have not changed since. When confcal saw a change is in the feeds' Last-Modified.", label, nil),
		info: prometheus.NewDesc("confcal_schedule_info", "The version (content hash) of the schedule being served; always 1.",
			[]string{"conference", "version", "zone"}, nil),
	}
}

func (c *scheduleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sessions, c.tracks, c.speakers, c.update, c.info} {
		ch <- d
	}
}

func (c *scheduleCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.store.All() {
		a := s.Conference.Acronym
		ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(len(s.Events)), a)
		ch <- prometheus.MustNewConstMetric(c.tracks, prometheus.GaugeValue, float64(len(s.Tracks)), a)
		ch <- prometheus.MustNewConstMetric(c.speakers, prometheus.GaugeValue, float64(len(s.Speakers)), a)
		ch <- prometheus.MustNewConstMetric(c.update, prometheus.GaugeValue, float64(s.Updated.Unix()), a)
		// The content's version, without the journal's stamp: replicas
		// serving the same content agree on it.
		version, _, _ := strings.Cut(s.Version, "@")
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, a, version, s.Conference.TimeZone)
	}
}
