// Package loadgen plays a hall day against a running queue-server, through
// its public API only (REST and websocket, via queue-server/client), so a
// newcomer sees a living hall and operators can load a test hall:
//
//   - kiosks take tickets over the websocket with seeded random arrivals per
//     service: walk-ins, priority citizens (绿色通道) and bookings, which
//     are booked first (POST /api/v1/bookings, as an online booking
//     would arrive) and then checked in at the kiosk;
//   - one clerk per window, each with its own clerk token, opens the window,
//     calls, starts, completes, sometimes recalls and marks a no-show or
//     transfers to another service, with seeded service times; citizens
//     rate most visits (好差评);
//   - a display follows the event stream like a hall board.
//
// Speed scales hall time: at 60 one hall minute passes per second. The run
// is bounded by a wall-clock duration and a ticket count, stops by itself
// and returns a Summary (tickets issued, served, no-shows, errors by code).
// Randomness is seeded per actor, so a seed gives the same arrivals and
// service times (the interleaving still depends on the machine).
package loadgen

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Config sets up a run.
type Config struct {
	Server string // base URL, e.g. http://127.0.0.1:8080
	Token  string // an admin token (creates kiosk, clerk and display tokens)
	CAPEM  []byte // trust this CA for https:// servers (hallq-ca's ca.pem)

	Seed       uint64
	Speed      float64       // hall seconds per real second (60: a hall minute a second)
	Duration   time.Duration // wall-clock bound of the run
	MaxTickets int           // stop issuing after this many tickets (0: 5000)
	Rate       float64       // citizens arriving per hall minute (0: about 85% of the windows' capacity)
	Kiosks     int           // kiosks issuing (0: 2)

	// Progress, when set, receives a line about the hall every Every of
	// wall time (0: 10 s).
	Progress io.Writer
	Every    time.Duration
}

// Summary is what a run did and saw.
type Summary struct {
	HallSpan time.Duration // hall time played
	Elapsed  time.Duration // wall time

	Issued      int // tickets issued at kiosks (all channels)
	WalkIns     int
	Priority    int
	Booked      int // bookings created
	CheckedIn   int // bookings checked in (tickets)
	Called      int
	Recalled    int
	Served      int // completed
	NoShows     int
	Transferred int
	Rated       int
	Events      int // events the display received

	Requests     int            // API requests made
	Errors       map[string]int // refused or failed requests by "code" or "code/reason"
	ServerErrors int            // 5xx: internal or unavailable

	IssueP50, IssueP99 time.Duration // issue latency seen by kiosks
}

