package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Source is where a schedule comes from: a file path, an http(s) URL, or
// bytes built into the binary.
type Source struct {
	// Location is the path or URL; for embedded bytes, a name to show.
	Location string
	// Embedded holds the bytes of a built-in schedule; Location is then
	// only a name.
	Embedded []byte
}

// DefaultLoadTimeout bounds fetching a schedule over HTTP when LoadOptions
// does not set Timeout.
const DefaultLoadTimeout = 30 * time.Second

// LoadOptions tunes Load. The zero value is ready to use.
type LoadOptions struct {
	// TimeZone is the venue's IANA zone for schedules that do not name one
	// (legacy pentabarf XML); see ParseOptions.TimeZone.
	TimeZone string
	// MaxBytes limits the size of the schedule; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds an HTTP fetch, body included, on top of ctx; 0 means
	// DefaultLoadTimeout.
	Timeout time.Duration
	// Client fetches http and https sources; nil means a client with
	// http.DefaultTransport. Redirects are followed.
	Client *http.Client
}

// maxBytes is MaxBytes, or its default.
func (o LoadOptions) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

// Load reads and parses a schedule from src: an http or https URL, or a
// file path. The format is detected from the content; a server's
// Content-Type is not trusted. Load is safe to call concurrently.
//
// The embedded fixture has no path: parse its bytes with Parse, naming it
// in ParseOptions.Source.
func Load(ctx context.Context, src string, opts LoadOptions) (*Schedule, error) {
	data, _, err := read(ctx, src, opts, validators{})
	if err != nil {
		return nil, err
	}
	return Parse(data, ParseOptions{Source: src, TimeZone: opts.TimeZone})
}

// validators are what a server said about the version of a schedule it
// sent, to ask next time whether it changed (RFC 9110 §13.1).
type validators struct {
	etag         string
	lastModified string
}

// errNotModified is read's answer when the server confirms the schedule is
// the one the validators describe.
var errNotModified = errors.New("schedule not modified")

// read returns the bytes of src, a file or an http(s) URL. For a URL, prev
// makes the request conditional; the answer's validators are returned.
func read(ctx context.Context, src string, opts LoadOptions, prev validators) ([]byte, validators, error) {
	limit := opts.maxBytes()
	if isURL(src) {
		return fetch(ctx, src, limit, opts, prev)
	}
	data, err := readScheduleFile(src, limit)
	return data, validators{}, err
}

// isURL reports whether src is to be fetched rather than opened. Other
// schemes are refused by fetch rather than taken for odd file names.
func isURL(src string) bool {
	scheme, _, ok := strings.Cut(src, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, `/\.`)
}

func readScheduleFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load schedule: %w", err)
	}
	defer f.Close()
	var data []byte
	if fi, serr := f.Stat(); serr == nil && fi.Mode().IsRegular() && fi.Size() <= limit {
		// Read a regular file into a buffer of its size: growing one by
		// doubling would cost a large schedule half its size again.
		data = make([]byte, 0, fi.Size()+bytes.MinRead+1) // room for the read that finds EOF
	}
	data, err = readAllInto(data, f, limit)
	if err != nil {
		return nil, fmt.Errorf("load schedule %s: %w", path, err)
	}
	return data, nil
}

func fetch(ctx context.Context, src string, limit int64, opts LoadOptions, prev validators) ([]byte, validators, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, validators{}, fmt.Errorf("load schedule %s: %w", src, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, validators{}, fmt.Errorf("load schedule %s: unsupported scheme %q: want a file path or an http(s) URL", src, u.Scheme)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultLoadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, validators{}, fmt.Errorf("load schedule %s: %w", src, err)
	}
	req.Header.Set("Accept", "application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1")
	if prev.etag != "" {
		req.Header.Set("If-None-Match", prev.etag)
	}
	if prev.lastModified != "" {
		req.Header.Set("If-Modified-Since", prev.lastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, validators{}, fmt.Errorf("load schedule: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && (prev.etag != "" || prev.lastModified != "") {
		return nil, prev, errNotModified
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, validators{}, fmt.Errorf("load schedule %s: server answered %s", src, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, validators{}, fmt.Errorf("load schedule %s: %w: %d bytes, limit %d", src, ErrTooLarge, resp.ContentLength, limit)
	}
	data, err := readAll(resp.Body, limit)
	if err != nil {
		return nil, validators{}, fmt.Errorf("load schedule %s: %w", src, err)
	}
	return data, validators{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}, nil
}
