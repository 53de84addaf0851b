package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Reloader loads schedules into a Store and reloads them when asked or on a
// timer. A new schedule is decoded and validated completely, and revised by
// the journal, before it is swapped in; one that fails to load never
// replaces a good one.
type Reloader struct {
	logger  *slog.Logger
	opts    LoadOptions
	journal Journal
	now     func() time.Time // the clock of the journal; time.Now but in tests
	sources []*sourceState
	store   *Store
	loads   *prometheus.CounterVec
	lastOK  *prometheus.GaugeVec
	kept    *prometheus.GaugeVec // 1 while a conference is served from a kept copy
	mu      sync.Mutex           // one reload at a time
}

// sourceState is what the reloader knows of one source between reloads.
type sourceState struct {
	Source
	acronym string     // the conference it serves, after the first load
	cond    validators // for conditional requests to URLs
	parsed  *Schedule  // the last good schedule as parsed, before the journal
}

// Load results, the values of the result label of confcal_schedule_loads_total.
const (
	resultChanged   = "changed"
	resultUnchanged = "unchanged"
	resultError     = "error"
)

// NewReloader prepares to load sources; the first is the default conference.
// Its metrics are registered with reg. Schedules are revised by an
// in-memory journal unless SetJournal gives another.
func NewReloader(logger *slog.Logger, reg prometheus.Registerer, sources []Source, opts LoadOptions) *Reloader {
	f := promauto.With(reg)
	r := &Reloader{
		logger:  logger,
		opts:    opts,
		journal: NewMemoryJournal(JournalOptions{Logger: logger}),
		now:     time.Now,
		loads: f.NewCounterVec(prometheus.CounterOpts{
			Name: "confcal_schedule_loads_total",
			Help: "Schedule load attempts by conference and result (changed, unchanged, error).",
		}, []string{"conference", "result"}),
		lastOK: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "confcal_schedule_last_success_timestamp_seconds",
			Help: "When a conference's schedule last loaded successfully (changed or not), as a Unix time.",
		}, []string{"conference"}),
		kept: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "confcal_schedule_kept_copy",
			Help: "1 while a conference is served from the copy the state file kept of its last good load, because its source failed at start-up; 0 once the source loads.",
		}, []string{"conference"}),
	}
	for _, src := range sources {
		r.sources = append(r.sources, &sourceState{Source: src})
	}
	return r
}

// SetJournal makes j revise every schedule loaded from now on; call it
// before Start. The caller keeps j and closes it.
func (r *Reloader) SetJournal(j Journal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.journal = j
}

// Start loads every source and returns the store that serves them. Any
// failure is an error: a service must not start without a schedule it was
// told to serve.
func (r *Reloader) Start(ctx context.Context) (*Store, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Loading makes garbage several times the size of the schedule it
	// keeps; collecting sooner than usual keeps the start-up peak near what
	// the service needs afterwards, for a little CPU once.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	schedules := make([]*Schedule, 0, len(r.sources))
	for _, src := range r.sources {
		parsed, data, cond, err := r.load(ctx, src, nil)
		failed := err
		if err != nil {
			cond = validators{} // the next reload reads the source in full
			parsed, err = r.lastGood(ctx, src, err)
		}
		var s *Schedule
		if err == nil {
			s, err = r.journal.Apply(ctx, parsed, r.now())
		}
		if err != nil {
			r.loads.WithLabelValues(conferenceLabel(src), resultError).Inc()
			return nil, err
		}
		src.acronym, src.cond, src.parsed = s.Conference.Acronym, cond, parsed
		// Every result starts at 0, so the first failed reload is an
		// increase: a series born at 1 is no increase to Prometheus.
		for _, result := range []string{resultChanged, resultUnchanged, resultError} {
			r.loads.WithLabelValues(src.acronym, result)
		}
		if failed != nil {
			// The source failed: counted, and flagged for the alerts.
			r.loads.WithLabelValues(src.acronym, resultError).Inc()
			r.kept.WithLabelValues(src.acronym).Set(1)
		} else {
			r.observe(src, resultChanged)
			r.keepCopy(ctx, src, data)
		}
		r.logLoaded(s)
		schedules = append(schedules, s)
	}
	store, err := NewStore(schedules...)
	if err != nil {
		return nil, err
	}
	r.store = store
	return store, nil
}

