package feed

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/confcal/confcal/fixtures"
)

// Load times of the journal tests: the clock enters only through these.
var (
	t1 = time.Date(2024, 3, 20, 8, 0, 0, 0, time.UTC)
	t2 = time.Date(2024, 3, 25, 9, 30, 0, 0, time.UTC)
	t3 = time.Date(2024, 3, 28, 17, 15, 0, 0, time.UTC)
)

// The sessions of the mini schedule, by GUID.
const (
	guidOpening = "11111111-1111-4111-8111-111111111111"
	guidBorrow  = "22222222-2222-4222-8222-222222222222"
	guidRemote  = "33333333-3333-4333-8333-333333333333"
	guidLunch   = "44444444-4444-4444-8444-444444444444"
	guidNew     = "55555555-5555-4555-8555-555555555555"
)

// miniVersion is the mini schedule as its source would give it after edit,
// with its own source version.
func miniVersion(t testing.TB, version string, edit func(events []Event) []Event) *Schedule {
	t.Helper()
	base := miniSchedule(t)
	events := slices.Clone(base.Events)
	if edit != nil {
		events = edit(events)
	}
	s, err := NewSchedule(base.Conference, events)
	if err != nil {
		t.Fatal(err)
	}
	s.Version, s.Updated = version, base.Updated
	return s
}

// miniV2 has one session renamed, one moved, one removed and one added;
// "Borrowing without tears" (the only Rust session) is untouched.
func miniV2(t testing.TB) *Schedule {
	return miniVersion(t, "v2", func(events []Event) []Event {
		var out []Event
		for _, e := range events {
			switch e.GUID {
			case guidOpening:
				e.Title = "Opening and welcome"
			case guidLunch:
				e.Start = e.Start.Add(30 * time.Minute)
			case guidRemote:
				continue
			}
			out = append(out, e)
		}
		return append(out, Event{GUID: guidNew, ID: "5", Slug: "mini-5-new", Start: out[0].Start.Add(26 * time.Hour),
			Duration: 30 * time.Minute, Room: "Hall A", Title: "A late addition", Type: "talk",
			Track: Track{Name: "Go & Friends"}, Speakers: []Speaker{{ID: "p2", Name: "Zhangyang “Atlas” Wang"}}})
	})
}

// journals are the implementations every behavioural test runs on; reopen
// closes a bolt journal and opens its file again, as a restart does.
type journalCase struct {
	name   string
	open   func(t *testing.T, opts JournalOptions) Journal
	reopen func(t *testing.T, j Journal) Journal
}

func journalCases() []journalCase {
	var path string
	openBolt := func(t *testing.T, opts JournalOptions) Journal {
		t.Helper()
		path = filepath.Join(t.TempDir(), "state.db")
		return mustOpenBolt(t, path, opts)
	}
	return []journalCase{
		{"memory", func(t *testing.T, opts JournalOptions) Journal {
			if opts.Logger == nil {
				opts.Logger = discard()
			}
			return NewMemoryJournal(opts)
		}, nil},
		{"bolt", openBolt, nil},
		{"bolt_restarted", openBolt, func(t *testing.T, j Journal) Journal {
			t.Helper()
			opts := j.(*BoltJournal).opts
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			return mustOpenBolt(t, path, opts)
		}},
	}
}

func mustOpenBolt(t *testing.T, path string, opts JournalOptions) *BoltJournal {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = discard()
	}
	j, err := OpenBoltJournal(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// journalCounts reads confcal_journal_changes_total of a conference from
// reg, by kind of change.
func journalCounts(t *testing.T, reg prometheus.Gatherer, acronym string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "confcal_journal_changes_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["conference"] == acronym {
				got[labels["change"]] = m.GetCounter().GetValue()
			}
		}
	}
	return got
}

