//go:build cgo && linux

package window

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The release waits until the screen has stayed the same: each redraw
// starts the wait again, and only the wait of the last one releases, once.
func TestReleaseWaitsForAnUnchangedScreen(t *testing.T) {
	var waits []func()
	released := 0
	r := newReleaser(5*time.Second, func() { released++ })
	r.afterFunc = func(d time.Duration, f func()) {
		if d != 5*time.Second {
			t.Errorf("waits %v, want 5s", d)
		}
		waits = append(waits, f)
	}
	r.drawn()
	r.drawn()
	waits[0]() // the first redraw's wait ends: the screen changed since
	if released != 0 {
		t.Fatal("released while the screen was still changing")
	}
	r.drawn()
	waits[1]()
	waits[2]()
	if released != 1 {
		t.Fatalf("released %d times once the screen stayed the same, want 1", released)
	}
	r.drawn()
	r.stop()
	waits[3]()
	if released != 1 {
		t.Fatal("released after stop")
	}
}

// releaseMemory gives freed Go heap back to the system at once: 64 MB
// allocated, touched and dropped stay resident (the collector keeps freed
// pages for reuse) until it runs.
func TestReleaseMemoryReturnsFreedHeap(t *testing.T) {
	var garbage [][]byte
	for range 64 {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = 1
		}
		garbage = append(garbage, b)
	}
	runtime.KeepAlive(garbage)
	garbage = nil
	runtime.GC()
	before := rssAnonKB(t)
	releaseMemory()
	after := rssAnonKB(t)
	if before-after < 32<<10 {
		t.Fatalf("anonymous resident memory %d KB before the release, %d KB after: want at least 32 MB given back", before, after)
	}
}

func rssAnonKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}
