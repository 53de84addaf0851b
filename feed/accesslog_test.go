package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMaskAddr(t *testing.T) {
	tests := map[string]string{
		"203.0.113.77:5555":       "203.0.113.0/24",
		"[2001:db8:1:2::7]:443":   "2001:db8:1::/48",
		"[::ffff:192.0.2.9]:1234": "192.0.2.0/24",
		"198.51.100.4":            "198.51.100.0/24",
		"garbage":                 "",
		"":                        "",
	}
	for in, want := range tests {
		if got := string(appendMaskedHost(nil, clientHost(in))); got != want {
			t.Errorf("masked %q = %q, want %q", in, got, want)
		}
	}
}

// TestAccessLogMatchesSlog: an access-log line is byte for byte what slog's
// handler of the same format writes for the same record, line after line
// (the log reuses what it formatted for the line before).
func TestAccessLogMatchesSlog(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	sec := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC)
	tests := []access{
		{time: time.Date(2026, 11, 27, 10, 8, 12, 123456789, time.UTC), method: "GET", route: "/tracks/{track}.ics",
			status: 200, bytes: 17517, duration: 12345 * time.Nanosecond, client: clientGoogle, remote: "203.0.113.77:5555"},
		{time: time.Date(2026, 1, 2, 3, 4, 5, 0, berlin), method: "HEAD", route: "/{conference}/feed.ics",
			status: 304, duration: 3 * time.Second, client: clientApple, remote: "[2001:db8:1:2::7]:443"},
		{time: time.Date(2026, 6, 30, 23, 59, 59, 999999999, berlin), method: "PROPFIND", route: "unmatched",
			status: 405, bytes: 88, duration: 999 * time.Microsecond, client: clientOther, remote: "garbage"},
		{time: time.Now(), method: "GET", route: "/metrics", status: 200, bytes: 1 << 20, duration: 90 * time.Minute,
			client: clientBrowser, remote: "127.0.0.1:1"},
		{time: time.Now(), method: `we"ird=`, route: "a b\\c\n", client: "", remote: ""},
		{time: time.Now(), method: "GET", route: "a\\b\x7fé", client: "x\u00a0y", remote: "\xff"},
		// The same second, other fractions, other clients; then another
		// zone and a second later across a clock change.
		{time: sec, method: "GET", route: "/", remote: "192.0.2.1:1"},
		{time: sec.Add(1), method: "GET", route: "/", remote: "192.0.2.200:2"},
		{time: sec.Add(120 * time.Millisecond), method: "GET", route: "/", remote: "198.51.100.7:3"},
		{time: sec.Add(999999990), method: "GET", route: "/", remote: "198.51.100.7:4"},
		{time: sec.Add(999999990).In(berlin), method: "GET", route: "/", remote: "[2001:db8::1]:5"},
		{time: sec.Add(time.Second).In(mustZone(t, "Europe/Berlin")), method: "GET", route: "/", remote: "[2001:db8::1]:6"},
		{time: sec.Add(-time.Second).In(mustZone(t, "Europe/Berlin")), method: "GET", route: "/", remote: "garbage"},
	}
	for _, format := range []string{"text", "json"} {
		log := newSlogComparison(format == "json")
		for _, a := range tests {
			if got, want := log.line(t, a); got != want {
				t.Errorf("%s:\n got %s\nwant %s", format, got, want)
			}
		}
	}
}

