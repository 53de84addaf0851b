package feed

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// syntheticSchedule is a conference of n sessions over several days in
// Europe/Berlin, across the autumn clock change, with 12 tracks and about
// n/2 speakers.
func syntheticSchedule(tb testing.TB, n int) *Schedule {
	tb.Helper()
	berlin := mustZone(tb, "Europe/Berlin")
	start := time.Date(2024, 10, 24, 9, 0, 0, 0, berlin)
	events := make([]Event, n)
	for i := range events {
		day, slot := i/200, i%200
		events[i] = Event{
			GUID:     fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1),
			ID:       fmt.Sprint(i + 1),
			Slug:     fmt.Sprintf("synth-%d", i+1),
			Start:    start.AddDate(0, 0, day).Add(time.Duration(slot%20) * 30 * time.Minute),
			Duration: 25 * time.Minute,
			Room:     fmt.Sprintf("Room %d", slot/20),
			Title:    fmt.Sprintf("Session %d: on the quality-cost trade-off, part %d", i+1, i%7),
			Type:     "talk",
			Track:    Track{Name: fmt.Sprintf("Track %d", i%12)},
			Abstract: "Dynamic networks adapt their computation to the input; this session shows how, with measurements. ",
			Speakers: []Speaker{{ID: fmt.Sprint("p", i%(n/2+1)), Name: fmt.Sprintf("Speaker Number %d", i%(n/2+1))}},
		}
	}
	s, err := NewSchedule(Conference{Acronym: "synth", Title: "Synthetic Conference", TimeZone: "Europe/Berlin", Location: berlin}, events)
	if err != nil {
		tb.Fatal(err)
	}
	s.Version = fmt.Sprint("synth-", n)
	s.Updated = time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)
	return s
}

