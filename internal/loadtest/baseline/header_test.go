package main

import (
	"io"
	"net/http"
	"strconv"
	"testing"
)

// serverHeader keeps the benchmark's map on the heap, where the server's is.
var serverHeader http.Header

// BenchmarkResponseHeader measures what net/http does with a handler's
// response header map for every response: the handler fills the map the
// server made for it, WriteHeader clones it, and the clone is written out
// in sorted order. The names are those of confcal's gzip feed response;
// the minimal server sends the first four. A ninth name outgrows the
// single group of eight slots a small Go map has, and the map and its
// clone become tables.
func BenchmarkResponseHeader(b *testing.B) {
	names := []string{
		"Content-Type", "Etag", "Content-Length", "Content-Encoding",
		"Access-Control-Allow-Origin", "Cache-Control", "Content-Disposition", "Last-Modified",
		"Vary",
	}
	value := []string{"x"}
	for _, n := range []int{4, 8, 9} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h := make(http.Header)
				serverHeader = h
				for _, name := range names[:n] {
					h[name] = value
				}
				if err := h.Clone().Write(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
