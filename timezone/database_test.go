package timezone

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedDatabase checks that the embedded zoneinfo.zip is the one gen.go
// copied when it wrote tables.go (so TZDataVersion and the name tables
// describe it), that its files are stored, and that it has every zone of
// Names.
func TestEmbeddedDatabase(t *testing.T) {
	sum := sha256.Sum256([]byte(zoneinfoZip))
	if got := hex.EncodeToString(sum[:]); got != zoneinfoSHA256 {
		t.Fatalf("zoneinfo.zip has SHA-256 %s, tables.go was generated from %s: run go generate ./timezone", got, zoneinfoSHA256)
	}
	files, err := zoneFiles()
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		if f.Method != zip.Store {
			t.Errorf("%s: compression method %d, want stored", name, f.Method)
		}
	}
	for _, n := range Names() {
		if _, ok := files[n]; !ok {
			t.Errorf("zone %s is not in zoneinfo.zip", n)
		}
	}
}

// hostDatabaseEnv marks the child process of TestLoadIgnoresHostDatabase.
const hostDatabaseEnv = "CONFCAL_TEST_BOGUS_ZONEINFO"

// TestLoadIgnoresHostDatabase runs the test binary again with ZONEINFO
// pointing at a zoneinfo directory whose Europe/Berlin is Asia/Karachi's data
// (UTC+5, no DST): time.LoadLocation prefers that directory, Load must not.
// A child process is needed because the time package reads ZONEINFO once per
// process, and other tests may already have loaded zones.
func TestLoadIgnoresHostDatabase(t *testing.T) {
	if os.Getenv(hostDatabaseEnv) != "" {
		checkBogusZoneinfo(t)
		return
	}
	karachi, err := zoneData("Asia/Karachi")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "Europe"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Europe", "Berlin"), karachi, 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestLoadIgnoresHostDatabase$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "ZONEINFO="+dir, hostDatabaseEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestLoadIgnoresHostDatabase") {
		t.Fatalf("child with ZONEINFO=%s: %v\n%s", dir, err, out)
	}
}

// checkBogusZoneinfo is the child's half of TestLoadIgnoresHostDatabase.
func checkBogusZoneinfo(t *testing.T) {
	jan := time.Date(2022, time.January, 15, 12, 0, 0, 0, time.UTC)
	jul := time.Date(2022, time.July, 15, 12, 0, 0, 0, time.UTC)
	offsets := func(loc *time.Location) [2]int {
		_, a := jan.In(loc).Zone()
		_, b := jul.In(loc).Zone()
		return [2]int{a, b}
	}
	// The control: the bogus database is in effect for the time package.
	host, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if got := offsets(host); got != [2]int{5 * 3600, 5 * 3600} {
		t.Fatalf("time.LoadLocation(Europe/Berlin) with the bogus ZONEINFO gives offsets %v, want UTC+5: the test does not test anything", got)
	}
	loc, err := Load("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if got := offsets(loc); got != [2]int{3600, 2 * 3600} {
		t.Errorf("Load(Europe/Berlin) gives offsets %v, want CET +3600 and CEST +7200", got)
	}
	// A Windows name and a link resolve through the same database.
	for _, n := range []string{"W. Europe Standard Time", "europe/berlin"} {
		if l, err := Load(n); err != nil || l != loc {
			t.Errorf("Load(%q) = %v, %v; want the embedded Europe/Berlin", n, l, err)
		}
	}
	if got := serialize(VTimezone(loc, jul, jul)); !strings.Contains(got, "TZOFFSETTO:+0200") || strings.Contains(got, "+0500") {
		t.Errorf("VTIMEZONE from the host database:\n%s", got)
	}
}

// TestFattenSameZone checks that the locations Load returns, whose
// transitions through 2037 fatten wrote out, give the same abbreviation,
// offset and DST flag as the embedded data read as it is, at every transition
// and a second before it and at instants spread from 1900 to 2100; and that
// their ZoneBounds advance from 1970 to 2038, as code that walks from bound to
// bound needs.
func TestFattenSameZone(t *testing.T) {
	r := rand.New(rand.NewPCG(2022, 7))
	lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, name := range Names() {
		data, err := zoneData(name)
		if err != nil {
			t.Fatal(err)
		}
		slim, err := time.LoadLocationFromTZData(name, data)
		if err != nil {
			t.Fatal(err)
		}
		fat, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if fat == time.UTC {
			continue // Etc/UTC and Etc/GMT: see Load
		}
		var instants []time.Time
		for range 500 {
			instants = append(instants, time.Unix(lo+r.Int64N(hi-lo), 0))
		}
		bounds := 0
		for at := fatUntil.AddDate(-68, 0, 0); ; bounds++ {
			_, next := at.In(fat).ZoneBounds()
			if next.IsZero() || !next.Before(fatUntil) {
				break
			}
			if !next.After(at) {
				t.Fatalf("%s: ZoneBounds at %s ends at %s", name, at, next)
			}
			instants = append(instants, next.Add(-time.Second), next)
			at = next
		}
		for _, at := range instants {
			a, b := at.In(slim), at.In(fat)
			an, ao := a.Zone()
			bn, bo := b.Zone()
			if an != bn || ao != bo || a.IsDST() != b.IsDST() {
				t.Fatalf("%s at %s: embedded data gives %s %d %v, Load %s %d %v", name, at.UTC(), an, ao, a.IsDST(), bn, bo, b.IsDST())
			}
		}
	}
}

// TestFattenBerlin pins what fatten does to a zone with a yearly rule: the
// embedded data ends with the transition of March 1996, after which its
// footer rule applies; the data Load uses has the EU transitions of every
// year through 2037.
func TestFattenBerlin(t *testing.T) {
	data, err := zoneData("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	slim, err := parseTZif(data)
	if err != nil {
		t.Fatal(err)
	}
	fatData, err := fatten("Europe/Berlin", data)
	if err != nil {
		t.Fatal(err)
	}
	fat, err := parseTZif(fatData)
	if err != nil {
		t.Fatal(err)
	}
	if last := time.Unix(slim.times[len(slim.times)-1], 0).UTC(); !last.Equal(time.Date(1996, time.March, 31, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("embedded Europe/Berlin: last transition %s, want 1996-03-31 01:00 UTC (slim data)", last)
	}
	if got, want := len(fat.times)-len(slim.times), 1+2*(2037-1996); got != want {
		t.Errorf("fatten added %d transitions, want %d", got, want)
	}
	if last := time.Unix(fat.times[len(fat.times)-1], 0).UTC(); !last.Equal(time.Date(2037, time.October, 25, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("last transition %s, want 2037-10-25 01:00 UTC", last)
	}
	if fat.footer != slim.footer || len(fat.types) != len(slim.types) {
		t.Errorf("footer %q → %q, %d → %d types", slim.footer, fat.footer, len(slim.types)/6, len(fat.types)/6)
	}
}
