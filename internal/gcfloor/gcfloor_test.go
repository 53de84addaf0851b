package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, floor uint64
		gogc, want  int
	}{
		{live: 0, floor: 32 * mib, gogc: 100, want: 800},         // no collection yet: the minimum, 4 MiB × 8
		{live: 2 * mib, floor: 32 * mib, gogc: 100, want: 800},   // 4 MiB × 8 = 32 MiB comes first
		{live: 8 * mib, floor: 32 * mib, gogc: 100, want: 300},   // 8 MiB × 4
		{live: 10 * mib, floor: 32 * mib, gogc: 100, want: 220},  // 10 MiB × 3.2
		{live: 16 * mib, floor: 32 * mib, gogc: 100, want: 100},  // GOGC=100 reaches it anyway
		{live: 20 * mib, floor: 32 * mib, gogc: 100, want: 100},  // below GOGC: GOGC
		{live: 64 * mib, floor: 32 * mib, gogc: 100, want: 100},  // above the floor
		{live: 20 * mib, floor: 32 * mib, gogc: 50, want: 60},    // another GOGC
		{live: 1, floor: 1 << 40, gogc: 100, want: maxPercent},   // bounded
		{live: 3 * mib, floor: 32*mib + 1, gogc: 100, want: 801}, // rounded up, never short
	}
	for _, tc := range tests {
		p := Percent(tc.live, tc.floor, tc.gogc)
		if p != tc.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", tc.live, tc.floor, tc.gogc, p, tc.want)
		}
		goal := max(uint64(heapMinimum)*uint64(p)/100, tc.live+tc.live*uint64(p)/100)
		if p < maxPercent && goal < tc.floor {
			t.Errorf("Percent(%d, %d, %d) = %d: goal %d below the floor", tc.live, tc.floor, tc.gogc, p, goal)
		}
	}
}

// TestStart: with the floor running, the runtime's heap goal is at the
// floor while the live heap is small, and back at GOGC's once it is not;
// stop restores GOGC.
func TestStart(t *testing.T) {
	const floor = 64 << 20
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	stop := Start(floor, 100)
	defer stop()

	if goal := settle(t, func(goal, gogc uint64) bool { return goal >= floor }); goal > 2*floor {
		t.Errorf("heap goal %d, want about the floor %d", goal, floor)
	}

	live := make([][]byte, 0, 96)
	for range 96 { // 96 MiB live, above the floor
		live = append(live, make([]byte, 1<<20))
	}
	settle(t, func(goal, gogc uint64) bool { return gogc == 100 })
	runtime.KeepAlive(live)

	stop()
	runtime.GC()
	if gogc := read(t)[1]; gogc != 100 {
		t.Errorf("GOGC %d after stop, want 100", gogc)
	}
}

// settle collects until ok holds of the heap goal and GOGC, or fails.
func settle(t *testing.T, ok func(goal, gogc uint64) bool) uint64 {
	t.Helper()
	var v [2]uint64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
		if v = read(t); ok(v[0], v[1]) {
			return v[0]
		}
	}
	t.Fatalf("heap goal %d, GOGC %d", v[0], v[1])
	return 0
}

func read(t *testing.T) [2]uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return [2]uint64{s[0].Value.Uint64(), s[1].Value.Uint64()}
}