// keptContents lists the GUIDs of the sessions of acronym whose content
// the journal j keeps.
func keptContents(t *testing.T, j Journal, acronym string) []string {
	t.Helper()
	var guids []string
	switch j := j.(type) {
	case *MemoryJournal:
		j.mu.Lock()
		defer j.mu.Unlock()
		guids = slices.Collect(maps.Keys(j.contents[acronym]))
	case *BoltJournal:
		err := j.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketContents).Bucket([]byte(acronym))
			if b == nil {
				return nil
			}
			return b.ForEach(func(guid, _ []byte) error {
				guids = append(guids, string(guid))
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("no contents of a %T", j)
	}
	slices.Sort(guids)
	return guids
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func mustApply(t *testing.T, j Journal, s *Schedule, now time.Time) *Schedule {
	t.Helper()
	out, err := j.Apply(context.Background(), s, now)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustEvent(t *testing.T, s *Schedule, guid string) Event {
	t.Helper()
	e, ok := s.Event(guid)
	if !ok {
		t.Fatalf("no session %s in the schedule", guid)
	}
	return e
}

// vevents splits a rendered calendar into its VEVENTs, by UID.
func vevents(t *testing.T, data []byte) map[string]string {
	t.Helper()
	out := make(map[string]string)
	uid := regexp.MustCompile(`(?m)^UID:(.*)\r$`)
	for _, block := range regexp.MustCompile(`(?s)BEGIN:VEVENT\r\n.*?END:VEVENT\r\n`).FindAll(data, -1) {
		m := uid.FindSubmatch(block)
		if m == nil {
			t.Fatalf("VEVENT without UID:\n%s", block)
		}
		out[string(m[1])] = string(block)
	}
	return out
}

func renderFeed(t *testing.T, s *Schedule, f Filter) []byte {
	t.Helper()
	data := render(t, Calendar(s, s.Select(f), View{Name: s.Name(f), Zone: mustZone(t, "Europe/Berlin"), Alarm: 10 * time.Minute}))
	checkRFC5545(t, data)
	return data
}

// TestJournalFirstLoad: a first load with a fresh journal renders exactly
// as without a journal, so the golden files hold, and keeps the Version
// with the journal's stamp after it.
func TestJournalFirstLoad(t *testing.T) {
	for _, jc := range journalCases() {
		t.Run(jc.name, func(t *testing.T) {
			src := miniSchedule(t)
			got := mustApply(t, jc.open(t, JournalOptions{}), src, t1)
			if want := src.Version + "@" + strconv.FormatInt(t1.Unix(), 10); got.Version != want {
				t.Errorf("Version %q, want %q", got.Version, want)
			}
			for _, f := range []Filter{{}, {Tracks: []string{"rust"}}, {Speakers: []string{"jurgen-schmidhuber"}}} {
				if a, b := renderFeed(t, src, f), renderFeed(t, got, f); !bytes.Equal(a, b) {
					t.Errorf("feed %s differs after a first load through the journal:\n%s\n---\n%s", f.Key(), a, b)
				}
			}
		})
	}
}

// TestJournalChanges loads v1, then v2 with a renamed, a moved, a removed
// and a new session, and checks what the feeds say about each, with a
// restart between the loads for the bolt journal.
func TestJournalChanges(t *testing.T) {
	for _, jc := range journalCases() {
		t.Run(jc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			j := jc.open(t, JournalOptions{Registerer: reg})
			first := mustApply(t, j, miniSchedule(t), t1)
			if jc.reopen != nil {
				j = jc.reopen(t, j)
			}
			second := mustApply(t, j, miniV2(t), t2)
			updated := first.Updated

			// new: 4 at first, 1 in v2; every kind is there from the first load.
			want := map[string]float64{"new": 5, "changed": 2, "cancelled": 1, "restored": 0, "expired": 0, "lost": 0}
			if got := journalCounts(t, reg, "mini2024"); !maps.Equal(got, want) {
				t.Errorf("confcal_journal_changes_total = %v, want %v", got, want)
			}

			tests := []struct {
				guid      string
				seq       int
				modified  time.Time
				cancelled bool
			}{
				{guidOpening, 1, t2, false}, // renamed
				{guidBorrow, 0, updated, false},
				{guidRemote, 1, t2, true}, // removed
				{guidLunch, 1, t2, false}, // moved
				{guidNew, 0, updated, false},
			}
			for _, tc := range tests {
				e := mustEvent(t, second, tc.guid)
				if e.Sequence != tc.seq || !e.Modified.Equal(tc.modified) || e.Cancelled != tc.cancelled {
					t.Errorf("%s (%q): sequence %d, modified %v, cancelled %v; want %d, %v, %v",
						tc.guid, e.Title, e.Sequence, e.Modified, e.Cancelled, tc.seq, tc.modified, tc.cancelled)
				}
			}
			if len(second.Events) != 5 {
				t.Errorf("%d sessions, want 5 (4 live, 1 cancelled)", len(second.Events))
			}
			if second.Version == first.Version || !strings.HasPrefix(second.Version, "v2+") {
				t.Errorf("Version %q after changes (first %q)", second.Version, first.Version)
			}

			all1, all2 := renderFeed(t, first, Filter{}), renderFeed(t, second, Filter{})
			ev1, ev2 := vevents(t, all1), vevents(t, all2)
			if ev1[guidBorrow] != ev2[guidBorrow] {
				t.Errorf("the untouched session's VEVENT changed:\n%s\n---\n%s", ev1[guidBorrow], ev2[guidBorrow])
			}
			for _, want := range []string{"SEQUENCE:1\r\n", "DTSTAMP:20240325T093000Z\r\n", "LAST-MODIFIED:20240325T093000Z\r\n",
				"STATUS:CANCELLED\r\n", "SUMMARY:Cancelled: A talk across the clock change\r\n", "TRANSP:TRANSPARENT\r\n"} {
				if !strings.Contains(ev2[guidRemote], want) {
					t.Errorf("the removed session lacks %q:\n%s", want, ev2[guidRemote])
				}
			}
			if strings.Contains(ev2[guidRemote], "BEGIN:VALARM") {
				t.Error("a cancelled session keeps its reminder")
			}
			for _, want := range []string{"SEQUENCE:1\r\n", "LAST-MODIFIED:20240325T093000Z\r\n", "STATUS:CONFIRMED\r\n", "SUMMARY:Opening and welcome\r\n"} {
				if !strings.Contains(ev2[guidOpening], want) {
					t.Errorf("the renamed session lacks %q:\n%s", want, ev2[guidOpening])
				}
			}
			if !strings.Contains(ev2[guidLunch], "DTSTART;TZID=Europe/Berlin:20240331T123000\r\n") || !strings.Contains(ev2[guidLunch], "SEQUENCE:1\r\n") {
				t.Errorf("the moved session:\n%s", ev2[guidLunch])
			}
			if !strings.Contains(ev2[guidNew], "SEQUENCE:0\r\n") || !strings.Contains(ev2[guidNew], "DTSTAMP:20240301T120000Z\r\n") {
				t.Errorf("the new session:\n%s", ev2[guidNew])
			}

			// A feed of untouched sessions keeps its bytes, hence its ETag.
			rust := Filter{Tracks: []string{"rust"}}
			if !bytes.Equal(renderFeed(t, first, rust), renderFeed(t, second, rust)) {
				t.Error("the Rust feed, untouched, changed")
			}
			// The cancelled session is in the feeds whose filter it matched.
			for _, f := range []Filter{{Tracks: []string{"go-friends"}}, {Speakers: []string{"jurgen-schmidhuber"}}} {
				if _, ok := vevents(t, renderFeed(t, second, f))[guidRemote]; !ok {
					t.Errorf("feed %s lacks the cancelled session", f.Key())
				}
			}
			if !slices.IsSortedFunc(second.Events, func(a, b Event) int { return a.Start.Compare(b.Start) }) {
				t.Error("sessions are not sorted by start")
			}

			// Loading v2 again changes nothing: later renders are deterministic.
			if jc.reopen != nil {
				j = jc.reopen(t, j)
			}
			again := mustApply(t, j, miniV2(t), t3)
			if again.Version != second.Version || !bytes.Equal(renderFeed(t, again, Filter{}), all2) {
				t.Errorf("reloading the same source changed the feeds (Version %s, was %s)", again.Version, second.Version)
			}
		})
	}
}

// TestJournalNotMaterial: a change of the abstract renders but keeps the
// SEQUENCE; a change of speakers bumps it.
func TestJournalNotMaterial(t *testing.T) {
	j := NewMemoryJournal(JournalOptions{Logger: discard()})
	mustApply(t, j, miniSchedule(t), t1)
	edit := func(f func(e *Event)) func([]Event) []Event {
		return func(events []Event) []Event {
			for i := range events {
				if events[i].GUID == guidBorrow {
					f(&events[i])
				}
			}
			return events
		}
	}
	s := mustApply(t, j, miniVersion(t, "v2", edit(func(e *Event) { e.Abstract = "Shorter." })), t2)
	if e := mustEvent(t, s, guidBorrow); e.Sequence != 0 || e.Abstract != "Shorter." || !e.Modified.Equal(t2) {
		t.Errorf("abstract change: sequence %d, abstract %q, modified %v", e.Sequence, e.Abstract, e.Modified)
	}
	// Another "Zihao Deng", earlier, takes the slug of this one's, and a
	// colour for the Rust track: neither is in this session's VEVENT.
	namesake := func(events []Event) []Event {
		return append(events, Event{GUID: guidNew, ID: "5", Slug: "mini-5-new", Start: events[0].Start.Add(-time.Hour),
			Duration: 30 * time.Minute, Room: "Hall A", Title: "A namesake", Type: "talk",
			Track: Track{Name: "Rust", Color: "#dea584"}, Speakers: []Speaker{{ID: "p8", Name: "Zihao Deng"}}})
	}
	before := vevents(t, renderFeed(t, s, Filter{}))[guidBorrow]
	s = mustApply(t, j, miniVersion(t, "v2b", func(events []Event) []Event {
		return namesake(edit(func(e *Event) { e.Abstract = "Shorter." })(events))
	}), t2.Add(time.Hour))
	if e := mustEvent(t, s, guidBorrow); e.Sequence != 0 || !e.Modified.Equal(t2) || e.Speakers[0].Slug != "zihao-deng-5b90" {
		t.Errorf("after a namesake: sequence %d, modified %v, speaker slug %s", e.Sequence, e.Modified, e.Speakers[0].Slug)
	}
	if after := vevents(t, renderFeed(t, s, Filter{}))[guidBorrow]; after != before {
		t.Errorf("a namesake's session changed this one's VEVENT:\n%s\n---\n%s", before, after)
	}
	s = mustApply(t, j, miniVersion(t, "v3", edit(func(e *Event) { e.Speakers = append(e.Speakers, Speaker{ID: "p9", Name: "Ada"}) })), t3)
	if e := mustEvent(t, s, guidBorrow); e.Sequence != 1 || !e.Modified.Equal(t3) {
		t.Errorf("speaker change: sequence %d, modified %v", e.Sequence, e.Modified)
	}
}

// TestJournalLastModifiedGrows follows a schedule through edits the
// feeds show without a new SEQUENCE (an abstract, a track), a new session,
// a new conference title, a removal, changes within one second and after
// the clock went back, the cancellation expiring and reloads of the same
// source. The schedule's LastModified is every feed's HTTP Last-Modified:
// whenever any feed renders differently it must grow, or a client asking
// If-Modified-Since would be told nothing changed; when nothing does, it
// must stay. The source's own date is in the future (a guess from the
// conference's first day) and must never be used.
func TestJournalLastModifiedGrows(t *testing.T) {
	keep := 48 * time.Hour
	future := t3.Add(30 * 24 * time.Hour)
	type edit func(events []Event) []Event
	session := func(guid string, f func(e *Event)) edit {
		return func(events []Event) []Event {
			for i := range events {
				if events[i].GUID == guid {
					f(&events[i])
				}
			}
			return events
		}
	}
	chain := func(edits ...edit) edit {
		return func(events []Event) []Event {
			for _, e := range edits {
				events = e(events)
			}
			return events
		}
	}
	abstract := session(guidBorrow, func(e *Event) { e.Abstract = "Shorter." })
	moved := chain(abstract, session(guidBorrow, func(e *Event) { e.Track = Track{Name: "Go & Friends"} }))
	added := chain(moved, func(events []Event) []Event {
		return append(events, Event{GUID: guidNew, ID: "5", Slug: "mini-5-new", Start: events[0].Start.Add(26 * time.Hour),
			Duration: 30 * time.Minute, Room: "Hall A", Title: "A late addition", Type: "talk",
			Speakers: []Speaker{{ID: "p9", Name: "Zihao Deng"}}})
	})
	removed := chain(added, func(events []Event) []Event {
		return slices.DeleteFunc(events, func(e Event) bool { return e.GUID == guidRemote })
	})
	lunch := func(title string) edit {
		return chain(removed, session(guidLunch, func(e *Event) { e.Title = title }))
	}
	source := func(version string, e edit, title string) *Schedule {
		s := miniVersion(t, version, e)
		s.Updated = future
		if title != "" {
			s.Conference.Title = title
		}
		return s
	}
	steps := []struct {
		name   string
		source *Schedule
		at     time.Time
		want   time.Time
	}{
		{"first load", source("v1", nil, ""), t1, t1},
		{"abstract edited", source("v2", abstract, ""), t2, t2},
		{"moved to another track", source("v3", moved, ""), t2.Add(time.Hour), t2.Add(time.Hour)},
		{"session added", source("v4", added, ""), t2.Add(2 * time.Hour), t2.Add(2 * time.Hour)},
		{"conference renamed", source("v5", added, "MiniConf, renamed"), t2.Add(3 * time.Hour), t2.Add(3 * time.Hour)},
		{"session removed", source("v6", removed, "MiniConf, renamed"), t3, t3},
		{"same source", source("v6", removed, "MiniConf, renamed"), t3.Add(time.Hour), t3},
		{"change", source("v7", lunch("Lunch break"), "MiniConf, renamed"), t3.Add(2 * time.Hour), t3.Add(2 * time.Hour)},
		{"change in the same second", source("v8", lunch("Long lunch"), "MiniConf, renamed"), t3.Add(2 * time.Hour), t3.Add(2*time.Hour + time.Second)},
		{"change after the clock went back", source("v9", lunch("Late lunch"), "MiniConf, renamed"), t3, t3.Add(2*time.Hour + 2*time.Second)},
		{"cancellation expired", source("v9", lunch("Late lunch"), "MiniConf, renamed"), t3.Add(keep), t3.Add(keep)},
		{"same source again", source("v9", lunch("Late lunch"), "MiniConf, renamed"), t3.Add(keep + time.Hour), t3.Add(keep)},
	}
	var filters []Filter
	for _, st := range steps {
		for _, tr := range st.source.Tracks {
			filters = append(filters, Filter{Tracks: []string{tr.Slug}})
		}
		for _, sp := range st.source.Speakers {
			filters = append(filters, Filter{Speakers: []string{sp.Slug}})
		}
	}
	filters = append(filters, Filter{})

	for _, jc := range journalCases() {
		t.Run(jc.name, func(t *testing.T) {
			j := jc.open(t, JournalOptions{KeepCancelled: keep})
			var last *Schedule
			var feeds [][]byte
			for i, st := range steps {
				if i > 0 && jc.reopen != nil {
					j = jc.reopen(t, j)
				}
				s := mustApply(t, j, st.source, st.at)
				got := make([][]byte, len(filters))
				changed := false
				for k, f := range filters {
					got[k] = renderFeed(t, s, f)
					changed = changed || i > 0 && !bytes.Equal(got[k], feeds[k])
				}
				lm := s.LastModified()
				if !lm.Equal(st.want) {
					t.Errorf("%s: Last-Modified %v, want %v", st.name, lm, st.want)
				}
				if i > 0 {
					if changed && !lm.After(last.LastModified()) {
						t.Errorf("%s: feeds changed but Last-Modified stayed at %v", st.name, lm)
					}
					if !changed && (!lm.Equal(last.LastModified()) || s.Version != last.Version) {
						t.Errorf("%s: no feed changed but Last-Modified %v (was %v), Version %s (was %s)",
							st.name, lm, last.LastModified(), s.Version, last.Version)
					}
				}
				last, feeds = s, got
			}
		})
	}
}

// TestJournalCancelledExpire: a removed session stays cancelled for
// KeepCancelled, then leaves the feeds with a new Version though the source
// is the same; when it comes back even later, its SEQUENCE still grows.
func TestJournalCancelledExpire(t *testing.T) {
	keep := 48 * time.Hour
	for _, jc := range journalCases() {
		t.Run(jc.name, func(t *testing.T) {
			j := jc.open(t, JournalOptions{KeepCancelled: keep})
			mustApply(t, j, miniSchedule(t), t1)
			v2 := mustApply(t, j, miniV2(t), t2)
			kept := mustApply(t, j, miniV2(t), t2.Add(keep-time.Second))
			if e := mustEvent(t, kept, guidRemote); !e.Cancelled || e.Sequence != 1 || kept.Version != v2.Version {
				t.Errorf("before KeepCancelled: %+v, Version %s (was %s)", e, kept.Version, v2.Version)
			}
			if jc.reopen != nil {
				j = jc.reopen(t, j)
			}
			dropped := mustApply(t, j, miniV2(t), t2.Add(keep))
			if _, ok := dropped.Event(guidRemote); ok || len(dropped.Events) != 4 {
				t.Errorf("after KeepCancelled the session is still there (%d sessions)", len(dropped.Events))
			}
			if dropped.Version == v2.Version {
				t.Error("dropping a cancelled session kept the Version: stale renders would be served")
			}
			if slices.Contains(keptContents(t, j, "mini2024"), guidRemote) {
				t.Error("the content of a session whose cancellation expired is still kept")
			}
			back := mustApply(t, j, miniSchedule(t), t3.Add(keep))
			if e := mustEvent(t, back, guidRemote); e.Cancelled || e.Sequence != 2 || !e.Modified.Equal(t3.Add(keep)) {
				t.Errorf("session back after its cancellation expired: sequence %d, cancelled %v, modified %v", e.Sequence, e.Cancelled, e.Modified)
			}
			if got := keptContents(t, j, "mini2024"); len(got) != len(back.Events) {
				t.Errorf("after the session came back, contents are kept for %v; want every session's", got)
			}
		})
	}
}

// TestJournalComesBack: a session removed and restored gets a new SEQUENCE
// each time and is confirmed again.
func TestJournalComesBack(t *testing.T) {
	for _, jc := range journalCases() {
		t.Run(jc.name, func(t *testing.T) {
			j := jc.open(t, JournalOptions{})
			mustApply(t, j, miniSchedule(t), t1)
			mustApply(t, j, miniV2(t), t2)
			if jc.reopen != nil {
				j = jc.reopen(t, j)
			}
			back := mustApply(t, j, miniSchedule(t), t3)
			e := mustEvent(t, back, guidRemote)
			if e.Cancelled || e.Sequence != 2 || !e.Modified.Equal(t3) {
				t.Errorf("restored session: cancelled %v, sequence %d, modified %v", e.Cancelled, e.Sequence, e.Modified)
			}
			if ev := vevents(t, renderFeed(t, back, Filter{}))[guidRemote]; !strings.Contains(ev, "STATUS:CONFIRMED\r\n") ||
				!strings.Contains(ev, "SUMMARY:A talk across the clock change\r\n") || !strings.Contains(ev, "SEQUENCE:2\r\n") {
				t.Errorf("restored session renders as:\n%s", ev)
			}
			// The new session of v2 is now gone, and the rename reverted.
			if e := mustEvent(t, back, guidNew); !e.Cancelled || e.Sequence != 1 {
				t.Errorf("session of v2 only: cancelled %v, sequence %d", e.Cancelled, e.Sequence)
			}
			if e := mustEvent(t, back, guidOpening); e.Sequence != 2 || e.Title != "Opening; welcome, everyone" {
				t.Errorf("rename reverted: sequence %d, title %q", e.Sequence, e.Title)
			}
		})
	}
}

// The opening session's GUID in two cases, for the tests of GUIDs that
// change case.
const (
	guidLower = "abcdef01-1111-4111-8111-111111111111"
	guidUpper = "ABCDEF01-1111-4111-8111-111111111111"
)

// cancelledOf lists the cancelled sessions of s as "GUID (sequence N)".
func cancelledOf(s *Schedule) []string {
	var cancelled []string
	for _, e := range s.Events {
		if e.Cancelled {
			cancelled = append(cancelled, fmt.Sprintf("%s (sequence %d)", e.GUID, e.Sequence))
		}
	}
	return cancelled
}

// withoutOpening is the mini schedule without its opening session.
func withoutOpening(t *testing.T) *Schedule {
	return miniVersion(t, "v2", func(events []Event) []Event {
		return slices.DeleteFunc(events, func(e Event) bool { return e.GUID == guidOpening })
	})
}

// miniRecords are the journal records of the mini schedule's sessions as a
// first load writes them, but for the opening session; each content is
// added to contents.
func miniRecords(src *Schedule, contents map[string][]byte) map[string]revision {
	records := map[string]revision{}
	for _, e := range src.Events {
		if e.GUID != guidOpening {
			data, _ := marshalEvent(e)
			records[e.GUID], contents[e.GUID] = revision{Hash: materialHash(e), Content: contentHash(data), Modified: src.Updated}, data
		}
	}
	return records
}

// TestJournalGUIDCase: a source that changes the case of a session's GUID
// gives the same session (NewSchedule takes GUIDs that differ only in case
// for one). It keeps the case the journal first saw, so its UID never
// changes, and when it leaves the schedule it is cancelled once.
func TestJournalGUIDCase(t *testing.T) {
	withGUID := func(version, guid string, keep bool) *Schedule {
		return miniVersion(t, version, func(events []Event) []Event {
			var out []Event
			for _, e := range events {
				if e.GUID == guidOpening {
					if !keep {
						continue
					}
					e.GUID = guid
				}
				out = append(out, e)
			}
			return out
		})
	}
	for _, jc := range journalCases() {
		t.Run(jc.name, func(t *testing.T) {
			j := jc.open(t, JournalOptions{})
			for i, step := range []struct {
				version, guid string
			}{{"v1", guidLower}, {"v2", guidUpper}, {"v3", guidLower}, {"v4", guidUpper}} {
				got := mustApply(t, j, withGUID(step.version, step.guid, true), t1.Add(time.Duration(i)*time.Hour))
				if e := mustEvent(t, got, step.guid); e.GUID != guidLower || e.Cancelled || e.Sequence != 0 || hasCancelled(got) {
					t.Errorf("%s, GUID %s: served as %s, cancelled %v, sequence %d, cancelled sessions %v; want %s, live, 0, none",
						step.version, step.guid, e.GUID, e.Cancelled, e.Sequence, hasCancelled(got), guidLower)
				}
				if jc.reopen != nil {
					j = jc.reopen(t, j)
				}
			}
			gone := mustApply(t, j, withGUID("v5", "", false), t2)
			cancelled := cancelledOf(gone)
			if want := guidLower + " (sequence 1)"; len(cancelled) != 1 || cancelled[0] != want {
				t.Errorf("removed: cancelled %v, want %s", cancelled, want)
			}
		})
	}
}

// TestJournalGUIDCaseTwoLive: a journal can hold a record for each case of a
// GUID, both live (written when a case change took the new case's). When
// the session leaves, it is cancelled once, as the latest record; the
// other expires, unseen.
func TestJournalGUIDCaseTwoLive(t *testing.T) {
	src := miniSchedule(t)
	contents := map[string][]byte{}
	records := miniRecords(src, contents)
	opening := mustEvent(t, src, guidOpening)
	for guid, seq := range map[string]int{guidLower: 1, guidUpper: 0} {
		opening.GUID = guid
		data, _ := marshalEvent(opening)
		records[guid], contents[guid] = revision{Hash: materialHash(opening), Content: contentHash(data), Sequence: seq, Modified: t1}, data
	}
	st := journalState{records: records, content: func(guid string) []byte { return contents[guid] }}
	got, ch, err := revise(withoutOpening(t), st, t2, DefaultKeepCancelled)
	if err != nil {
		t.Fatal(err)
	}
	cancelled := cancelledOf(got)
	if want := guidLower + " (sequence 2)"; len(cancelled) != 1 || cancelled[0] != want {
		t.Errorf("cancelled %v, want %s", cancelled, want)
	}
	if r, ok := ch.writes[guidUpper]; !ok || !r.Expired || ch.contents[guidUpper] != nil || ch.cancelled != 1 || ch.expired != 0 {
		t.Errorf("the record left behind: written %v, expired %v; cancelled %d, expired %d; want it expired, unseen", ok, r.Expired, ch.cancelled, ch.expired)
	}
}

// TestJournalGUIDCaseLeftBehind: a journal from before GUIDs were taken in
// any case can hold a record for each case: an expired one, and the one
// that went on under a new case, cancelled now. The one that went on is
// the session, whatever the SEQUENCEs; the expired one stays behind.
func TestJournalGUIDCaseLeftBehind(t *testing.T) {
	src := miniSchedule(t)
	opening := mustEvent(t, src, guidOpening)
	opening.GUID = guidUpper
	content, _ := marshalEvent(opening)
	for _, seq := range []int{1, 2, 3} { // the expired record's SEQUENCE: below, equal, above
		contents := map[string][]byte{guidUpper: content}
		records := miniRecords(src, contents)
		records[guidLower] = revision{Hash: "h", Sequence: seq, Modified: t1, Removed: t1, Expired: true}
		records[guidUpper] = revision{Hash: "h", Sequence: 2, Modified: t2, Removed: t2}
		st := journalState{records: records, content: func(guid string) []byte { return contents[guid] }}
		got, ch, err := revise(withoutOpening(t), st, t2.Add(time.Hour), DefaultKeepCancelled)
		if err != nil {
			t.Fatalf("expired record at sequence %d: %v", seq, err)
		}
		e, ok := got.Event(guidUpper)
		if !ok || e.GUID != guidUpper || !e.Cancelled || e.Sequence != 2 || len(ch.writes) != 0 || len(ch.lost) != 0 {
			t.Errorf("expired record at sequence %d: %s shown %v, cancelled %v, sequence %d, writes %v, lost %v; want %s cancelled at sequence 2, nothing written",
				seq, e.GUID, ok, e.Cancelled, e.Sequence, slices.Collect(maps.Keys(ch.writes)), ch.lost, guidUpper)
		}
	}
}

// TestJournalCancelledKeepsSlot: a new session that takes the id and slug of
// a removed one is the one /sessions/{id}.ics finds.
func TestJournalCancelledKeepsSlot(t *testing.T) {
	j := NewMemoryJournal(JournalOptions{Logger: discard()})
	mustApply(t, j, miniSchedule(t), t1)
	s := mustApply(t, j, miniVersion(t, "v2", func(events []Event) []Event {
		for i := range events {
			if events[i].GUID == guidRemote {
				events[i].GUID = guidNew // the source regenerated its guid
			}
		}
		return events
	}), t2)
	if e := mustEvent(t, s, "mini-3-remote"); e.GUID != guidNew || e.Cancelled {
		t.Errorf("slug finds %s (cancelled %v), want the live session", e.GUID, e.Cancelled)
	}
	if e := mustEvent(t, s, guidRemote); !e.Cancelled || e.ID != "" || e.Slug != "" {
		t.Errorf("cancelled twin: %+v", e)
	}
}

// TestBoltJournalDamaged: a damaged file is moved aside, and the fresh
// journal's SEQUENCE numbers are above any the old one gave, so calendar
// apps still accept the updates.
func TestBoltJournalDamaged(t *testing.T) {
	damage := map[string]func(t *testing.T, path string){
		"garbage": func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte("not a bbolt file\n"), 1000))
		},
		"bad_record": func(t *testing.T, path string) {
			spoilKey(t, path, func(tx *bolt.Tx) *bolt.Bucket {
				return tx.Bucket(bucketConferences).Bucket([]byte("mini2024"))
			}, guidBorrow)
		},
		"bad_stamp": func(t *testing.T, path string) {
			spoilKey(t, path, func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketStamps) }, "mini2024")
		},
		"meta_pages": func(t *testing.T, path string) {
			data := readFile(t, path)
			for i := range 2 * 4096 { // both meta pages
				data[i] ^= 0x5a
			}
			writeFile(t, path, data)
		},
		// Meta pages that check out but name the root bucket's page as
		// the freelist: bbolt panics as it opens, before returning a DB.
		"freelist": func(t *testing.T, path string) {
			data := readFile(t, path)
			for _, meta := range [][]byte{data[16:4096], data[4096+16 : 2*4096]} {
				copy(meta[32:40], meta[16:24]) // freelist page = root page
				h := fnv.New64a()
				h.Write(meta[:56])
				binary.LittleEndian.PutUint64(meta[56:64], h.Sum64())
			}
			writeFile(t, path, data)
		},
	}
	for name, spoil := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			j := mustOpenBolt(t, path, JournalOptions{})
			mustApply(t, j, miniSchedule(t), t1)
			before := mustApply(t, j, miniV2(t), t2)
			j.Close()
			spoil(t, path)

			var logs bytes.Buffer
			start := time.Now()
			j = mustOpenBolt(t, path, JournalOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			aside, _ := filepath.Glob(path + ".damaged-*")
			if len(aside) != 1 {
				t.Errorf("damaged file not moved aside: %v", aside)
			}
			if held := openFiles(t, path+".damaged-"); len(held) > 0 {
				t.Errorf("the damaged file is still open, and locked: %v", held)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "JOURNAL DAMAGED") {
				t.Errorf("recovery not logged loudly: %s", logs.String())
			}
			floor := sequenceFloor(start)
			after := mustApply(t, j, miniV2(t), time.Now())
			for _, e := range after.Events {
				old, _ := before.Event(e.GUID)
				if e.Sequence < floor || e.Sequence <= old.Sequence || e.Modified.Before(old.Modified) {
					t.Errorf("%s: sequence %d (floor %d, was %d), modified %v (was %v)", e.GUID, e.Sequence, floor, old.Sequence, e.Modified, old.Modified)
				}
			}

			// The recovery is recorded: after a restart, changes count on from the floor.
			j.Close()
			j = mustOpenBolt(t, path, JournalOptions{})
			next := mustApply(t, j, miniSchedule(t), time.Now())
			if a, b := mustEvent(t, next, guidOpening).Sequence, mustEvent(t, after, guidOpening).Sequence; a != b+1 {
				t.Errorf("renamed back after the recovery: sequence %d, want %d", a, b+1)
			}
			if e := mustEvent(t, next, guidNew); !e.Cancelled || e.Sequence != mustEvent(t, after, guidNew).Sequence+1 {
				t.Errorf("removed after the recovery: %+v", e)
			}
		})
	}
}

