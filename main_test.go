package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the service and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is a running service started through run.
type instance struct {
	url    string
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

// start runs the service with args on a loopback port and waits until
// /healthz answers. It stops the service when the test ends.
func start(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	inst := &instance{cancel: cancel, done: make(chan error, 1), stderr: stderr}
	getenv := func(k string) string { return env[k] }
	go func() {
		inst.done <- run(ctx, append([]string{"confcal", "-addr", "127.0.0.1:0"}, args...), getenv, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-inst.done:
		case <-time.After(10 * time.Second):
			t.Error("service did not stop within 10s")
		}
	})
	addr := regexp.MustCompile(`on (http://\S+)/`)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-inst.done:
			t.Fatalf("run returned early: %v\n%s", err, stderr)
		default:
		}
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			inst.url = m[1]
			resp, err := http.Get(inst.url + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return inst
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("service did not become healthy; stderr:\n%s", stderr)
	return nil
}

// stop cancels the service's context, as SIGTERM does, and returns run's result.
func (inst *instance) stop(t *testing.T) error {
	t.Helper()
	inst.cancel()
	select {
	case err := <-inst.done:
		inst.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("service did not stop")
		return nil
	}
}

// fetch GETs url with headers, without transparent decompression.
func fetch(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestRun drives the real service the way calendar clients do: a first
// fetch, then conditional polls, with and without gzip.
func TestRun(t *testing.T) {
	inst := start(t, nil)
	url := inst.url + "/tracks/spotlight.ics?tz=Europe/Berlin"

	resp, plain := fetch(t, url, map[string]string{"User-Agent": "Google-Calendar-Importer"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if n := bytes.Count(plain, []byte("BEGIN:VEVENT")); n != 10 {
		t.Errorf("%d spotlight sessions, want 10", n)
	}
	etag := resp.Header.Get("ETag")

	resp, gz := fetch(t, url, map[string]string{"Accept-Encoding": "gzip"})
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("gzip response: %v", err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plain) {
		t.Error("gzip and plain responses differ")
	}

	for _, h := range []map[string]string{
		{"If-None-Match": etag},
		{"If-None-Match": resp.Header.Get("ETag"), "Accept-Encoding": "gzip"},
		{"If-Modified-Since": resp.Header.Get("Last-Modified")},
	} {
		if resp, _ := fetch(t, url, h); resp.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET with %v: %d, want 304", h, resp.StatusCode)
		}
	}

	wants := []string{
		`confcal_feed_requests_total{client="google",code="200",conference="dynn2022",kind="track",track="spotlight",zone="other"} 1`,
		`confcal_feed_requests_total{client="other",code="304",conference="dynn2022",kind="track",track="spotlight",zone="other"} 3`,
		`confcal_schedule_sessions{conference="dynn2022"} 43`,
		`confcal_schedule_loads_total{conference="dynn2022",result="changed"} 1`,
		`confcal_journal_changes_total{change="new",conference="dynn2022"} 43`,
		`confcal_build_info{goversion="go`,
		`go_goroutines`, `process_cpu_seconds_total`,
	}
	// A request is counted once its response is written: the client can
	// have it, and ask for /metrics, before the handler has counted it.
	var metrics []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, metrics = fetch(t, inst.url+"/metrics", nil)
		if !slices.ContainsFunc(wants, func(w string) bool { return !bytes.Contains(metrics, []byte(w)) }) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range wants {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The schedule's version is its content's, the same on every replica:
	// not the journal's stamp of when this one first saw it.
	if m := regexp.MustCompile(`(?m)^confcal_schedule_info\{conference="dynn2022",version="([0-9a-f+]+)",zone="America/New_York"\} 1$`).FindSubmatch(metrics); m == nil {
		t.Errorf("no confcal_schedule_info with a content version:\n%s", regexp.MustCompile(`(?m)^confcal_schedule_info.*$`).Find(metrics))
	}
	if err := inst.stop(t); err != nil {
		t.Errorf("run returned %v after a clean shutdown", err)
	}
}

// TestRunBrokenSchedule: a schedule that does not load stops start-up with
// a message naming the file and the problem.
func TestRunBrokenSchedule(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	data := strings.Replace(string(readFixture(t)), `"duration": "00:15"`, `"duration": "1:70"`, 1)
	if err := os.WriteFile(broken, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	err := run(context.Background(), []string{"confcal", "-addr", "127.0.0.1:0", "-schedule", broken},
		func(string) string { return "" }, io.Discard, &stderr)
	if err == nil {
		t.Fatal("run started with a broken schedule")
	}
	for _, want := range []string{"broken.json", "duration", "1:70"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestRunBrokenScheduleWithState: with -state, a restart on a schedule that
// no longer loads serves its last good copy, and says so.
func TestRunBrokenScheduleWithState(t *testing.T) {
	dir := t.TempDir()
	path, state := filepath.Join(dir, "schedule.json"), filepath.Join(dir, "state.db")
	good := readFixture(t)
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-schedule", path, "-state", state, "-base-url", "https://cal.example.org"} // the same SOURCE on every port
	inst := start(t, nil, args...)
	_, want := fetch(t, inst.url+"/tracks/spotlight.ics", nil)
	if err := inst.stop(t); err != nil {
		t.Fatal(err)
	}

	broken := strings.Replace(string(good), `"duration": "00:15"`, `"duration": "1:70"`, 1)
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	inst = start(t, nil, args...)
	resp, got := fetch(t, inst.url+"/tracks/spotlight.ics", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Errorf("restart on a broken schedule: %d, %d bytes; want the same feed as before (%d bytes)", resp.StatusCode, len(got), len(want))
	}
	logged := func() bool {
		logs := inst.stderr.String()
		return strings.Contains(logs, "serving the copy kept") && strings.Contains(logs, "1:70")
	}
	for deadline := time.Now().Add(5 * time.Second); !logged() && time.Now().Before(deadline); { // logs are flushed every 200 ms
		time.Sleep(20 * time.Millisecond)
	}
	if !logged() {
		t.Errorf("the copy is served without saying why:\n%s", inst.stderr)
	}
}

func TestRunFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the error
	}{
		{"unknown flag", []string{"-nope"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"schedule.json"}, nil, `unexpected argument "schedule.json"; schedules are given with -schedule`},
		{"boolean flag's value after a space", []string{"-access-log", "false"}, nil,
			`unexpected argument "false" after -access-log; a boolean flag takes its value after '=': -access-log=false`},
		{"stray argument after a value that names a boolean flag", []string{"-log-format", "healthcheck", "extra"}, nil,
			`unexpected argument "extra"; schedules are given with -schedule`},
		{"stray argument after a boolean flag's value", []string{"-access-log=false", "schedule.json"}, nil,
			`unexpected argument "schedule.json"; schedules are given with -schedule`},
		{"bad env reported before later checks", nil, map[string]string{"CONFCAL_REFRESH": "soon", "CONFCAL_LOG_FORMAT": "xml"}, "CONFCAL_REFRESH"},
		{"bad env duration", nil, map[string]string{"CONFCAL_REFRESH": "soon"}, "CONFCAL_REFRESH"},
		{"bad log format", []string{"-log-format", "xml"}, nil, "use text or json"},
		{"negative heap floor", []string{"-heap-floor", "-1"}, nil, "must be 0 or more bytes"},
		{"missing schedule file", []string{"-schedule", "/nonexistent/schedule.json"}, nil, "/nonexistent/schedule.json"},
		// The embedded schedule names its own zone: the flag is checked anyway.
		{"unknown schedule zone", []string{"-schedule-tz", "Berlin"}, nil,
			`invalid value "Berlin" for flag -schedule-tz: unknown time zone "Berlin"; did you mean Europe/Berlin?`},
		{"unknown schedule zone in env", nil, map[string]string{"CONFCAL_SCHEDULE_TZ": "Berlin"},
			`CONFCAL_SCHEDULE_TZ="Berlin": unknown time zone "Berlin"; did you mean Europe/Berlin?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A run that wrongly starts ends here rather than at the test's timeout.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"confcal", "-addr", "127.0.0.1:0"}, tc.args...),
				func(k string) string { return tc.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%v, %v) = %v, want an error containing %q", tc.args, tc.env, err, tc.want)
			}
		})
	}
}

// TestRunEnvFallback: CONFCAL_* configure what flags do not.
func TestRunEnvFallback(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dynn.json")
	if err := os.WriteFile(path, readFixture(t), 0o644); err != nil {
		t.Fatal(err)
	}
	inst := start(t, map[string]string{"CONFCAL_SCHEDULE": path, "CONFCAL_BASE_URL": "https://cal.example.org", "CONFCAL_LOG_FORMAT": "json"})
	_, body := fetch(t, inst.url+"/feed.ics", nil)
	if !bytes.Contains(body, []byte("SOURCE;VALUE=URI:https://cal.example.org/feed.ics")) {
		t.Error("CONFCAL_BASE_URL not used")
	}
	// Log lines reach stderr within the flush interval.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(inst.stderr.String(), `"msg":"schedule loaded"`); {
		if time.Now().After(deadline) {
			t.Fatalf("CONFCAL_LOG_FORMAT=json not used; stderr:\n%s", inst.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunAccessLog: every request, routed or answered as a remembered
// poll, gets an access-log line in the log format, unless -access-log=false.
func TestRunAccessLog(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // in every request line; "" for no lines
	}{
		{nil, "level=INFO msg=request method=GET route=/feed.ics status=200 "},
		{map[string]string{"CONFCAL_LOG_FORMAT": "json"}, `"level":"INFO","msg":"request","method":"GET","route":"/feed.ics","status":200,`},
		{map[string]string{"CONFCAL_ACCESS_LOG": "false"}, ""},
	} {
		inst := start(t, tc.env)
		for range 3 {
			fetch(t, inst.url+"/feed.ics?tz=Asia/Tokyo", nil)
		}
		if err := inst.stop(t); err != nil {
			t.Fatal(err)
		}
		logs := inst.stderr.String()
		lines := 0
		for line := range strings.Lines(logs) {
			if (strings.Contains(line, "msg=request") || strings.Contains(line, `"msg":"request"`)) && strings.Contains(line, "/feed.ics") {
				lines++
				if tc.want == "" || !strings.Contains(line, tc.want) {
					t.Errorf("env %v: access-log line %q, want one with %q", tc.env, line, tc.want)
				}
			}
		}
		if want := map[bool]int{true: 3, false: 0}[tc.want != ""]; lines != want {
			t.Errorf("env %v: %d access-log lines, want %d:\n%s", tc.env, lines, want, logs)
		}
	}
}

// TestRunHeapFloor: the collector's percentage is raised while the live
// heap is below -heap-floor, and left alone with -heap-floor=0.
func TestRunHeapFloor(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set, and wins over -heap-floor")
	}
	for _, tc := range []struct {
		floor  string
		raised bool
	}{{"1073741824", true}, {"0", false}} {
		inst := start(t, nil, "-heap-floor", tc.floor)
		_, body := fetch(t, inst.url+"/metrics", nil)
		m := regexp.MustCompile(`(?m)^go_gc_gogc_percent (\d+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no go_gc_gogc_percent in /metrics")
		}
		gogc, _ := strconv.Atoi(string(m[1]))
		if raised := gogc > 100; raised != tc.raised || !raised && gogc != 100 {
			t.Errorf("-heap-floor %s: GOGC %d", tc.floor, gogc)
		}
		if err := inst.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunHealthcheck: -healthcheck succeeds against a running instance and
// fails where none runs.
func TestRunHealthcheck(t *testing.T) {
	inst := start(t, nil)
	addr := strings.TrimPrefix(inst.url, "http://")
	if err := run(context.Background(), []string{"confcal", "-healthcheck", "-addr", addr}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck of a running instance: %v", err)
	}
	inst.stop(t)
	if err := run(context.Background(), []string{"confcal", "-healthcheck", "-addr", addr}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck succeeded with nothing running")
	}
}

// TestShutdownFinishesInFlight: requests in flight when the service is told
// to stop complete, and readiness turns off so balancers stop sending more.
func TestShutdownFinishesInFlight(t *testing.T) {
	inst := start(t, nil)
	var wg sync.WaitGroup
	failures := make(chan string, 100)
	stopAt := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			client := &http.Client{}
			for i := 0; ; i++ {
				select {
				case <-stopAt:
					return
				default:
				}
				resp, err := client.Get(inst.url + "/feed.ics?tz=Asia/Tokyo")
				if err != nil {
					return // the listener is closed: expected once shutdown begins
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || n == 0 {
					failures <- resp.Status
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if err := inst.stop(t); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	close(stopAt)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("a request begun before shutdown failed: %s", f)
	}
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("fixtures", "dynn2022", "schedule.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDrainDelay: on shutdown with -drain-delay, /readyz turns 503 while
// the listener still serves, so balancers stop sending traffic first.
func TestDrainDelay(t *testing.T) {
	inst := start(t, nil, "-drain-delay", "2s")
	if resp, _ := fetch(t, inst.url+"/readyz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d before shutdown", resp.StatusCode)
	}
	inst.cancel()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for {
		resp, _ := fetch(t, inst.url+"/readyz", nil)
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d while draining", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, _ := fetch(t, inst.url+"/feed.ics", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("feeds stopped during the drain delay: %d", resp.StatusCode)
	}
	if err := inst.stop(t); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestRunSIGHUP: a changed schedule file is served after SIGHUP, with
// polling off; a broken one leaves the good schedule serving.
func TestRunSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	good := readFixture(t)
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	inst := start(t, nil, "-schedule", path, "-reload-interval", "0")
	hupUntil := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if _, body := fetch(t, inst.url+"/tracks/opening.ics", nil); strings.Contains(string(body), want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("feed never showed %q after SIGHUP", want)
			}
		}
	}
	renamed := bytes.Replace(good, []byte(`"title": "Welcome note"`), []byte(`"title": "Welcome, and opening remarks"`), 1)
	if err := os.WriteFile(path, renamed, 0o644); err != nil {
		t.Fatal(err)
	}
	hupUntil(`SUMMARY:Welcome\, and opening remarks`)

	broken := bytes.Replace(renamed, []byte(`"duration": "00:15"`), []byte(`"duration": "1:70"`), 1)
	if err := os.WriteFile(path, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if resp, body := fetch(t, inst.url+"/tracks/opening.ics", nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(body), `SUMMARY:Welcome\, and opening remarks`) {
		t.Errorf("after a broken reload: %d, good schedule gone", resp.StatusCode)
	}
	_, metrics := fetch(t, inst.url+"/metrics", nil)
	if !bytes.Contains(metrics, []byte(`confcal_schedule_loads_total{conference="dynn2022",result="error"} 1`)) {
		t.Error("the failed reload was not counted")
	}
	if !bytes.Contains(metrics, []byte(`confcal_journal_changes_total{change="changed",conference="dynn2022"} 1`)) {
		t.Error("the renamed session was not counted as changed")
	}
}

// TestGoVersionStated: the README asks for the Go release go.mod requires,
// and the Dockerfile builds with it or a later one: the golang images do
// not download a newer toolchain (GOTOOLCHAIN=local), so an image older
// than go.mod would fail the build.
func TestGoVersionStated(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Go " + string(m[1]) + " or newer"; !bytes.Contains(readme, []byte(want)) {
		t.Errorf("README.md does not say %q, which go.mod requires", want)
	}
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?m)^FROM golang:([^-\s]+)`).FindSubmatch(dockerfile)
	if from == nil {
		t.Fatal("Dockerfile does not build FROM golang")
	}
	if !versionAtLeast(string(from[1]), string(m[1])) {
		t.Errorf("Dockerfile builds with golang:%s, want golang:%s or later, as go.mod requires", from[1], m[1])
	}
}

// versionAtLeast reports whether the Go version v (1.26, 1.26.8) names
// releases no older than want. A shorter version names whichever release
// of its line is newest, so 1.26 does not pin a 1.26.x new enough.
func versionAtLeast(v, want string) bool {
	a, b := strings.Split(v, "."), strings.Split(want, ".")
	for i := range min(len(a), len(b)) {
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		if errX != nil || errY != nil {
			return false
		}
		if x != y {
			return x > y
		}
	}
	return len(a) >= len(b)
}

func TestVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v, want string
		ok      bool
	}{
		{"1.26.8", "1.26.8", true}, {"1.26.9", "1.26.8", true}, {"1.27", "1.26.8", true}, {"1.27.0", "1.26.8", true},
		{"1.26.7", "1.26.8", false}, {"1.26", "1.26.8", false}, {"1.25.12", "1.26.8", false}, {"latest", "1.26.8", false},
	} {
		if got := versionAtLeast(tc.v, tc.want); got != tc.ok {
			t.Errorf("versionAtLeast(%s, %s) = %v, want %v", tc.v, tc.want, got, tc.ok)
		}
	}
}
