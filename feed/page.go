package feed

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html/template"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/confcal/confcal/timezone"
)

// The organizer page: the schedule in the viewer's zone, a builder for feed
// URLs with subscribe links for the common calendar apps, and a compact view
// of the schedule to embed in an iframe. Everything is rendered on the
// server, so the page works without JavaScript; web/static/app.js only
// adds the builder (which a link to the page may preselect) and the
// viewer's zone on top.

//go:embed web
var webFiles embed.FS

// contentSecurityPolicy is sent with every HTML page: no inline scripts,
// styles or event handlers, and nothing from other origins. frameAncestors
// is appended: only /embed may be framed.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors "

// alarms are the reminders the builder offers, as alarm= values.
var alarms = []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}

// staticFile is an embedded asset, ready to serve.
type staticFile struct {
	body        *rendered
	contentType string
	version     string // content hash, the ?v= of the asset's URL
}

// web holds what the page needs from the embedded files, parsed once.
type web struct {
	templates *template.Template
	static    map[string]staticFile // by file name
	zones     []zoneGroup
	aliases   template.JS // zoneAliases of zones, as JSON
}

// zoneGroup is one <optgroup> of the zone selector.
type zoneGroup struct {
	Label string
	Zones []string // names as feedQuery writes them
}

var loadWeb = sync.OnceValue(func() *web {
	w := &web{static: make(map[string]staticFile), zones: zoneGroups(timezone.Names())}
	aliases, err := json.Marshal(zoneAliases(w.zones, slices.AppendSeq(timezone.Names(), maps.Keys(timezone.Links()))))
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	w.aliases = template.JS(aliases) // json.Marshal escapes <, > and &: safe in a <script> element
	types := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
	}
	entries, err := fs.ReadDir(webFiles, "web/static")
	if err != nil {
		panic(err) // the files are embedded: this cannot fail at run time
	}
	for _, e := range entries {
		data, err := webFiles.ReadFile("web/static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(data)
		w.static[e.Name()] = staticFile{
			body:        newRendered(data, time.Time{}),
			contentType: cmp.Or(types[path.Ext(e.Name())], "application/octet-stream"),
			version:     hex.EncodeToString(sum[:6]),
		}
	}
	w.templates = template.Must(template.New("").Funcs(template.FuncMap{
		"asset": func(name string) string { return "/static/" + name + "?v=" + w.static[name].version },
		"label": func(zone string) string { return strings.ReplaceAll(zone, "_", " ") },
	}).ParseFS(webFiles, "web/*.html"))
	return w
})

// zoneGroups sorts zone names into groups by region, UTC first. The names
// are written as the server writes them in feed URLs: Etc/UTC and Etc/GMT
// load as UTC. Only zones named after a place are listed: not the Etc zones
// of fixed offsets (Etc/GMT+5 is UTC−5, its sign inverted), nor the old
// names without a region (CET, EST5EDT, and EST, which is not New York's
// time in summer), though URLs take them all.
func zoneGroups(names []string) []zoneGroup {
	groups := []zoneGroup{{Label: "UTC", Zones: []string{"UTC"}}}
	index := map[string]int{}
	for _, n := range names {
		region, _, ok := strings.Cut(n, "/")
		if !ok || region == "Etc" {
			continue
		}
		loc, err := timezone.Load(n)
		if err != nil || zoneName(loc) == "UTC" {
			continue
		}
		i, seen := index[region]
		if !seen {
			i = len(groups)
			index[region] = i
			groups = append(groups, zoneGroup{Label: region})
		}
		groups[i].Zones = append(groups[i].Zones, zoneName(loc))
	}
	return groups
}

// withZone returns groups with zone in them: a conference in a zone the
// selector leaves out (Etc/GMT-3) still has its zone offered.
func withZone(groups []zoneGroup, zone string) []zoneGroup {
	for _, g := range groups {
		if slices.Contains(g.Zones, zone) {
			return groups
		}
	}
	return append(slices.Clip(groups), zoneGroup{Label: "The conference’s zone", Zones: []string{zone}})
}