// Reload reads every source again and swaps in those that changed, or whose
// cancelled sessions have been kept long enough. Errors are logged and
// counted, and the schedule that was serving keeps serving; the returned
// error joins them, for callers that want to know.
func (r *Reloader) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		return errors.New("reload before start")
	}
	var errs []error
	for _, src := range r.sources {
		current, _ := r.store.Get(src.acronym)
		s, parsed, data, cond, err := r.reloadSource(ctx, src, current)
		if err != nil {
			r.loads.WithLabelValues(src.acronym, resultError).Inc()
			r.logger.ErrorContext(ctx, "schedule reload failed; still serving the last good one",
				"conference", src.acronym, "source", src.Location, "err", err)
			errs = append(errs, err)
			continue
		}
		src.cond, src.parsed = cond, parsed
		r.keepCopy(ctx, src, data)
		if s.Version == current.Version {
			r.observe(src, resultUnchanged)
			continue
		}
		r.store.Replace(s)
		r.observe(src, resultChanged)
		r.logLoaded(s)
	}
	return errors.Join(errs...)
}

// reloadSource reads src again and returns the schedule to serve for it
// in place of current (current itself when nothing in it changes or can
// expire), with what was parsed, the bytes when they were parsed anew, and
// the validators that read them.
func (r *Reloader) reloadSource(ctx context.Context, src *sourceState, current *Schedule) (s, parsed *Schedule, data []byte, cond validators, err error) {
	parsed, data, cond, err = r.load(ctx, src, src.parsed)
	if errors.Is(err, errNotModified) {
		parsed, data, cond, err = src.parsed, nil, src.cond, nil
	}
	if err != nil {
		return nil, nil, nil, validators{}, err
	}
	if err := checkNotEmptied(src, current, parsed); err != nil {
		return nil, nil, nil, validators{}, err
	}
	if a := parsed.Conference.Acronym; a != src.acronym {
		return nil, nil, nil, validators{}, fmt.Errorf("reload %s: the schedule is now for conference %q, not %q; restart to change conferences",
			src.Location, a, src.acronym)
	}
	if parsed == src.parsed && !hasCancelled(current) {
		return current, parsed, data, cond, nil // nothing in it can expire
	}
	s, err = r.journal.Apply(ctx, parsed, r.now())
	return s, parsed, data, cond, err
}

// SourceStore keeps the last good bytes of each schedule source, so that a
// restart while a source fails (a server down, a broken file) serves what
// the source last gave instead of stopping. BoltJournal is one: with
// -state, the copies live in the journal's file.
type SourceStore interface {
	// SaveSource keeps gz, gzipped, as the last good bytes of location.
	SaveSource(location string, gz []byte, now time.Time) error
	// LastSource returns the last good bytes of location, gzipped as they
	// were given to SaveSource, and when they were kept; or
	// ErrNoSavedSource.
	LastSource(location string) (gz []byte, saved time.Time, err error)
}

// ErrNoSavedSource is LastSource's error for a location it has no copy of.
var ErrNoSavedSource = errors.New("no copy of the source")

// keepCopy gives gz, the gzipped bytes of a schedule just accepted from
// src, to the journal when it keeps copies. Failing to keep one is logged: the
// schedule serves all the same.
func (r *Reloader) keepCopy(ctx context.Context, src *sourceState, gz []byte) {
	store, ok := r.journal.(SourceStore)
	if !ok || gz == nil {
		return
	}
	if err := store.SaveSource(copyKey(src), gz, r.now()); err != nil {
		r.logger.WarnContext(ctx, "could not keep a copy of the schedule", "source", src.Location, "err", err)
	}
}

// copyKey names src's kept copy: its URL, or its file's absolute path, so
// that the same relative path from another directory is another source.
func copyKey(src *sourceState) string {
	if isURL(src.Location) {
		return src.Location
	}
	if abs, err := filepath.Abs(src.Location); err == nil {
		return abs
	}
	return src.Location
}

// lastGood is the schedule of src's last good bytes, for a start-up whose
// load of src failed with loadErr; loadErr itself when there is no usable
// copy.
func (r *Reloader) lastGood(ctx context.Context, src *sourceState, loadErr error) (*Schedule, error) {
	store, ok := r.journal.(SourceStore)
	if !ok || src.Embedded != nil {
		return nil, loadErr
	}
	gz, saved, err := store.LastSource(copyKey(src))
	if errors.Is(err, ErrNoSavedSource) {
		return nil, loadErr
	}
	var s *Schedule
	if err == nil {
		s, err = r.parseCopy(src, gz)
	}
	if err != nil {
		r.logger.WarnContext(ctx, "no usable copy of the schedule", "source", src.Location, "err", err)
		return nil, loadErr
	}
	r.logger.ErrorContext(ctx, "schedule load failed; serving the copy kept from its last good load until it loads again",
		"conference", s.Conference.Acronym, "source", src.Location, "kept", saved, "err", loadErr)
	return s, nil
}