// BenchmarkRender measures a cold render: select the events, build the
// calendar and serialize it, as on a cache miss.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{43, 10000} {
		s := syntheticSchedule(b, n)
		zone := mustZone(b, "America/New_York")
		b.Run(fmt.Sprint(n, "_sessions"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(s, s.Select(Filter{}), View{Zone: zone}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderWorkshop is the cold render of the embedded workshop's
// whole feed (43 sessions with their abstracts) in a zone other than its own.
func BenchmarkRenderWorkshop(b *testing.B) {
	s := workshop(b)
	zone := mustZone(b, "Europe/Berlin")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(s, s.Select(Filter{}), View{Zone: zone, Refresh: DefaultRefresh}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompress measures what a cache miss adds to the render: the
// validators and the gzip encoding, computed once per variant.
func BenchmarkCompress(b *testing.B) {
	for _, n := range []int{43, 10000} {
		s := syntheticSchedule(b, n)
		data := render(b, Calendar(s, s.Events, View{Zone: mustZone(b, "America/New_York")}))
		b.Run(fmt.Sprint(n, "_sessions"), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				newRendered(data, s.Updated)
			}
		})
	}
}

// BenchmarkServeCached measures a poll of a cached feed through the whole
// handler: routing, query parsing, the cache, metrics and the log.
func BenchmarkServeCached(b *testing.B) {
	store, err := NewStore(syntheticSchedule(b, 43))
	if err != nil {
		b.Fatal(err)
	}
	h := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, prometheus.NewRegistry(),
		Options{AccessLog: NewAccessLog(io.Discard, true)})
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"plain", nil},
		{"gzip", map[string]string{"Accept-Encoding": "gzip"}},
		{"conditional", map[string]string{"If-None-Match": "*"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/feed.ics?track=track-3&tz=Asia/Tokyo", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			b.ReportAllocs()
			w := &discardWriter{header: http.Header{}}
			for b.Loop() {
				clear(w.header)
				w.code = 0
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK && w.code != http.StatusNotModified {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

// BenchmarkClosestLong measures the suggestions for an unknown session or
// speaker given as a path of 15,000 characters, about the most a request's
// 16 KiB of headers holds, and as one of maxSuggestInput, the longest that is
// compared, on a schedule of 10,000 sessions.
func BenchmarkClosestLong(b *testing.B) {
	for _, tc := range longInputCases(syntheticSchedule(b, 10000)) {
		for _, size := range []int{15000, maxSuggestInput} {
			want := strings.Repeat(tc.pattern, size/len(tc.pattern)+1)[:size]
			b.Run(fmt.Sprint(tc.name, "/", size), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					closest(want, tc.candidates, 3)
				}
			})
		}
	}
}

// BenchmarkClosestTypo measures the suggestions for a typo of a session's
// and of a speaker's name on a schedule of 10,000 sessions.
func BenchmarkClosestTypo(b *testing.B) {
	s := syntheticSchedule(b, 10000)
	for _, tc := range []struct {
		name       string
		want       string
		candidates []string
	}{
		{"sessions", "snyth-1234", sessionKeys(s)},
		{"speakers", "speaker-numbr-1234", s.speakerSlugs()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				closest(tc.want, tc.candidates, 3)
			}
		})
	}
}

// syntheticJSON is a c3voc schedule.json of n sessions over n/400 days in
// ten rooms, shaped like a frab export.
func syntheticJSON(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 700)
	days := (n + 399) / 400
	fmt.Fprintf(&b, `{"schedule":{"version":"2024-10-01","conference":{"acronym":"synth","title":"Synthetic","start":"2024-10-24","end":"2024-10-24","daysCount":%d,"timeslot_duration":"00:05","time_zone_name":"Europe/Berlin","days":[`, days)
	id := 0
	for d := range days {
		date := time.Date(2024, 10, 24+d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		if d > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"index":%d,"date":"%s","day_start":"%sT08:00:00+02:00","day_end":"%sT23:00:00+02:00","rooms":{`, d+1, date, date, date)
		for room := range 10 {
			if room > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"Room %d":[`, room)
			for slot := 0; slot < 40 && id < n; slot++ {
				id++
				if slot > 0 {
					b.WriteByte(',')
				}
				start := fmt.Sprintf("%02d:%02d", 8+slot*20/60, slot*20%60)
				fmt.Fprintf(&b, `{"guid":"00000000-0000-4000-8000-%012d","id":%d,"date":"%sT%s:00+02:00","start":"%s","duration":"00:15","room":"Room %d","slug":"synth-%d","url":"https://synth.example.org/%d","title":"Session %d on dynamic networks","subtitle":"","track":"Track %d","type":"talk","language":"en","abstract":"Dynamic networks adapt their computation to the input; this session shows how, with measurements and code.","description":"","persons":[{"id":%d,"public_name":"Speaker %d"}],"links":[],"attachments":[]}`,
					id, id, date, start, start, room, id, id, id, id%12, id%(n/2+1), id%(n/2+1))
			}
			b.WriteByte(']')
		}
		b.WriteString(`}}`)
	}
	b.WriteString(`]}}}`)
	return b.Bytes()
}

var (
	syntheticOut      = flag.String("synthetic", "", "write the synthetic schedule.json of -synthetic-sessions sessions to this file")
	syntheticSessions = flag.Int("synthetic-sessions", 100000, "sessions in the schedule -synthetic writes")
)

// TestWriteSynthetic writes the schedule.json the benchmarks decode, for
// measuring the service itself on it (internal/loadtest/startup.sh):
//
//	go test ./feed -run '^TestWriteSynthetic$' -synthetic /tmp/big.json
func TestWriteSynthetic(t *testing.T) {
	if *syntheticOut == "" {
		t.Skip("run with -synthetic FILE")
	}
	data := syntheticJSON(*syntheticSessions)
	if err := os.WriteFile(*syntheticOut, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Parse(data, ParseOptions{Source: *syntheticOut})
	if err != nil {
		t.Fatalf("the synthetic schedule does not parse: %v", err)
	}
	t.Logf("wrote %s: %d sessions, %.1f MB", *syntheticOut, len(s.Events), float64(len(data))/1e6)
}

// discardWriter is the least a ResponseWriter can do, so that benchmarks
// measure the handler rather than a recorder.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkBoltJournal measures what -state adds to loading a schedule: a
// first load, which records every session, and a restart on the same
// schedule, which opens the file and finds nothing changed.
func BenchmarkBoltJournal(b *testing.B) {
	for _, n := range []int{43, 10000} {
		s := syntheticSchedule(b, n)
		now := s.Updated.Add(time.Hour)
		apply := func(b *testing.B, path string) {
			j, err := OpenBoltJournal(path, JournalOptions{Logger: discard()})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			if _, err := j.Apply(b.Context(), s, now); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprint("first/", n, "_sessions"), func(b *testing.B) {
			b.ReportAllocs()
			dir := b.TempDir()
			i := 0
			for b.Loop() {
				i++
				apply(b, fmt.Sprintf("%s/%d.db", dir, i))
			}
		})
		b.Run(fmt.Sprint("restart/", n, "_sessions"), func(b *testing.B) {
			path := b.TempDir() + "/state.db"
			apply(b, path)
			b.ReportAllocs()
			for b.Loop() {
				apply(b, path)
			}
		})
	}
}