// openFiles lists the files this process holds open whose paths start
// with prefix; where /proc/self/fd is not to be read, none.
func openFiles(t *testing.T, prefix string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var open []string
	for _, fd := range fds {
		if name, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(name, prefix) {
			open = append(open, name)
		}
	}
	return open
}

// TestBoltJournalFormat1: a journal file in format 1, which kept each
// session's content in its revision, is moved to format 2 when it opens,
// and goes on as if it had always been. testdata/journal-format1.db was
// written by the format 1 code: the mini schedule at t1, then miniV2 at t2,
// which cancelled guidRemote.
func TestBoltJournalFormat1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeFile(t, path, readFile(t, "testdata/journal-format1.db"))
	var logs bytes.Buffer
	old := mustOpenBolt(t, path, JournalOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "journal converted") {
		t.Errorf("the conversion is not logged:\n%s", logs.String())
	}
	fresh := mustOpenBolt(t, filepath.Join(t.TempDir(), "fresh.db"), JournalOptions{})
	mustApply(t, fresh, miniSchedule(t), t1)
	mustApply(t, fresh, miniV2(t), t2)

	for _, step := range []struct {
		name string
		s    *Schedule
		at   time.Time
	}{
		{"miniV2 again", miniV2(t), t3},                           // guidRemote shows cancelled, from its moved content
		{"back to the first", miniSchedule(t), t3.Add(time.Hour)}, // guidRemote is restored, guidNew cancelled
	} {
		got, want := mustApply(t, old, step.s, step.at), mustApply(t, fresh, step.s, step.at)
		if g, w := renderFeed(t, got, Filter{}), renderFeed(t, want, Filter{}); !bytes.Equal(g, w) {
			t.Errorf("%s: the moved journal renders\n%s\nwant\n%s", step.name, g, w)
		}
		if step.name == "miniV2 again" && !mustEvent(t, got, guidRemote).Cancelled {
			t.Errorf("%s: %s is not shown cancelled", step.name, guidRemote)
		}
	}
	err := old.db.View(func(tx *bolt.Tx) error {
		if f := tx.Bucket(bucketMeta).Get(keyFormat); string(f) != journalFormat {
			t.Errorf("format %q, want %q", f, journalFormat)
		}
		return tx.Bucket(bucketConferences).Bucket([]byte("mini2024")).ForEach(func(guid, v []byte) error {
			if bytes.Contains(v, []byte(`"event"`)) {
				t.Errorf("%s still holds its content: %s", guid, v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBoltJournalFormat1Pages: the revisions of a large format 1 journal,
// once their contents are moved out, fill their pages as a first load's
// do; bbolt left alone keeps the pages of the longer values, mostly empty.
func TestBoltJournalFormat1Pages(t *testing.T) {
	s := syntheticSchedule(t, 2000)
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyFormat, []byte(journalFormat1)); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketStamps); err != nil {
			return err
		}
		confs, err := tx.CreateBucket(bucketConferences)
		if err != nil {
			return err
		}
		b, err := confs.CreateBucket([]byte(s.Conference.Acronym))
		if err != nil {
			return err
		}
		for _, e := range s.Events {
			data, err := marshalEvent(e)
			if err != nil {
				return err
			}
			v, err := json.Marshal(map[string]any{"hash": materialHash(e), "content": contentHash(data), "seq": 0,
				"modified": s.Updated, "event": json.RawMessage(data)})
			if err != nil {
				return err
			}
			if err := b.Put([]byte(e.GUID), v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	j := mustOpenBolt(t, path, JournalOptions{})
	var st bolt.BucketStats
	err = j.db.View(func(tx *bolt.Tx) error {
		st = tx.Bucket(bucketConferences).Bucket([]byte(s.Conference.Acronym)).Stats()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.KeyN != len(s.Events) || st.LeafInuse*2 < st.LeafAlloc {
		t.Errorf("after the conversion, %d revisions use %d of the %d bytes of their pages; want all %d, in pages at least half full",
			st.KeyN, st.LeafInuse, st.LeafAlloc, len(s.Events))
	}
	if got := mustApply(t, j, s, t1); len(got.Events) != len(s.Events) || hasCancelled(got) {
		t.Errorf("the converted journal revises the same schedule to %d sessions, cancelled among them: %v", len(got.Events), hasCancelled(got))
	}
}

// TestBoltJournalLostContent: the kept content of a cancelled session that
// is unusable costs that session its cancelled entry, with an error
// logged, and not the journal or the load.
func TestBoltJournalLostContent(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":      "{not json",
		"not a session": "{}",
		"no duration":   `{"Start":"2024-04-10T08:00:00Z","Duration":-1}`,
		"year 1":        `{"Start":"0001-04-10T08:00:00Z","Duration":3600000000000}`,
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) { testLostContent(t, content) })
	}
}

func testLostContent(t *testing.T, content string) {
	path := filepath.Join(t.TempDir(), "state.db")
	j := mustOpenBolt(t, path, JournalOptions{})
	mustApply(t, j, miniSchedule(t), t1)
	before := mustApply(t, j, miniV2(t), t2)
	if !mustEvent(t, before, guidRemote).Cancelled {
		t.Fatalf("%s is not cancelled to begin with", guidRemote)
	}
	j.Close()
	putKey(t, path, func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketContents).Bucket([]byte("mini2024")) }, guidRemote, content)

	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	j = mustOpenBolt(t, path, JournalOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Registerer: reg})
	if aside, _ := filepath.Glob(path + ".damaged-*"); len(aside) != 0 {
		t.Errorf("the file was taken for damaged: %v", aside)
	}
	after := mustApply(t, j, miniV2(t), t3)
	if _, ok := after.Event(guidRemote); ok {
		t.Errorf("%s, whose content does not decode, is still in the feeds", guidRemote)
	}
	if e := mustEvent(t, after, guidOpening); e.Sequence != mustEvent(t, before, guidOpening).Sequence {
		t.Errorf("%s: sequence %d, want it kept", guidOpening, e.Sequence)
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, guidRemote) {
		t.Errorf("the lost content is not logged as an error naming the session:\n%s", l)
	}
	if n := journalCounts(t, reg, "mini2024")["lost"]; n != 1 {
		t.Errorf(`confcal_journal_changes_total{change="lost"} = %v, want 1`, n)
	}
	logs.Reset()
	mustApply(t, j, miniV2(t), t3.Add(time.Hour))
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the lost content is logged again at the next load:\n%s", logs.String())
	}
}

// TestBoltJournalSize: a small journal takes a small file, whatever
// address space the journal maps.
func TestBoltJournalSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	j := mustOpenBolt(t, path, JournalOptions{})
	mustApply(t, j, workshop(t), t1)
	if err := j.SaveSource("schedule.json", gzipBytes(fixtures.DyNN2022), t1); err != nil {
		t.Fatal(err)
	}
	j.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 2<<20 {
		t.Errorf("the workshop's journal takes %d bytes, want under 2 MiB", info.Size())
	}
}

// TestOpenMappedLimited: where the address space mmapSize asks for is not to
// be had (ulimit -v), the journal opens all the same.
func TestOpenMappedLimited(t *testing.T) {
	if mmapSize() == 0 {
		t.Skip("bbolt chooses the mapping on this platform")
	}
	var asked []int
	limited := func(path string, mode os.FileMode, opts *bolt.Options) (*bolt.DB, error) {
		asked = append(asked, opts.InitialMmapSize)
		if opts.InitialMmapSize > 64<<20 {
			return nil, syscall.ENOMEM
		}
		return bolt.Open(path, mode, opts)
	}
	db, err := openMapped(filepath.Join(t.TempDir(), "state.db"), limited)
	if err != nil {
		t.Fatalf("with the mapping refused: %v (asked for %v)", err, asked)
	}
	db.Close()
	if len(asked) != 2 || asked[1] != 0 {
		t.Errorf("asked for %v bytes of mapping; want mmapSize, then what the file needs", asked)
	}
}

// TestBoltJournalDamagedTwice: a file damaged again, within the same
// second, is moved aside beside the first, not over it.
func TestBoltJournalDamagedTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	for range 2 {
		writeFile(t, path, bytes.Repeat([]byte("not a bbolt file\n"), 1000))
		mustOpenBolt(t, path, JournalOptions{}).Close()
	}
	if aside, _ := filepath.Glob(path + ".damaged-*"); len(aside) != 2 {
		t.Errorf("damaged files moved aside: %v, want 2", aside)
	}
}