// FuzzAccessLog: for any values, and line after line, the access log
// writes what slog would.
func FuzzAccessLog(f *testing.F) {
	f.Add("GET", "/tracks/{track}.ics", "google", "203.0.113.7:5", 200, 17517, int64(12345), int64(1795774092123456789), 3600, int64(1))
	f.Add(`we"ird`, "a b\\c\n\u2028\xff", "", "", -1, 0, int64(-5), int64(0), -34200, int64(999999999))
	f.Fuzz(func(t *testing.T, method, route, client, remote string, status, n int, dur, unixNano int64, offset int, later int64) {
		const span = 200 * 365 * 24 * int64(time.Hour) // years 1900–2100, which RFC 3339 can write
		at := time.Unix(0, unixNano%span).In(time.FixedZone("", offset%(18*3600)))
		for _, json := range []bool{false, true} {
			log := newSlogComparison(json)
			a := access{time: at, method: method, route: route, status: status, bytes: n, duration: time.Duration(dur),
				client: client, remote: remote}
			for range 2 { // the second line reuses what the first formatted, or not
				if got, want := log.line(t, a); got != want {
					t.Fatalf("json %v:\n got %q\nwant %q", json, got, want)
				}
				a.time = a.time.Add(time.Duration(later % int64(2*time.Second)))
			}
		}
	})
}

// slogComparison writes access-log lines and slog's lines for the same
// records.
type slogComparison struct {
	json bool
	got  bytes.Buffer
	log  *AccessLog
}

func newSlogComparison(json bool) *slogComparison {
	c := &slogComparison{json: json}
	c.log = NewAccessLog(&c.got, json)
	return c
}

// line returns the access log's line for a and slog's.
func (c *slogComparison) line(t *testing.T, a access) (got, want string) {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if c.json {
		h = slog.NewJSONHandler(&buf, nil)
	}
	rec := slog.NewRecord(a.time, slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("method", a.method), slog.String("route", a.route), slog.Int("status", a.status),
		slog.Int("bytes", a.bytes), slog.Duration("duration", a.duration), slog.String("client", a.client),
		slog.String("remote", string(appendMaskedHost(nil, clientHost(a.remote)))))
	if err := h.Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	c.got.Reset()
	c.log.log(&a)
	return c.got.String(), buf.String()
}

// TestAccessLogRequests: routed requests and remembered polls each get one
// line, with what was served.
func TestAccessLogRequests(t *testing.T) {
	var logs bytes.Buffer
	store, err := NewStore(miniSchedule(t))
	if err != nil {
		t.Fatal(err)
	}
	h := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, prometheus.NewRegistry(),
		Options{AccessLog: NewAccessLog(&logs, true)})
	get := func(target, ua string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("User-Agent", ua)
		req.RemoteAddr = "192.0.2.55:40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := get("/tracks/rust.ics?tz=Asia/Tokyo", "Google-Calendar-Importer")
	poll := get("/tracks/rust.ics?tz=Asia/Tokyo", "Thunderbird/128")
	missing := get("/tracks/nope.ics", "curl/8")
	type line struct {
		Msg, Method, Route, Client, Remote string
		Status, Bytes                      int
		Duration                           int64
	}
	var lines []line
	dec := json.NewDecoder(&logs)
	for dec.More() {
		var l line
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("log line: %v", err)
		}
		lines = append(lines, l)
	}
	want := []line{
		{Msg: "request", Method: "GET", Route: "/tracks/{track}.ics", Client: clientGoogle, Remote: "192.0.2.0/24", Status: 200, Bytes: first.Body.Len()},
		{Msg: "request", Method: "GET", Route: "/tracks/{track}.ics", Client: clientThunderbird, Remote: "192.0.2.0/24", Status: 200, Bytes: poll.Body.Len()},
		{Msg: "request", Method: "GET", Route: "/tracks/{track}.ics", Client: clientOther, Remote: "192.0.2.0/24", Status: 404, Bytes: missing.Body.Len()},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(want), logs.String())
	}
	for i := range want {
		if lines[i].Duration <= 0 {
			t.Errorf("line %d: duration %d", i, lines[i].Duration)
		}
		lines[i].Duration = 0
		if lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, lines[i], want[i])
		}
	}
	if !strings.Contains(poll.Header().Get("Content-Type"), "text/calendar") || poll.Body.Len() == 0 {
		t.Errorf("poll not served: %d %q", poll.Code, poll.Header())
	}
}
