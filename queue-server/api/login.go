package api

import (
	"container/list"
	"context"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hallq/queue-server/hall"
)

// Password guessing limits. A login attempt is counted against its name
// and its client address before the password is hashed, so parallel
// guesses are refused as soon as the limit is reached, not after each was
// checked. A success clears the name's failures.
const (
	maxFailures     = 5               // per name in failureWindow
	maxAddrFailures = 20              // per client address in failureWindow
	failureWindow   = 5 * time.Minute // failures older than this are forgotten
	maxTracked      = 10000           // names (and, apart, addresses) with recent failures
	maxHashing      = 2               // password hashes checked at once (the machine's cores)
)

// compareHash is bcrypt's check, in a variable only so that tests can
// count how many passwords were hashed (export_test.go).
var compareHash = bcrypt.CompareHashAndPassword

// dummyHash is a bcrypt hash of bcrypt.DefaultCost (10) of a random
// password nobody knows (thrown away when it was made): an unknown name
// costs the same check as a known one, so the answer's time does not tell
// which names exist. A constant, so that no start pays for making one.
var dummyHash = []byte("$2a$10$1UeJNPigsbbvTgOz.k53MO54wpZS5ofSzA3FhdNzYrOBs7QzH4CDi")

// loginGuard keeps the failed-login counters. Its goroutine owns them.
//
// Each table (names, client addresses) holds at most maxTracked keys, in
// least-recently-touched order. A key is forgotten only when its last
// failure is older than failureWindow (or it succeeded): a flood of
// made-up names never evicts a counter that still counts. When a table is
// full of live counters, attempts for keys it does not hold are refused
// until some expire — failing closed, never resetting anyone.
type loginGuard struct {
	in    chan func()
	quit  chan struct{}
	done  chan struct{}
	names *counters
	addrs *counters
	hash  chan struct{} // slots for password hashing
	now   func() time.Time
}

func newLoginGuard(now func() time.Time) *loginGuard {
	g := &loginGuard{in: make(chan func()), quit: make(chan struct{}), done: make(chan struct{}),
		names: newCounters(maxFailures), addrs: newCounters(maxAddrFailures), hash: make(chan struct{}, maxHashing), now: now}
	go g.loop()
	return g
}

func (g *loginGuard) loop() {
	defer close(g.done)
	for {
		select {
		case fn := <-g.in:
			fn()
		case <-g.quit:
			return
		}
	}
}

func (g *loginGuard) do(fn func()) {
	done := make(chan struct{})
	select {
	case g.in <- func() { fn(); close(done) }:
		<-done
	case <-g.done:
	}
}

func (g *loginGuard) close() {
	select {
	case <-g.quit:
	default:
		close(g.quit)
	}
	<-g.done
}

// begin counts an attempt for name from addr, before its password is
// checked; false means it is refused (too many failures, or the tables
// full of live counters). An attempt begun must be ended.
func (g *loginGuard) begin(name, addr string) bool {
	ok := false
	g.do(func() {
		now := g.now()
		n, a := g.names.get(name, now), g.addrs.get(addr, now)
		if n == nil || a == nil || n.full(now) || a.full(now) {
			g.names.drop(n)
			g.addrs.drop(a)
			return
		}
		n.pending++
		a.pending++
		ok = true
	})
	return ok
}

// end records the outcome of an attempt begun.
func (g *loginGuard) end(name, addr string, success bool) {
	g.do(func() {
		now := g.now()
		for _, c := range []struct {
			t   *counters
			key string
		}{{g.names, name}, {g.addrs, addr}} {
			e := c.t.get(c.key, now)
			if e == nil {
				continue
			}
			e.pending = max(e.pending-1, 0)
			switch {
			case !success:
				e.fails = append(e.fails, now)
			case c.t == g.names:
				e.fails = nil
			}
			c.t.drop(e)
		}
	})
}

// check hashes a password with at most maxHashing checks at once.
func (g *loginGuard) check(ctx context.Context, hash []byte, password string) (bool, error) {
	select {
	case g.hash <- struct{}{}:
	case <-ctx.Done():
		return false, hall.Errorf(hall.Unavailable, "the login was cancelled")
	}
	defer func() { <-g.hash }()
	return compareHash(hash, []byte(password)) == nil, nil
}

// counters is one bounded table of failure counters, most recently
// touched first. Only the guard's goroutine uses it.
type counters struct {
	limit int
	keys  map[string]*list.Element
	order *list.List // of *counter
}

type counter struct {
	key     string
	fails   []time.Time
	pending int // attempts begun, not yet ended
	touched time.Time
	t       *counters
}

func newCounters(limit int) *counters {
	return &counters{limit: limit, keys: map[string]*list.Element{}, order: list.New()}
}

// get returns key's counter, touched now, creating it when there is room;
// nil when the table is full of counters that still count.
func (t *counters) get(key string, now time.Time) *counter {
	if el, ok := t.keys[key]; ok {
		t.order.MoveToFront(el)
		c := el.Value.(*counter)
		c.touched = now
		return c
	}
	if len(t.keys) >= maxTracked {
		back := t.order.Back()
		old := back.Value.(*counter)
		if old.pending > 0 || now.Sub(old.touched) <= failureWindow {
			return nil // every counter is live: refuse rather than forget one
		}
		t.order.Remove(back)
		delete(t.keys, old.key)
	}
	c := &counter{key: key, touched: now, t: t}
	t.keys[key] = t.order.PushFront(c)
	return c
}

// full reports whether the counter has reached its limit, forgetting
// failures older than the window.
func (c *counter) full(now time.Time) bool {
	i := 0
	for i < len(c.fails) && now.Sub(c.fails[i]) > failureWindow {
		i++
	}
	c.fails = c.fails[i:]
	return len(c.fails)+c.pending >= c.t.limit
}

// drop forgets c when it counts nothing (no failures, nothing pending).
func (t *counters) drop(c *counter) {
	if c == nil || c.pending > 0 || len(c.fails) > 0 {
		return
	}
	if el, ok := t.keys[c.key]; ok {
		t.order.Remove(el)
		delete(t.keys, c.key)
	}
}

func (t *counters) len() int { return len(t.keys) }