// spoilKey overwrites key, in the bucket of the bolt file at path that
// bucket finds, with what is not JSON.
func spoilKey(t *testing.T, path string, bucket func(tx *bolt.Tx) *bolt.Bucket, key string) {
	t.Helper()
	putKey(t, path, bucket, key, "{not json")
}

// putKey sets key, in the bucket of the bolt file at path that bucket
// finds, to value.
func putKey(t *testing.T, path string, bucket func(tx *bolt.Tx) *bolt.Bucket, key, value string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error { return bucket(tx).Put([]byte(key), []byte(value)) })
	if err != nil {
		t.Fatal(err)
	}
}

// TestBoltJournalLocked: a second process (here a second open) gets a clear
// error, and the file is not taken for damaged.
func TestBoltJournalLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	mustOpenBolt(t, path, JournalOptions{})
	_, err := OpenBoltJournal(path, JournalOptions{Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("second open: %v", err)
	}
	if aside, _ := filepath.Glob(path + ".damaged-*"); len(aside) != 0 {
		t.Errorf("a locked file was moved aside: %v", aside)
	}
}

// TestBoltJournalNotAFile: a path that cannot hold a journal is an error,
// and nothing is moved.
func TestBoltJournalNotAFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenBoltJournal(dir, JournalOptions{Logger: discard()}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("journal in a directory's place: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Error(err)
	}
}

// TestJournalConcurrent applies schedules of two conferences from many
// goroutines (run with -race): every result for the same input is the same.
func TestJournalConcurrent(t *testing.T) {
	for _, jc := range journalCases()[:2] {
		t.Run(jc.name, func(t *testing.T) {
			j := jc.open(t, JournalOptions{})
			other := func() *Schedule {
				s := miniV2(t)
				conf := s.Conference
				conf.Acronym = "other2024"
				o, err := NewSchedule(conf, s.Events)
				if err != nil {
					t.Fatal(err)
				}
				o.Version, o.Updated = "o1", s.Updated
				return o
			}
			mustApply(t, j, miniSchedule(t), t1)
			want := mustApply(t, j, miniV2(t), t2).Version
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					src := miniV2(t)
					if i%2 == 1 {
						src = other()
					}
					s, err := j.Apply(context.Background(), src, t2.Add(time.Duration(i)*time.Second))
					if err != nil {
						t.Error(err)
						return
					}
					if i%2 == 0 && s.Version != want {
						t.Errorf("Version %s, want %s", s.Version, want)
					}
					render(t, Calendar(s, s.Events, View{Zone: time.UTC}))
				})
			}
			wg.Wait()
		})
	}
}

// dynnV2 is the workshop with one session renamed, one moved to the end of
// the day and one whose guid the source regenerated (a removal and an
// addition).
func dynnV2() []byte {
	data := renamed()
	data = bytes.Replace(data,
		[]byte(`"guid": "ca4db96a-0176-5c59-9138-6e76355ab3e1",
                "date": "2022-07-22T11:00:00-04:00",
                "start": "11:00",
                "end": "2022-07-22T11:15:00-04:00",`),
		[]byte(`"guid": "ca4db96a-0176-5c59-9138-6e76355ab3e1",
                "date": "2022-07-22T20:30:00-04:00",
                "start": "20:30",
                "end": "2022-07-22T20:45:00-04:00",`), 1)
	return bytes.Replace(data, []byte(`"guid": "fab154a8-2526-57df-aa42-e30b8787d8eb"`), []byte(`"guid": "0e2b9d4c-6b8a-4d36-9d1c-2f0b3c7a9e11"`), 1)
}