// zoneAliases maps other names of the zones in groups to the names the
// selector lists them by, for the page to find the viewer's zone: browsers
// may report a zone by an old name (Chrome and Node say Asia/Calcutta for
// Asia/Kolkata, Europe/Kiev for Europe/Kyiv), and the selector lists Etc/UTC
// as UTC. names are the candidates, as Load reads them; names that are
// already in the selector, or whose zone is not, are left out, which keeps
// the map small.
func zoneAliases(groups []zoneGroup, names []string) map[string]string {
	listed := make(map[string]bool)
	for _, g := range groups {
		for _, z := range g.Zones {
			listed[z] = true
		}
	}
	aliases := make(map[string]string)
	for _, n := range names {
		loc, err := timezone.Load(n)
		if err != nil || listed[n] {
			continue
		}
		if z := zoneName(loc); listed[z] {
			aliases[n] = z
		}
	}
	return aliases
}

// handlePage serves the organizer page of a conference. With several
// conferences loaded, the page links them all: their titles are part of
// the page, and its Last-Modified is the latest of theirs.
func (s *server) handlePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w, false)
		sched, prefix, err := s.schedule(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		root := s.baseURL(r)
		base := root + prefix
		var listed []*Schedule
		if all := s.store.All(); len(all) > 1 {
			listed = all
		}
		parts := []string{sched.Conference.Acronym, sched.Version, "page", base}
		for _, c := range listed {
			parts = append(parts, c.Conference.Acronym, c.Conference.Title)
		}
		body, err := s.cache.get(strings.Join(parts, "\x00"), func() (*rendered, error) {
			d := newPageData(sched, base, Query{Zone: sched.Conference.Location}, false)
			modified := sched.LastModified()
			for _, c := range listed {
				d.Conferences = append(d.Conferences, pageConference{
					Title:   cmp.Or(c.Conference.Title, c.Conference.Acronym),
					URL:     root + "/" + url.PathEscape(c.Conference.Acronym) + "/",
					Current: c.Conference.Acronym == sched.Conference.Acronym,
				})
				if m := c.LastModified(); m.After(modified) {
					modified = m
				}
			}
			return renderPage("page.html", d, modified)
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.serve(w, r, body, headerValue("text/html; charset=utf-8"), nil)
	})
}

// handleEmbed serves the compact schedule for an iframe, filtered by the
// same track=, speaker= and tz= as /feed.ics, in the colours of theme= or
// the visitor's. A typo is an error, not an empty schedule on someone's
// website.
func (s *server) handleEmbed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w, true)
		sched, prefix, err := s.schedule(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		q, theme, err := ParseEmbedQuery(sched, r.URL.RawQuery)
		if err != nil {
			s.error(w, r, err)
			return
		}
		fixedZone := r.URL.Query().Has("tz")
		base := s.baseURL(r) + prefix
		key := strings.Join([]string{sched.Conference.Acronym, sched.Version, "embed", q.Filter.Key(), q.Zone.String(),
			q.Alarm.String(), strconv.FormatBool(fixedZone), theme, base}, "\x00")
		body, err := s.cache.get(key, func() (*rendered, error) {
			d := newPageData(sched, base, q, fixedZone)
			d.Embedded = true
			d.Theme = theme
			return renderPage("embed.html", d, sched.LastModified())
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.serve(w, r, body, headerValue("text/html; charset=utf-8"), nil)
	})
}

// setPageHeaders sets the security headers of an HTML page, errors
// included. Only the embeddable view may be framed, by anyone.
func setPageHeaders(w http.ResponseWriter, embeddable bool) {
	h := w.Header()
	if embeddable {
		h.Set("Content-Security-Policy", contentSecurityPolicy+"*")
	} else {
		h.Set("Content-Security-Policy", contentSecurityPolicy+"'none'")
		h.Set("X-Frame-Options", "DENY")
	}
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
}

func renderPage(name string, data pageData, modified time.Time) (*rendered, error) {
	var buf bytes.Buffer
	if err := loadWeb().templates.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return newRendered(buf.Bytes(), modified), nil
}

