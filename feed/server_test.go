package feed

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// newTestServer serves the mini schedule with a fresh registry.
func newTestServer(t *testing.T) (*httptest.Server, *prometheus.Registry) {
	t.Helper()
	store, err := NewStore(miniSchedule(t))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, reg, Options{}))
	t.Cleanup(srv.Close)
	return srv, reg
}

// get fetches path with headers and returns the response and its raw body.
func get(t *testing.T, srv *httptest.Server, method, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// A transport of our own, so the body stays gzipped when we ask for gzip.
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

// TestFeedFileName: a feed is saved under a name that says what it holds,
// whatever spelling asked for it.
func TestFeedFileName(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, tc := range []struct{ path, want string }{
		{"/feed.ics", "mini2024.ics"},
		{"/feed.ics?tz=Asia/Tokyo&alarm=10m", "mini2024.ics"},
		{"/tracks/rust.ics", "mini2024-rust.ics"},
		{"/tracks/Go%20%26%20Friends.ics", "mini2024-go-friends.ics"},
		{"/mini2024/speakers/zhangyang-atlas-wang.ics", "mini2024-zhangyang-atlas-wang.ics"},
		{"/feed.ics?track=rust&track=go-friends&track=rust", "mini2024-go-friends-rust.ics"},
		{"/feed.ics?speaker=zhangyang-atlas-wang&track=rust,go-friends&tz=Asia/Tokyo", "mini2024-go-friends-rust-zhangyang-atlas-wang.ics"},
	} {
		resp, body := get(t, srv, http.MethodGet, tc.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tc.path, resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("Content-Disposition"), `inline; filename="`+tc.want+`"`; got != want {
			t.Errorf("%s: Content-Disposition = %s, want %s", tc.path, got, want)
		}
	}
	// A selection too long to name is saved under the conference's name.
	s := miniSchedule(t)
	var many Filter
	for range 20 {
		many.Speakers = append(many.Speakers, fmt.Sprintf("speaker-%d", len(many.Speakers)))
	}
	if got := s.FileName(many); got != "mini2024.ics" {
		t.Errorf("FileName(20 speakers) = %q, want mini2024.ics", got)
	}
	if got := s.FileName(Filter{Speakers: many.Speakers[:3]}); got != "mini2024-speaker-0-speaker-1-speaker-2.ics" {
		t.Errorf("FileName(3 speakers) = %q", got)
	}
}

func TestFeedResponse(t *testing.T) {
	srv, _ := newTestServer(t)
	resp, body := get(t, srv, http.MethodGet, "/feed.ics", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Content-Type":                "text/calendar; charset=utf-8",
		"Content-Disposition":         `inline; filename="mini2024.ics"`,
		"Access-Control-Allow-Origin": "*",
		"Vary":                        "Accept-Encoding",
		"Last-Modified":               "Fri, 01 Mar 2024 12:00:00 GMT",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=300") {
		t.Errorf("Cache-Control = %q", cc)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Errorf("ETag %q is not strong", etag)
	}
	if n := bytes.Count(body, []byte("BEGIN:VEVENT")); n != 4 {
		t.Errorf("%d events, want 4", n)
	}
	checkRFC5545(t, body)
	if !bytes.Contains(body, []byte("SOURCE;VALUE=URI:"+srv.URL+"/feed.ics\r\n")) {
		t.Error("SOURCE is not the feed's URL")
	}

	t.Run("same bytes again", func(t *testing.T) {
		resp2, body2 := get(t, srv, http.MethodGet, "/feed.ics", nil)
		if !bytes.Equal(body, body2) || resp2.Header.Get("ETag") != etag {
			t.Error("a second request gave other bytes or another ETag")
		}
	})
	t.Run("If-None-Match", func(t *testing.T) {
		resp, body := get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"If-None-Match": `"other", ` + etag})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("status %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
		}
		if resp.Header.Get("ETag") != etag {
			t.Error("304 without the ETag")
		}
		// A 304 carries what updates a cached copy, not the representation's
		// own metadata (RFC 9110 §15.4.5).
		for _, k := range []string{"Vary", "Cache-Control", "Access-Control-Allow-Origin"} {
			if resp.Header.Get(k) == "" {
				t.Errorf("304 without %s", k)
			}
		}
		for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Length"} {
			if v := resp.Header.Get(k); v != "" {
				t.Errorf("304 with %s: %q", k, v)
			}
		}
		resp, _ = get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"If-None-Match": `"stale"`})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("stale ETag gave %d, want 200", resp.StatusCode)
		}
	})
	t.Run("If-Modified-Since", func(t *testing.T) {
		resp, _ := get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"If-Modified-Since": "Fri, 01 Mar 2024 12:00:00 GMT"})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("status %d, want 304", resp.StatusCode)
		}
		resp, _ = get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"If-Modified-Since": "Thu, 29 Feb 2024 12:00:00 GMT"})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("older date gave %d, want 200", resp.StatusCode)
		}
	})
	t.Run("gzip", func(t *testing.T) {
		resp, gz := get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, body) {
			t.Errorf("gzip body does not decode to the plain body (err %v)", err)
		}
		gzTag := resp.Header.Get("ETag")
		if gzTag == etag {
			t.Error("gzip and identity share a strong ETag")
		}
		resp, _ = get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"Accept-Encoding": "gzip;q=0"})
		if resp.Header.Get("Content-Encoding") != "" {
			t.Error("gzip sent although q=0")
		}
		resp, _ = get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
		if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag {
			t.Errorf("identity ETag on a gzip request gave %d with ETag %s, want 304 naming the identity copy %s",
				resp.StatusCode, resp.Header.Get("ETag"), etag)
		}
		resp, _ = get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `"x", ` + gzTag})
		if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != gzTag {
			t.Errorf("gzip ETag on a gzip request gave %d with ETag %s, want 304 with %s", resp.StatusCode, resp.Header.Get("ETag"), gzTag)
		}
		resp, _ = get(t, srv, http.MethodGet, "/feed.ics", map[string]string{"If-None-Match": gzTag})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("gzip ETag on a request without gzip gave %d (%s), want 200 identity", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		resp, b := get(t, srv, http.MethodHead, "/feed.ics", nil)
		if resp.StatusCode != http.StatusOK || len(b) != 0 || resp.Header.Get("ETag") != etag {
			t.Errorf("HEAD: status %d, %d bytes, ETag %q", resp.StatusCode, len(b), resp.Header.Get("ETag"))
		}
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("HEAD Content-Length %d, want %d", resp.ContentLength, len(body))
		}
	})
}

