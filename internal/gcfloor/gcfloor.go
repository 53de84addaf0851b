// Package gcfloor keeps the garbage collector from running while the heap
// is smaller than a floor.
//
// Go starts a collection when the heap has grown GOGC percent past what the
// previous one left live, and at 4 MiB at the least. A server whose live
// heap is a few megabytes, allocating a few kilobytes per request, then
// collects dozens of times a second under load; the collector and the
// write barriers it turns on cost more than much of the serving. Raising
// GOGC while the live heap is small puts the heap goal at the floor
// instead. Once the live heap is half the floor or more, GOGC is back at
// its usual value and the floor costs nothing.
//
// This is what a minimum heap size would do, which the runtime does not
// offer; a memory limit (GOMEMLIMIT) still applies on top.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Start keeps the heap goal at floor bytes or more, retuning GOGC after
// every collection, until stop is called; stop sets GOGC back to gogc,
// the percentage used whenever the floor is below the proportional goal
// (usually 100).
func Start(floor uint64, gogc int) (stop func()) {
	t := &tuner{floor: floor, gogc: gogc, sample: []metrics.Sample{{Name: liveHeap}}}
	t.tune()
	t.arm()
	return t.stop
}

// liveHeap is the runtime metric of what the last collection left live.
const liveHeap = "/gc/heap/live:bytes"

type tuner struct {
	floor   uint64
	gogc    int
	mu      sync.Mutex
	stopped bool
	sample  []metrics.Sample
}

// sentinel is allocated for the collector to find unreachable: its cleanup
// runs once per collection. A pointer field keeps it out of the tiny
// allocator, whose blocks are shared and freed late.
type sentinel struct{ _ *byte }

// arm has tune run after the next collection, which arms it again.
func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *tuner) {
		if t.tune() {
			t.arm()
		}
	}, t)
}

// tune sets GOGC for the live heap, and reports whether to go on.
func (t *tuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	debug.SetGCPercent(Percent(t.sample[0].Value.Uint64(), t.floor, t.gogc))
	return true
}

func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.gogc)
	}
}

// maxPercent bounds GOGC, for a floor far above the heap.
const maxPercent = 10000

// heapMinimum is the runtime's smallest heap goal at GOGC=100; it scales
// with GOGC.
const heapMinimum = 4 << 20

// Percent is the smallest GOGC of at least gogc whose heap goal reaches
// floor for a heap that the last collection left live bytes of. The goal
// is live × (1 + GOGC/100), but never below heapMinimum × GOGC/100.
func Percent(live, floor uint64, gogc int) int {
	if live >= floor {
		return gogc
	}
	p := min(maxPercent, ceilDiv(floor*100, heapMinimum)) // the minimum reaches the floor
	if live > 0 {
		p = min(p, ceilDiv((floor-live)*100, live)) // the proportional goal does
	}
	return max(gogc, int(p))
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }
