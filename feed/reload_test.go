package feed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/confcal/confcal/fixtures"
)

// renamed is the workshop with its welcome note renamed: a real change.
func renamed() []byte {
	return bytes.Replace(fixtures.DyNN2022, []byte(`"title": "Welcome note"`), []byte(`"title": "Welcome and opening remarks"`), 1)
}

// brokenSchedule is the workshop with an impossible duration.
func brokenSchedule() []byte {
	return bytes.Replace(fixtures.DyNN2022, []byte(`"duration": "00:15"`), []byte(`"duration": "1:70"`), 1)
}

func newTestReloader(t *testing.T, loc string, opts LoadOptions) (*Reloader, *Store, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	r := NewReloader(slog.New(slog.NewTextHandler(io.Discard, nil)), reg, []Source{{Location: loc}}, opts)
	store, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r, store, reg
}

func loads(t *testing.T, reg *prometheus.Registry, result string) float64 {
	return gathered(t, reg, "confcal_schedule_loads_total", "result", result)
}

// gathered reads the value of the counter or gauge name whose label has
// value, through the registry as a scrape would; 0 when there is none.
func gathered(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if c := m.GetCounter(); c != nil {
						return c.GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// TestLoadsStartAtZero: once a conference has loaded, each result of its
// loads is a series, at 0 until it happens, so that the first failure is
// an increase for the reload alerts rather than a new series.
func TestLoadsStartAtZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	if err := os.WriteFile(path, fixtures.DyNN2022, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, reg := newTestReloader(t, path, LoadOptions{})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "confcal_schedule_loads_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["conference"]+" "+labels["result"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"dynn2022 changed": 1, "dynn2022 unchanged": 0, "dynn2022 error": 0}
	if !maps.Equal(got, want) {
		t.Errorf("confcal_schedule_loads_total after start: %v, want %v", got, want)
	}
}

func TestReloadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	write := func(data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fixtures.DyNN2022)
	r, store, reg := newTestReloader(t, path, LoadOptions{})
	first := store.Default()

	// Unchanged bytes: the same snapshot keeps serving.
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if store.Default() != first || loads(t, reg, resultUnchanged) != 1 {
		t.Errorf("an unchanged file replaced the schedule (unchanged loads: %v)", loads(t, reg, resultUnchanged))
	}

	// A broken file: an error, counted, and the good schedule stays.
	write(brokenSchedule())
	if err := r.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "1:70") {
		t.Errorf("reload of a broken file: %v", err)
	}
	if store.Default() != first || loads(t, reg, resultError) != 1 {
		t.Error("a broken file replaced the good schedule")
	}

	// A vanished file: the same.
	os.Remove(path)
	if err := r.Reload(context.Background()); err == nil {
		t.Error("reload of a vanished file succeeded")
	}
	if store.Default() != first || loads(t, reg, resultError) != 2 {
		t.Error("a vanished file replaced the good schedule")
	}

	// A good change is swapped in.
	write(renamed())
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := store.Default()
	if got == first || got.Version == first.Version || got.Events[0].Title != "Welcome and opening remarks" {
		t.Errorf("the changed schedule was not swapped in: %q", got.Events[0].Title)
	}
	if loads(t, reg, resultChanged) != 2 { // the start and this reload
		t.Errorf("changed loads = %v, want 2", loads(t, reg, resultChanged))
	}
}

// TestReloadURL: conditional requests, a server error, a slow server.
func TestReloadURL(t *testing.T) {
	var body atomic.Pointer[[]byte]
	data := fixtures.DyNN2022
	body.Store(&data)
	var mode atomic.Value // "", "fail", "slow"
	mode.Store("")
	var conditional atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := *body.Load()
		etag := `"` + contentVersion(b) + `"`
		switch mode.Load() {
		case "fail":
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		case "slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		if r.Header.Get("If-None-Match") == etag {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(b)
	}))
	defer srv.Close()
	r, store, reg := newTestReloader(t, srv.URL+"/schedule.json", LoadOptions{Timeout: 300 * time.Millisecond})
	first := store.Default()

	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if conditional.Load() != 1 || store.Default() != first {
		t.Errorf("second load was not a conditional request answered 304 (%d)", conditional.Load())
	}

	mode.Store("fail")
	if err := r.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("reload from a failing server: %v", err)
	}
	mode.Store("slow")
	start := time.Now()
	if err := r.Reload(context.Background()); err == nil {
		t.Error("reload from a slow server succeeded")
	}
	if time.Since(start) > 1500*time.Millisecond {
		t.Errorf("a slow server held the reload for %v despite the timeout", time.Since(start))
	}
	if store.Default() != first || loads(t, reg, resultError) != 2 {
		t.Error("failed reloads replaced the schedule or were not counted")
	}

	mode.Store("")
	changed := renamed()
	body.Store(&changed)
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if store.Default().Events[0].Title != "Welcome and opening remarks" {
		t.Error("changed schedule not swapped in")
	}
}

// TestReloadServesNewVersion: after a reload, feeds show the new schedule
// (cached renders of the old one are keyed by its version and never served
// again), and requests during reloads never fail.
func TestReloadServesNewVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	if err := os.WriteFile(path, fixtures.DyNN2022, 0o644); err != nil {
		t.Fatal(err)
	}
	r, store, reg := newTestReloader(t, path, LoadOptions{})
	srv := httptest.NewServer(NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, reg, Options{}))
	defer srv.Close()

	getFeed := func() (int, string) {
		resp, err := http.Get(srv.URL + "/tracks/opening.ics")
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if _, body := getFeed(); !strings.Contains(body, "SUMMARY:Welcome note") {
		t.Fatal("first feed lacks the welcome note")
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code, _ := getFeed(); code != http.StatusOK {
					t.Errorf("feed during reload: %d", code)
					return
				}
			}
		})
	}
	for i := range 10 {
		data := fixtures.DyNN2022
		switch i % 3 {
		case 1:
			data = renamed()
		case 2:
			data = brokenSchedule()
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r.Reload(context.Background()) // the broken versions fail, as they should
	}
	if err := os.WriteFile(path, renamed(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if _, body := getFeed(); !strings.Contains(body, "SUMMARY:Welcome and opening remarks") {
		t.Error("feed still shows the old schedule after a reload")
	}
	if n := gathered(t, reg, "confcal_schedule_last_success_timestamp_seconds", "conference", "dynn2022"); n < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success timestamp %v is not recent", n)
	}
}

// TestReloadRun: the loop reloads on its timer and on request, and stops
// with its context.
func TestReloadRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	if err := os.WriteFile(path, fixtures.DyNN2022, 0o644); err != nil {
		t.Fatal(err)
	}
	r, store, _ := newTestReloader(t, path, LoadOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal)
	done := make(chan struct{})
	go func() { r.Run(ctx, 0, hup); close(done) }()
	if err := os.WriteFile(path, renamed(), 0o644); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	hup <- syscall.SIGHUP // the loop took the first and finished its reload before taking this one
	if store.Default().Events[0].Title != "Welcome and opening remarks" {
		t.Error("reload on request did not happen")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}

// TestReloadAcronym: a schedule without an acronym keeps the one it was
// first served under when its title changes; a schedule that names another
// acronym is refused, and the old one keeps serving.
func TestReloadAcronym(t *testing.T) {
	legacy := mustReadFile(t, "testdata/decode/legacy-pentabarf.xml")
	tests := []struct {
		name        string
		first, next []byte
		acronym     string // served before and after
		title       string // served after the reload
		refused     bool
	}{
		{"no acronym, new title", legacy,
			bytes.Replace(legacy, []byte("<title>FOSDEM 2024</title>"), []byte("<title>FOSDEM 2024 (final)</title>"), 1),
			"fosdem-2024", "FOSDEM 2024 (final)", false},
		{"no acronym, then one of its own", legacy,
			bytes.Replace(legacy, []byte("<title>FOSDEM 2024</title>"), []byte("<title>FOSDEM 2024</title><acronym>fosdem24</acronym>"), 1),
			"fosdem-2024", "FOSDEM 2024", true},
		{"an acronym, then another", fixtures.DyNN2022,
			bytes.Replace(fixtures.DyNN2022, []byte(`"acronym": "dynn2022"`), []byte(`"acronym": "dynn2023"`), 1),
			"dynn2022", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "schedule")
			if err := os.WriteFile(path, tc.first, 0o644); err != nil {
				t.Fatal(err)
			}
			r, store, reg := newTestReloader(t, path, LoadOptions{TimeZone: "Europe/Brussels"})
			first := store.Default()
			if first.Conference.Acronym != tc.acronym {
				t.Fatalf("first load: acronym %q, want %q", first.Conference.Acronym, tc.acronym)
			}
			if err := os.WriteFile(path, tc.next, 0o644); err != nil {
				t.Fatal(err)
			}
			err := r.Reload(context.Background())
			s := store.Default()
			if tc.refused {
				if err == nil || !strings.Contains(err.Error(), "restart to change conferences") || s != first || loads(t, reg, resultError) != 1 {
					t.Errorf("reload: %v, error loads %v; want it refused and the first schedule kept", err, loads(t, reg, resultError))
				}
				return
			}
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if s == first || s.Conference.Acronym != tc.acronym || s.Conference.Title != tc.title || store.Acronyms()[0] != tc.acronym {
				t.Errorf("after reload: %q %q (acronyms %q); want %q %q", s.Conference.Acronym, s.Conference.Title, store.Acronyms(), tc.acronym, tc.title)
			}
		})
	}
}

