package api

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func fail(t *testing.T, g *loginGuard, name, addr string) bool {
	t.Helper()
	if !g.begin(name, addr) {
		return false
	}
	g.end(name, addr, false)
	return true
}

// 10,001 made-up names (each from its own address) do not reset a real
// name's counter, and the tables stay bounded; once the window passes the
// name may try again.
func TestLoginFloodDoesNotResetCounters(t *testing.T) {
	clk := &stepClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	g := newLoginGuard(clk.now)
	defer g.close()
	for i := range maxFailures {
		if !fail(t, g, "wang", "10.0.0.1") {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if g.begin("wang", "10.0.0.2") {
		t.Fatal("a sixth guess for wang was let through")
	}
	refused := 0
	for i := range maxTracked + 1 {
		if !fail(t, g, "made-up-"+strconv.Itoa(i), "10.1."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256)) {
			refused++
		}
		clk.advance(time.Millisecond)
	}
	if g.begin("wang", "10.0.0.3") {
		t.Fatal("after 10,001 made-up names wang's counter was reset")
	}
	var names, addrs int
	g.do(func() { names, addrs = g.names.len(), g.addrs.len() })
	if names > maxTracked || addrs > maxTracked {
		t.Fatalf("tables grew to %d names, %d addresses (bound %d)", names, addrs, maxTracked)
	}
	if refused == 0 {
		t.Fatal("a full table of live counters took a new name (it must have forgotten one)")
	}
	clk.advance(failureWindow + time.Second)
	if !g.begin("wang", "10.0.0.4") {
		t.Fatal("wang is still refused after the window")
	}
	g.end("wang", "10.0.0.4", true)
}

// Per address: one client cannot spray guesses over many names.
func TestLoginLimitPerAddress(t *testing.T) {
	clk := &stepClock{t: time.Now()}
	g := newLoginGuard(clk.now)
	defer g.close()
	n := 0
	for i := range 100 {
		if fail(t, g, "name-"+strconv.Itoa(i), "192.0.2.7") {
			n++
		}
	}
	if n != maxAddrFailures {
		t.Fatalf("one address got %d failed guesses over many names, want %d", n, maxAddrFailures)
	}
}

// The dummy hash has the cost of a real account's, so it takes the same work.
func TestDummyHashHasTheDefaultCost(t *testing.T) {
	if c, err := bcrypt.Cost(dummyHash); err != nil || c != bcrypt.DefaultCost {
		t.Fatalf("dummy hash cost %d (%v), accounts use %d", c, err, bcrypt.DefaultCost)
	}
}