// Cache-Control of static files: for good when the URL names the content's
// hash, briefly otherwise.
var (
	hdrImmutable  = []string{"public, max-age=31536000, immutable"}
	hdrRevalidate = []string{"public, max-age=300"}
)

// handleStatic serves the page's embedded CSS, JavaScript and icon. URLs
// carry a content hash (?v=), so a matching request may be cached for good.
func (s *server) handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := loadWeb().static[mux.Vars(r)["file"]]
		if !ok {
			s.notFound(w, r)
			return
		}
		w.Header()["X-Content-Type-Options"] = hdrNosniff
		cacheControl := hdrRevalidate
		if r.URL.Query().Get("v") == f.version {
			cacheControl = hdrImmutable
		}
		serveRendered(w, r, f.body, headerValue(f.contentType), nil, cacheControl)
	})
}

// pageData is what the page and embed templates show.
type pageData struct {
	Title          string
	URL            string // the conference's website
	Venue          string
	Dates          string // "Saturday 30 March 2024" or a range
	Base           string // the conference's root URL on this service
	ConferenceZone string
	Zone           string   // the zone the page is rendered in
	FixedZone      bool     // the embed was asked for a zone: JavaScript keeps it
	Embedded       bool     // in another site's frame: links leave it for a tab of their own
	Theme          string   // the embed's colours, "light" or "dark"; empty to follow the visitor
	Name           string   // the selection, for the embed's heading; empty for all
	TrackNames     []string // the selection's tracks, as Name lists them
	SpeakerNames   []string // the selection's speakers, as Name lists them
	CalendarName   string   // what a calendar app calls the feed
	Days           []pageDay
	Sessions       int
	Tracks         []pageTrack
	Speakers       []pageSpeaker
	Zones          []zoneGroup
	ZoneAliases    template.JS // JSON: other names of Zones, mapped to them (zoneAliases)
	Alarms         []string
	Feed           feedLinks // of the selection (the whole schedule on the page)
	Embed          string    // URL of the embed view of the selection
	EmbedSnippet   string    // HTML that frames Embed, to paste into a website

	Conferences []pageConference // every conference served, when there are several
}

// pageConference is a conference the page links to.
type pageConference struct {
	Title   string
	URL     string // of its page
	Current bool   // the page's own
}

type pageDay struct {
	Date  string // YYYY-MM-DD in the page's zone
	Label string
	Slots []pageSlot
}

// pageSlot is the sessions that start at one instant.
type pageSlot struct {
	Start    string // RFC 3339, UTC
	Label    string
	Sessions []pageSession
}

type pageSession struct {
	ID         string // HTML id
	Title      string
	Subtitle   string
	Type       string
	Start, End string // RFC 3339, UTC
	StartLabel string
	EndLabel   string
	Later      string // "(+1 day)" when the session ends on a later day than it starts
	Room       string
	Online     bool
	Cancelled  bool
	Abstract   string
	URL        string
	ICS        string
	Track      *pageTrack
	Speakers   []Speaker
	SpeakerIDs string // slugs, space-separated, for the builder's matching
}

type pageTrack struct {
	Name     string
	Slug     string
	Color    string // "#rrggbb", given or generated
	Sessions int
	Feed     feedLinks
}

type pageSpeaker struct {
	Name     string
	Slug     string
	Sessions int
	Feed     feedLinks
}

// feedLinks are the ways to get one feed.
type feedLinks struct {
	HTTPS  string       // the feed's URL, for downloads and Outlook on the web
	Webcal template.URL // the same as webcal://, which calendar apps and Google subscribe to
}

func newFeedLinks(feed string) feedLinks {
	// html/template rejects schemes it does not know, webcal included; this
	// URL is ours, built from the base URL and a canonical feed path.
	return feedLinks{HTTPS: feed, Webcal: template.URL(webcal(feed))}
}

// Google is the link that adds the feed in Google Calendar. The link is
// not documented: Google reads a cid that is an https URL as an account's
// address and refuses it, but subscribes to a webcal URL escaped whole.
// Google may still refuse it, so the page also tells how to paste the URL
// at Settings → Add calendar → From URL.
func (l feedLinks) Google() string {
	return "https://calendar.google.com/calendar/render?cid=" + url.QueryEscape(string(l.Webcal))
}