// TestReloadEmpty: a schedule with no sessions never replaces one with
// sessions; the reload fails like a broken file. A first load of an empty
// schedule starts, and sessions replace it.
func TestReloadEmpty(t *testing.T) {
	good := strings.Replace(okJSON, "DURATION", "01:00", 1)
	const head = `{"schedule": {"version": "2", "conference": {"acronym": "demo", "title": "Demo", "time_zone_name": "Europe/Berlin", "days": `
	empties := []struct{ name, doc string }{
		{"no days", head + `[]}}}`},
		{"no rooms", head + `[{"index": 1, "date": "2024-03-30", "rooms": {}}]}}}`},
		{"empty rooms", head + `[{"index": 1, "date": "2024-03-30", "rooms": {"Hall A": [], "Hall B": null}}]}}}`},
	}
	for _, tc := range empties {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "schedule.json")
			write := func(doc string) {
				t.Helper()
				if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write(good)
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			r := NewReloader(slog.New(slog.NewTextHandler(&logs, nil)), reg, []Source{{Location: path}}, LoadOptions{})
			store, err := r.Start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			first := store.Default()

			write(tc.doc)
			err = r.Reload(context.Background())
			if err == nil || !strings.Contains(err.Error(), "no sessions") {
				t.Errorf("reload of an empty schedule: %v", err)
			}
			if s := store.Default(); s != first || len(s.Events) != 2 || slices.ContainsFunc(s.Events, func(e Event) bool { return e.Cancelled }) {
				t.Error("the empty schedule replaced the one with sessions")
			}
			if loads(t, reg, resultError) != 1 || loads(t, reg, resultChanged) != 1 {
				t.Errorf("loads: %v errors, %v changed; want 1, 1", loads(t, reg, resultError), loads(t, reg, resultChanged))
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("no error logged:\n%s", logs.String())
			}
		})
	}
	t.Run("first load", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "schedule.json")
		if err := os.WriteFile(path, []byte(empties[0].doc), 0o644); err != nil {
			t.Fatal(err)
		}
		r, store, reg := newTestReloader(t, path, LoadOptions{})
		if s := store.Default(); len(s.Events) != 0 || len(s.Warnings) != 1 {
			t.Fatalf("first load: %d events, warnings %q", len(s.Events), s.Warnings)
		}
		if err := r.Reload(context.Background()); err != nil {
			t.Errorf("reload of the same empty schedule: %v", err)
		}
		if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.Reload(context.Background()); err != nil || len(store.Default().Events) != 2 {
			t.Errorf("reload with sessions: %v, %d events", err, len(store.Default().Events))
		}
		if loads(t, reg, resultError) != 0 {
			t.Errorf("%v failed loads", loads(t, reg, resultError))
		}
	})
}