// TestFeedHeaderCount: a feed's identity response sets at most eight
// headers, so net/http's header maps stay in one group (see serve).
func TestFeedHeaderCount(t *testing.T) {
	srv, _ := newTestServer(t)
	for range 2 { // routed, then answered as a remembered poll
		resp, _ := get(t, srv, http.MethodGet, "/tracks/rust.ics", nil)
		set := len(resp.Header) - 1 // net/http adds Date
		if resp.Header.Get("Date") == "" || set > 8 {
			t.Errorf("%d headers set (%v), want at most 8", set, resp.Header)
		}
	}
}

func TestRoutes(t *testing.T) {
	srv, _ := newTestServer(t)
	tests := []struct {
		path   string
		code   int
		events int      // -1: not a calendar
		want   []string // in the body
	}{
		{"/feed.ics?track=rust", 200, 1, []string{"Borrowing without tears"}},
		{"/feed.ics?track=go-friends&speaker=zhangyang-atlas-wang", 200, 1, []string{"Opening"}},
		{"/tracks/rust.ics", 200, 1, []string{"NAME:Mini Conf 2024 · Rust (times in Europe/Berlin)"}},
		{"/tracks/Go%20%26%20Friends.ics?tz=Asia/Tokyo", 200, 2, []string{"TZID=Asia/Tokyo"}},
		{"/speakers/J%C3%BCrgen%20Schmidhuber.ics", 200, 2, []string{"jurgen-schmidhuber"}},
		{"/speakers/jurgen-schmidhuber.ics?tz=UTC&alarm=15m", 200, 2, []string{"TRIGGER:-PT15M", "DTSTART:20240330T080000Z"}},
		{"/sessions/mini-2-borrow.ics", 200, 1, nil},
		{"/sessions/22222222-2222-4222-8222-222222222222.ics", 200, 1, nil},
		{"/mini2024/feed.ics", 200, 4, []string{"/mini2024/feed.ics"}},
		{"/mini2024/tracks/rust.ics", 200, 1, nil},
		{"/feed.ics?track=rsut", 404, -1, []string{`unknown track "rsut"`, `"rust"`, "tracks: go-friends, rust"}},
		{"/tracks/nope.ics", 404, -1, []string{`unknown track "nope"`}},
		{"/speakers/nobody.ics", 404, -1, []string{`unknown speaker "nobody"`}},
		{"/sessions/nope.ics", 404, -1, []string{`unknown session "nope"`}},
		{"/feed.ics?tz=Europe/Berln", 400, -1, []string{"Europe/Berlin"}},
		{"/feed.ics?trak=rust", 400, -1, []string{"unknown parameter", `"track"`}},
		{"/tracks/rust.ics?speaker=x", 400, -1, []string{"tz and alarm"}},
		{"/nope/feed.ics", 404, -1, []string{`unknown conference "nope"`}},
		{"/no/such/page", 404, -1, []string{"no such page"}},
		{"/healthz", 200, -1, []string{"ok"}},
		{"/readyz", 200, -1, []string{"ready"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, srv, http.MethodGet, tc.path, nil)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.code, body)
			}
			if tc.events >= 0 {
				if n := bytes.Count(body, []byte("BEGIN:VEVENT")); n != tc.events {
					t.Errorf("%d events, want %d", n, tc.events)
				}
				checkRFC5545(t, body)
			}
			for _, w := range tc.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestSessionDownload(t *testing.T) {
	srv, _ := newTestServer(t)
	resp, _ := get(t, srv, http.MethodGet, "/sessions/mini-1-opening.ics", nil)
	if got := resp.Header.Get("Content-Disposition"); got != `attachment; filename="mini-1-opening.ics"` {
		t.Errorf("Content-Disposition = %q", got)
	}
}

func TestErrorJSON(t *testing.T) {
	srv, _ := newTestServer(t)
	resp, body := get(t, srv, http.MethodGet, "/feed.ics?speaker=zihao", map[string]string{"Accept": "application/json"})
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Param != "speaker" || e.Value != "zihao" || len(e.Suggestions) == 0 || e.Suggestions[0] != "zihao-deng" {
		t.Errorf("error body %+v", e)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv, _ := newTestServer(t)
	resp, _ := get(t, srv, http.MethodPost, "/feed.ics", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("POST gave %d with Allow %q, want 405 with GET, HEAD, OPTIONS", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// A script on another site that revalidates a feed sends If-None-Match,
// which makes the browser ask first.
func TestPreflight(t *testing.T) {
	srv, _ := newTestServer(t)
	ask := map[string]string{"Origin": "https://conf.example.org", "Access-Control-Request-Method": "GET",
		"Access-Control-Request-Headers": "if-none-match"}
	for _, path := range []string{"/feed.ics?track=rust", "/tracks/rust.ics", "/sessions/mini-1-opening.ics", "/schedule.json", "/mini2024/schedule.json"} {
		resp, _ := get(t, srv, http.MethodOptions, path, ask)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			h.Get("Access-Control-Allow-Methods") != "GET, HEAD" || h.Get("Access-Control-Allow-Headers") != "if-none-match" ||
			h.Get("Access-Control-Max-Age") == "" {
			t.Errorf("OPTIONS %s: %d %v", path, resp.StatusCode, h)
		}
	}
	// Pages are not for other sites' scripts; OPTIONS says only what is allowed.
	resp, _ := get(t, srv, http.MethodOptions, "/", ask)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("OPTIONS /: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestScheduleJSON(t *testing.T) {
	srv, _ := newTestServer(t)
	resp, body := get(t, srv, http.MethodGet, "/schedule.json", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); got != "ETag" {
		t.Errorf("Access-Control-Expose-Headers = %q: scripts on other sites cannot read the ETag", got)
	}
	var l Listing
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Sessions) != 4 || len(l.Tracks) != 2 || len(l.Speakers) != 3 {
		t.Fatalf("%d sessions, %d tracks, %d speakers", len(l.Sessions), len(l.Tracks), len(l.Speakers))
	}
	if want := srv.URL + "/tracks/go-friends.ics"; l.Tracks[0].Feed != want || l.Tracks[0].Sessions != 2 {
		t.Errorf("track %+v, want feed %s and 2 sessions", l.Tracks[0], want)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if l.Tracks[0].Webcal != "webcal://"+host+"/tracks/go-friends.ics" || l.Conference.Webcal != "webcal://"+host+"/feed.ics" ||
		l.Speakers[0].Webcal != strings.Replace(l.Speakers[0].Feed, "http://", "webcal://", 1) {
		t.Errorf("webcal links: %s, %s, %s", l.Conference.Webcal, l.Tracks[0].Webcal, l.Speakers[0].Webcal)
	}
	// Every advertised URL works.
	for _, u := range []string{l.Conference.Feed, l.Tracks[1].Feed, l.Speakers[0].Feed, l.Sessions[3].ICS} {
		resp, _ := get(t, srv, http.MethodGet, strings.TrimPrefix(u, srv.URL), nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", u, resp.StatusCode)
		}
	}
}

func TestMetricsAfterRequests(t *testing.T) {
	srv, _ := newTestServer(t)
	get(t, srv, http.MethodGet, "/tracks/rust.ics", map[string]string{"User-Agent": "Google-Calendar-Importer"})
	resp, _ := get(t, srv, http.MethodGet, "/tracks/rust.ics", nil)
	get(t, srv, http.MethodGet, "/tracks/rust.ics", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	get(t, srv, http.MethodGet, "/feed.ics?track=nope", nil)
	get(t, srv, http.MethodGet, "/sessions/mini-2-borrow.ics?tz=Asia/Tokyo", map[string]string{"User-Agent": "Thunderbird/128.0"})
	wants := []string{
		`confcal_http_requests_total{code="200",method="GET",route="/tracks/{track}.ics"} 2`,
		`confcal_http_requests_total{code="304",method="GET",route="/tracks/{track}.ics"} 1`,
		`confcal_http_requests_total{code="404",method="GET",route="/feed.ics"} 1`,
		`confcal_feed_requests_total{client="google",code="200",conference="mini2024",kind="track",track="rust",zone="conference"} 1`,
		`confcal_feed_requests_total{client="other",code="304",conference="mini2024",kind="track",track="rust",zone="conference"} 1`,
		`confcal_feed_requests_total{client="thunderbird",code="200",conference="mini2024",kind="session",track="",zone="other"} 1`,
		`confcal_render_cache_misses_total 2`, // the first poll and the session; the typo renders nothing
		`confcal_render_cache_hits_total 2`,
	}
	// A request is counted once its response is written: the client can
	// have it, and ask for /metrics, before the handler has counted it.
	var body []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, body = get(t, srv, http.MethodGet, "/metrics", nil)
		if !slices.ContainsFunc(wants, func(w string) bool { return !bytes.Contains(body, []byte(w)) }) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range wants {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if bytes.Contains(body, []byte("nope")) {
		t.Error("a raw query value reached the metrics")
	}
}

// TestConcurrentFeeds exercises the cache and store from many goroutines,
// for the race detector.
func TestConcurrentFeeds(t *testing.T) {
	srv, _ := newTestServer(t)
	paths := []string{"/feed.ics", "/tracks/rust.ics", "/feed.ics?tz=Asia/Tokyo", "/speakers/zihao-deng.ics", "/schedule.json"}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			resp, err := http.Get(srv.URL + paths[i%len(paths)])
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", paths[i%len(paths)], resp.StatusCode)
			}
		})
	}
	wg.Wait()
}

func TestClientFamily(t *testing.T) {
	tests := map[string]string{
		"Google-Calendar-Importer":                                                     clientGoogle,
		"iOS/17.4 (21E219) dataaccessd/1.0":                                            clientApple,
		"macOS/14.4 (23E214) CalendarAgent/988":                                        clientApple,
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook)":                   clientOutlook,
		"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0": clientThunderbird,
		"DAVx5/4.3 (ICSx5)":                                                            clientCalendar,
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36":  clientBrowser,
		"curl/8.5.0": clientOther,
		"":           clientOther,
	}
	for ua, want := range tests {
		if got := ClientFamily(ua); got != want {
			t.Errorf("ClientFamily(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestCancelledShown: a cancelled session says so in the feed, the listing
// and the organizer page.
func TestCancelledShown(t *testing.T) {
	mini := miniSchedule(t)
	events := slices.Clone(mini.Events)
	events[1].Cancelled, events[1].Sequence = true, 1
	s, err := NewSchedule(mini.Conference, events)
	if err != nil {
		t.Fatal(err)
	}
	s.Version, s.Updated = "cancelled", mini.Updated
	store, err := NewStore(s)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, prometheus.NewRegistry(), Options{}))
	defer srv.Close()

	_, ics := get(t, srv, http.MethodGet, "/tracks/rust.ics", nil)
	for _, want := range []string{"STATUS:CANCELLED", "SUMMARY:Cancelled: Borrowing without tears", "SEQUENCE:1"} {
		if !bytes.Contains(ics, []byte(want+"\r\n")) {
			t.Errorf("feed lacks %s", want)
		}
	}
	_, body := get(t, srv, http.MethodGet, "/schedule.json", nil)
	var l Listing
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	for _, ls := range l.Sessions {
		if ls.Cancelled != (ls.GUID == events[1].GUID) {
			t.Errorf("session %q: cancelled = %v", ls.Title, ls.Cancelled)
		}
	}
	_, page := get(t, srv, http.MethodGet, "/", nil)
	if !bytes.Contains(page, []byte(`<span class="badge cancelled">Cancelled</span> <s>Borrowing without tears</s>`)) {
		t.Error("the page does not mark the cancelled session")
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"x-gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
		{"identity", false},
		{"deflate", false},
		{"gzip;q=0", false},
		{"gzip; q=0", false},
		{"gzip;Q=0", false},
		{"gzip;q=0.0", false},
		{"gzip;q=0.001", true},
		{"*", true},
		{"*;q=0", false},
		{"*;q=0.5, gzip;q=0", false}, // gzip named, and refused
		{"*;q=0, gzip", true},        // gzip named, and allowed
		{"gzip;q=0, *", false},
		{"deflate;q=0.5, *;q=0.1", true},
	}
	for _, tc := range tests {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

// Pretalx gives every slot of a submission the same ID, and older versions
// the same slug; slugs may hold anything. Every session's advertised link
// must serve that session, and a name two sessions share must say so.
func TestSessionLinks(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	at := func(h int) time.Time { return time.Date(2024, 3, 30, h, 0, 0, 0, berlin) }
	events := []Event{
		{GUID: "aaaaaaaa-0000-4000-8000-000000000001", ID: "25", Slug: "workshop", Start: at(9), Duration: time.Hour, Title: "Workshop, part 1"},
		{GUID: "aaaaaaaa-0000-4000-8000-000000000002", ID: "25", Slug: "workshop", Start: at(14), Duration: time.Hour, Title: "Workshop, part 2"},
		{GUID: "aaaaaaaa-0000-4000-8000-000000000003", ID: "7", Slug: "ci/cd", Start: at(10), Duration: time.Hour, Title: "Pipelines"},
		{GUID: "aaaaaaaa-0000-4000-8000-000000000004", ID: "8", Slug: "café talk #1?", Start: at(11), Duration: time.Hour, Title: "Café"},
		{GUID: "aaaaaaaa-0000-4000-8000-000000000005", ID: "9", Slug: "Keynote-Opening", Start: at(12), Duration: time.Hour, Title: "Opening"},
	}
	sched, err := NewSchedule(Conference{Acronym: "conf", Title: "Conf", TimeZone: "Europe/Berlin", Location: berlin}, events)
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewStore(sched)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, prometheus.NewRegistry(), Options{}))
	t.Cleanup(srv.Close)

	_, body := get(t, srv, http.MethodGet, "/schedule.json", nil)
	var l Listing
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	links := map[string]bool{}
	for _, ls := range l.Sessions {
		if links[ls.ICS] {
			t.Errorf("two sessions share the link %s", ls.ICS)
		}
		links[ls.ICS] = true
		u, err := url.Parse(ls.ICS)
		if err != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Errorf("link %q is not one escaped path (%v)", ls.ICS, err)
			continue
		}
		resp, ics := get(t, srv, http.MethodGet, u.EscapedPath(), nil)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(ics, []byte("SUMMARY:"+ls.Title+"\r\n")) && !bytes.Contains(ics, []byte("SUMMARY:"+strings.ReplaceAll(ls.Title, ",", `\,`)+"\r\n")) {
			t.Errorf("%s: %d, does not serve %q:\n%s", ls.ICS, resp.StatusCode, ls.Title, ics)
		}
	}
	if !links[srv.URL+"/sessions/caf%C3%A9%20talk%20%231%3F.ics"] || !links[srv.URL+"/sessions/7.ics"] ||
		!links[srv.URL+"/sessions/aaaaaaaa-0000-4000-8000-000000000002.ics"] || !links[srv.URL+"/sessions/Keynote-Opening.ics"] {
		t.Errorf("links %v", links)
	}

	tests := []struct {
		path   string
		status int
		want   string // in the body
	}{
		{"/sessions/25.ics", http.StatusNotFound, `"25" names 2 sessions; ask for one: "aaaaaaaa-0000-4000-8000-000000000001" or "aaaaaaaa-0000-4000-8000-000000000002"`},
		{"/sessions/WORKSHOP.ics", http.StatusNotFound, `names 2 sessions`},
		{"/sessions/AAAAAAAA-0000-4000-8000-000000000002.ics", http.StatusOK, "part 2"},
		{"/sessions/keynote-opening.ics", http.StatusOK, "Opening"},
		{"/sessions/9.ics", http.StatusOK, "Opening"},
	}
	for _, tc := range tests {
		resp, b := get(t, srv, http.MethodGet, tc.path, nil)
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d %q, want %d with %q", tc.path, resp.StatusCode, b, tc.status, tc.want)
		}
	}
	resp, _ := get(t, srv, http.MethodGet, "/sessions/caf%C3%A9%20talk%20%231%3F.ics", nil)
	if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename="cafe-talk-1.ics"; filename*=UTF-8''caf%C3%A9%20talk%20#1%3F.ics`; got != want {
		t.Errorf("Content-Disposition = %s, want %s", got, want)
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct{ disposition, name, want string }{
		{"inline", "dynn2022.ics", `inline; filename="dynn2022.ics"`},
		{"attachment", "Keynote Opening.ics", `attachment; filename="Keynote Opening.ics"`},
		{"attachment", "naïve.ics", `attachment; filename="naive.ics"; filename*=UTF-8''na%C3%AFve.ics`},
		{"attachment", `say "hi".ics`, `attachment; filename="say-hi.ics"; filename*=UTF-8''say%20%22hi%22.ics`},
		{"attachment", "100%.ics", `attachment; filename="100.ics"; filename*=UTF-8''100%25.ics`},
		{"attachment", "会议.ics", `attachment; filename="calendar.ics"; filename*=UTF-8''%E4%BC%9A%E8%AE%AE.ics`},
		{"attachment", "Zürich 会议.ics", `attachment; filename="zurich.ics"; filename*=UTF-8''Z%C3%BCrich%20%E4%BC%9A%E8%AE%AE.ics`},
	}
	for _, tc := range tests {
		if got := contentDisposition(tc.disposition, tc.name); got != tc.want {
			t.Errorf("contentDisposition(%q, %q) = %s, want %s", tc.disposition, tc.name, got, tc.want)
		}
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", true},
		{"application/JSON", true},
		{"text/html, application/json", true},
		{"text/html, application/json;q=0", false},
		{"text/plain, application/json;q=0.5", false},
		{"application/json;q=0.9, text/*;q=0.5", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
	}
	for _, tc := range tests {
		if got := wantsJSON([]string{tc.accept}); got != tc.want {
			t.Errorf("wantsJSON(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

// Near misses of a path get an answer that leads to the right one.
func TestNearMisses(t *testing.T) {
	srv, _ := newTestServer(t)
	tests := []struct {
		path     string
		status   int
		location string // of a redirect
		want     string // in the body otherwise
	}{
		{"/mini2024", http.StatusMovedPermanently, "/mini2024/", ""},
		{"/MINI2024?utm_source=x", http.StatusMovedPermanently, "/mini2024/?utm_source=x", ""},
		{"/MINI2024/feed.ics", http.StatusOK, "", "BEGIN:VCALENDAR"},
		{"/feed.ics/", http.StatusNotFound, "", `did you mean "/feed.ics"?`},
		{"/embed/", http.StatusNotFound, "", `did you mean "/embed"?`},
		{"/mini2025/feed.ics", http.StatusNotFound, "", `unknown conference "mini2025"; did you mean "mini2024"?`},
	}
	for _, tc := range tests {
		resp, body := get(t, srv, http.MethodGet, tc.path, nil)
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d Location %q %q; want %d %q %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), body, tc.status, tc.location, tc.want)
		}
	}
	// The feed of a conference asked for in capitals names the conference as it is.
	_, body := get(t, srv, http.MethodGet, "/MINI2024/feed.ics", nil)
	if !bytes.Contains(body, []byte("SOURCE;VALUE=URI:"+srv.URL+"/mini2024/feed.ics")) {
		t.Errorf("SOURCE does not use the conference's acronym:\n%s", body)
	}
}

// TestPanicRecorded: a request whose handler panics gets a 500, and is
// counted, timed and logged as one, under its route, like any other.
func TestPanicRecorded(t *testing.T) {
	store, err := NewStore(miniSchedule(t))
	if err != nil {
		t.Fatal(err)
	}
	var errs, access bytes.Buffer
	reg := prometheus.NewRegistry()
	h := NewServer(slog.New(slog.NewJSONHandler(&errs, nil)), store, reg, Options{
		Ready:     func() bool { panic("readiness check failed badly") },
		AccessLog: NewAccessLog(&access, true),
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if n := strings.Count(errs.String(), `"msg":"panic serving request"`); n != 1 {
		t.Errorf("%d panic log lines, want 1:\n%s", n, errs.String())
	}

	var line struct {
		Route         string
		Status, Bytes int
	}
	if err := json.Unmarshal(access.Bytes(), &line); err != nil {
		t.Errorf("access log %q: %v", access.String(), err)
	} else if want := rec.Body.Len(); line.Route != "/readyz" || line.Status != http.StatusInternalServerError || line.Bytes != want {
		t.Errorf("access log line %+v, want route /readyz, status 500, %d bytes", line, want)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{} // metric name → requests on /readyz
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] != "/readyz" {
				continue
			}
			switch {
			case m.GetCounter() != nil && labels["code"] == "500":
				counts[mf.GetName()] = uint64(m.GetCounter().GetValue())
			case m.GetHistogram() != nil:
				counts[mf.GetName()] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	for _, name := range []string{"confcal_http_requests_total", "confcal_http_request_duration_seconds",
		"confcal_http_response_size_bytes"} {
		if counts[name] != 1 {
			t.Errorf("%s on /readyz (code 500 for the counter): %d, want 1", name, counts[name])
		}
	}
}

// panicOnce is a writer that panics on its first write.
type panicOnce struct {
	mu    sync.Mutex
	armed bool
	bytes.Buffer
}

func (w *panicOnce) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed {
		w.armed = false
		panic("access log broke")
	}
	return w.Buffer.Write(p)
}

// A poll answered from the cache that panics once its response has begun
// is recorded as a 500 and its connection aborted, not answered twice.
func TestPanicOnPollRecorded(t *testing.T) {
	store, err := NewStore(miniSchedule(t))
	if err != nil {
		t.Fatal(err)
	}
	var errs bytes.Buffer
	access := &panicOnce{}
	h := NewServer(slog.New(slog.NewJSONHandler(&errs, nil)), store, prometheus.NewRegistry(), Options{AccessLog: NewAccessLog(access, true)})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/tracks/rust.ics", nil)) // remembered from now on

	access.armed = true
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("panic %v, want the connection aborted (http.ErrAbortHandler)", v)
			}
		}()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tracks/rust.ics", nil))
	}()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != calendarType {
		t.Errorf("status %d, Content-Type %q: the feed's response was overwritten", rec.Code, rec.Header().Get("Content-Type"))
	}
	if n := strings.Count(errs.String(), `"msg":"panic serving request"`); n != 1 {
		t.Errorf("%d panic log lines, want 1:\n%s", n, errs.String())
	}
	if !strings.Contains(access.String(), `"route":"/tracks/{track}.ics","status":500`) {
		t.Errorf("access log has no 500 for the poll:\n%s", access.String())
	}
}

// TestCacheCountsRenders: requests that fail before anything is rendered
// are neither misses nor hits of the render cache, so typos do not skew its
// hit ratio; a render is one miss, and serving it again a hit.
func TestCacheCountsRenders(t *testing.T) {
	srv, reg := newTestServer(t)
	for range 10 {
		if resp, _ := get(t, srv, http.MethodGet, "/tracks/nope.ics", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown track: status %d", resp.StatusCode)
		}
		if resp, _ := get(t, srv, http.MethodGet, "/feed.ics?tz=Nowhere/Atlantis", nil); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("unknown zone: status %d", resp.StatusCode)
		}
	}
	for range 3 {
		get(t, srv, http.MethodGet, "/feed.ics?track=rust&tz=UTC", nil)
	}
	misses, hits := counterValue(t, reg, "confcal_render_cache_misses_total"), counterValue(t, reg, "confcal_render_cache_hits_total")
	if misses != 1 || hits != 2 {
		t.Errorf("misses %v, hits %v; want 1 and 2", misses, hits)
	}
}

// counterValue is the value of the counter name, which has no labels, in reg.
func counterValue(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// TestFeedSpellings: every spelling of a feed (a name for a slug, the
// query form of a path, a parameter links pick up) is served from one
// render. Each is remembered as a poll, up to a bound: a new URL past it
// takes an old one's place, and a very long one is not remembered.
func TestFeedSpellings(t *testing.T) {
	store, err := NewStore(miniSchedule(t))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, h := newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, reg, Options{})
	srv.polls.max = 3
	spellings := []string{
		"/tracks/rust.ics?tz=UTC", "/tracks/Rust.ics?tz=utc", "/feed.ics?track=rust&tz=UTC",
		"/feed.ics?tz=UTC&track=RUST&utm_source=newsletter", "/tracks/rust.ics?tz=UTC&fbclid=x",
		"/tracks/rust.ics?tz=UTC&utm_source=" + strings.Repeat("x", maxPollKey),
	}
	var first []byte
	for _, target := range spellings {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", target, rec.Code)
		}
		if first == nil {
			first = rec.Body.Bytes()
		} else if !bytes.Equal(rec.Body.Bytes(), first) {
			t.Errorf("%s: other bytes than %s", target, spellings[0])
		}
	}
	if got := counterValue(t, reg, "confcal_render_cache_misses_total"); got != 1 {
		t.Errorf("%v renders for %d spellings of one feed, want 1", got, len(spellings))
	}
	srv.polls.mu.RLock()
	defer srv.polls.mu.RUnlock()
	if len(srv.polls.m) != srv.polls.max {
		t.Errorf("%d polls remembered, want %d", len(srv.polls.m), srv.polls.max)
	}
	for key := range srv.polls.m {
		if len(key) > maxPollKey {
			t.Errorf("a poll of %d bytes remembered", len(key))
		}
	}
	if _, ok := srv.polls.m["http://example.com"+spellings[4]]; !ok {
		t.Errorf("the last URL within bounds is not remembered: %q", slices.Collect(maps.Keys(srv.polls.m)))
	}
}

// TestRendersWait: a render waits for a slot, of which there are as many
// as processors, before it selects anything, so that a burst of requests
// for new variants does not hold a render's memory each at once.
func TestRendersWait(t *testing.T) {
	store, err := NewStore(miniSchedule(t))
	if err != nil {
		t.Fatal(err)
	}
	srv, h := newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, prometheus.NewRegistry(), Options{})
	for range cap(srv.cache.slots) {
		srv.cache.slots <- struct{}{}
	}
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/feed.ics", nil))
		done <- rec.Code
	}()
	select {
	case code := <-done:
		t.Fatalf("rendered (status %d) while every token was taken", code)
	case <-time.After(100 * time.Millisecond):
	}
	<-srv.cache.slots
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Errorf("status %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer once a token was free")
	}
}