// TestReloaderJournal drives the reloader with a bolt journal over the
// workshop: a reload with changes, a restart that keeps the revisions, a
// cancellation expiring while the source stays the same, and a journal that
// fails, which keeps the last good schedule serving.
func TestReloaderJournal(t *testing.T) {
	dir := t.TempDir()
	schedule, state := filepath.Join(dir, "schedule.json"), filepath.Join(dir, "state.db")
	writeFile(t, schedule, fixtures.DyNN2022)
	const keep = 24 * time.Hour
	clock := t1
	start := func() (*Reloader, *Store, *prometheus.Registry, *BoltJournal) {
		t.Helper()
		j := mustOpenBolt(t, state, JournalOptions{KeepCancelled: keep})
		reg := prometheus.NewRegistry()
		r := NewReloader(slog.New(slog.NewTextHandler(io.Discard, nil)), reg, []Source{{Location: schedule}}, LoadOptions{})
		r.SetJournal(j)
		r.now = func() time.Time { return clock }
		store, err := r.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r, store, reg, j
	}
	r, store, _, j := start()
	first := store.Default()
	if first.Version != contentVersion(fixtures.DyNN2022)+"@"+strconv.FormatInt(t1.Unix(), 10) {
		t.Errorf("first load Version %s", first.Version)
	}

	writeFile(t, schedule, dynnV2())
	clock = t2
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := store.Default()
	moved := mustEvent(t, second, "ca4db96a-0176-5c59-9138-6e76355ab3e1")
	gone := mustEvent(t, second, "fab154a8-2526-57df-aa42-e30b8787d8eb")
	added := mustEvent(t, second, "0e2b9d4c-6b8a-4d36-9d1c-2f0b3c7a9e11")
	if moved.Sequence != 1 || !moved.Modified.Equal(t2) || !gone.Cancelled || gone.Sequence != 1 || added.Sequence != 0 ||
		mustEvent(t, second, second.Events[0].GUID).Sequence != 1 {
		t.Errorf("after the reload: moved %d, removed %d/%v, new %d, renamed %d",
			moved.Sequence, gone.Sequence, gone.Cancelled, added.Sequence, second.Events[0].Sequence)
	}
	if second.Events[len(second.Events)-1].GUID != moved.GUID {
		t.Error("the moved session is not sorted to the end of the day")
	}
	feed := func(s *Schedule) []byte {
		return render(t, Calendar(s, s.Events, View{Zone: s.Conference.Location}))
	}
	want := feed(second)
	ev1, ev2 := vevents(t, feed(first)), vevents(t, want)
	untouched := 0
	for _, e := range second.Events {
		if e.Sequence == 0 && e.GUID != added.GUID {
			untouched++
			if ev1[e.GUID] != ev2[e.GUID] {
				t.Errorf("the VEVENT of untouched %q changed", e.Title)
			}
		}
	}
	if untouched != len(first.Events)-3 {
		t.Errorf("%d untouched sessions, want %d", untouched, len(first.Events)-3)
	}

	// A restart with the journal kept serves the same bytes.
	j.Close()
	r, store, reg, j := start()
	if got := store.Default(); got.Version != second.Version || !bytes.Equal(feed(got), want) {
		t.Errorf("after a restart: Version %s (want %s)", got.Version, second.Version)
	}

	// The source stays the same; the cancellation expires.
	clock = t2.Add(keep - time.Minute)
	if err := r.Reload(context.Background()); err != nil || store.Default().Version != second.Version {
		t.Errorf("reload before the expiry changed the schedule (%v)", err)
	}
	clock = t2.Add(keep)
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	third := store.Default()
	if _, ok := third.Event(gone.GUID); ok || third.Version == second.Version {
		t.Errorf("the expired cancellation is still served (Version %s)", third.Version)
	}

	// A journal that fails: the last good schedule keeps serving.
	j.Close()
	writeFile(t, schedule, fixtures.DyNN2022)
	if err := r.Reload(context.Background()); err == nil {
		t.Error("reload with a closed journal succeeded")
	}
	if store.Default() != third || loads(t, reg, resultError) != 1 {
		t.Error("a journal failure replaced the schedule or was not counted")
	}
}

