// Command baseline is the least a Go net/http server can do to serve a feed:
// the same bytes from memory, with an ETag, If-None-Match and precompressed
// gzip. The load test compares confcal against it.
//
// With -headers, -headers304 and -timeouts it also sends the rest of the
// headers of confcal's 200 and 304 responses and runs with the server
// timeouts main.go sets: what the HTTP contract of a feed costs in
// net/http, without confcal's routing, cache, metrics and log.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"log"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	file := flag.String("file", "", "the bytes to serve")
	headers := flag.String("headers", "", "file of further 200 response headers to send, one \"Name: value\" a line")
	headers304 := flag.String("headers304", "", "the same for 304 responses")
	timeouts := flag.Bool("timeouts", false, "run with confcal's server timeouts")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	extra, err := readHeaders(*headers)
	if err != nil {
		log.Fatal(err)
	}
	extra304, err := readHeaders(*headers304)
	if err != nil {
		log.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/calendar; charset=utf-8")
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			for k, v := range extra304 {
				h[k] = v
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		for k, v := range extra {
			h[k] = v
		}
		data := body
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			data = gz.Bytes()
		}
		h.Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
	})
	srv := &http.Server{Addr: *addr}
	if *timeouts {
		srv.ReadHeaderTimeout = 5 * time.Second
		srv.ReadTimeout = 10 * time.Second
		srv.WriteTimeout = 30 * time.Second
		srv.IdleTimeout = 120 * time.Second
	}
	log.Fatal(srv.ListenAndServe())
}

// readHeaders reads "Name: value" lines; no path, no headers.
func readHeaders(path string) (http.Header, error) {
	if path == "" {
		return http.Header{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := textproto.NewReader(bufio.NewReader(f)).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, err
	}
	return http.Header(h), nil
}
