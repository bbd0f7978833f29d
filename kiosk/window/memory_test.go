//go:build cgo

package window

import (
	"runtime/debug"
	"testing"
)

// The kiosk holds its Go memory close to what it keeps live (GOGC 50, a
// soft 64 MiB limit), unless GOGC or GOMEMLIMIT in its environment say
// otherwise: then those stand.
func TestKioskMemoryPolicy(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) })

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1 << 40)
	limitMemory()
	if got := debug.SetGCPercent(100); got != kioskGCPercent {
		t.Errorf("GC percent %d, want %d", got, kioskGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != kioskMemoryLimit {
		t.Errorf("memory limit %d, want %d", got, kioskMemoryLimit)
	}

	t.Setenv("GOGC", "200")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(200)
	debug.SetMemoryLimit(1 << 30)
	limitMemory()
	if got := debug.SetGCPercent(200); got != 200 {
		t.Errorf("with GOGC=200 set: GC percent %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("with GOMEMLIMIT=1GiB set: memory limit %d", got)
	}
}
