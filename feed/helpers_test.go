package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/confcal/confcal/timezone"
)

// mustZone loads an IANA zone from the embedded database, as the service
// does, or fails the test.
func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := timezone.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// miniSchedule is a small hand-made conference in Europe/Berlin whose two
// days straddle the 2024 spring-forward (31 March, 02:00 → 03:00), with
// names that exercise slug folding and text escaping.
func miniSchedule(t testing.TB) *Schedule {
	t.Helper()
	berlin := mustZone(t, "Europe/Berlin")
	at := func(day, hour, minute int) time.Time { return time.Date(2024, 3, day, hour, minute, 0, 0, berlin) }
	gopher := Track{Name: "Go & Friends", Color: "#00add8"}
	rust := Track{Name: "Rust"}
	events := []Event{
		{GUID: "11111111-1111-4111-8111-111111111111", ID: "1", Slug: "mini-1-opening", Start: at(30, 9, 0), Duration: 30 * time.Minute,
			Room: "Hall A", Title: "Opening; welcome, everyone", Type: "talk", Track: gopher, Language: "en",
			Abstract: "Line one.\r\nLine two, with a comma; and a semicolon.\\", URL: "https://mini.example.org/talk/1",
			Speakers: []Speaker{{ID: "p1", Name: "Jürgen Schmidhuber"}, {ID: "p2", Name: "Zhangyang “Atlas” Wang"}}},
		{GUID: "22222222-2222-4222-8222-222222222222", ID: "2", Slug: "mini-2-borrow", Start: at(30, 10, 0), Duration: 45 * time.Minute,
			Room: "Hall B", Title: "Borrowing without tears", Type: "talk", Track: rust,
			Abstract: strings.Repeat("Ownership, lifetimes and the borrow checker explained with ünïcödé 🦀. ", 4),
			Speakers: []Speaker{{ID: "p3", Name: "ZIHAO DENG"}}},
		{GUID: "33333333-3333-4333-8333-333333333333", ID: "3", Slug: "mini-3-remote", Start: at(31, 1, 30), Duration: 60 * time.Minute,
			Room: "Online", Online: true, Title: "A talk across the clock change", Type: "talk", Track: gopher,
			Speakers: []Speaker{{ID: "p1", Name: "Jürgen Schmidhuber"}}},
		{GUID: "44444444-4444-4444-8444-444444444444", ID: "4", Slug: "mini-4-lunch", Start: at(31, 12, 0), Duration: 90 * time.Minute,
			Title: "Lunch", Type: "break"},
	}
	s, err := NewSchedule(Conference{
		Acronym: "mini2024", Title: "Mini Conf 2024", TimeZone: "Europe/Berlin", Location: berlin,
		URL: "https://mini.example.org/", Venue: "Kongresshaus",
	}, events)
	if err != nil {
		t.Fatal(err)
	}
	s.Version = "test-version"
	s.Updated = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	return s
}

// render serializes a calendar as the service does.
func render(t testing.TB, cal *ics.Calendar) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, cal); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkGolden checks a rendered feed against RFC 5545 and compares it with
// testdata/name.ics, which -update rewrites.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	checkRFC5545(t, got)
	golden := filepath.Join("testdata", name+".ics")
	if *update {
		writeFile(t, golden, got)
	}
	if want := readFile(t, golden); !bytes.Equal(got, want) {
		t.Errorf("output differs from %s; check the diff, then rerun with -update", golden)
	}
}

// fuzzDir is a directory for one fuzz input's files, removed when the
// input is done: in memory when /dev/shm is there, so that bbolt's fsyncs
// cost nothing. Its name holds the process's ID, so that the directories
// of a fuzz worker that was killed are removed by the next run.
func fuzzDir(t *testing.T) string {
	orphansRemoved.Do(func() { removeOrphanFuzzDirs("/dev/shm") })
	dir, err := os.MkdirTemp("/dev/shm", fmt.Sprintf("confcal-fuzz-%d-", os.Getpid()))
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// orphansRemoved makes each process remove orphans once.
var orphansRemoved sync.Once

// removeOrphanFuzzDirs removes the directories in root that fuzzDir made
// for processes that no longer run.
func removeOrphanFuzzDirs(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, "confcal-fuzz-*-*"))
	for _, dir := range dirs {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), "confcal-fuzz-"), "-")
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(dir)
		}
	}
}

// quietHandler serves store with opts, logging nowhere and registering
// its metrics where nothing gathers them: without /metrics, whose counts
// change from one request to the next.
func quietHandler(store *Store, opts Options) http.Handler {
	return NewServer(discard(), store, struct{ prometheus.Registerer }{prometheus.NewRegistry()}, opts)
}

// TestRemoveOrphanFuzzDirs: what a killed fuzz worker left goes, what a
// running process uses stays.
func TestRemoveOrphanFuzzDirs(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("no /proc to tell running processes by")
	}
	root := t.TempDir()
	mine := filepath.Join(root, fmt.Sprintf("confcal-fuzz-%d-1", os.Getpid()))
	orphan := filepath.Join(root, "confcal-fuzz-2147483647-1") // above any pid_max
	other := filepath.Join(root, "something-else-1")
	for _, dir := range []string{mine, orphan, other} {
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removeOrphanFuzzDirs(root)
	for dir, want := range map[string]bool{mine: true, orphan: false, other: true} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(dir), err == nil, want)
		}
	}
}