// Run plays the hall until cfg.Duration passes, ctx ends, or MaxTickets
// were issued, and returns what happened. It returns an error only when the
// hall cannot be set up (server unreachable, token refused).
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if cfg.Speed <= 0 {
		cfg.Speed = 60
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 3 * time.Minute
	}
	if cfg.MaxTickets <= 0 {
		cfg.MaxTickets = 5000
	}
	if cfg.Kiosks <= 0 {
		cfg.Kiosks = 2
	}
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Second
	}
	g := &gen{cfg: cfg, errs: map[string]int{}, nonce: nonce(), mean: map[string]time.Duration{}}
	admin, err := g.client(cfg.Token)
	if err != nil {
		return Summary{}, err
	}
	g.admin = admin
	setup, cancelSetup := context.WithTimeout(ctx, 30*time.Second)
	defer cancelSetup()
	services, err := admin.Services(setup)
	if err != nil {
		return Summary{}, fmt.Errorf("loadgen: list services: %w", err)
	}
	windows, err := admin.Windows(setup)
	if err != nil {
		return Summary{}, fmt.Errorf("loadgen: list windows: %w", err)
	}
	for _, s := range services {
		g.mean[s.Code] = time.Duration(cmp.Or(s.MeanServiceS, 300)) * time.Second
		g.needsID = append(g.needsID, s.RequiresID)
		g.codes = append(g.codes, s.Code)
	}
	g.plan(windows)
	// Tokens: one per kiosk, one per window's clerk, one display; revoked at the end.
	var tokenIDs []string
	defer func() {
		for _, id := range tokenIDs {
			admin.Do(context.Background(), http.MethodDelete, "/api/v1/tokens/"+id, "", nil, nil)
		}
	}()
	newToken := func(name, role string, window int) (*client.Client, error) {
		tk, err := admin.CreateToken(setup, wire.TokenRequest{Name: name, Role: role, Window: window})
		if err != nil {
			return nil, fmt.Errorf("loadgen: create %s token: %w", role, err)
		}
		tokenIDs = append(tokenIDs, tk.ID)
		return g.client(tk.Token)
	}
	var kiosks, clerks []*client.Client
	for i := range cfg.Kiosks {
		c, err := newToken(fmt.Sprintf("loadgen-kiosk-%d", i+1), wire.RoleKiosk, 0)
		if err != nil {
			return Summary{}, err
		}
		kiosks = append(kiosks, c)
	}
	for _, w := range windows {
		c, err := newToken(fmt.Sprintf("loadgen-clerk-%d", w.Number), wire.RoleClerk, w.Number)
		if err != nil {
			return Summary{}, err
		}
		clerks = append(clerks, c)
	}
	board, err := newToken("loadgen-board", wire.RoleDisplay, 0)
	if err != nil {
		return Summary{}, err
	}

	g.start = time.Now()
	stop, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	g.stop = stop
	g.base = context.WithoutCancel(ctx) // requests in flight finish after the stop

	boardCtx, stopBoard := context.WithCancel(ctx)
	var boardDone sync.WaitGroup
	boardDone.Go(func() {
		board.Follow(boardCtx, 0, func(f wire.Frame) {
			if f.Type == wire.FrameEvent {
				g.count(&g.sum.Events)
			}
		}, nil)
	})
	var wg sync.WaitGroup
	for i, c := range clerks {
		wg.Go(func() { g.clerk(c, windows[i]) })
	}
	for i, c := range kiosks {
		wg.Go(func() { g.kiosk(c, i) })
	}
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		g.progress()
	}()
	wg.Wait()
	<-progressDone
	time.Sleep(200 * time.Millisecond) // let the board see the last events
	stopBoard()
	boardDone.Wait()

	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sum
	s.Elapsed = time.Since(g.start)
	s.HallSpan = time.Duration(float64(s.Elapsed) * cfg.Speed).Round(time.Second)
	s.Errors = g.errs
	s.IssueP50, s.IssueP99 = Percentile(g.lat, 0.50), Percentile(g.lat, 0.99)
	return s, nil
}

type gen struct {
	cfg   Config
	admin *client.Client
	start time.Time
	stop  context.Context // done when the run should end
	base  context.Context // for requests: not cancelled by the stop
	nonce string

	codes   []string // services, in configuration order
	needsID []bool
	mean    map[string]time.Duration // mean service time by service
	weights []float64                // arrival share by service
	rate    float64                  // arrivals per hall minute, all kiosks
	serves  map[string]bool          // services some window serves (transfer targets)

	mu   sync.Mutex
	sum  Summary
	errs map[string]int
	lat  []time.Duration
}

func (g *gen) client(token string) (*client.Client, error) {
	if len(g.cfg.CAPEM) > 0 {
		return client.NewTLS(g.cfg.Server, token, g.cfg.CAPEM)
	}
	return client.New(g.cfg.Server, token), nil
}

// plan sizes arrivals to the windows: each window adds the capacity of its
// first service; citizens arrive at about 85% of the total, split the same way.
func (g *gen) plan(windows []hall.Window) {
	capacity := map[string]float64{}
	g.serves = map[string]bool{}
	for _, w := range windows {
		if len(w.Services) == 0 {
			continue
		}
		for _, s := range w.Services {
			g.serves[s] = true
		}
		capacity[w.Services[0]] += 1 / g.mean[w.Services[0]].Minutes()
	}
	total := 0.0
	for _, code := range g.codes {
		g.weights = append(g.weights, capacity[code])
		total += capacity[code]
	}
	g.rate = g.cfg.Rate
	if g.rate <= 0 {
		g.rate = 0.85 * total
	}
	if total == 0 { // no windows: spread evenly
		for i := range g.weights {
			g.weights[i] = 1
		}
	}
}

// hallSleep waits d of hall time; false when the run is over.
func (g *gen) hallSleep(d time.Duration) bool {
	t := time.NewTimer(time.Duration(float64(d) / g.cfg.Speed))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.stop.Done():
		return false
	}
}

func (g *gen) count(n *int) {
	g.mu.Lock()
	*n++
	g.mu.Unlock()
}

