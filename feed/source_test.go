package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

func TestLoadFile(t *testing.T) {
	s, err := Load(context.Background(), "testdata/decode/legacy-pentabarf.xml", LoadOptions{TimeZone: "Europe/Brussels"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != 5 || s.Conference.TimeZone != "Europe/Brussels" {
		t.Errorf("%d events in %s", len(s.Events), s.Conference.TimeZone)
	}

	// Errors name the file.
	_, err = Load(context.Background(), "testdata/decode/legacy-pentabarf.xml", LoadOptions{})
	if !errors.Is(err, ErrNoTimeZone) || !strings.HasPrefix(err.Error(), "testdata/decode/legacy-pentabarf.xml:5:3: schedule/conference: ") {
		t.Errorf("without a zone: %v", err)
	}
	_, err = Load(context.Background(), "testdata/decode/missing.json", LoadOptions{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "testdata/decode/missing.json") {
		t.Errorf("missing file: %v", err)
	}
	_, err = Load(context.Background(), "testdata/decode/frab.json", LoadOptions{MaxBytes: 100})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("file over the limit: %v", err)
	}
	_, err = Load(context.Background(), "ftp://example.org/schedule.xml", LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `unsupported scheme "ftp"`) {
		t.Errorf("ftp URL: %v", err)
	}
}

// TestLoadFileOddName: a path that merely contains a colon is a file.
func TestLoadFileOddName(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a:b.json")
	if err := os.WriteFile(name, mustReadFile(t, "testdata/decode/frab.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), name, LoadOptions{}); err != nil {
		t.Error(err)
	}
}

func TestLoadURL(t *testing.T) {
	frab := mustReadFile(t, "testdata/decode/frab.json")
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/schedule.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html") // wrong on purpose: not trusted
		w.Write(frab)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/schedule.json", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the limit must hold while reading.
		for range 10 {
			w.Write(frab)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/broken.json", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"schedule": {"conference": 1}}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release) // before Close, which waits for handlers

	t.Run("ok", func(t *testing.T) {
		s, err := Load(context.Background(), srv.URL+"/schedule.json", LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Events) != 3 || s.Version != contentVersion(frab) {
			t.Errorf("%d events, version %s", len(s.Events), s.Version)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		if _, err := Load(context.Background(), srv.URL+"/old", LoadOptions{}); err != nil {
			t.Error(err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := Load(context.Background(), srv.URL+"/nope.json", LoadOptions{})
		want := "load schedule " + srv.URL + "/nope.json: server answered 404 Not Found"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %s", err, want)
		}
	})
	t.Run("too large", func(t *testing.T) {
		_, err := Load(context.Background(), srv.URL+"/schedule.json", LoadOptions{MaxBytes: 1000})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("Content-Length over the limit: %v", err)
		}
		_, err = Load(context.Background(), srv.URL+"/chunked", LoadOptions{MaxBytes: int64(3 * len(frab))})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("streamed body over the limit: %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		_, err := Load(context.Background(), srv.URL+"/slow", LoadOptions{Timeout: 100 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want a deadline", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err = Load(ctx, srv.URL+"/slow", LoadOptions{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the context's deadline", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("decode error names the URL", func(t *testing.T) {
		_, err := Load(context.Background(), srv.URL+"/broken.json", LoadOptions{})
		want := srv.URL + "/broken.json: schedule.conference: want an object, got a number"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %s", err, want)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		versions := make([]string, 8)
		for i := range versions {
			wg.Go(func() {
				s, err := Load(context.Background(), srv.URL+"/schedule.json", LoadOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				versions[i] = s.Version
			})
		}
		wg.Wait()
		for _, v := range versions {
			if v != contentVersion(frab) {
				t.Errorf("version %s, want %s", v, contentVersion(frab))
			}
		}
	})
}

// TestReadAllBounded: reading a source holds at most limit+1 bytes of
// buffer, whatever it sends, and more than the limit is ErrTooLarge.
func TestReadAllBounded(t *testing.T) {
	const limit = 100_000
	for _, tc := range []struct {
		name  string
		n     int64
		chunk bool // the reader gives a few bytes a read
		err   error
	}{
		{"empty", 0, false, nil},
		{"small", 700, true, nil},
		{"at the limit", limit, false, nil},
		{"at the limit, in pieces", limit, true, nil},
		{"one byte over", limit + 1, false, ErrTooLarge},
		{"far over", 50 * limit, false, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = io.LimitReader(zeros{}, tc.n)
			if tc.chunk {
				r = iotest.HalfReader(r)
			}
			data, err := readAll(r, limit)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && int64(len(data)) != tc.n {
				t.Errorf("%d bytes, want %d", len(data), tc.n)
			}
			if cap(data) > limit+1 {
				t.Errorf("a buffer of %d bytes for a limit of %d", cap(data), limit)
			}
		})
	}
}

func TestReadAllNoLimit(t *testing.T) {
	if data, err := readAll(strings.NewReader("abc"), math.MaxInt64); err != nil || string(data) != "abc" {
		t.Errorf("readAll with the largest limit: %q, %v", data, err)
	}
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