// FuzzServe sends the service, serving two conferences, any request a
// client can send: no request makes it fail (5xx) or panic, every error
// says what was wrong, every calendar is valid, and the same request
// again, which a remembered URL answers before routing, gets the same
// answer.
func FuzzServe(f *testing.F) {
	for _, seed := range []string{
		"/", "/feed.ics", "/feed.ics?track=rust&speaker=J%C3%BCrgen&tz=Asia/Tokyo&alarm=10m",
		"/tracks/go-friends.ics?tz=America/New_York", "/speakers/jurgen-schmidhuber.ics?alarm=1h",
		"/sessions/mini-1-opening.ics", "/mini2024/feed.ics?track=Rust&tz=UTC", "/schedule.json",
		"/mini2024/schedule.json", "/embed?track=rust", "/healthz", "/readyz", "/static/app.css",
		"/feed.ics?tz=Mars/Olympus", "/tracks/nope.ics", "/feed.ics?track=%zz", "/feed.ics?alarm=-1h",
		"/feed.ics?" + strings.Repeat("track=a&", 300), "/other2024/feed.ics", "/feed.ics/",
		"/dynn2022/tracks/spotlight.ics?tz=Asia/Kolkata", "/dynn2022/speakers/gao-huang.ics", "/dynn2022/", "/dynn2022/embed",
	} {
		f.Add(byte(0), seed, "gzip", "")
	}
	f.Add(byte(1), "/feed.ics", "br, gzip;q=0.5", `"x"`)
	f.Add(byte(2), "/schedule.json", "", "")
	f.Add(byte(3), "/feed.ics?tz=Europe/Berlin", "identity", "*")
	store, err := NewStore(miniSchedule(f), workshop(f)) // the root serves the first
	if err != nil {
		f.Fatal(err)
	}
	h := quietHandler(store, Options{}) // no /metrics: every answer can be compared
	methods := []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost}
	f.Fuzz(func(t *testing.T, method byte, target, acceptEncoding, ifNoneMatch string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.ContainsAny(target, " \t\r\n") || !validHeaderValue(acceptEncoding) || !validHeaderValue(ifNoneMatch) {
			return // net/http answers these itself, before any handler
		}
		m := methods[int(method)%len(methods)]
		serve := func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(m, "/", nil)
			req.URL, req.RequestURI, req.Host = u, target, "cal.example.org"
			for k, v := range map[string]string{"Accept-Encoding": acceptEncoding, "If-None-Match": ifNoneMatch} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		first, again := serve(), serve()
		if first.Code >= 500 {
			t.Fatalf("%s %q: %d %q", m, target, first.Code, first.Body)
		}
		if first.Code >= 400 && m != http.MethodHead && strings.TrimSpace(first.Body.String()) == "" {
			t.Errorf("%q: %d with an empty body", target, first.Code)
		}
		if first.Code != again.Code || first.Header().Get("ETag") != again.Header().Get("ETag") || !bytes.Equal(first.Body.Bytes(), again.Body.Bytes()) {
			t.Errorf("%q: %d %s, then %d %s: answers differ", target, first.Code, first.Header().Get("ETag"), again.Code, again.Header().Get("ETag"))
		}
		if first.Code == http.StatusOK && strings.HasPrefix(first.Header().Get("Content-Type"), "text/calendar") && first.Body.Len() > 0 {
			body := first.Body.Bytes()
			if first.Header().Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			checkRFC5545(t, body)
		}
	})
}

// validHeaderValue reports whether net/http would let v through as a
// header value: no control characters but tab.
func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}

// TestReservedAcronyms: the acronyms refused are the first segments of the
// root routes with more segments under them, which a conference's own
// routes (/{conference}/…) would collide with, and no others.
func TestReservedAcronyms(t *testing.T) {
	store, err := NewStore(miniSchedule(t))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(discard(), store, prometheus.NewRegistry(), Options{})
	r := mux.NewRouter()
	addRoutes(r, srv, nil)
	var taken []string
	err = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		first, rest, deeper := strings.Cut(strings.TrimPrefix(tpl, "/"), "/")
		if deeper && rest != "" && !strings.HasPrefix(first, "{") && !slices.Contains(taken, first) {
			taken = append(taken, first)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(taken)
	if !slices.Equal(taken, reservedAcronyms) {
		t.Errorf("root routes with more under them start with %q; reservedAcronyms is %q", taken, reservedAcronyms)
	}
	for _, a := range taken {
		c := miniSchedule(t).Conference
		c.Acronym = a
		if _, err := NewSchedule(c, nil); err == nil {
			t.Errorf("NewSchedule takes the acronym %q", a)
		}
	}
}