// Run reloads on every tick of interval (none when it is 0) and whenever
// hup delivers (SIGHUP, with signal.Notify), until ctx ends.
func (r *Reloader) Run(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-hup:
			r.logger.InfoContext(ctx, "reloading schedules on request")
		}
		r.Reload(ctx) // failures are logged and counted by Reload
	}
}

// load reads and parses src, and returns the validators of what it read;
// the caller keeps them once the schedule is known good. When the bytes are
// those of parsed (same content hash), it returns parsed without parsing
// again; when a server answers 304, it returns errNotModified. When the
// bytes were parsed anew and the journal is a SourceStore, it returns them
// gzipped, for the journal to keep.
func (r *Reloader) load(ctx context.Context, src *sourceState, parsed *Schedule) (*Schedule, []byte, validators, error) {
	if src.Embedded != nil {
		if parsed != nil {
			return parsed, nil, src.cond, nil
		}
		s, err := Parse(src.Embedded, r.parseOptions(src))
		return s, nil, src.cond, err
	}
	data, cond, err := read(ctx, src.Location, r.opts, src.cond)
	if err != nil {
		return nil, nil, cond, err
	}
	if parsed != nil && contentVersion(data) == parsed.Version {
		return parsed, nil, cond, nil
	}
	s, err := Parse(data, r.parseOptions(src))
	if _, keep := r.journal.(SourceStore); !keep || err != nil {
		return s, nil, cond, err
	}
	// The schedule's bytes, gzipped: the raw bytes, several times larger,
	// become garbage now rather than after the journal's work.
	return s, gzipBytes(data), cond, nil
}

// gzipBytes is data, gzipped fast.
func gzipBytes(data []byte) []byte {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	zw.Write(data) // a bytes.Buffer does not fail
	zw.Close()
	return gz.Bytes()
}

// parseCopy parses gz, the kept copy of src, held to the same limit as
// what src gives.
func (r *Reloader) parseCopy(src *sourceState, gz []byte) (*Schedule, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("the copy does not decompress: %w", err)
	}
	data, err := readAll(zr, r.opts.maxBytes())
	if err != nil {
		return nil, fmt.Errorf("reading the copy: %w", err)
	}
	return Parse(data, r.parseOptions(src))
}

// parseOptions are the options src is parsed with. Once it has loaded, a
// schedule without an acronym of its own keeps the conference's: one
// derived from the title would change with the title, and refuse the
// reload as another conference.
func (r *Reloader) parseOptions(src *sourceState) ParseOptions {
	return ParseOptions{Source: src.Location, TimeZone: r.opts.TimeZone, Acronym: src.acronym}
}

// checkNotEmptied refuses a reload that would replace a schedule with
// sessions by one with none: that is a broken export far more often than
// a conference that cancelled everything, and swapping it in would show
// every session as cancelled. The first load of an empty schedule is fine.
func checkNotEmptied(src *sourceState, current, parsed *Schedule) error {
	if len(parsed.Events) > 0 {
		return nil
	}
	n := 0
	for _, e := range current.Events {
		if !e.Cancelled {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("reload %s: the schedule has no sessions, where %d are being served; not replacing them (restart to serve an empty schedule)", src.Location, n)
}

// hasCancelled reports whether s shows sessions as cancelled: those expire
// even when the source does not change.
func hasCancelled(s *Schedule) bool {
	return slices.ContainsFunc(s.Events, func(e Event) bool { return e.Cancelled })
}

func (r *Reloader) observe(src *sourceState, result string) {
	r.loads.WithLabelValues(src.acronym, result).Inc()
	r.lastOK.WithLabelValues(src.acronym).SetToCurrentTime()
	r.kept.WithLabelValues(src.acronym).Set(0)
}

func (r *Reloader) logLoaded(s *Schedule) {
	for _, w := range s.Warnings {
		r.logger.Warn("schedule", "conference", s.Conference.Acronym, "warning", w)
	}
	r.logger.Info("schedule loaded", "conference", s.Conference.Acronym, "sessions", len(s.Events),
		"tracks", len(s.Tracks), "speakers", len(s.Speakers), "zone", s.Conference.TimeZone, "version", s.Version)
}

// conferenceLabel names a source in metrics before its conference is known.
func conferenceLabel(src *sourceState) string {
	if src.acronym != "" {
		return src.acronym
	}
	return "unknown"
}
