// Package interop feeds iCalendar data to independent implementations —
// ical.js (Thunderbird's engine), python-icalendar and libical — and reports
// what each of them read, so that tests can check our output against readers
// that share no code with us.
//
// Each reader is a small program in readers/ (icaljs.mjs,
// pyicalendar.py, libical.c) run as a subprocess; .ci/install-interop installs
// what they need. Tests call Require, which skips when a reader is missing
// locally and fails when CI=true.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Event is what an implementation read for one VEVENT.
type Event struct {
	UID        string
	Start, End time.Time // UTC; End is zero when the VEVENT has no DTEND
	Err        string    // the reader could not interpret the event; Start and End are zero
}

// Reader names an independent iCalendar implementation.
type Reader struct {
	Name string // "ical.js", "python-icalendar", "libical"

	available func() error
	command   func(ctx context.Context, files []string) (*exec.Cmd, error)
}

// String returns r.Name.
func (r Reader) String() string { return r.Name }

// Readers returns every reader, available or not.
func Readers() []Reader { return []Reader{ICALJS, PythonICalendar, LibICal} }

// Available returns nil if r's tools are installed, else what is missing and
// how to install it.
func (r Reader) Available() error { return r.available() }

// Require skips t when r is unavailable, or fails it when the environment
// variable CI is "true": in CI every reader must run.
func Require(t testing.TB, r Reader) {
	t.Helper()
	err := r.Available()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s unavailable in CI (run .ci/install-interop): %v", r, err)
	}
	t.Skipf("%s unavailable (run .ci/install-interop): %v", r, err)
}

// Read has r read the iCalendar stream ics and returns the events it read, in
// the order of the stream.
func (r Reader) Read(ctx context.Context, ics []byte) ([]Event, error) {
	f, err := os.CreateTemp("", "confcal-interop-*.ics")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(ics); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return r.ReadFiles(ctx, f.Name())
}

// ReadFiles has r read the iCalendar files and returns the events of all of
// them, in order. The files are shared out between up to GOMAXPROCS runs of
// the reader's program, run concurrently.
func (r Reader) ReadFiles(ctx context.Context, files ...string) ([]Event, error) {
	if err := r.Available(); err != nil {
		return nil, err
	}
	n := min(runtime.GOMAXPROCS(0), len(files))
	if n <= 1 {
		return r.run(ctx, files)
	}
	results := make([][]Event, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		lo, hi := i*len(files)/n, (i+1)*len(files)/n
		wg.Go(func() { results[i], errs[i] = r.run(ctx, files[lo:hi]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.Concat(results...), nil
}

// run has r read files in one run of its program.
func (r Reader) run(ctx context.Context, files []string) ([]Event, error) {
	cmd, err := r.command(ctx, files)
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", r, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return parseOutput(out)
}

// parseOutput reads the readers' common output: per event a line
// "UID\tstart\tend" (Unix seconds, end may be empty) or "ERR\tUID\treason".
func parseOutput(out []byte) ([]Event, error) {
	var events []Event
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		fields := strings.Split(s.Text(), "\t")
		if len(fields) != 3 {
			return nil, fmt.Errorf("bad reader output line %q", s.Text())
		}
		if fields[0] == "ERR" {
			events = append(events, Event{UID: fields[1], Err: fields[2]})
			continue
		}
		ev := Event{UID: fields[0]}
		var err error
		if ev.Start, err = unix(fields[1]); err != nil {
			return nil, err
		}
		if ev.End, err = unix(fields[2]); err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, s.Err()
}

func unix(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad Unix time %q", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// dir is this package's source directory, where the reader programs and
// node_modules live. CONFCAL_INTEROP_DIR overrides it for a binary run
// outside the source tree.
func dir() string {
	if d := os.Getenv("CONFCAL_INTEROP_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// ICALJS is ical.js, installed by npm into this directory's node_modules.
var ICALJS = Reader{
	Name: "ical.js",
	available: func() error {
		if _, err := exec.LookPath("node"); err != nil {
			return fmt.Errorf("node: %w", err)
		}
		if _, err := os.Stat(filepath.Join(dir(), "node_modules", "ical.js", "package.json")); err != nil {
			return fmt.Errorf("ical.js not installed (npm ci --prefix internal/interop): %w", err)
		}
		return nil
	},
	command: func(ctx context.Context, files []string) (*exec.Cmd, error) {
		return exec.CommandContext(ctx, "node", append([]string{filepath.Join(dir(), "readers", "icaljs.mjs")}, files...)...), nil
	},
}

// python is Debian's interpreter, which sees Debian's python3-icalendar (an
// interpreter earlier in PATH may not).
const python = "/usr/bin/python3"

// PythonICalendar is the icalendar package of Debian's python3-icalendar.
var PythonICalendar = Reader{
	Name: "python-icalendar",
	available: func() error {
		out, err := exec.Command(python, "-c", "import icalendar, pytz").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s cannot import icalendar (apt-get install python3-icalendar): %v: %s", python, err, bytes.TrimSpace(out))
		}
		return nil
	},
	command: func(ctx context.Context, files []string) (*exec.Cmd, error) {
		return exec.CommandContext(ctx, python, append([]string{filepath.Join(dir(), "readers", "pyicalendar.py")}, files...)...), nil
	},
}

// LibICal is libical, through libical.c compiled with cc against
// libical-dev.
var LibICal = Reader{
	Name: "libical",
	available: func() error {
		_, err := libicalBinary()
		return err
	},
	command: func(ctx context.Context, files []string) (*exec.Cmd, error) {
		bin, err := libicalBinary()
		if err != nil {
			return nil, err
		}
		return exec.CommandContext(ctx, bin, files...), nil
	},
}

// libicalBinary compiles libical.c once per process into a directory keyed
// by the source's hash and returns the program's path.
var libicalBinary = sync.OnceValues(func() (string, error) {
	src := filepath.Join(dir(), "readers", "libical.c")
	code, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(code)
	bin := filepath.Join(os.TempDir(), "confcal-interop-libical-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	for _, tool := range []string{"cc", "pkg-config"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s: %w", tool, err)
		}
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libical").Output()
	if err != nil {
		return "", errors.New("pkg-config libical failed (apt-get install libical-dev)")
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	args := append([]string{"-O2", "-o", tmp, src}, strings.Fields(string(flags))...)
	if out, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("compile %s: %v: %s", src, err, bytes.TrimSpace(out))
	}
	return bin, os.Rename(tmp, bin)
})
