package feed

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/confcal/confcal/fixtures"
)

// chromium is Debian's headless-capable browser (apt-get install chromium).
const chromium = "/usr/bin/chromium"

// TestBrowser drives the organizer page in headless Chromium: the viewer's
// zone is detected, a track, a speaker, a zone and a reminder are picked,
// and the feed URL the page builds must serve exactly the selected sessions.
// The page must fit 375 px without horizontal scrolling, work without
// JavaScript, and log no errors (CSP violations included). Screenshots go
// to $CONFCAL_SCREENSHOTS, or to the test's artifact directory
// (go test -artifacts keeps them).
func TestBrowser(t *testing.T) {
	requireChromium(t)
	mini := miniSchedule(t)
	schedules := []*Schedule{mini}
	dynn, err := ParseSchedule(bytes.NewReader(fixtures.DyNN2022))
	if err != nil {
		t.Fatalf("parse the DyNN fixture: %v", err)
	}
	edge := edgeSchedule(t)
	empty, err := NewSchedule(Conference{Acronym: "empty", Title: "Empty", TimeZone: "Europe/Berlin", Location: mustZone(t, "Europe/Berlin")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	schedules = append(schedules, dynn, edge, empty)
	srv := newPageServer(t, schedules...)

	shots := os.Getenv("CONFCAL_SCREENSHOTS")
	if shots == "" {
		shots = t.ArtifactDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	ctx := newBrowser(t)
	do(t, ctx, "set the viewer's zone and screen",
		cdpStep(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"}),
		chromedp.EmulateViewport(1280, 900),
	)
	defer func() { t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond)) }()

	// screenshot saves the whole page, or only the viewport for the narrow
	// pages, whose full length is too long to look at.
	screenshot := func(name string, full bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			shot := chromedp.CaptureScreenshot()
			if full {
				shot = chromedp.FullScreenshot(100)
			}
			png, err := shot(ctx, tg)
			if err != nil {
				return err
			}
			file := filepath.Join(shots, name+".png")
			t.Logf("screenshot %s", file)
			return os.WriteFile(file, png, 0o644)
		})
	}

	t.Run("builder", func(t *testing.T) {
		do(t, ctx, "open the page",
			chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("tz")),
		)
		if zone := run(t, ctx, chromedp.Value(chromedp.ID("tz"))); zone != "America/New_York" {
			t.Errorf("the zone select shows %q, want the viewer's zone America/New_York", zone)
		}
		if got, want := run(t, ctx, chromedp.Value(chromedp.ID("feed-url"))), srv.URL+"/feed.ics?tz=America/New_York"; got != want {
			t.Errorf("initial feed URL %s, want %s", got, want)
		}
		// In New York the session at 01:30 in Berlin is on the evening before.
		if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#days .day")[0].querySelectorAll(".slot").length`)); n != 3 {
			t.Errorf("the first day in New York has %d time slots, want 3", n)
		}

		do(t, ctx, "pick a track and search for a speaker",
			chromedp.Click(chromedp.ID("track-go-friends")),
			chromedp.SendKeys(chromedp.ID("speaker-search"), "jurg"),
		)
		if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#speakers .choice:not([hidden])").length`)); n != 1 {
			t.Errorf("searching speakers for %q shows %d, want 1", "jurg", n)
		}
		do(t, ctx, "pick the speaker, a zone and a reminder",
			chromedp.Click(chromedp.ID("speaker-jurgen-schmidhuber")),
			choose("#tz", "Asia/Tokyo"),
			choose("#alarm", "10m"),
			screenshot("page-1280", true),
		)
		feedURL := run(t, ctx, chromedp.Value(chromedp.ID("feed-url")))
		f := Filter{Tracks: []string{"go-friends"}, Speakers: []string{"jurgen-schmidhuber"}}
		q := Query{Filter: f, Zone: mustZone(t, "Asia/Tokyo"), Alarm: 10 * time.Minute}
		if want := srv.URL + FeedURL(mini, q); feedURL != want {
			t.Fatalf("feed URL %s, want %s", feedURL, want)
		}
		if count := run(t, ctx, chromedp.Text(chromedp.ID("feed-count"))); count != "2 sessions" {
			t.Errorf("feed count %q, want 2 sessions", count)
		}
		// The page's address keeps the choice (opened again below).
		const want = "?alarm=10m&speaker=jurgen-schmidhuber&track=go-friends&tz=Asia/Tokyo"
		if here := run(t, ctx, chromedp.Evaluate[string](`location.search`)); here != want {
			t.Errorf("the page's address ends %q, want %q", here, want)
		}
		checkFeed(t, feedURL, mini.Select(f), "Asia/Tokyo", "TRIGGER:-PT10M")

		webcal := "webcal://" + strings.TrimPrefix(feedURL, "http://")
		name := url.QueryEscape("Mini Conf 2024 · Go & Friends · Jürgen Schmidhuber")
		embed := srv.URL + "/embed?speaker=jurgen-schmidhuber&track=go-friends&tz=Asia/Tokyo"
		for id, want := range map[string]string{
			"link-webcal":   webcal,
			"link-apple":    webcal,
			"link-google":   "https://calendar.google.com/calendar/render?cid=" + url.QueryEscape(webcal),
			"link-outlook":  "https://outlook.live.com/calendar/0/addfromweb?url=" + url.QueryEscape(feedURL) + "&name=" + name,
			"link-office":   "https://outlook.office.com/calendar/0/addfromweb?url=" + url.QueryEscape(feedURL) + "&name=" + name,
			"link-download": feedURL,
			"embed-preview": embed,
		} {
			if got := run(t, ctx, chromedp.JavascriptAttribute[string](chromedp.ID(id), "href")); got != want {
				t.Errorf("%s = %s, want %s", id, got, want)
			}
		}
		if snippet := run(t, ctx, chromedp.Value(chromedp.ID("embed-snippet"))); !strings.Contains(snippet, `<iframe src="`+strings.ReplaceAll(embed, "&", "&amp;")+`"`) {
			t.Errorf("embed snippet %s does not frame %s", snippet, embed)
		}
		// The embed may have fixed colours.
		do(t, ctx, "pick dark colours for the embed", choose("#embed-theme", "dark"))
		themed := srv.URL + "/embed?speaker=jurgen-schmidhuber&theme=dark&track=go-friends&tz=Asia/Tokyo"
		if got := run(t, ctx, chromedp.JavascriptAttribute[string](chromedp.ID("embed-preview"), "href")); got != themed {
			t.Errorf("embed preview %s, want %s", got, themed)
		}
		for _, u := range []string{embed, themed} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("embed %s: %d", u, resp.StatusCode)
			}
		}

		do(t, ctx, "copy the URL", chromedp.Click(chromedp.ID("copy-url")))
		if status := run(t, ctx, chromedp.Poll[string](`document.getElementById("copy-url-status").textContent`,
			chromedp.WithPollingTimeout(5*time.Second))); status == "" {
			t.Error("copying the URL says nothing")
		}
		do(t, ctx, "change the selection", chromedp.Click(chromedp.ID("track-rust")))
		if status := run(t, ctx, chromedp.Text(chromedp.ID("copy-url-status"))); status != "" {
			t.Errorf("after a change, the copy status still says %q", status)
		}

		// Opened at its own address, the page makes the same choice: in a
		// new navigation, not a reload, which would restore the form.
		here := run(t, ctx, chromedp.Evaluate[string](`location.search`))
		chosen := run(t, ctx, chromedp.Value(chromedp.ID("feed-url")))
		do(t, ctx, "open the page at its own address",
			chromedp.Navigate(srv.URL+"/"),
			chromedp.Navigate(srv.URL+"/"+here),
			chromedp.WaitVisible(chromedp.ID("tz")),
		)
		if again := run(t, ctx, chromedp.Value(chromedp.ID("feed-url"))); again != chosen {
			t.Errorf("the page opened at %s makes %s, want %s", here, again, chosen)
		}
	})

	t.Run("late copy", func(t *testing.T) {
		// The clipboard may answer late. A copy that ends after the choice
		// changed copied a URL the page no longer shows: it says nothing.
		const slowClipboard = `navigator.clipboard.writeText = () => new Promise(resolve => { window.copied = resolve; }); true`
		do(t, ctx, "open the page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("tz")))
		run(t, ctx, chromedp.Evaluate[bool](slowClipboard))
		do(t, ctx, "copy, then change the choice before the clipboard answers",
			chromedp.Click(chromedp.ID("copy-url")),
			chromedp.Click(chromedp.ID("track-rust")),
		)
		run(t, ctx, chromedp.Evaluate[bool](`window.copied(); true`))
		// The copy's callbacks ran as soon as the evaluation that resolved
		// it ended: before this one.
		if status := run(t, ctx, chromedp.Text(chromedp.ID("copy-url-status"))); status != "" {
			t.Errorf("a copy that ended after a change says %q", status)
		}
		do(t, ctx, "copy again", chromedp.Click(chromedp.ID("copy-url")))
		run(t, ctx, chromedp.Evaluate[bool](`window.copied(); true`))
		if status := run(t, ctx, chromedp.Poll[string](`document.getElementById("copy-url-status").textContent`,
			chromedp.WithPollingTimeout(5*time.Second))); status != "Copied to the clipboard." {
			t.Errorf("a copy that ended says %q", status)
		}
	})

	t.Run("preselected", func(t *testing.T) {
		// A link to the page picks what a feed URL would, by name or slug,
		// in any case and without accents: "go friends" is the slug of
		// "Go & Friends" spelled loosely, "Jürgen SCHMIDHUBER" a name.
		do(t, ctx, "open the page with a selection",
			chromedp.Navigate(srv.URL+"/?track=go%20friends&speaker=J%C3%BCrgen%20SCHMIDHUBER&tz=asia/tokyo&alarm=10m"),
			chromedp.WaitVisible(chromedp.ID("tz")),
		)
		q := Query{Filter: Filter{Tracks: []string{"go-friends"}, Speakers: []string{"jurgen-schmidhuber"}},
			Zone: mustZone(t, "Asia/Tokyo"), Alarm: 10 * time.Minute}
		if got, want := run(t, ctx, chromedp.Value(chromedp.ID("feed-url"))), srv.URL+FeedURL(mini, q); got != want {
			t.Errorf("feed URL %s, want %s", got, want)
		}
		if note := run(t, ctx, chromedp.Text(chromedp.ID("preselect-note"))); note != "" {
			t.Errorf("a link the page understands gets the note %q", note)
		}
		if shown := run(t, ctx, chromedp.Evaluate[bool](`!!document.getElementById("preselect-note").offsetParent`)); shown {
			t.Error("the empty note is shown")
		}
		if got := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#days time.t").textContent`)); got != "17:00" && got != "5:00 PM" {
			t.Errorf("the first session starts at %q on the page, want 17:00 (Tokyo)", got)
		}

		// What the page does not offer is named, and the rest still picked.
		do(t, ctx, "open the page with a selection it partly does not offer",
			chromedp.Navigate(srv.URL+"/?track=rust,nope&speaker=nobody&tz=Mars/Base&alarm=3d"),
			chromedp.WaitVisible(chromedp.ID("tz")),
		)
		q = Query{Filter: Filter{Tracks: []string{"rust"}}, Zone: mustZone(t, "America/New_York")}
		if got, want := run(t, ctx, chromedp.Value(chromedp.ID("feed-url"))), srv.URL+FeedURL(mini, q); got != want {
			t.Errorf("feed URL %s, want %s (the link's Rust, in the viewer's zone)", got, want)
		}
		note := run(t, ctx, chromedp.Text(chromedp.ID("preselect-note")))
		for _, want := range []string{`track “nope”`, `speaker “nobody”`, `time zone “Mars/Base”`, `reminder “3d”`} {
			if !strings.Contains(note, want) {
				t.Errorf("the note %q does not name %s", note, want)
			}
		}
		if strings.Contains(note, "rust") {
			t.Errorf("the note %q names the track it picked", note)
		}
		do(t, ctx, "choose", chromedp.Click(chromedp.ID("track-go-friends")))
		if note := run(t, ctx, chromedp.Text(chromedp.ID("preselect-note"))); note != "" {
			t.Errorf("after a choice, the note still says %q", note)
		}
	})

	t.Run("selection", func(t *testing.T) {
		const visible = `Array.from(document.querySelectorAll("#days .session")).filter(s => s.offsetParent).length`
		do(t, ctx, "show only the feed, with nothing picked",
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("tz")),
			chromedp.Click(chromedp.ID("only-feed")),
		)
		if n := run(t, ctx, chromedp.Evaluate[int](visible)); n != len(mini.Events) {
			t.Errorf("with nothing picked, only the feed shows %d sessions, want all %d", n, len(mini.Events))
		}
		if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".session.highlighted").length`)); n != 0 {
			t.Errorf("with nothing picked, %d sessions are highlighted", n)
		}
		do(t, ctx, "pick a track", chromedp.Click(chromedp.ID("track-rust")))
		if n := run(t, ctx, chromedp.Evaluate[int](visible)); n != 1 {
			t.Errorf("the Rust track shows %d sessions, want 1", n)
		}
		if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".session.highlighted").length`)); n != 1 {
			t.Errorf("the Rust track highlights %d sessions, want 1", n)
		}
		if shown := run(t, ctx, chromedp.Evaluate[bool](`!!document.getElementById("none-in-feed").offsetParent`)); shown {
			t.Error("the schedule says no session matches, beside a matching one")
		}
		// Rust and Jürgen Schmidhuber: tracks and speakers must both hold.
		do(t, ctx, "pick a speaker who has no Rust session", chromedp.Click(chromedp.ID("speaker-jurgen-schmidhuber")))
		if n := run(t, ctx, chromedp.Evaluate[int](visible)); n != 0 {
			t.Errorf("an empty selection shows %d sessions", n)
		}
		if shown := run(t, ctx, chromedp.Evaluate[bool](`!!document.getElementById("none-in-feed").offsetParent`)); !shown {
			t.Error("an empty selection leaves the schedule blank without a word")
		}
		// The builder says how tracks and speakers combine, warns of an
		// empty feed and offers no link to it.
		if rule := run(t, ctx, chromedp.Text(chromedp.ID("feed-rule"))); !strings.Contains(rule, "in this track and by this speaker") {
			t.Errorf("the rule reads %q", rule)
		}
		if warning := run(t, ctx, chromedp.Text(chromedp.ID("feed-empty"))); !strings.Contains(warning, "No session") {
			t.Errorf("an empty selection warns %q", warning)
		}
		links := []string{"link-webcal", "link-apple", "link-google", "link-outlook", "link-office", "link-download"}
		const linkState = `(id => { const a = document.getElementById(id);
			return (a.hasAttribute("href") ? "href" : "") + (a.getAttribute("aria-disabled") === "true" ? "disabled" : ""); })`
		for _, id := range links {
			if got := run(t, ctx, chromedp.Evaluate[string](linkState+`("`+id+`")`)); got != "disabled" {
				t.Errorf("%s of an empty feed: %q, want disabled without href", id, got)
			}
		}
		if disabled := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("copy-url").disabled`)); !disabled {
			t.Error("the URL of an empty feed can be copied")
		}
		do(t, ctx, "add a track the speaker has sessions in", chromedp.Click(chromedp.ID("track-go-friends")))
		if rule := run(t, ctx, chromedp.Text(chromedp.ID("feed-rule"))); !strings.Contains(rule, "in one of these tracks and by this speaker") {
			t.Errorf("the rule reads %q", rule)
		}
		if warning := run(t, ctx, chromedp.Text(chromedp.ID("feed-empty"))); warning != "" {
			t.Errorf("a feed of 2 sessions warns %q", warning)
		}
		for _, id := range links {
			if got := run(t, ctx, chromedp.Evaluate[string](linkState+`("`+id+`")`)); got != "href" {
				t.Errorf("%s of a feed with sessions: %q, want an enabled link", id, got)
			}
		}
		if disabled := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("copy-url").disabled`)); disabled {
			t.Error("the URL of a feed with sessions cannot be copied")
		}
		do(t, ctx, "show every session again",
			chromedp.Click(chromedp.ID("track-go-friends")),
			chromedp.Click(chromedp.ID("only-feed")),
		)
		if n := run(t, ctx, chromedp.Evaluate[int](visible)); n != len(mini.Events) {
			t.Errorf("the whole schedule shows %d sessions, want %d", n, len(mini.Events))
		}
		if shown := run(t, ctx, chromedp.Evaluate[bool](`!!document.getElementById("none-in-feed").offsetParent`)); shown {
			t.Error("the whole schedule says no session matches")
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		// The lowest contrast of the text of cancelled sessions against
		// their background, the opacity of the element and its ancestors
		// applied (WCAG 2 relative luminance).
		const lowest = `(() => {
			const rgba = c => c.match(/[\d.]+/g).map(Number);
			const lum = ([r, g, b]) => {
				const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
				return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
			};
			const background = el => {
				for (; el; el = el.parentElement) {
					const c = rgba(getComputedStyle(el).backgroundColor);
					if (c.length < 4 || c[3] > 0) return c;
				}
				return [255, 255, 255];
			};
			const opacity = el => { let o = 1; for (; el; el = el.parentElement) o *= +getComputedStyle(el).opacity; return o; };
			let min = 21;
			for (const el of document.querySelectorAll(".session.cancelled, .session.cancelled *")) {
				if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
				const bg = background(el), o = opacity(el);
				const fg = rgba(getComputedStyle(el).color).slice(0, 3).map((v, i) => o * v + (1 - o) * bg[i]);
				const [a, b] = [lum(fg), lum(bg)];
				min = Math.min(min, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
			}
			return min;
		})()`
		for _, scheme := range []string{"light", "dark"} {
			do(t, ctx, "open a cancelled session in "+scheme+" mode",
				cdpStep(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}),
				chromedp.Navigate(srv.URL+"/edge/"),
				chromedp.WaitVisible(chromedp.ID("tz")),
			)
			if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".session.cancelled .badge.cancelled").length`)); n != 1 {
				t.Fatalf("%d cancelled badges, want 1", n)
			}
			if c := run(t, ctx, chromedp.Evaluate[float64](lowest)); c < 4.5 {
				t.Errorf("in %s mode, text of a cancelled session has a contrast of %.2f:1, below 4.5:1", scheme, c)
			}
		}
		do(t, ctx, "stop emulating the colour scheme", cdpStep(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}))
	})

	t.Run("names", func(t *testing.T) {
		// Names in right-to-left scripts keep their places in the feed's name.
		track, speakers := edge.Events[0].Track.Slug, []string{edge.Events[2].Speakers[0].Slug, edge.Events[2].Speakers[1].Slug}
		do(t, ctx, "open a schedule with names in right-to-left scripts",
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(srv.URL+"/edge/"),
			chromedp.WaitVisible(chromedp.ID("tz")),
		)
		// The script writes the snippet as the server does, quotes escaped.
		if got, want := run(t, ctx, chromedp.Value(chromedp.ID("embed-snippet"))), embedSnippet(srv.URL+"/edge/embed", edge.Conference.Title); got != want {
			t.Errorf("embed snippet %s, want %s", got, want)
		}
		do(t, ctx, "pick a track and two speakers",
			chromedp.Click(chromedp.ID("track-"+track)),
			chromedp.Click(chromedp.ID("speaker-"+speakers[0])),
			chromedp.Click(chromedp.ID("speaker-"+speakers[1])),
		)
		got := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#feed-name > bdi"), b => b.textContent)`))
		want := append([]string{edge.Events[0].Track.Name}, strings.Split(edge.Name(Filter{Speakers: speakers}), ", ")...)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("the feed's name isolates %q, want %q", got, want)
		}
		if text := run(t, ctx, chromedp.Text(chromedp.ID("feed-name"))); text != edge.Name(Filter{Tracks: []string{track}, Speakers: speakers}) {
			t.Errorf("the feed's name reads %q", text)
		}
	})

	t.Run("narrow", func(t *testing.T) {
		for _, path := range []string{"/", "/dynn2022/"} {
			do(t, ctx, "open "+path+" at 375 px",
				chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile),
				chromedp.Navigate(srv.URL+path),
				chromedp.WaitVisible(chromedp.ID("tz")),
				screenshot("375"+strings.TrimSuffix(strings.ReplaceAll(path, "/", "-"), "-"), false),
			)
			if width := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 375 {
				t.Errorf("%s is %d px wide at 375 px: it scrolls sideways", path, width)
			}
		}
	})

	t.Run("workshop", func(t *testing.T) {
		track, ok := dynn.Track("spotlight")
		if !ok {
			track = dynn.Tracks[0]
		}
		speaker := dynn.Select(Filter{Tracks: []string{track.Slug}})[0].Speakers[0]
		do(t, ctx, "pick in the DyNN schedule",
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(srv.URL+"/dynn2022/"),
			chromedp.WaitVisible(chromedp.ID("tz")),
			chromedp.Click(chromedp.ID("track-"+track.Slug)),
			chromedp.SendKeys(chromedp.ID("speaker-search"), speaker.Name),
			chromedp.Click(chromedp.ID("speaker-"+speaker.Slug)),
			choose("#tz", "Europe/Berlin"),
			screenshot("dynn2022-1280", true),
		)
		feedURL := run(t, ctx, chromedp.Value(chromedp.ID("feed-url")))
		f := Filter{Tracks: []string{track.Slug}, Speakers: []string{speaker.Slug}}
		q := Query{Filter: f, Zone: mustZone(t, "Europe/Berlin")}
		if want := srv.URL + "/dynn2022" + FeedURL(dynn, q); feedURL != want {
			t.Fatalf("feed URL %s, want %s", feedURL, want)
		}
		checkFeed(t, feedURL, dynn.Select(f), "Europe/Berlin", "")
	})

	t.Run("embed", func(t *testing.T) {
		do(t, ctx, "open the embed",
			chromedp.EmulateViewport(600, 700),
			chromedp.Navigate(srv.URL+"/embed?track=go-friends"),
			chromedp.WaitVisible(chromedp.ID("days")),
			screenshot("embed", true),
		)
		if zone := run(t, ctx, chromedp.Text(chromedp.ID("zone-name"))); zone != "America/New_York" {
			t.Errorf("the embed shows times in %q, want the viewer's zone", zone)
		}
		const background = `getComputedStyle(document.body).backgroundColor`
		for theme, want := range map[string]string{"dark": "rgb(26, 31, 38)", "light": "rgb(255, 255, 255)"} {
			scheme := map[string]string{"dark": "light", "light": "dark"}[theme]
			do(t, ctx, "open the embed in "+theme+" colours for a viewer who prefers "+scheme,
				cdpStep(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}),
				chromedp.Navigate(srv.URL+"/embed?theme="+theme),
				chromedp.WaitVisible(chromedp.ID("days")),
			)
			if got := run(t, ctx, chromedp.Evaluate[string](background)); got != want {
				t.Errorf("theme=%s: background %s, want %s", theme, got, want)
			}
		}
		do(t, ctx, "stop emulating the colour scheme", cdpStep(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}))
	})

	t.Run("midnight", func(t *testing.T) {
		// A session that ends on a later day in the viewer's zone says so,
		// and only there.
		const later = `(id => { const l = document.querySelector("#" + id + " .when .later"); return l ? l.textContent : ""; })`
		late := "session-" + Slug(sessionKey(edge.Events[2])) // 23:30–01:00 in Berlin
		do(t, ctx, "open a schedule with a session until 01:00 in Berlin",
			chromedp.Navigate(srv.URL+"/edge/"),
			chromedp.WaitVisible(chromedp.ID("tz")),
		)
		if got := run(t, ctx, chromedp.Evaluate[string](later+`("`+late+`")`)); got != "" {
			t.Errorf("in New York, the session is marked %q, want no mark", got)
		}
		do(t, ctx, "show Berlin's times", choose("#tz", "Europe/Berlin"))
		if got := run(t, ctx, chromedp.Evaluate[string](later+`("`+late+`")`)); got != " (+1 day)" {
			t.Errorf("in Berlin, the session is marked %q, want (+1 day)", got)
		}
		remote := "session-" + Slug(sessionKey(mini.Events[2])) // 00:30–01:30 UTC
		do(t, ctx, "show the mini schedule in Cape Verde",
			chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("tz")),
			choose("#tz", "Atlantic/Cape_Verde"),
		)
		if got := run(t, ctx, chromedp.Evaluate[string](later+`("`+remote+`")`)); got != " (+1 day)" {
			t.Errorf("in Cape Verde, 23:30–00:30 is marked %q, want (+1 day)", got)
		}
	})

	t.Run("language", func(t *testing.T) {
		// Times and dates are in English, the page's language, on the
		// clock of the viewer's region. A page opened with #lang=TAG sees
		// TAG as the browser's language.
		do(t, ctx, "prepare the language stand-in",
			cdpStep(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `if (location.hash.startsWith("#lang=")) {
					Object.defineProperty(navigator, "language", {get: () => location.hash.slice(6)});
				}`}),
		)
		const shown = `({day: document.querySelector("#days .day-title").textContent,
			times: Array.from(document.querySelectorAll("#days time.t"), t => t.textContent)})`
		type shownDates struct {
			Day   string   `json:"day"`
			Times []string `json:"times"`
		}
		for _, tc := range []struct {
			lang, time string // time: a regular expression every time matches
		}{
			{"en-US", `^(1[0-2]|[1-9]):[0-5]\d\s[AP]M$`}, // 4:00 AM, not 04:00 AM
			{"de-DE", `^(2[0-3]|1\d|0?\d):[0-5]\d$`},
			{"fr", `^(2[0-3]|1\d|0?\d):[0-5]\d$`},
		} {
			do(t, ctx, "open the page in "+tc.lang,
				chromedp.Navigate("about:blank"),
				chromedp.Navigate(srv.URL+"/#lang="+tc.lang),
				chromedp.WaitVisible(chromedp.ID("tz")),
			)
			got := run(t, ctx, chromedp.Evaluate[shownDates](shown))
			if !strings.Contains(got.Day, "Saturday") || !strings.Contains(got.Day, "March") {
				t.Errorf("%s: the first day is %q, want it in English", tc.lang, got.Day)
			}
			bad := run(t, ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
				`Array.from(document.querySelectorAll("#days time.t"), t => t.textContent).filter(t => !new RegExp(%q).test(t))`, tc.time)))
			if len(got.Times) == 0 || len(bad) > 0 {
				t.Errorf("%s: times %q do not match %s", tc.lang, bad, tc.time)
			}
		}
	})

	t.Run("empty", func(t *testing.T) {
		// A schedule without sessions yet still says which zone it shows.
		for _, path := range []string{"/empty/", "/empty/embed"} {
			do(t, ctx, "open "+path,
				chromedp.Navigate(srv.URL+path),
				chromedp.WaitVisible(chromedp.ID("days")),
			)
			if zone := run(t, ctx, chromedp.Text(chromedp.ID("zone-name"))); zone != "America/New_York" {
				t.Errorf("%s says times are in %q, want the viewer's zone", path, zone)
			}
		}
	})

	t.Run("without JavaScript", func(t *testing.T) {
		do(t, ctx, "open without JavaScript",
			cdpStep(emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}),
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("days")),
			screenshot("page-nojs", true),
			// Measured with scripts back on, on the page as loaded without them.
			cdpStep(emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}),
		)
		links := run(t, ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll(".feed-links a")).filter(a => a.offsetParent).length`))
		if want := 2 * (len(mini.Tracks) + len(mini.Speakers)); links != want {
			t.Errorf("%d feed links visible without JavaScript, want %d", links, want)
		}
		if shown := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("tz").offsetParent !== null`)); shown {
			t.Error("the zone select shows without JavaScript, where it cannot work")
		}
		if shown := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("by-url").offsetParent !== null`)); !shown {
			t.Error("without JavaScript, the page does not say how to add a feed by its URL")
		}
		sessions := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#days .session").length`))
		if sessions != len(mini.Events) {
			t.Errorf("%d sessions without JavaScript, want %d", sessions, len(mini.Events))
		}
	})
}

