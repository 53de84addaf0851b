package feed

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// rendered is one feed variant, ready to serve: both encodings are computed
// once, because compressing per request costs far more than serving bytes.
type rendered struct {
	plain    []byte
	gzipped  []byte
	etag     string // strong validator of plain: `"…"`
	etagGz   string // strong validator of gzipped
	modified time.Time
	// lastModified is modified as an HTTP date; empty when unknown.
	lastModified string
	labels       [3]string // a feed's kind, track and zone class, for its metric
	// hdr holds the header values of this variant, made once: serving a
	// poll then allocates nothing for them. They are shared and read-only.
	hdr struct {
		etag, etagGz, length, lengthGz, lastModified []string
	}
}

func (r *rendered) size() int64 { return int64(len(r.plain) + len(r.gzipped) + 2*len(r.etag) + 96) }

// newRendered computes the validators and the gzip encoding of body.
func newRendered(body []byte, modified time.Time) *rendered {
	sum := sha256.Sum256(body)
	var gz bytes.Buffer
	gz.Grow(len(body) / 3)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&gz)
	zw.Write(body) // writes to a bytes.Buffer do not fail
	zw.Close()
	gzipWriters.Put(zw)
	tag := hex.EncodeToString(sum[:16])
	modified = modified.UTC().Truncate(time.Second)
	lastModified := ""
	if !modified.IsZero() {
		lastModified = modified.Format(http.TimeFormat)
	}
	r := &rendered{
		lastModified: lastModified,
		plain:        body,
		gzipped:      gz.Bytes(),
		etag:         `"` + tag + `"`,
		etagGz:       `"` + tag + `-gz"`, // encodings differ, so must strong ETags (RFC 9110 §8.8.3)
		modified:     modified,
	}
	r.hdr.etag, r.hdr.etagGz = []string{r.etag}, []string{r.etagGz}
	r.hdr.length = []string{strconv.Itoa(len(r.plain))}
	r.hdr.lengthGz = []string{strconv.Itoa(len(r.gzipped))}
	if lastModified != "" {
		r.hdr.lastModified = []string{lastModified}
	}
	return r
}

// gzipWriters reuses compressors: each holds about a megabyte of state.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// cacheStats receives what the cache does, for metrics.
type cacheStats interface {
	hit()
	miss()
	evict()
	setBytes(n int64)
}

// renderCache keeps recently served variants under a byte budget, evicting
// the least recently used. Keys include the schedule version, so renders of
// a replaced schedule are never served again and age out on their own.
// Concurrent requests for the same missing key render it once.
type renderCache struct {
	mu       sync.Mutex
	budget   int64
	used     int64
	order    *list.List // of *cacheEntry, most recently used first
	entries  map[string]*list.Element
	inflight map[string]*call
	stats    cacheStats
	// slots holds a token for each render running: renders of a large
	// schedule hold megabytes each, so as many run at once as there are
	// processors to run them, and the others wait their turn.
	slots chan struct{}
}

type cacheEntry struct {
	key string
	val *rendered
}

// call is a render in progress that other requests wait for.
type call struct {
	done chan struct{}
	val  *rendered
	err  error
}

func newRenderCache(budget int64, stats cacheStats) *renderCache {
	return &renderCache{
		budget:   budget,
		order:    list.New(),
		entries:  make(map[string]*list.Element),
		inflight: make(map[string]*call),
		stats:    stats,
		slots:    make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
}

// get returns the variant for key, rendering it with render on a miss,
// once a render slot is free (see slots): render should do the work,
// selecting sessions included, so that a request waiting its turn holds
// nothing.
//
// Only a render that succeeds counts as a miss, and only a variant served
// as a hit: a request that fails before there is anything to render (an
// unknown track, a bad zone) neither renders nor is cached, and counting
// it would skew the hit ratio towards typos.
func (c *renderCache) get(key string, render func() (*rendered, error)) (*rendered, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.order.MoveToFront(el)
		c.mu.Unlock()
		c.stats.hit()
		return el.Value.(*cacheEntry).val, nil
	}
	if cl, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-cl.done
		if cl.err == nil {
			c.stats.hit()
		}
		return cl.val, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[key] = cl
	c.mu.Unlock()

	defer func() {
		// Runs even if render panics, so waiters are never stranded.
		c.mu.Lock()
		delete(c.inflight, key)
		if cl.err == nil && cl.val != nil {
			c.add(key, cl.val)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	cl.err = errRenderPanicked // replaced unless render panics
	c.slots <- struct{}{}
	defer func() { <-c.slots }()
	cl.val, cl.err = render()
	if cl.err == nil {
		c.stats.miss()
	}
	return cl.val, cl.err
}

// errRenderPanicked is what waiters get when the render they wait for panicked.
var errRenderPanicked = errors.New("render failed")

// peek returns the variant cached under key, if any, without rendering.
func (c *renderCache) peek(key string) (*rendered, bool) {
	c.mu.Lock()
	el, ok := c.entries[key]
	if !ok {
		c.mu.Unlock()
		return nil, false
	}
	c.order.MoveToFront(el)
	val := el.Value.(*cacheEntry).val
	c.mu.Unlock()
	c.stats.hit()
	return val, true
}

// add stores val under key; c.mu must be held. A variant larger than the
// whole budget is served but not kept.
func (c *renderCache) add(key string, val *rendered) {
	size := val.size()
	if size > c.budget {
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, val: val})
	c.used += size
	for c.used > c.budget {
		el := c.order.Back()
		e := el.Value.(*cacheEntry)
		c.order.Remove(el)
		delete(c.entries, e.key)
		c.used -= e.val.size()
		c.stats.evict()
	}
	c.stats.setBytes(c.used)
}