// TestStartFromKeptCopy: with a journal that keeps copies, a start whose
// source fails serves the last good bytes the source gave, counted as a
// failure, until the source loads again; without a copy it fails as ever.
func TestStartFromKeptCopy(t *testing.T) {
	dir := t.TempDir()
	path, state := filepath.Join(dir, "schedule.json"), filepath.Join(dir, "state.db")
	write := func(data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type service struct {
		r       *Reloader
		store   *Store
		reg     *prometheus.Registry
		logs    *bytes.Buffer
		journal *BoltJournal
	}
	// start starts a service on the state file; stop it (close its journal,
	// which bbolt locks) before the next.
	start := func(opts LoadOptions) (service, error) {
		t.Helper()
		j, err := OpenBoltJournal(state, JournalOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		sv := service{reg: prometheus.NewRegistry(), logs: new(bytes.Buffer), journal: j}
		sv.r = NewReloader(slog.New(slog.NewTextHandler(sv.logs, nil)), sv.reg, []Source{{Location: path}}, opts)
		sv.r.SetJournal(j)
		sv.store, err = sv.r.Start(context.Background())
		return sv, err
	}
	title := func(sv service) string { return sv.store.Default().Events[0].Title }

	// Nothing kept yet: a broken source stops the start.
	write(brokenSchedule())
	sv, err := start(LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "1:70") {
		t.Fatalf("start on a broken file with no copy: %v", err)
	}
	sv.journal.Close()

	// A good start keeps a copy; a change reloaded later replaces it.
	write(fixtures.DyNN2022)
	if sv, err = start(LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	write(renamed())
	if err := sv.r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	sv.journal.Close()

	// The source breaks, and the service restarts: it serves the copy.
	write(brokenSchedule())
	if sv, err = start(LoadOptions{}); err != nil {
		t.Fatalf("start on a broken file with a copy: %v", err)
	}
	defer func() { sv.journal.Close() }()
	if got := title(sv); got != "Welcome and opening remarks" {
		t.Errorf("served %q, want the last good copy's title", got)
	}
	if e, c := loads(t, sv.reg, resultError), loads(t, sv.reg, resultChanged); e != 1 || c != 0 {
		t.Errorf("loads: error %v, changed %v; want the failure counted and no success", e, c)
	}
	if kept := gathered(t, sv.reg, "confcal_schedule_kept_copy", "conference", "dynn2022"); kept != 1 {
		t.Errorf("confcal_schedule_kept_copy = %v while the copy is served, want 1", kept)
	}
	if l := sv.logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "serving the copy kept") || !strings.Contains(l, "1:70") {
		t.Errorf("serving the copy is not logged as an error with its cause:\n%s", l)
	}
	sv.journal.Close()

	// The copy is held to the limit of what the source may give.
	limited, err := start(LoadOptions{MaxBytes: int64(len(renamed())) - 1})
	limited.journal.Close()
	if err == nil {
		t.Fatal("start from a copy over -schedule-max-bytes succeeded")
	}
	if l := limited.logs.String(); !strings.Contains(l, "no usable copy") || !strings.Contains(l, "more than") {
		t.Errorf("a copy over the limit is not logged as unusable:\n%s", l)
	}
	if sv, err = start(LoadOptions{}); err != nil {
		t.Fatal(err)
	}

	// Fixed, the source loads again on the next reload.
	write(fixtures.DyNN2022)
	if err := sv.r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := title(sv); got != "Welcome note" {
		t.Errorf("after the fix, served %q", got)
	}
	if kept := gathered(t, sv.reg, "confcal_schedule_kept_copy", "conference", "dynn2022"); kept != 0 {
		t.Errorf("confcal_schedule_kept_copy = %v once the source loads, want 0", kept)
	}
}

// TestCopyKey: a kept copy is named by URL, or by the file's absolute path,
// so that one relative path in two directories names two copies.
func TestCopyKey(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"schedule.json":   filepath.Join(wd, "schedule.json"),
		"./a/../b.xml":    filepath.Join(wd, "b.xml"),
		"/srv/s.json":     "/srv/s.json",
		"https://x.org/s": "https://x.org/s",
	} {
		if got := copyKey(&sourceState{Source: Source{Location: in}}); got != want {
			t.Errorf("copyKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzReload runs a service with a state file through any sequence of what
// its schedule file can become (a good schedule, a changed one, a broken
// one, one emptied of sessions, another conference's) with a reload or a
// restart after each, and checks it against what the README promises: a
// reload that fails or is refused keeps what was served, and says so; a
// restart on a file that fails serves the copy kept from the last good
// load, and flags it; anything else that loads is served.
//
// Each byte of data is a step: the file's next content (byte%5), then a
// reload, or a restart when byte%6 is 5 (and always for the first).
func FuzzReload(f *testing.F) {
	f.Add([]byte{0, 1, 2, 17, 0, 3, 23, 4, 29, 2, 17}) // 17 restarts on the broken file, 23 on the empty one, 29 on the other conference's
	f.Add([]byte{3, 0, 3, 11, 2, 17, 1})
	f.Add([]byte{2})
	f.Add([]byte{4, 0, 35, 17, 0})
	doc := func(acronym string, titles ...string) []byte {
		var events []string
		for i, title := range titles {
			events = append(events, fmt.Sprintf(`{"guid": "g%d", "id": %d, "date": "2024-03-30T%02d:00:00+01:00", "start": "%02d:00", "duration": "00:30", "title": %q, "persons": []}`,
				i, i+1, 9+i, 9+i, title))
		}
		return fmt.Appendf(nil, `{"schedule": {"version": "1", "conference": {"acronym": %q, "title": "Demo", "time_zone_name": "Europe/Berlin", "days": [{"index": 1, "date": "2024-03-30", "rooms": {"Hall A": [%s]}}]}}}`,
			acronym, strings.Join(events, ", "))
	}
	type content struct {
		data    []byte
		acronym string   // "" when it does not load
		titles  []string // of its sessions, in GUID order
	}
	contents := []content{
		{doc("demo", "One", "Two", "Three"), "demo", []string{"One", "Two", "Three"}},
		{doc("demo", "One", "Two, renamed"), "demo", []string{"One", "Two, renamed"}},
		{[]byte(`{"schedule": {"conference": {`), "", nil},
		{doc("demo"), "demo", nil},
		{doc("other", "Elsewhere"), "other", []string{"Elsewhere"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 24 {
			return
		}
		dir := fuzzDir(t)
		path, state := filepath.Join(dir, "schedule.json"), filepath.Join(dir, "state.db")
		var (
			r       *Reloader
			store   *Store
			reg     *prometheus.Registry
			journal *BoltJournal
		)
		defer func() {
			if journal != nil {
				journal.Close()
			}
		}()
		start := func() error {
			if journal != nil {
				journal.Close()
			}
			var err error
			if journal, err = OpenBoltJournal(state, JournalOptions{Logger: discard()}); err != nil {
				t.Fatal(err)
			}
			reg = prometheus.NewRegistry()
			r = NewReloader(discard(), reg, []Source{{Location: path}}, LoadOptions{})
			r.SetJournal(journal)
			store, err = r.Start(context.Background())
			return err
		}
		// The model: what is served, the last good content kept, and
		// whether what is served is that copy because the file failed.
		served, kept, fromCopy := -1, -1, false
		for step, b := range data {
			next, restart := int(b%5), step == 0 || b%6 == 5
			if err := os.WriteFile(path, contents[next].data, 0o644); err != nil {
				t.Fatal(err)
			}
			loads := contents[next].acronym != ""
			if restart {
				err := start()
				switch {
				case loads:
					served, kept, fromCopy = next, next, false
				case kept >= 0:
					served, fromCopy = kept, true
				default:
					if err == nil {
						t.Fatalf("step %d: a start on a file that fails, with no copy kept, succeeded", step)
					}
					return // the service does not start: nothing more to check
				}
				if err != nil {
					t.Fatalf("step %d: start: %v", step, err)
				}
			} else {
				live := len(contents[served].titles) > 0
				refused := !loads || contents[next].acronym != contents[served].acronym || live && len(contents[next].titles) == 0
				err := r.Reload(context.Background())
				if refused != (err != nil) {
					t.Fatalf("step %d: reload to content %d while serving %d: error %v, want refused %v", step, next, served, err, refused)
				}
				if !refused {
					served, kept, fromCopy = next, next, false
				}
			}
			want := contents[served]
			s := store.Default()
			var titles []string
			for _, e := range s.Events {
				if !e.Cancelled {
					titles = append(titles, e.Title)
				}
			}
			if s.Conference.Acronym != want.acronym || !slices.Equal(titles, want.titles) {
				t.Fatalf("step %d: serving %s %q, want content %d: %s %q", step, s.Conference.Acronym, titles, served, want.acronym, want.titles)
			}
			if got := gathered(t, reg, "confcal_schedule_kept_copy", "conference", want.acronym); (got == 1) != fromCopy {
				t.Errorf("step %d: confcal_schedule_kept_copy = %v, serving the kept copy: %v", step, got, fromCopy)
			}
		}
	})
}