// TestBrowserZoneNames opens the page where the browser reports the
// viewer's zone by an old name, as Chrome and Node do (Asia/Calcutta for
// Asia/Kolkata, Europe/Kiev for Europe/Kyiv): the builder must still
// preselect the zone, by the name the selector lists, and the feed links
// must carry it; the embed must name it so too. A zone the selector lacks
// leaves the conference's zone, and the hint says so.
func TestBrowserZoneNames(t *testing.T) {
	requireChromium(t)
	srv := newPageServer(t, miniSchedule(t))
	// The system's zone, as set on the viewer's computer.
	ctx := newBrowser(t, "TZ=Asia/Kolkata")
	// A page opened with #zone=NAME sees NAME as the viewer's zone, for
	// names no system zone gives.
	do(t, ctx, "prepare the zone stand-in",
		cdpStep(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `if (location.hash.startsWith("#zone=")) {
				const resolved = Intl.DateTimeFormat.prototype.resolvedOptions;
				Intl.DateTimeFormat.prototype.resolvedOptions = function () {
					return Object.assign(resolved.call(this), {timeZone: location.hash.slice(6)});
				};
			}`}),
	)
	conference := miniSchedule(t).Conference.TimeZone
	for _, tc := range []struct {
		name     string
		override string // the zone Chromium emulates, if not the system's
		fragment string // #zone=…, if any
		want     string // the zone preselected
		hint     string // in the zone's hint when want is the conference's zone
	}{
		{name: "TZ=Asia/Kolkata", want: "Asia/Kolkata"},
		{name: "Europe/Kyiv", override: "Europe/Kyiv", want: "Europe/Kyiv"},
		{name: "America/Argentina/Buenos_Aires", override: "America/Argentina/Buenos_Aires", want: "America/Argentina/Buenos_Aires"},
		{name: "case", fragment: "#zone=ASIA/CALCUTTA", want: "Asia/Kolkata"},
		// Chromium's name for a system zone of GMT.
		{name: "offset", fragment: "#zone=+00:00", want: "UTC"},
		{name: "unlisted", fragment: "#zone=Mars/Olympus", want: conference, hint: "Mars/Olympus, is not in this list"},
		{name: "unknown", fragment: "#zone=Etc/Unknown", want: conference, hint: "does not tell its time zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.override != "" {
				do(t, ctx, "emulate "+tc.override,
					cdpStep(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tc.override}))
			}
			do(t, ctx, "open the page",
				chromedp.Navigate("about:blank"), // a new fragment alone would not load the page again
				chromedp.Navigate(srv.URL+"/"+tc.fragment),
				chromedp.WaitVisible(chromedp.ID("tz")),
			)
			detected := run(t, ctx, chromedp.Evaluate[string](`Intl.DateTimeFormat().resolvedOptions().timeZone`))
			t.Logf("the browser reports %s", detected)
			if zone := run(t, ctx, chromedp.Value(chromedp.ID("tz"))); zone != tc.want {
				t.Errorf("the zone select shows %q for the viewer's %q, want %q", zone, detected, tc.want)
			}
			if shown := run(t, ctx, chromedp.Text(chromedp.ID("zone-name"))); shown != tc.want {
				t.Errorf("the schedule is in %q, want %q", shown, tc.want)
			}
			feed := srv.URL + "/feed.ics"
			if tc.want != conference {
				feed += "?tz=" + tc.want
			}
			webcal := "webcal://" + strings.TrimPrefix(feed, "http://")
			for id, want := range map[string]string{"link-webcal": webcal, "link-apple": webcal, "link-download": feed} {
				if got := run(t, ctx, chromedp.JavascriptAttribute[string](chromedp.ID(id), "href")); got != want {
					t.Errorf("%s = %s, want %s", id, got, want)
				}
			}
			if got := run(t, ctx, chromedp.Value(chromedp.ID("feed-url"))); got != feed {
				t.Errorf("feed URL %s, want %s", got, feed)
			}
			hint := run(t, ctx, chromedp.Text(chromedp.ID("tz-hint")))
			if want := cmp.Or(tc.hint, "follow this zone"); !strings.Contains(hint, want) {
				t.Errorf("hint %q, want it to say %q", hint, want)
			}
			if tc.hint != "" && !strings.Contains(hint, conference) {
				t.Errorf("hint %q does not name the conference's zone %s", hint, conference)
			}
			// The embed names the viewer's zone as the page does.
			do(t, ctx, "open the embed",
				chromedp.Navigate("about:blank"),
				chromedp.Navigate(srv.URL+"/embed"+tc.fragment),
				chromedp.WaitVisible(chromedp.ID("days")),
			)
			if shown := run(t, ctx, chromedp.Text(chromedp.ID("zone-name"))); shown != tc.want {
				t.Errorf("the embed is in %q, want %q", shown, tc.want)
			}
			if tc.override != "" {
				do(t, ctx, "stop emulating "+tc.override,
					cdpStep(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: ""}))
			}
		})
	}
}

