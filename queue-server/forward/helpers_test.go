package forward_test

import (
	"context"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/central/platform"
	"hallq/internal/idnumber"
	"hallq/internal/testclock"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

const hallID = "420102-01"

var cst = testclock.Zone

type clock = testclock.Clock

func newClock() *clock { return testclock.New(testclock.At(9, 0)) }

// fastConfig is the sample hall without quotas or ID requirements, open
// all day, with 6-digit numbers: for producing many events quickly.
func fastConfig() hall.Config {
	c := hall.SampleConfig()
	for i := range c.Services {
		s := &c.Services[i]
		s.DailyQuota, s.PerCitizenLimit, s.RequiresID, s.Remote = 0, 0, false, true
		s.Hours = hall.Hours{Open: "00:00", Close: "24:00"}
	}
	c.Rules.NumberDigits = 6
	return c
}

// Central is a reference central platform on a random loopback port.
type Central struct {
	t    testing.TB
	Srv  *natsembed.Server
	NC   *nats.Conn
	JS   jetstream.JetStream
	View *platform.View
}

func MustCentral(t testing.TB) *Central {
	t.Helper()
	return mustCentralOpts(t, natsembed.Options{Dir: t.TempDir()})
}

func mustCentralOpts(t testing.TB, o natsembed.Options) *Central {
	t.Helper()
	c := mustNATS(t, o)
	c.createStreams()
	return c
}

// mustNATS starts the central's NATS server with JetStream but no streams
// yet, and connects to it.
func mustNATS(t testing.TB, o natsembed.Options) *Central {
	t.Helper()
	srv, err := natsembed.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	c := &Central{t: t, Srv: srv}
	t.Cleanup(func() { c.Srv.Stop() })
	c.NC, err = nats.Connect(srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.NC.Close)
	if c.JS, err = jetstream.New(c.NC); err != nil {
		t.Fatal(err)
	}
	return c
}

// createStreams sets up the central's streams (twice: it must be
// idempotent) and starts its view.
func (c *Central) createStreams() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := platform.EnsureStreams(ctx, c.JS, platform.StreamOptions{}); err != nil {
		c.t.Fatal(err)
	}
	if err := platform.EnsureStreams(ctx, c.JS, platform.StreamOptions{}); err != nil {
		c.t.Fatalf("stream setup is not idempotent: %v", err)
	}
	c.View = platform.NewView(nil)
	goUntilCleanup(c.t, func(ctx context.Context) { c.View.Run(ctx, c.JS) })
}

// Down stops the server; Up restarts it on the same port and store.
func (c *Central) Down() { c.Srv.Stop() }

func (c *Central) Up() {
	c.t.Helper()
	srv, err := c.Srv.Restart()
	if err != nil {
		c.t.Fatal(err)
	}
	c.Srv = srv
}

// CheckOracle fails unless the view saw hall seqs 1..last exactly once, in order.
func (c *Central) CheckOracle(t testing.TB, last uint64) platform.HallView {
	t.Helper()
	// Delivery is bound by the disk (JetStream syncs every write), which a
	// busy machine shares: wait as long as events keep arriving, and fail
	// when none has arrived for 20 s — a stalled forwarder, not a slow disk.
	var prev uint64
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := c.View.WaitSeq(ctx, hallID, last)
		cancel()
		if err == nil {
			break
		}
		h, _ := c.View.Hall(hallID)
		if h.LastSeq == prev {
			t.Fatalf("no event arrived for 20 s, stuck at seq %d of %d: %v (view: %+v)", h.LastSeq, last, err, h)
		}
		prev = h.LastSeq
	}
	h, _ := c.View.Hall(hallID)
	if h.LastSeq != last || h.Events != last || h.Duplicates != 0 || h.Gaps != 0 || h.BadIDs != 0 {
		t.Fatalf("oracle: last %d events %d duplicates %d gaps %d %v bad ids %d, want %d once each in order",
			h.LastSeq, h.Events, h.Duplicates, h.Gaps, h.GapRanges, h.BadIDs, last)
	}
	// The stream itself holds each event once (JetStream dedupe).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := c.JS.Stream(ctx, platform.HallsStream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := info.Info(ctx, jetstream.WithSubjectFilter("hall."+hallID+".events.>"))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, k := range si.State.Subjects {
		n += k
	}
	if n != last {
		t.Fatalf("stream HALLS holds %d messages for the hall, want %d", n, last)
	}
	return h
}

// Hall is a real hall: bbolt store and hall.Service, with the onCommit hook
// notifying the forwarder, as the server does.
type Hall struct {
	Dir   string
	Store *store.Store
	Svc   *hall.Service
	Clock *clock
	fwd   atomic.Pointer[forward.Forwarder]
}

func MustHall(t testing.TB, dir string, cfg hall.Config, clk *clock) *Hall {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if clk == nil {
		clk = newClock()
	}
	h := &Hall{Dir: dir, Clock: clk}
	var err error
	if h.Store, err = store.Open(dir); err != nil {
		t.Fatal(err)
	}
	h.Svc, err = hall.NewService(cfg, h.Store, clk, func([]hall.Event) {
		if f := h.fwd.Load(); f != nil {
			f.Notify()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func (h *Hall) Close() {
	h.Svc.Close()
	h.Store.Close()
}

func (h *Hall) LastSeq(t testing.TB) uint64 {
	t.Helper()
	st, err := h.Store.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	return st.Last
}

// StartForwarder runs a forwarder on the hall until the test ends (or the
// returned stop is called).
func (h *Hall) StartForwarder(t testing.TB, cfg forward.Config) (*forward.Forwarder, func()) {
	t.Helper()
	if cfg.HallID == "" {
		cfg.HallID = hallID
	}
	if cfg.Now == nil {
		cfg.Now = h.Clock.Now
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	f, err := forward.New(cfg, h.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.fwd.Store(f)
	stop := goUntilCleanup(t, func(ctx context.Context) {
		if err := f.Run(ctx); err != nil {
			t.Errorf("forwarder: %v", err)
		}
	})
	return f, stop
}

// Produce issues n tickets from many goroutines, so group commit batches them.
func (h *Hall) Produce(t testing.TB, n int) {
	t.Helper()
	const workers = 128
	var wg sync.WaitGroup
	var failed atomic.Int64
	services := []string{"A", "B", "C", "D", "E"}
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if _, err := h.Svc.Issue(context.Background(), hall.Op{}, hall.IssueRequest{Service: services[i%len(services)]}); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d issues failed", failed.Load())
	}
}

// goUntilCleanup runs fn in a goroutine with a context cancelled by the
// returned stop func or at cleanup, and waits for it to return.
func goUntilCleanup(t testing.TB, fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fn(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitFor(t testing.TB, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idNumber matches an 18-character resident ID number standing alone.
var idNumber = regexp.MustCompile(`(^|[^0-9A-Za-z])([0-9]{17}[0-9Xx])($|[^0-9A-Za-z])`)

// findIDNumbers returns every ID number with a valid check character in b.
func findIDNumbers(b []byte) []string {
	var out []string
	for _, m := range idNumber.FindAllSubmatch(b, -1) {
		id := string(m[2])
		if _, err := idnumber.ParseResident(id); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// testID returns a valid ID number (with check character) for i.
func testID(i int) string {
	first := "42010219" + "800101" // region + birth date prefix, padded below
	s := first[:6] + "19800101" + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
	c, err := idnumber.CheckChar(s)
	if err != nil {
		panic(err)
	}
	return s + string(c)
}
