//go:build cgo

package window

import (
	"runtime/debug"
	"sync"
	"time"
)

// releaseAfter is how long the screen must stay unchanged before the kiosk
// gives back the memory it freed while drawing it.
const releaseAfter = 5 * time.Second

// An idle kiosk gives its freed memory back to the system. Drawing a screen
// allocates far more than the screen keeps: Fyne lays every text out and
// rasterises it (Go heap), and the GL driver — Mesa's llvmpipe under Xvfb
// compiles its shaders with LLVM — allocates and frees in the C heap. Both
// allocators keep what was freed for reuse: Go's down to its collection
// goal and soft limit, glibc's malloc almost all of it (only the top of each
// arena is trimmed by itself). Measured on the home screen (README, Measured
// here): ≈ 12 MB of freed C heap and ≈ 10 MB of freed Go heap stayed
// resident for nothing while the kiosk waited for the next citizen. So once
// the screen has stayed the same for releaseAfter, the kiosk collects its Go
// heap and returns the free pages of both; nothing live is touched, and the
// next screen takes pages back as it needs them.
type releaser struct {
	after     time.Duration
	release   func()
	afterFunc func(time.Duration, func()) // time.AfterFunc; tests fire it themselves

	mu      sync.Mutex // guards the fields below
	redraws uint64     // redraws reported so far
	stopped bool
}

func newReleaser(after time.Duration, release func()) *releaser {
	return &releaser{after: after, release: release,
		afterFunc: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// drawn reports that the screen changed: the release waits until it has
// stayed the same for r.after (a wait started by an earlier redraw ends
// without it). Safe from any goroutine.
func (r *releaser) drawn() {
	r.mu.Lock()
	r.redraws++
	n := r.redraws
	r.mu.Unlock()
	r.afterFunc(r.after, func() {
		r.mu.Lock()
		unchanged := r.redraws == n && !r.stopped
		r.mu.Unlock()
		if unchanged {
			r.release()
		}
	})
}

// stop cancels the pending release: the kiosk is closing.
func (r *releaser) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
}

// releaseMemory returns the free pages of the Go heap and of the C heap to
// the system.
func releaseMemory() {
	debug.FreeOSMemory()
	trimCHeap()
}