// requireChromium skips the test when Chromium is missing, except in CI,
// where it fails it.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must install Debian's chromium package (%v)", chromium, err)
		}
		t.Skipf("%s is missing; install Debian's chromium package to run the browser test", chromium)
	}
}

// newBrowser starts headless Chromium, with env (NAME=value) added to its
// environment, and opens a tab, for the rest of the test. Console API
// errors and warnings, uncaught exceptions and browser log entries (failed
// loads, CSP violations) all fail the test.
func newBrowser(t *testing.T, env ...string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	ctx, cancel = chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env(env...),
	)
	t.Cleanup(cancel)
	ctx, cancel = chromedp.NewContext(ctx)
	t.Cleanup(cancel)

	start := time.Now()
	do(t, ctx, "start the browser",
		// Report CSP violations as console errors too.
		cdpStep(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `document.addEventListener("securitypolicyviolation",
				e => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));`}),
	)
	t.Logf("browser started in %v", time.Since(start).Round(time.Millisecond))

	consoleCtx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(consoleCtx)
	var (
		problems []string
		reading  sync.WaitGroup
	)
	reading.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				problems = append(problems, fmt.Sprintf("%s (%s)", m, cmp.Or(m.URL, m.Source)))
			}
		}
	})
	t.Cleanup(func() {
		stopConsole()
		reading.Wait()
		for _, p := range problems {
			t.Errorf("browser console: %s", p)
		}
	})
	return ctx
}

