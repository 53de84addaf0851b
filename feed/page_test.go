package feed

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/confcal/confcal/timezone"
)

// newPageServer serves schedules with a fresh registry; the first is the default.
func newPageServer(t *testing.T, schedules ...*Schedule) *httptest.Server {
	t.Helper()
	store, err := NewStore(schedules...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, prometheus.NewRegistry(), Options{}))
	t.Cleanup(srv.Close)
	return srv
}

// hostileSchedule is the mini schedule with markup in every text a page shows.
func hostileSchedule(t *testing.T) *Schedule {
	t.Helper()
	mini := miniSchedule(t)
	events := make([]Event, len(mini.Events))
	copy(events, mini.Events)
	events[1].Title = "<script>alert(1)</script>"
	events[1].Abstract = `<img src=x onerror="alert(2)">`
	events[1].Track = Track{Name: `Rust"><b>`, Color: `red;background:url(x)`}
	events[1].Speakers = []Speaker{{ID: "p3", Name: "<i>Zihao</i> Deng"}}
	events[1].URL = "javascript:alert(3)"
	conf := mini.Conference
	conf.Acronym, conf.Title, conf.URL = "evil", "Conf <b>bold</b> & co", "JavaScript:alert(4)"
	s, err := NewSchedule(conf, events)
	if err != nil {
		t.Fatal(err)
	}
	s.Version = "evil-version"
	return s
}

// edgeSchedule is a small schedule of the cases the page must show with
// care: names in right-to-left scripts, a session across midnight, a
// cancelled one, a title with quotes and a link that is not a web page.
func edgeSchedule(t testing.TB) *Schedule {
	t.Helper()
	berlin := mustZone(t, "Europe/Berlin")
	at := func(day, hour, minute int) time.Time { return time.Date(2024, 6, day, hour, minute, 0, 0, berlin) }
	arabic, c := Track{Name: "العربية"}, Track{Name: "C"}
	ana := Speaker{ID: "e1", Name: "Ana Lima"}
	events := []Event{
		{GUID: "e0000000-0000-4000-8000-000000000001", ID: "1", Start: at(1, 9, 0), Duration: 30 * time.Minute,
			Title: "Pointers in C", Track: c, Speakers: []Speaker{ana}, URL: "javascript:alert(1)", Abstract: "Arrays decay."},
		{GUID: "e0000000-0000-4000-8000-000000000002", ID: "2", Start: at(1, 10, 0), Duration: 30 * time.Minute,
			Title: "Dropped talk", Track: c, Speakers: []Speaker{ana}, URL: "https://edge.example.org/talk/2", Cancelled: true},
		{GUID: "e0000000-0000-4000-8000-000000000003", ID: "3", Start: at(1, 23, 30), Duration: 90 * time.Minute,
			Title: "مقدمة في البرمجة", Track: arabic, URL: "https://edge.example.org/talk/3",
			Speakers: []Speaker{{ID: "e2", Name: "محمد الأحمد"}, {ID: "e3", Name: "דוד כהן"}}},
	}
	s, err := NewSchedule(Conference{Acronym: "edge", Title: `Say "hi" & <co>`, TimeZone: "Europe/Berlin", Location: berlin}, events)
	if err != nil {
		t.Fatal(err)
	}
	s.Version = "edge-version"
	s.Updated = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return s
}