// Outlook is the link that subscribes to the feed in Outlook on the web,
// for personal accounts (outlook.live.com) or work and school accounts
// (outlook.office.com).
func (l feedLinks) Outlook(host, name string) string {
	return "https://" + host + "/calendar/0/addfromweb?url=" + url.QueryEscape(l.HTTPS) + "&name=" + url.QueryEscape(name)
}

// newPageData lays out the schedule for the page or the embed: the
// sessions q selects, grouped by day and start in q's zone.
func newPageData(s *Schedule, base string, q Query, fixedZone bool) pageData {
	d := pageData{
		Title: cmp.Or(s.Conference.Title, s.Conference.Acronym),
		URL:   webURL(s.Conference.URL), Venue: s.Conference.Venue, Dates: scheduleDates(s),
		Base: base, ConferenceZone: s.Conference.TimeZone, Zone: zoneName(q.Zone), FixedZone: fixedZone,
		Zones: withZone(loadWeb().zones, s.Conference.TimeZone), ZoneAliases: loadWeb().aliases,
		Feed:  newFeedLinks(base + FeedURL(s, q)),
		Embed: base + "/embed" + embedQuery(s, q, fixedZone),
	}
	d.nameSelection(s, q.Filter)
	d.EmbedSnippet = embedSnippet(d.Embed, d.Title)
	for _, a := range alarms {
		d.Alarms = append(d.Alarms, alarmText(a))
	}
	d.listChoices(s, base)
	d.layOutDays(s, base, q)
	return d
}

// nameSelection names the sessions f selects, for the embed's heading and
// calendar apps.
func (d *pageData) nameSelection(s *Schedule, f Filter) {
	d.Name = s.Name(f)
	f = f.canonical()
	for _, slug := range f.Tracks {
		if t, ok := s.Track(slug); ok {
			d.TrackNames = append(d.TrackNames, t.Name)
		}
	}
	for _, slug := range f.Speakers {
		if p, ok := s.Speaker(slug); ok {
			d.SpeakerNames = append(d.SpeakerNames, p.Name)
		}
	}
	d.CalendarName = d.Title
	if d.Name != "" {
		d.CalendarName += " · " + d.Name
	}
}

// listChoices lists the tracks and speakers of s for the builder, with
// their sessions counted and the feed of each.
func (d *pageData) listChoices(s *Schedule, base string) {
	byTrack, bySpeaker := s.sessionCounts()
	d.Tracks = make([]pageTrack, len(s.Tracks))
	for i, t := range s.Tracks {
		d.Tracks[i] = pageTrack{Name: t.Name, Slug: t.Slug, Color: shownColor(t), Sessions: byTrack[t.Slug],
			Feed: newFeedLinks(base + FeedPath(Filter{Tracks: []string{t.Slug}}))}
	}
	for _, p := range s.Speakers {
		d.Speakers = append(d.Speakers, pageSpeaker{Name: p.Name, Slug: p.Slug, Sessions: bySpeaker[p.Slug],
			Feed: newFeedLinks(base + FeedPath(Filter{Speakers: []string{p.Slug}}))})
	}
}