// do runs browser steps or fails the test.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// run runs a browser action that gives a value, or fails the test.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// cdpStep is a protocol command as a browser step.
func cdpStep[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cmd, params)
		return err
	})
}

// choose selects value in a <select> as a user would, firing change.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.focus(); el.value = %q;
			el.dispatchEvent(new Event("change", {bubbles: true})); return el.value; })()`, sel, value)
		got, err := chromedp.Evaluate[string](js)(ctx, tg)
		if err != nil {
			return err
		}
		if got != value {
			return fmt.Errorf("%s has no option %q", sel, value)
		}
		return nil
	})
}

// checkFeed fetches a feed the page built and checks that it holds exactly
// want, in zone.
func checkFeed(t *testing.T, feedURL string, want []Event, zone, extra string) {
	t.Helper()
	resp, err := http.Get(feedURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", feedURL, resp.StatusCode, body)
	}
	if len(want) == 0 {
		t.Fatalf("%s: the test picked an empty selection", feedURL)
	}
	if n := bytes.Count(body, []byte("BEGIN:VEVENT")); n != len(want) {
		t.Errorf("%s has %d events, want %d", feedURL, n, len(want))
	}
	for _, e := range want {
		if !bytes.Contains(body, []byte("UID:"+e.GUID)) {
			t.Errorf("%s lacks %q (UID %s)", feedURL, e.Title, e.GUID)
		}
	}
	if !bytes.Contains(body, []byte("DTSTART;TZID="+zone+":")) {
		t.Errorf("%s has no DTSTART in %s", feedURL, zone)
	}
	if extra != "" && !bytes.Contains(body, []byte(extra)) {
		t.Errorf("%s lacks %s", feedURL, extra)
	}
}