// record counts a request and its error, if any; it reports success.
func (g *gen) record(err error) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sum.Requests++
	if err == nil {
		return true
	}
	if errors.Is(err, context.Canceled) {
		return false // the run was interrupted, not refused
	}
	code := hall.ErrorCode(err)
	key := string(code)
	if r := hall.ErrorReason(err); r != "" {
		key += "/" + r
	}
	g.errs[key]++
	if code == hall.Internal || code == hall.Unavailable {
		g.sum.ServerErrors++
	}
	return false
}

func (g *gen) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(g.base, 20*time.Second)
}

// ---- kiosks ----

func (g *gen) kiosk(c *client.Client, i int) {
	rng := mrand.New(mrand.NewPCG(g.cfg.Seed, uint64(1000+i)))
	var cn *client.Conn
	defer func() {
		if cn != nil {
			cn.Close()
		}
	}()
	perKiosk := g.rate / float64(g.cfg.Kiosks) // per hall minute
	for n := 0; ; n++ {
		gap := time.Duration(rng.ExpFloat64() / perKiosk * float64(time.Minute))
		if !g.hallSleep(gap) {
			return
		}
		g.mu.Lock()
		full := g.sum.Issued >= g.cfg.MaxTickets
		g.mu.Unlock()
		if full {
			return
		}
		if cn == nil {
			ctx, cancel := g.ctx()
			var err error
			cn, err = c.Dial(ctx, 0, nil)
			cancel()
			if !g.record(err) {
				cn = nil
				continue
			}
		}
		svc := g.pick(rng)
		req := hall.IssueRequest{Service: g.codes[svc]}
		if g.needsID[svc] {
			req.CitizenKey, req.MaskedID = citizen(rng)
		}
		idem := fmt.Sprintf("lg-%s-k%d-%d", g.nonce, i, n)
		var tv hall.TicketView
		var err error
		start := time.Now()
		ctx, cancel := g.ctx()
		switch r := rng.Float64(); {
		case r < 0.12: // a booking made online, checked in now
			if req.CitizenKey == "" {
				req.CitizenKey, req.MaskedID = citizen(rng)
			}
			id := fmt.Sprintf("lg-%s-%d-%d", g.nonce, i, n)
			now := time.Now()
			slot := now.Add(time.Duration(rng.IntN(20)) * time.Minute).Truncate(time.Minute)
			b := hall.Booking{ID: id, CitizenKey: req.CitizenKey, MaskedID: req.MaskedID, Service: req.Service, SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)}
			_, err = g.admin.Do(ctx, http.MethodPost, "/api/v1/bookings", "book-"+id, b, nil)
			if g.record(err) {
				g.count(&g.sum.Booked)
				start = time.Now()
				_, err = cn.Request(ctx, "checkin", nil, idem, hall.CheckIn{Booking: id}, &tv)
				if err == nil {
					g.count(&g.sum.CheckedIn)
				}
			}
		case r < 0.17:
			req.Channel = hall.Priority
			_, err = cn.Request(ctx, "tickets.issue", nil, idem, req, &tv)
			if err == nil {
				g.count(&g.sum.Priority)
			}
		case r < 0.20: // elderly walk-in: the server makes it priority
			req.AgeClass = hall.AgeElderly
			_, err = cn.Request(ctx, "tickets.issue", nil, idem, req, &tv)
			if err == nil {
				g.count(&g.sum.Priority)
			}
		default:
			_, err = cn.Request(ctx, "tickets.issue", nil, idem, req, &tv)
			if err == nil {
				g.count(&g.sum.WalkIns)
			}
		}
		cancel()
		took := time.Since(start)
		if g.record(err) {
			g.mu.Lock()
			g.sum.Issued++
			g.lat = append(g.lat, took)
			g.mu.Unlock()
		} else if hall.ErrorReason(err) == "network" {
			cn.Close()
			cn = nil
		}
	}
}

func (g *gen) pick(rng *mrand.Rand) int {
	total := 0.0
	for _, w := range g.weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range g.weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(g.weights) - 1
}

// citizen returns a random citizen key and masked ID (never a real number).
func citizen(rng *mrand.Rand) (key, masked string) {
	var b [32]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b[:]), fmt.Sprintf("4201**********%04d", rng.IntN(10000))
}

// ---- clerks ----

