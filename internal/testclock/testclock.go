// Package testclock is the one fake clock of hallq's tests: a hall.Clock
// (anything with Now) that moves only when the test moves it, safe to
// read from the hall's goroutines while the test advances it. Tests pin the
// hall's time zone to Zone (China Standard Time), never UTC, so a date
// computed in the wrong zone shows.
//
// It imports only the standard library, so the domain's own tests use it
// too; internal/halltest starts whole halls on it.
package testclock

import (
	"sync"
	"time"
)

// Zone is the hall's time zone in tests: UTC+8 with no daylight saving.
var Zone = time.FixedZone("CST", 8*3600)

// At is 27 November 2026 (a Friday, a working day) at hh:mm in Zone.
func At(hh, mm int) time.Time { return time.Date(2026, 11, 27, hh, mm, 0, 0, Zone) }

// Clock is a fake clock. The zero value reads as the zero time; use New.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
