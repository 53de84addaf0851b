package feed

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syntheticXML is a frab schedule.xml of n sessions over n/400 days in ten
// rooms: the sessions of syntheticJSON, as frab writes them in XML.
func syntheticXML(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 900)
	days := (n + 399) / 400
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<schedule>
  <generator name="synthetic"/>
  <version>2024-10-01</version>
  <conference>
    <acronym>synth</acronym>
    <title>Synthetic</title>
    <start>2024-10-24</start>
    <end>2024-10-24</end>
    <days>%d</days>
    <timeslot_duration>00:05</timeslot_duration>
    <time_zone_name>Europe/Berlin</time_zone_name>
  </conference>
`, days)
	id := 0
	for d := range days {
		date := time.Date(2024, 10, 24+d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		fmt.Fprintf(&b, "  <day index=\"%d\" date=\"%s\" start=\"%sT08:00:00+02:00\" end=\"%sT23:00:00+02:00\">\n", d+1, date, date, date)
		for room := range 10 {
			fmt.Fprintf(&b, "    <room name=\"Room %d\">\n", room)
			for slot := 0; slot < 40 && id < n; slot++ {
				id++
				start := fmt.Sprintf("%02d:%02d", 8+slot*20/60, slot*20%60)
				fmt.Fprintf(&b, `      <event guid="00000000-0000-4000-8000-%012d" id="%d">
        <date>%sT%s:00+02:00</date>
        <start>%s</start>
        <duration>00:15</duration>
        <room>Room %d</room>
        <slug>synth-%d</slug>
        <url>https://synth.example.org/%d</url>
        <title>Session %d on dynamic networks</title>
        <subtitle></subtitle>
        <track>Track %d</track>
        <type>talk</type>
        <language>en</language>
        <abstract>Dynamic networks adapt their computation to the input; this session shows how, with measurements and code.</abstract>
        <description></description>
        <persons>
          <person id="%d">Speaker %d</person>
        </persons>
        <links/>
        <attachments/>
      </event>