func (g *gen) clerk(c *client.Client, w hall.Window) {
	rng := mrand.New(mrand.NewPCG(g.cfg.Seed, uint64(w.Number)))
	act := func(id, action string, a *hall.Action) bool {
		ctx, cancel := g.ctx()
		defer cancel()
		_, err := c.Act(ctx, "", id, action, a)
		return g.record(err)
	}
	setWindow := func(state, reason string) bool {
		ctx, cancel := g.ctx()
		defer cancel()
		_, err := c.SetWindow(ctx, w.Number, state, reason)
		return g.record(err)
	}
	// Clerks arrive over the first hall minutes.
	if !g.hallSleep(time.Duration(rng.IntN(300)) * time.Second) {
		return
	}
	if !setWindow("open", "") {
		return
	}
	defer setWindow("close", "")
	for n := 0; g.stop.Err() == nil; n++ {
		ctx, cancel := g.ctx()
		tk, ok, err := c.Call(ctx, fmt.Sprintf("lg-%s-w%d-%d", g.nonce, w.Number, n), w.Number, "")
		cancel()
		if !g.record(err) {
			g.hallSleep(30 * time.Second)
			continue
		}
		if !ok { // nobody waiting
			if rng.Float64() < 0.02 && setWindow("pause", "break") {
				g.hallSleep(5 * time.Minute)
				setWindow("open", "")
				continue
			}
			g.hallSleep(20 * time.Second)
			continue
		}
		g.count(&g.sum.Called)
		if rng.Float64() < 0.05 { // the citizen does not come
			g.hallSleep(time.Minute)
			if act(tk.ID, hall.ActRecall, nil) {
				g.count(&g.sum.Recalled)
			}
			g.hallSleep(time.Minute)
			if act(tk.ID, hall.ActNoShow, nil) {
				g.count(&g.sum.NoShows)
			}
			continue
		}
		g.hallSleep(time.Duration(10+rng.IntN(40)) * time.Second) // walking to the window
		if !act(tk.ID, hall.ActStart, nil) {
			continue
		}
		mean := g.mean[tk.Service]
		d := time.Duration(float64(mean) * (0.3 + 0.7*rng.ExpFloat64()))
		g.hallSleep(min(d, 5*mean)) // a stop ends the visit early: the citizen is served
		if to := g.transferTarget(rng, tk.Service); to != "" && rng.Float64() < 0.04 {
			if act(tk.ID, hall.ActTransfer, &hall.Action{Service: to}) {
				g.count(&g.sum.Transferred)
			}
			continue
		}
		if !act(tk.ID, hall.ActComplete, nil) {
			continue
		}
		g.count(&g.sum.Served)
		if rng.Float64() < 0.75 {
			r := &hall.Action{Score: score(rng)}
			if r.Score <= 2 {
				r.Reason = "waited too long"
			}
			if act(tk.ID, hall.ActRate, r) {
				g.count(&g.sum.Rated)
			}
		}
	}
}

func (g *gen) transferTarget(rng *mrand.Rand, from string) string {
	var to []string
	for _, c := range g.codes {
		if c != from && g.serves[c] {
			to = append(to, c)
		}
	}
	if len(to) == 0 {
		return ""
	}
	return to[rng.IntN(len(to))]
}

// score draws a rating: most citizens are satisfied, a few are not.
func score(rng *mrand.Rand) int {
	switch r := rng.Float64(); {
	case r < 0.62:
		return 5
	case r < 0.86:
		return 4
	case r < 0.95:
		return 3
	case r < 0.98:
		return 2
	}
	return 1
}

// ---- reporting ----

func (g *gen) progress() {
	if g.cfg.Progress == nil {
		<-g.stop.Done()
		return
	}
	t := time.NewTicker(g.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-g.stop.Done():
			return
		}
		ctx, cancel := g.ctx()
		svcs, err := g.admin.Services(ctx)
		cancel()
		var waiting []string
		if err == nil {
			for _, s := range svcs {
				waiting = append(waiting, fmt.Sprintf("%s:%d", s.Code, s.Waiting))
			}
		}
		g.mu.Lock()
		s := g.sum
		g.mu.Unlock()
		hallT := time.Duration(float64(time.Since(g.start)) * g.cfg.Speed).Round(time.Minute)
		fmt.Fprintf(g.cfg.Progress, "hall +%-7s issued %d, served %d, no-shows %d, rated %d, waiting %s\n",
			hallT, s.Issued, s.Served, s.NoShows, s.Rated, strings.Join(waiting, " "))
	}
}