// layOutDays groups the sessions q selects by day, then by start, in q's
// zone. The sessions point into d.Tracks, which listChoices has made.
func (d *pageData) layOutDays(s *Schedule, base string, q Query) {
	loc := q.Zone
	tracks := make(map[string]*pageTrack, len(d.Tracks))
	for i := range d.Tracks {
		tracks[d.Tracks[i].Slug] = &d.Tracks[i]
	}
	for _, e := range s.Select(q.Filter) {
		start := e.Start.In(loc)
		date := start.Format(time.DateOnly)
		if n := len(d.Days); n == 0 || d.Days[n-1].Date != date {
			d.Days = append(d.Days, pageDay{Date: date, Label: start.Format("Monday 2 January 2006")})
		}
		day := &d.Days[len(d.Days)-1]
		iso := e.Start.UTC().Format(time.RFC3339)
		if n := len(day.Slots); n == 0 || day.Slots[n-1].Start != iso {
			day.Slots = append(day.Slots, pageSlot{Start: iso, Label: start.Format("15:04")})
		}
		slot := &day.Slots[len(day.Slots)-1]
		slugs := make([]string, len(e.Speakers))
		for i, p := range e.Speakers {
			slugs[i] = p.Slug
		}
		slot.Sessions = append(slot.Sessions, pageSession{
			ID: "session-" + Slug(sessionKey(e)), Title: e.Title, Subtitle: e.Subtitle, Type: e.Type,
			Start: iso, End: e.End().UTC().Format(time.RFC3339),
			StartLabel: start.Format("15:04"), EndLabel: e.End().In(loc).Format("15:04"), Later: laterDays(e, loc),
			Room: e.Room, Online: e.Online, Cancelled: e.Cancelled, Abstract: strings.TrimSpace(strings.ReplaceAll(e.Abstract, "\r\n", "\n")),
			URL: webURL(e.URL), ICS: base + "/sessions/" + url.PathEscape(sessionKey(e)) + ".ics" + feedQuery(s, Query{Zone: loc}),
			Track: tracks[e.Track.Slug], Speakers: e.Speakers, SpeakerIDs: strings.Join(slugs, " "),
		})
		d.Sessions++
	}
}

// scheduleDates is the day of the conference, or its first and last, in
// the conference's zone: "Saturday 30 March 2024 – Sunday 31 March 2024".
// It is empty for a schedule without sessions.
func scheduleDates(s *Schedule) string {
	first, last := s.Span()
	if first.IsZero() {
		return ""
	}
	in := s.Conference.Location
	dates := first.In(in).Format("Monday 2 January 2006")
	if l := last.Add(-time.Nanosecond).In(in); l.Format(time.DateOnly) != first.In(in).Format(time.DateOnly) {
		dates += " – " + l.Format("Monday 2 January 2006")
	}
	return dates
}

// laterDays says how many days after its start, in loc, e ends: "(+1 day)",
// "(+2 days)", or "" on the same day. A session that ends at midnight ends
// on the day it started.
func laterDays(e Event, loc *time.Location) string {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	switch n := int(day(e.End().Add(-time.Nanosecond)).Sub(day(e.Start)) / (24 * time.Hour)); {
	case n == 1:
		return "(+1 day)"
	case n > 1:
		return "(+" + strconv.Itoa(n) + " days)"
	}
	return ""
}

// embedSnippet is the HTML that frames the embed view at src, as
// organizers paste it into their websites (app.js writes the same).
func embedSnippet(src, title string) string {
	return `<iframe src="` + attrEscaper.Replace(src) + `" title="` + attrEscaper.Replace(title+" schedule") +
		`" width="100%" height="600" loading="lazy"></iframe>`
}

// attrEscaper escapes text for a double-quoted HTML attribute value.
var attrEscaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;")

// embedQuery is the query of the embed view of q: its filter, and its zone
// when one was asked for.
func embedQuery(s *Schedule, q Query, fixedZone bool) string {
	v := filterValues(q.Filter)
	if zone := zoneName(q.Zone); fixedZone && zone != s.Conference.TimeZone {
		v.Set("tz", zone)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + encodeQuery(v)
}

// shownColor is the colour the page shows a track in: the source's, when
// it gives a valid one, else one derived from its slug, so the same track
// gets the same colour on every page and replica.
func shownColor(t Track) string {
	if c, ok := parseColor(t.Color); ok && c != "" {
		return c
	}
	h := fnv.New32a()
	h.Write([]byte(t.Slug))
	hue := float64(h.Sum32() % 360)
	// Saturation and lightness keep white text readable and the colour
	// distinct on a light or dark background.
	return hslHex(hue, 0.55, 0.42)
}

// hslHex converts a colour from HSL (hue in degrees, the rest 0–1) to #rrggbb.
func hslHex(h, s, l float64) string {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	channel := func(v float64) int { return int(math.Round((v + m) * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", channel(r), channel(g), channel(b))
}