`, id, id, date, start, start, room, id, id, id, id%12, id%(n/2+1), id%(n/2+1))
			}
			b.WriteString("    </room>\n")
		}
		b.WriteString("  </day>\n")
	}
	b.WriteString("</schedule>\n")
	return b.Bytes()
}

// BenchmarkDecode measures Parse of both formats. live-MB is the heap the
// parsed schedule keeps: HeapAlloc after a collection with the schedule
// still referenced, minus HeapAlloc before parsing (the input, which the
// caller holds, is in both).
func BenchmarkDecode(b *testing.B) {
	for _, f := range []struct {
		name string
		gen  func(int) []byte
	}{{"json", syntheticJSON}, {"xml", syntheticXML}} {
		for _, n := range []int{43, 100000} {
			data := f.gen(n)
			b.Run(fmt.Sprintf("%s/%d_sessions", f.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				var s *Schedule
				for b.Loop() {
					s = nil // the previous schedule is garbage while the next one is parsed
					var err error
					if s, err = Parse(data, ParseOptions{Source: "synthetic"}); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if len(s.Events) != n {
					b.Fatalf("%d events, want %d", len(s.Events), n)
				}
				s = nil
				b.ReportMetric(liveMB(func() any {
					s, err := Parse(data, ParseOptions{Source: "synthetic"})
					if err != nil {
						b.Fatal(err)
					}
					return s
				}), "live-MB")
			})
		}
	}
}

// escapedJSON is okJSON with n "\n" escapes in each of three strings of
// an event: its abstract, which the decoders read, a link's title, which
// they skip with the links, and its speaker's biography, which they skip
// alone.
func escapedJSON(n int) []byte {
	text := "Escapes" + strings.Repeat(`\n`, n) + "end"
	return []byte(strings.NewReplacer("DURATION", "01:00", `"title": "Two", "persons": []`,
		`"title": "Two", "abstract": "`+text+`", "links": [{"url": "https://example.org/", "title": "`+text+`"}], "persons": [{"name": "Ann", "biography": "`+text+`"}]`,
	).Replace(okJSON))
}

// BenchmarkParseEscapes measures Parse of a small schedule.json with n
// escapes in each of three strings: it should take time in proportion to
// its length, as bytes per second that do not fall with n show.
func BenchmarkParseEscapes(b *testing.B) {
	for _, n := range []int{10_000, 40_000, 160_000} {
		data := escapedJSON(n)
		b.Run(fmt.Sprintf("%d_escapes", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data, ParseOptions{Source: "escapes"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// liveMB is how many MiB of heap the value that parse returns keeps alive.
func liveMB(parse func() any) float64 {
	var before, after runtime.MemStats
	// Two collections: the second frees what sync.Pools held at the first.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := parse()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / (1 << 20)
}

var loadLarge = flag.Bool("large", false, "load a 100,000-session schedule of each format in a child process and check its wall time and peak memory")

// TestLoadLarge checks the project's requirement: a 100,000-session
// schedule.json loads in under 3 s within 300 MB of memory. It reports the
// same for schedule.xml, which the requirement does not cover. Each load
// runs in a fresh process (TestLoadLargeChild), so the peak resident set is
// the load's own and not this process's. Run it without -race:
//
//	go test ./feed -run '^TestLoadLarge$' -large -v
func TestLoadLarge(t *testing.T) {
	if !*loadLarge {
		t.Skip("run with -large")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the peak resident set")
	}
	const (
		n        = 100000
		maxWall  = 3 * time.Second
		maxPeakB = 300 << 20
	)
	for _, f := range []struct {
		name     string
		gen      func(int) []byte
		required bool
	}{{"schedule.json", syntheticJSON, true}, {"schedule.xml", syntheticXML, false}} {
		t.Run(f.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), f.name)
			data := f.gen(n)
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestLoadLargeChild$", "-test.v")
			cmd.Env = append(os.Environ(), "CONFCAL_LOAD_LARGE="+name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var events, ms, peakKB int
			for line := range strings.Lines(string(out)) {
				if _, err := fmt.Sscanf(line, "loaded %d events in %d ms, peak RSS %d kB", &events, &ms, &peakKB); err == nil {
					break
				}
			}
			wall := time.Duration(ms) * time.Millisecond
			if events != n {
				t.Fatalf("child loaded %d events, want %d:\n%s", events, n, out)
			}
			t.Logf("%s (%.1f MB): loaded in %v, peak RSS %.0f MB", f.name, float64(len(data))/1e6, wall, float64(peakKB)/1024)
			if !f.required {
				return
			}
			if wall > maxWall {
				t.Errorf("loading took %v, want < %v", wall, maxWall)
			}
			if peakKB<<10 > maxPeakB {
				t.Errorf("peak RSS %d MB, want < %d MB", peakKB>>10, maxPeakB>>20)
			}
		})
	}
}

// TestLoadLargeChild is the process TestLoadLarge starts: it loads the file
// named by $CONFCAL_LOAD_LARGE as the service does and reports the wall time
// and the peak resident set (VmHWM) of the whole process.
func TestLoadLargeChild(t *testing.T) {
	name := os.Getenv("CONFCAL_LOAD_LARGE")
	if name == "" {
		t.Skip("started by TestLoadLarge")
	}
	start := time.Now()
	// The service's default limit: 100,000 sessions are 53 MB of JSON and
	// 78 MB of XML, both within DefaultMaxBytes (128 MiB).
	s, err := Load(context.Background(), name, LoadOptions{})
	wall := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	peak, err := peakRSSKB()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("loaded %d events in %d ms, peak RSS %d kB\n", len(s.Events), wall.Milliseconds(), peak)
	runtime.KeepAlive(s)
}

// peakRSSKB reads the peak resident set of this process from /proc.
func peakRSSKB() (int, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