// Print writes the summary as a small table.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "hall time played   %s (wall %s)\n", s.HallSpan, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "tickets issued     %d (walk-in %d, priority %d, bookings %d of %d booked)\n", s.Issued, s.WalkIns, s.Priority, s.CheckedIn, s.Booked)
	fmt.Fprintf(w, "called             %d (recalled %d)\n", s.Called, s.Recalled)
	fmt.Fprintf(w, "served             %d\n", s.Served)
	fmt.Fprintf(w, "no-shows           %d\n", s.NoShows)
	fmt.Fprintf(w, "transferred        %d\n", s.Transferred)
	fmt.Fprintf(w, "rated              %d\n", s.Rated)
	fmt.Fprintf(w, "events on board    %d\n", s.Events)
	fmt.Fprintf(w, "issue latency      p50 %s, p99 %s\n", s.IssueP50.Round(10*time.Microsecond), s.IssueP99.Round(10*time.Microsecond))
	fmt.Fprintf(w, "requests           %d, refused or failed %d, server errors (5xx) %d\n", s.Requests, s.errorTotal(), s.ServerErrors)
	keys := make([]string, 0, len(s.Errors))
	for k := range s.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-30s %d\n", k, s.Errors[k])
	}
}

func (s Summary) errorTotal() int {
	n := 0
	for _, v := range s.Errors {
		n += v
	}
	return n
}

// Percentile returns the p-th quantile (0..1) of ds (0 when empty).
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func nonce() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Main runs the loadgen command with args (without the program name) and
// returns the exit code: 0, 1 when the server answered with 5xx errors,
// 2 for bad flags or a hall that could not be set up.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", env("HALLQ_SERVER", "http://127.0.0.1:8080"), "hall server base URL (env HALLQ_SERVER)")
	token := fs.String("token", "", "admin token (or -token-file; env HALLQ_TOKEN)")
	tokenFile := fs.String("token-file", "", "file holding the admin token, e.g. .hallq-data/bootstrap-token")
	caFile := fs.String("ca", "", "trust this CA certificate (PEM) for an https:// server")
	seed := fs.Uint64("seed", 1, "random seed for arrivals and service times")
	speed := fs.Float64("speed", 60, "hall seconds per real second (60: one hall minute a second)")
	duration := fs.Duration("duration", 3*time.Minute, "wall-clock length of the run")
	maxTickets := fs.Int("max-tickets", 5000, "stop issuing after this many tickets")
	rate := fs.Float64("rate", 0, "citizens arriving per hall minute (0: about 85% of the windows' capacity)")
	kiosks := fs.Int("kiosks", 2, "kiosks issuing tickets")
	every := fs.Duration("every", 10*time.Second, "progress line interval")
	wait := fs.Duration("wait", 0, "wait up to this long for the server to answer /healthz first")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var ca []byte
	if *caFile != "" {
		var err error
		if ca, err = os.ReadFile(*caFile); err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 2
		}
	}
	if *wait > 0 && !waitHealthy(ctx, *server, ca, *wait) {
		fmt.Fprintf(stderr, "loadgen: %s did not become healthy within %s\n", *server, *wait)
		return 2
	}
	tok := cmp.Or(*token, os.Getenv("HALLQ_TOKEN"))
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 2
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		fmt.Fprintln(stderr, "loadgen: an admin token is needed (-token or -token-file)")
		return 2
	}
	fmt.Fprintf(stdout, "loadgen: playing the hall at %s, speed %gx, for %s (seed %d)\n", *server, *speed, *duration, *seed)
	s, err := Run(ctx, Config{Server: *server, Token: tok, CAPEM: ca, Seed: *seed, Speed: *speed, Duration: *duration,
		MaxTickets: *maxTickets, Rate: *rate, Kiosks: *kiosks, Progress: stdout, Every: *every})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	s.Print(stdout)
	if s.ServerErrors > 0 {
		return 1
	}
	return 0
}

// waitHealthy polls GET /healthz until it answers 200 or d passes.
func waitHealthy(ctx context.Context, server string, ca []byte, d time.Duration) bool {
	c := client.New(server, "")
	if len(ca) > 0 {
		var err error
		if c, err = client.NewTLS(server, "", ca); err != nil {
			return false
		}
	}
	deadline := time.Now().Add(d)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		status, err := c.Do(rctx, http.MethodGet, "/healthz", "", nil, nil)
		cancel()
		if err == nil && status == http.StatusOK {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