// TestLastModifiedServed: through the handler, a schedule changed and then
// changed back is served with the content of now and a Last-Modified that
// grew each time, though its first renders are still cached; a client
// that saw the change and asks If-Modified-Since gets it, and a date
// later than now, invalid by RFC 2616 §14.25, is not taken as ours.
func TestLastModifiedServed(t *testing.T) {
	j := NewMemoryJournal(JournalOptions{Logger: discard()})
	renamed := miniVersion(t, "vB", nil)
	renamed.Conference.Title = "Mini Conf 2024 (renamed)"
	store, err := NewStore(mustApply(t, j, miniVersion(t, "vA", nil), t1))
	if err != nil {
		t.Fatal(err)
	}
	h := NewServer(discard(), store, prometheus.NewRegistry(), Options{})
	get := func(ims string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/feed.ics", nil)
		if ims != "" {
			req.Header.Set("If-Modified-Since", ims)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	check := func(name string, rec *httptest.ResponseRecorder, code int, modified time.Time, title string) {
		t.Helper()
		if rec.Code != code {
			t.Errorf("%s: status %d, want %d", name, rec.Code, code)
		}
		if got, want := rec.Header().Get("Last-Modified"), modified.UTC().Format(http.TimeFormat); code == http.StatusOK && got != want {
			t.Errorf("%s: Last-Modified %q, want %q", name, got, want)
		}
		if title != "" && !strings.Contains(rec.Body.String(), "X-WR-CALNAME:"+title+" (times in Europe/Berlin)\r\n") {
			t.Errorf("%s: the feed is not titled %q:\n%.300s", name, title, rec.Body)
		}
	}

	check("first", get(""), http.StatusOK, t1, "Mini Conf 2024")
	store.Replace(mustApply(t, j, renamed, t2))
	seen := get("")
	check("renamed", seen, http.StatusOK, t2, "Mini Conf 2024 (renamed)")
	store.Replace(mustApply(t, j, miniVersion(t, "vA", nil), t3))
	back := get(seen.Header().Get("Last-Modified"))
	check("renamed back", back, http.StatusOK, t3, "Mini Conf 2024")
	check("renamed back, asked again", get(back.Header().Get("Last-Modified")), http.StatusNotModified, t3, "")
	check("a date from the future", get(time.Now().Add(48*time.Hour).UTC().Format(http.TimeFormat)), http.StatusOK, t3, "Mini Conf 2024")
}

// TestBoltJournalSources: a source's last good bytes survive a reopen, the
// same bytes are not written again, and a damaged copy is an error, not
// bytes to serve.
func TestBoltJournalSources(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	j := mustOpenBolt(t, path, JournalOptions{})
	if _, _, err := j.LastSource("a.json"); !errors.Is(err, ErrNoSavedSource) {
		t.Errorf("no copy yet: %v", err)
	}
	data := gzipBytes(bytes.Repeat([]byte("schedule bytes "), 1000))
	if err := j.SaveSource("a.json", data, t1); err != nil {
		t.Fatal(err)
	}
	if err := j.SaveSource("a.json", data, t2); err != nil { // the same bytes
		t.Fatal(err)
	}
	j.Close()

	j = mustOpenBolt(t, path, JournalOptions{})
	got, saved, err := j.LastSource("a.json")
	if err != nil || !bytes.Equal(got, data) || !saved.Equal(t1) {
		t.Errorf("after a reopen: %d bytes, kept %v, %v; want %d bytes kept %v", len(got), saved, err, len(data), t1)
	}
	if _, _, err := j.LastSource("b.json"); !errors.Is(err, ErrNoSavedSource) {
		t.Errorf("another source's copy: %v", err)
	}
	j.Close()

	spoilKey(t, path, func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketSources).Bucket([]byte("a.json")) }, string(keyData))
	j = mustOpenBolt(t, path, JournalOptions{})
	defer j.Close()
	if got, _, err := j.LastSource("a.json"); err == nil || errors.Is(err, ErrNoSavedSource) || got != nil {
		t.Errorf("a damaged copy: %d bytes, %v; want an error", len(got), err)
	}
	// The next good load of the same bytes repairs it.
	if err := j.SaveSource("a.json", data, t2); err != nil {
		t.Fatal(err)
	}
	if got, _, err := j.LastSource("a.json"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("after saving the same bytes again: %d bytes, %v", len(got), err)
	}
}