func TestPage(t *testing.T) {
	sched := miniSchedule(t)
	srv := newPageServer(t, sched)
	resp, body := get(t, srv, http.MethodGet, "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	checkPageHeaders(t, resp, "'none'")
	page := string(body)
	for _, want := range []string{`<html lang="en">`, "<main", "<nav", `<h1>Mini Conf 2024</h1>`, `<time class="t" datetime="2024-03-30T08:00:00Z">09:00</time>`,
		"Google Calendar refreshes subscriptions only every several hours", "one-time copy", "updates itself",
		"https://calendar.google.com/calendar/r/settings/addbyurl",
		// The download is saved under the name the feed's Content-Disposition gives.
		`id="link-download" href="` + srv.URL + `/feed.ics" download>`,
		`value="` + srv.URL + `/feed.ics"`, `href="webcal://` + strings.TrimPrefix(srv.URL, "http://") + `/feed.ics"`,
		// Google takes the feed by its webcal URL, escaped whole.
		"https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2F" + strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "%3A") + "%2Ffeed.ics",
		"https://outlook.live.com/calendar/0/addfromweb?url=", "https://outlook.office.com/calendar/0/addfromweb?url=",
		`<p class="hint" id="thunderbird">In Thunderbird, choose New Calendar → On the Network and paste the feed URL.</p>`,
		// Without JavaScript, the feeds of tracks and speakers have links for calendar apps,
		// and the page says how to add them to calendars on the web.
		`<p class="hint no-js" id="by-url">`, "Settings → Add calendar → From URL, in Outlook at Add calendar → Subscribe from web",
		`&lt;iframe src=&#34;` + srv.URL + `/embed&#34;`, "<code>theme=dark</code>", `<select id="embed-theme">`,
		`<option value="Europe/Berlin" selected>`, `<option value="UTC">`, `<option value="America/New_York">America/New York</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, e := range sched.Events {
		if !strings.Contains(page, html.EscapeString(e.Title)) {
			t.Errorf("page lacks session %q", e.Title)
		}
	}
	// Without JavaScript every feed has a plain link, as https and webcal.
	webcal := "webcal://" + strings.TrimPrefix(srv.URL, "http://")
	for _, path := range []string{"/tracks/go-friends.ics", "/tracks/rust.ics", "/speakers/jurgen-schmidhuber.ics",
		"/speakers/zhangyang-atlas-wang.ics", "/speakers/zihao-deng.ics"} {
		for _, u := range []string{srv.URL + path, webcal + path} {
			if !strings.Contains(page, `<a href="`+u+`">`) {
				t.Errorf("page lacks a link to %s", u)
			}
		}
		if resp, _ := get(t, srv, http.MethodGet, path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	// The CSP forbids inline code and styles: the page must have none.
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q, which the CSP blocks", bad)
		}
	}
	// Generated track colours are stable; given ones are kept.
	if !strings.Contains(page, `fill="#00add8"`) || !strings.Contains(page, `fill="`+shownColor(Track{Slug: "rust"})+`"`) {
		t.Error("track colours missing")
	}
	if bytes.Contains(body, []byte(`target="_blank">Details`)) {
		t.Error("the page's own session links open new tabs; only the embed's should")
	}

	t.Run("HEAD", func(t *testing.T) {
		head, b := get(t, srv, http.MethodHead, "/", nil)
		if head.StatusCode != http.StatusOK || len(b) != 0 || head.ContentLength != int64(len(body)) {
			t.Errorf("HEAD: status %d, %d bytes, Content-Length %d", head.StatusCode, len(b), head.ContentLength)
		}
		checkPageHeaders(t, head, "'none'")
	})
	t.Run("conditional", func(t *testing.T) {
		again, _ := get(t, srv, http.MethodGet, "/", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("status %d, want 304", again.StatusCode)
		}
	})
	t.Run("query", func(t *testing.T) {
		// Links to the page pick up parameters on the way (click ids,
		// campaign tags); the page takes none and shows itself anyway.
		for _, q := range []string{"?fbclid=IwAR0abc", "?utm_source=newsletter&utm_medium=email", "?track=rust"} {
			got, b := get(t, srv, http.MethodGet, "/"+q, nil)
			if got.StatusCode != http.StatusOK || got.Header.Get("ETag") != resp.Header.Get("ETag") || !bytes.Equal(b, body) {
				t.Errorf("/%s: status %d, ETag %s; want the page itself (ETag %s)", q, got.StatusCode, got.Header.Get("ETag"), resp.Header.Get("ETag"))
			}
		}
	})
}

func checkPageHeaders(t *testing.T, resp *http.Response, frameAncestors string) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
		"connect-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors " + frameAncestors} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q allows unsafe sources", csp)
	}
	xfo := resp.Header.Get("X-Frame-Options")
	if frameAncestors == "'none'" && xfo != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", xfo)
	}
	if frameAncestors == "*" && xfo != "" {
		t.Errorf("X-Frame-Options = %q on a page meant for framing", xfo)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}

func TestPageEscapes(t *testing.T) {
	srv := newPageServer(t, hostileSchedule(t))
	for _, path := range []string{"/", "/embed", "/evil/", "/evil/embed?speaker=i-zihao-i-deng"} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, srv, http.MethodGet, path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			page := string(body)
			// Links other than to web pages are left out, not made harmless.
			for _, bad := range []string{"<script>alert", "<img src=x", `onerror="`, "<b>", "<i>Zihao", "javascript:", "JavaScript:", "url(x)",
				"ZgotmplZ", "Conference website"} {
				if strings.Contains(page, bad) {
					t.Errorf("page has %q", bad)
				}
			}
			for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;i&gt;Zihao&lt;/i&gt; Deng"} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks escaped %q", want)
				}
			}
			if !strings.Contains(page, `fill="`+shownColor(Track{Slug: "rust-b"})+`"`) {
				t.Error("an invalid track colour was not replaced by a generated one")
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	srv := newPageServer(t, miniSchedule(t))
	tests := []struct {
		path  string
		code  int
		want  []string
		never []string
	}{
		{"/embed", 200, []string{"Opening; welcome, everyone", "Borrowing without tears", "Lunch",
			// A link out of another site's frame opens a tab of its own.
			`href="https://mini.example.org/talk/1" rel="noopener" target="_blank">Details`}, nil},
		{"/embed?track=rust", 200, []string{"Borrowing without tears", "· Rust", `href="webcal://`}, []string{"Opening", "Lunch"}},
		{"/embed?track=go-friends&speaker=Jürgen+Schmidhuber&tz=Asia/Tokyo", 200,
			[]string{"Opening", "A talk across the clock change", `data-fixed-zone="Asia/Tokyo"`, ">17:00<",
				"/feed.ics?speaker=jurgen-schmidhuber&amp;track=go-friends&amp;tz=Asia/Tokyo"},
			[]string{"Borrowing", "Lunch"}},
		{"/mini2024/embed?speaker=zihao-deng", 200, []string{"Borrowing without tears", "/mini2024/speakers/zihao-deng.ics",
			`/mini2024/" target="_blank" rel="noopener">More ways to subscribe</a>`}, []string{"Opening"}},
		{"/embed?track=nope", 404, []string{`unknown track "nope"`}, nil},
		{"/embed?speaker=nobody", 404, []string{`unknown speaker "nobody"`}, nil},
		{"/embed?tz=Mars/Olympus", 400, []string{"tz=Mars/Olympus"}, nil},
		{"/embed?trak=rust", 400, []string{"unknown parameter"}, nil},
		// Colours follow the visitor, unless the organizer fixes them.
		{"/embed", 200, []string{`<meta name="color-scheme" content="light dark">`,
			// The other ways to subscribe are on the page, which opens in a tab of its own.
			`/" target="_blank" rel="noopener">More ways to subscribe</a>`}, []string{"data-theme"}},
		{"/embed?theme=", 200, []string{`<meta name="color-scheme" content="light dark">`}, []string{"data-theme"}},
		{"/embed?theme=dark", 200, []string{`<html lang="en" data-theme="dark">`, `<meta name="color-scheme" content="dark">`}, nil},
		{"/embed?track=rust&theme=light", 200, []string{`data-theme="light"`, `content="light"`, "Borrowing"}, []string{"Opening"}},
		{"/embed?theme=blue", 400, []string{"theme=blue", "light or dark"}, nil},
		{"/embed?theme=Dark", 400, []string{"theme=Dark", `did you mean "dark"`}, nil},
		{"/embed?theme=dark&theme=light", 400, []string{"theme", "more than once"}, nil},
		{"/nope/embed", 404, []string{`unknown conference "nope"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, srv, http.MethodGet, tc.path, nil)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.code, body)
			}
			checkPageHeaders(t, resp, "*")
			for _, w := range tc.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, w := range tc.never {
				if bytes.Contains(body, []byte(w)) {
					t.Errorf("body has %q", w)
				}
			}
		})
	}
	// Feeds have no colours.
	if resp, body := get(t, srv, http.MethodGet, "/feed.ics?theme=dark", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("/feed.ics?theme=dark: status %d, want 400: %s", resp.StatusCode, body)
	}
}

// TestPageEmbedSnippet checks the HTML the page offers to paste: a title
// with quotes and ampersands must not break it.
func TestPageEmbedSnippet(t *testing.T) {
	srv := newPageServer(t, edgeSchedule(t))
	_, page := get(t, srv, http.MethodGet, "/", nil)
	const open = `<textarea id="embed-snippet" readonly rows="3">`
	_, rest, ok := strings.Cut(string(page), open)
	text, _, closed := strings.Cut(rest, "</textarea>")
	if !ok || !closed {
		t.Fatalf("page lacks %s…</textarea>", open)
	}
	want := `<iframe src="` + srv.URL + `/embed" title="Say &quot;hi&quot; &amp; <co> schedule" width="100%" height="600" loading="lazy"></iframe>`
	if got := html.UnescapeString(text); got != want {
		t.Errorf("snippet\n%s\nwant\n%s", got, want)
	}
}

// TestPageNames checks that names are isolated for the bidirectional
// algorithm: a name in a right-to-left script, beside others, must not
// reorder them.
func TestPageNames(t *testing.T) {
	edge := edgeSchedule(t)
	srv := newPageServer(t, edge)
	arabic, hebrew := "محمد الأحمد", "דוד כהן"
	track, _ := edge.Track(edge.Events[2].Track.Slug)
	_, page := get(t, srv, http.MethodGet, "/", nil)
	for _, want := range []string{
		`<bdi>` + track.Name + `</bdi> <span class="count">`, `<bdi>` + arabic + `</bdi> <span class="count">`,
		`<span class="visually-hidden"> to <bdi>` + hebrew + `</bdi></span>`,
		`<span class="visually-hidden">Track: </span><bdi>` + track.Name + `</bdi>`,
		`<bdi class="speaker">` + arabic + `</bdi>, <bdi class="speaker">` + hebrew + `</bdi>`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %s", want)
		}
	}
	var slugs []string
	for _, p := range edge.Events[2].Speakers {
		slugs = append(slugs, p.Slug)
	}
	path := "/embed?track=" + url.QueryEscape(track.Slug) + "&speaker=" + url.QueryEscape(strings.Join(slugs, ","))
	resp, embed := get(t, srv, http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, resp.StatusCode, embed)
	}
	var names []string
	for _, n := range strings.Split(edge.Name(Filter{Speakers: slugs}), ", ") {
		names = append(names, "<bdi>"+n+"</bdi>")
	}
	want := `<span class="selection">· <bdi>` + track.Name + `</bdi> · ` + strings.Join(names, ", ") + `</span>`
	if !strings.Contains(string(embed), want) {
		t.Errorf("the embed's heading lacks %s", want)
	}
}

// TestPageHeadings checks that headings go down one level at a time, on
// the page and in the embed, and that each abstract's disclosure names its
// session.
func TestPageHeadings(t *testing.T) {
	srv := newPageServer(t, miniSchedule(t))
	heading := regexp.MustCompile(`<h([1-6])[ >]`)
	for _, path := range []string{"/", "/embed", "/embed?track=rust"} {
		_, body := get(t, srv, http.MethodGet, path, nil)
		level := 0
		for _, m := range heading.FindAllSubmatch(body, -1) {
			l := int(m[1][0] - '0')
			if l > level+1 {
				t.Errorf("%s: an h%d follows an h%d", path, l, level)
			}
			level = l
		}
		if !bytes.Contains(body, []byte(`<summary>Abstract<span class="visually-hidden"> of “Borrowing without tears”</span></summary>`)) {
			t.Errorf("%s: the abstract's disclosure does not name its session", path)
		}
	}
}

func TestPageConference(t *testing.T) {
	mini := miniSchedule(t)
	srv := newPageServer(t, mini, hostileSchedule(t))
	resp, body := get(t, srv, http.MethodGet, "/mini2024/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	checkPageHeaders(t, resp, "'none'")
	for _, want := range []string{`data-base="` + srv.URL + `/mini2024"`, `<a href="` + srv.URL + `/mini2024/tracks/rust.ics">`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
	resp, body = get(t, srv, http.MethodGet, "/evil/", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Conf &lt;b&gt;bold&lt;/b&gt; &amp; co")) {
		t.Errorf("/evil/: status %d", resp.StatusCode)
	}
	resp, body = get(t, srv, http.MethodGet, "/nope/", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/nope/: status %d, want 404: %s", resp.StatusCode, body)
	}
	checkPageHeaders(t, resp, "'none'")
}

// TestPageConferences checks the list of conferences on the page of each,
// when several are served, and that the page follows their titles and
// dates as they are reloaded.
func TestPageConferences(t *testing.T) {
	mini, edge := miniSchedule(t), edgeSchedule(t)
	_, single := get(t, newPageServer(t, mini), http.MethodGet, "/", nil)
	if bytes.Contains(single, []byte(`aria-label="Conferences"`)) {
		t.Error("the page of the only conference lists conferences")
	}

	store, err := NewStore(mini, edge)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, prometheus.NewRegistry(), Options{}))
	t.Cleanup(srv.Close)
	link := func(acronym, title string, current bool) string {
		l := `<li><a href="` + srv.URL + "/" + acronym + `/"`
		if current {
			l += ` aria-current="page"`
		}
		return l + ">" + html.EscapeString(title) + "</a></li>"
	}
	for path, current := range map[string]string{"/": "mini2024", "/mini2024/": "mini2024", "/edge/": "edge"} {
		_, page := get(t, srv, http.MethodGet, path, nil)
		for _, want := range []string{`<nav class="conferences" aria-label="Conferences">`,
			link("mini2024", mini.Conference.Title, current == "mini2024"), link("edge", edge.Conference.Title, current == "edge")} {
			if !strings.Contains(string(page), want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
	}
	// The latest change of any conference listed is the page's.
	resp, _ := get(t, srv, http.MethodGet, "/", nil)
	if got, want := resp.Header.Get("Last-Modified"), edge.LastModified().UTC().Format(http.TimeFormat); got != want {
		t.Errorf("Last-Modified %s, want the edge schedule's %s", got, want)
	}
	// Another conference's new title reaches the page.
	conf := edge.Conference
	conf.Title = "Edge, renamed"
	renamed, err := NewSchedule(conf, edge.Events)
	if err != nil {
		t.Fatal(err)
	}
	renamed.Version, renamed.Updated = "edge-version-2", edge.Updated.Add(24*time.Hour)
	store.Replace(renamed)
	resp, page := get(t, srv, http.MethodGet, "/", nil)
	if !strings.Contains(string(page), link("edge", "Edge, renamed", false)) {
		t.Error("the page lists a conference by its old title")
	}
	if got, want := resp.Header.Get("Last-Modified"), renamed.LastModified().UTC().Format(http.TimeFormat); got != want {
		t.Errorf("after the reload, Last-Modified %s, want %s", got, want)
	}
}

func TestStatic(t *testing.T) {
	srv := newPageServer(t, miniSchedule(t))
	_, page := get(t, srv, http.MethodGet, "/", nil)
	for file, ctype := range map[string]string{
		"app.css":  "text/css; charset=utf-8",
		"app.js":   "text/javascript; charset=utf-8",
		"icon.svg": "image/svg+xml",
	} {
		t.Run(file, func(t *testing.T) {
			url := "/static/" + file + "?v=" + loadWeb().static[file].version
			if !bytes.Contains(page, []byte(html.EscapeString(url))) {
				t.Errorf("page does not refer to %s", url)
			}
			resp, body := get(t, srv, http.MethodGet, url, nil)
			if resp.StatusCode != http.StatusOK || len(body) == 0 {
				t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
			}
			if got := resp.Header.Get("Content-Type"); got != ctype {
				t.Errorf("Content-Type = %q, want %q", got, ctype)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
				t.Errorf("Cache-Control = %q", cc)
			}
			etag := resp.Header.Get("ETag")
			if again, _ := get(t, srv, http.MethodGet, url, map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", again.StatusCode)
			}
			if stale, _ := get(t, srv, http.MethodGet, "/static/"+file+"?v=old", nil); strings.Contains(stale.Header.Get("Cache-Control"), "immutable") {
				t.Error("an outdated version is cached for good")
			}
			if head, b := get(t, srv, http.MethodHead, url, nil); head.StatusCode != http.StatusOK || len(b) != 0 {
				t.Errorf("HEAD: status %d, %d bytes", head.StatusCode, len(b))
			}
		})
	}
	if resp, _ := get(t, srv, http.MethodGet, "/static/nope.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/static/nope.js: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, srv, http.MethodGet, "/mini2024/static/app.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/mini2024/static/app.js: %d, want 404 (assets are served at the root only)", resp.StatusCode)
	}
}

// TestDarkColours: the dark colours come twice in app.css, for a visitor
// whose setting is dark and for an embed asked for the dark theme. The two
// blocks must declare the same colours.
func TestDarkColours(t *testing.T) {
	css, err := webFiles.ReadFile("web/static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	// block returns the declarations of the rule that opens with selector.
	block := func(selector string) map[string]string {
		t.Helper()
		_, rest, ok := strings.Cut(string(css), selector+" {")
		body, _, closed := strings.Cut(rest, "}")
		if !ok || !closed {
			t.Fatalf("app.css has no rule %s", selector)
		}
		decls := map[string]string{}
		for _, d := range strings.Split(body, ";") {
			if name, value, ok := strings.Cut(d, ":"); ok && strings.HasPrefix(strings.TrimSpace(name), "--") {
				decls[strings.TrimSpace(name)] = strings.TrimSpace(value)
			}
		}
		return decls
	}
	setting := block(`:root:not([data-theme="light"])`)
	asked := block(`:root[data-theme="dark"]`)
	if len(setting) < 10 {
		t.Fatalf("the dark block declares %d colours: %v", len(setting), setting)
	}
	if !maps.Equal(setting, asked) {
		t.Errorf("the dark blocks differ:\nprefers-color-scheme: %v\ndata-theme=\"dark\":   %v", setting, asked)
	}
}

func TestZoneGroups(t *testing.T) {
	// Etc/GMT+5 (UTC−5) and the names without a place are left out.
	groups := zoneGroups([]string{"Etc/UTC", "Europe/Berlin", "America/New_York", "Etc/GMT", "Etc/GMT+5", "Etc/GMT-14",
		"CET", "EST", "EST5EDT", "HST", "MST", "WET", "Europe/Paris"})
	var got []string
	for _, g := range groups {
		got = append(got, g.Label+":"+strings.Join(g.Zones, ","))
	}
	want := "UTC:UTC Europe:Europe/Berlin,Europe/Paris America:America/New_York"
	if strings.Join(got, " ") != want {
		t.Errorf("zoneGroups = %s, want %s", strings.Join(got, " "), want)
	}
}

// TestPageUnlistedZone checks that a conference in a zone the selector
// leaves out has it selected all the same.
func TestPageUnlistedZone(t *testing.T) {
	mini := miniSchedule(t)
	conf := mini.Conference
	conf.TimeZone, conf.Location = "Etc/GMT-3", mustZone(t, "Etc/GMT-3")
	s, err := NewSchedule(conf, mini.Events)
	if err != nil {
		t.Fatal(err)
	}
	srv := newPageServer(t, s)
	_, page := get(t, srv, http.MethodGet, "/", nil)
	if !bytes.Contains(page, []byte(`<option value="Etc/GMT-3" selected>`)) {
		t.Error("the page does not offer its conference's zone")
	}
	if n := bytes.Count(page, []byte(" selected>")); n != 1 {
		t.Errorf("%d zones are selected", n)
	}
}

func TestZoneAliases(t *testing.T) {
	groups := zoneGroups([]string{"Etc/UTC", "Asia/Kolkata", "Europe/Kyiv", "America/Los_Angeles"})
	got := zoneAliases(groups, []string{"Etc/UTC", "Etc/GMT", "Asia/Kolkata", "Asia/Calcutta", "Europe/Kiev",
		"US/Pacific", "Asia/Saigon", "Mars/Olympus"})
	want := map[string]string{"Etc/UTC": "UTC", "Etc/GMT": "UTC", "Asia/Calcutta": "Asia/Kolkata", "Europe/Kiev": "Europe/Kyiv",
		"US/Pacific": "America/Los_Angeles"}
	if !maps.Equal(got, want) {
		t.Errorf("zoneAliases = %v, want %v (names in the list, zones not in it and unknown names left out)", got, want)
	}
}

// TestPageZoneAliases checks the aliases the page gives its script: every
// link of the tz database to a zone of the selector, by the name the
// selector lists, in a data block the CSP lets the script read.
func TestPageZoneAliases(t *testing.T) {
	srv := newPageServer(t, miniSchedule(t))
	_, body := get(t, srv, http.MethodGet, "/", nil)
	page := string(body)
	// The embed finds the viewer's zone by the same map; asked for a zone,
	// it needs none.
	_, embed := get(t, srv, http.MethodGet, "/embed", nil)
	_, fixed := get(t, srv, http.MethodGet, "/embed?tz=Asia/Tokyo", nil)
	if a, b := aliasData(t, page), aliasData(t, string(embed)); a != b {
		t.Errorf("the embed's zone aliases differ from the page's: %s", b)
	}
	if strings.Contains(string(fixed), `id="zone-aliases"`) {
		t.Error("an embed in a fixed zone carries the zone aliases")
	}
	data := aliasData(t, page)
	var aliases map[string]string
	if err := json.Unmarshal([]byte(data), &aliases); err != nil {
		t.Fatalf("zone aliases: %v: %s", err, data)
	}
	for alias, zone := range map[string]string{"Asia/Calcutta": "Asia/Kolkata", "Europe/Kiev": "Europe/Kyiv",
		"Asia/Saigon": "Asia/Ho_Chi_Minh", "Asia/Katmandu": "Asia/Kathmandu",
		"America/Buenos_Aires": "America/Argentina/Buenos_Aires", "US/Pacific": "America/Los_Angeles",
		"Etc/UTC": "UTC", "Etc/GMT": "UTC"} {
		if aliases[alias] != zone {
			t.Errorf("aliases[%q] = %q, want %q", alias, aliases[alias], zone)
		}
	}
	for link := range timezone.Links() {
		if aliases[link] == "" && !strings.Contains(page, `<option value="`+link+`"`) {
			t.Errorf("aliases lack the link %s, and it is no option", link)
		}
	}
	for alias, zone := range aliases {
		if strings.Contains(page, `<option value="`+alias+`"`) {
			t.Errorf("alias %s is an option itself", alias)
		}
		if !strings.Contains(page, `<option value="`+zone+`"`) {
			t.Errorf("alias %s maps to %s, which is not an option", alias, zone)
		}
	}
	// Every page carries the map: it must stay a small part of it.
	if len(data) > 6<<10 {
		t.Errorf("zone aliases take %d bytes, want at most 6 KiB", len(data))
	}
}

// aliasData is the JSON of the zone aliases in page.
func aliasData(t *testing.T, page string) string {
	t.Helper()
	const open = `<script type="application/json" id="zone-aliases">`
	_, rest, ok := strings.Cut(page, open)
	data, _, closed := strings.Cut(rest, "</script>")
	if !ok || !closed {
		t.Fatalf("page lacks %s…</script>", open)
	}
	return data
}

func TestSessionCounts(t *testing.T) {
	byTrack, bySpeaker := miniSchedule(t).sessionCounts()
	if want := map[string]int{"go-friends": 2, "rust": 1}; !maps.Equal(byTrack, want) {
		t.Errorf("by track %v, want %v (sessions without a track are in none)", byTrack, want)
	}
	if want := map[string]int{"jurgen-schmidhuber": 2, "zhangyang-atlas-wang": 1, "zihao-deng": 1}; !maps.Equal(bySpeaker, want) {
		t.Errorf("by speaker %v, want %v", bySpeaker, want)
	}
}

// isHexColor reports whether s is a colour "#rrggbb" in lower case.
func isHexColor(s string) bool {
	c, ok := parseColor(s)
	return ok && s != "" && c == s
}

func TestShownColor(t *testing.T) {
	if got := shownColor(Track{Slug: "x", Color: "#00ADD8"}); got != "#00add8" {
		t.Errorf("given colour: %s", got)
	}
	a, b := shownColor(Track{Slug: "rust"}), shownColor(Track{Slug: "rust"})
	if a != b || !isHexColor(a) {
		t.Errorf("generated colours %s, %s", a, b)
	}
	if a == shownColor(Track{Slug: "go"}) {
		t.Errorf("two tracks share the generated colour %s", a)
	}
	for h := 0.0; h < 360; h += 30 {
		if c := hslHex(h, 0.55, 0.42); !isHexColor(c) {
			t.Errorf("hslHex(%v) = %s", h, c)
		}
	}
}

// TestPageTimes checks the server-rendered times: the conference's zone on
// the page, the asked zone on the embed, across the DST change.
func TestPageTimes(t *testing.T) {
	sched := miniSchedule(t)
	d := newPageData(sched, "https://cal.example.org", Query{Zone: sched.Conference.Location}, false)
	if len(d.Days) != 2 || d.Days[1].Date != "2024-03-31" || d.Days[1].Slots[0].Label != "01:30" ||
		d.Days[1].Slots[0].Sessions[0].EndLabel != "03:30" {
		t.Errorf("days %+v", d.Days)
	}
	tokyo := mustZone(t, "Asia/Tokyo")
	d = newPageData(sched, "https://cal.example.org", Query{Zone: tokyo, Filter: Filter{Tracks: []string{"rust"}}}, true)
	if d.Sessions != 1 || d.Days[0].Slots[0].Label != "18:00" || d.Embed != "https://cal.example.org/embed?track=rust&tz=Asia/Tokyo" {
		t.Errorf("embed data: %d sessions, %+v, %s", d.Sessions, d.Days, d.Embed)
	}
	if want := "https://cal.example.org/tracks/rust.ics?tz=Asia/Tokyo"; d.Feed.HTTPS != want {
		t.Errorf("feed %s, want %s", d.Feed.HTTPS, want)
	}
}

// TestPageLaterDay checks that a session ending on a later day than it
// starts says so, in the zone of the page.
func TestPageLaterDay(t *testing.T) {
	edge := edgeSchedule(t)
	late := edge.Events[2] // 23:30–01:00 in Berlin
	for zone, want := range map[string]string{"Europe/Berlin": "(+1 day)", "America/New_York": "", "Pacific/Kiritimati": ""} {
		if got := laterDays(late, mustZone(t, zone)); got != want {
			t.Errorf("in %s: %q, want %q", zone, got, want)
		}
	}
	berlin := mustZone(t, "Europe/Berlin")
	for _, tc := range []struct {
		start    time.Time
		duration time.Duration
		want     string
	}{
		{time.Date(2024, 6, 1, 23, 0, 0, 0, berlin), time.Hour, ""}, // until midnight
		{time.Date(2024, 6, 1, 23, 0, 0, 0, berlin), time.Hour + time.Minute, "(+1 day)"},
		{time.Date(2024, 6, 1, 9, 0, 0, 0, berlin), 50 * time.Hour, "(+2 days)"},
	} {
		if got := laterDays(Event{Start: tc.start, Duration: tc.duration}, berlin); got != tc.want {
			t.Errorf("%v for %v: %q, want %q", tc.start, tc.duration, got, tc.want)
		}
	}
	srv := newPageServer(t, edge)
	_, page := get(t, srv, http.MethodGet, "/", nil)
	if n := strings.Count(html.UnescapeString(string(page)), `<span class="later"> (+1 day)</span>`); n != 1 {
		t.Errorf("the page marks %d sessions as ending a day later, want 1", n)
	}
}