// TestBoltJournalSourcesDamagedPage: bbolt panics on a damaged page; the
// copies' methods return an error instead, so a start or a reload goes on.
func TestBoltJournalSourcesDamagedPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	j := mustOpenBolt(t, path, JournalOptions{})
	noise := make([]byte, 64<<10) // incompressible: the copy gets pages of its own
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	if err := j.SaveSource("a.json", gzipBytes(noise), t1); err != nil {
		t.Fatal(err)
	}
	var root, pageSize int
	j.db.View(func(tx *bolt.Tx) error {
		root, pageSize = int(sourceBucket(tx, "a.json").Root()), tx.DB().Info().PageSize
		return nil
	})
	j.Close()
	if root == 0 {
		t.Fatal("the copy's bucket is inline: nothing to damage")
	}
	data := readFile(t, path)
	data[root*pageSize+8] = 0x77 // the page's flags
	writeFile(t, path, data)

	j = mustOpenBolt(t, path, JournalOptions{})
	defer j.Close()
	if _, _, err := j.LastSource("a.json"); err == nil || errors.Is(err, ErrNoSavedSource) {
		t.Errorf("LastSource on a damaged page: %v; want an error", err)
	}
	if err := j.SaveSource("a.json", gzipBytes([]byte("new")), t2); err == nil {
		t.Error("SaveSource on a damaged page succeeded")
	}
}

// FuzzJournal applies a sequence of schedules, which data describes, to a
// MemoryJournal and to a BoltJournal that restarts between some loads, and
// checks what calendar apps rely on to follow changes:
//   - a session in the source is in the feeds, not cancelled; one that left
//     it stays, cancelled and as it was last seen, until it has been gone for
//     KeepCancelled, and then leaves the feeds;
//   - a session's SEQUENCE never goes down, grows when what makes it
//     material changes, and stays when nothing does; LAST-MODIFIED never goes
//     down;
//   - both journals, and so a restart, revise alike.
//
// Each step of data is 4 bytes: which of 5 sessions the source holds (a
// bit each), which of them have a second title (a material change), which
// a second abstract (not material), and the hours since the step before
// (the low 7 bits; the high bit restarts the bolt journal first).
func FuzzJournal(f *testing.F) {
	f.Add([]byte{0x1f, 0, 0, 1, 0x0f, 0x01, 0x02, 1, 0x1f, 0x01, 0x02, 0x81})
	f.Add([]byte{0x03, 0, 0, 0, 0x01, 0, 0, 100, 0x01, 0, 0, 100, 0x03, 0x02, 0, 0x80})
	f.Add([]byte{0x1f, 0x1f, 0x1f, 0, 0, 0, 0, 47, 0, 0, 0, 1, 0x1f, 0, 0, 0x81})
	const sessions, keep = 5, 48 * time.Hour
	conf := miniSchedule(f).Conference
	start := time.Date(2024, 3, 30, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4*16 {
			data = data[:4*16]
		}
		path := filepath.Join(fuzzDir(t), "state.db")
		opts := JournalOptions{KeepCancelled: keep, Logger: discard()}
		mem := NewMemoryJournal(opts)
		bolt, err := OpenBoltJournal(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if bolt != nil {
				bolt.Close()
			}
		}()

		type seen struct {
			seq      int
			modified time.Time
			title    string
			material byte // the variant bit last seen in the source
			gone     time.Time
		}
		last := map[string]*seen{}
		var lastModified time.Time
		now := t1
		for step := 0; step+4 <= len(data); step += 4 {
			present, titles, abstracts, advance := data[step], data[step+1], data[step+2], data[step+3]
			now = now.Add(time.Duration(advance&0x7f) * time.Hour)
			if advance&0x80 != 0 {
				bolt.Close()
				if bolt, err = OpenBoltJournal(path, opts); err != nil {
					t.Fatal(err)
				}
			}
			var events []Event
			for i := range sessions {
				bit := byte(1) << i
				if present&bit == 0 {
					continue
				}
				e := Event{GUID: fmt.Sprintf("g%d", i), ID: strconv.Itoa(i), Title: fmt.Sprintf("Session %d", i),
					Abstract: "First abstract.", Start: start.Add(time.Duration(i) * time.Hour), Duration: 30 * time.Minute}
				if titles&bit != 0 {
					e.Title += ", renamed"
				}
				if abstracts&bit != 0 {
					e.Abstract = "Second abstract."
				}
				events = append(events, e)
			}
			src, err := NewSchedule(conf, events)
			if err != nil {
				t.Fatal(err)
			}
			src.Version = fmt.Sprintf("%02x%02x%02x", present&0x1f, titles&present&0x1f, abstracts&present&0x1f)
			src.Updated = t1

			got := mustApply(t, mem, src, now)
			fromBolt := mustApply(t, bolt, src, now)
			if got.Version != fromBolt.Version || !slices.EqualFunc(got.Events, fromBolt.Events, func(a, b Event) bool {
				return a.GUID == b.GUID && a.Sequence == b.Sequence && a.Modified.Equal(b.Modified) && a.Cancelled == b.Cancelled && a.Title == b.Title && a.Abstract == b.Abstract
			}) {
				t.Fatalf("step %d: the journals differ:\nmemory %s %+v\nbolt   %s %+v", step/4, got.Version, got.Events, fromBolt.Version, fromBolt.Events)
			}
			if lm := got.LastModified(); lm.Before(lastModified) {
				t.Errorf("step %d: LAST-MODIFIED went down from %v to %v", step/4, lastModified, lm)
			} else {
				lastModified = lm
			}

			for i := range sessions {
				guid, bit := fmt.Sprintf("g%d", i), byte(1)<<i
				e, inFeeds := got.Event(guid)
				if e.Modified.IsZero() {
					e.Modified = got.Updated // as feeds show it
				}
				prev := last[guid]
				switch {
				case present&bit != 0:
					if !inFeeds || e.Cancelled {
						t.Fatalf("step %d: %s is in the source, but in the feeds %v, cancelled %v", step/4, guid, inFeeds, e.Cancelled)
					}
				case prev == nil:
					if inFeeds {
						t.Fatalf("step %d: %s, never in the source, is in the feeds", step/4, guid)
					}
					continue
				default:
					if prev.gone.IsZero() {
						prev.gone = now
					}
					if want := now.Sub(prev.gone) < keep; inFeeds != want || inFeeds && (!e.Cancelled || e.Title != prev.title) {
						t.Fatalf("step %d: %s, gone for %v: in the feeds %v (want %v), cancelled %v, title %q (was %q)",
							step/4, guid, now.Sub(prev.gone), inFeeds, want, e.Cancelled, e.Title, prev.title)
					}
					if !inFeeds {
						continue
					}
				}
				if prev != nil {
					switch back := !prev.gone.IsZero() && present&bit != 0; {
					case e.Sequence < prev.seq:
						t.Errorf("step %d: %s: SEQUENCE went down from %d to %d", step/4, guid, prev.seq, e.Sequence)
					case e.Modified.Before(prev.modified):
						t.Errorf("step %d: %s: modified went back from %v to %v", step/4, guid, prev.modified, e.Modified)
					case present&bit != 0 && !back && (titles&bit != 0) != (prev.material != 0) && e.Sequence == prev.seq:
						t.Errorf("step %d: %s: renamed, but SEQUENCE stays %d", step/4, guid, e.Sequence)
					case present&bit != 0 && !back && (titles&bit != 0) == (prev.material != 0) && e.Sequence != prev.seq:
						t.Errorf("step %d: %s: nothing material changed, but SEQUENCE went from %d to %d", step/4, guid, prev.seq, e.Sequence)
					case back && e.Sequence == prev.seq:
						t.Errorf("step %d: %s: back in the source, but SEQUENCE stays %d", step/4, guid, e.Sequence)
					}
				}
				if prev == nil {
					prev = &seen{}
					last[guid] = prev
				}
				prev.seq, prev.modified = e.Sequence, e.Modified
				if present&bit != 0 {
					prev.title, prev.material, prev.gone = e.Title, titles&bit, time.Time{}
				}
			}
		}
	})
}
