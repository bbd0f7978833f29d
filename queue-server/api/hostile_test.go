package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hallq/internal/halltest"
	"hallq/queue-server/api"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
	"hallq/tools/loadgen"
)

// TestHostileClients attacks a real hall over loopback while a
// well-behaved kiosk keeps issuing tickets over REST:
//   - websocket clients that never read (tiny receive buffers) while events
//     flow: the hub must drop them;
//   - clients that connect and never say hello: closed after the hello
//     timeout (shortened here);
//   - frames over 64 KiB: the connection is closed (1009);
//   - malformed frames: an error frame, and the connection still works;
//   - one connection flooding pipelined requests.
//
// The well-behaved client must keep succeeding and the server must stay
// healthy; its latency (p50/p99, before and during the attack) is logged,
// never asserted. HALLQ_HOSTILE_SECONDS makes the attack last longer
// (make chaos); by default one wave runs, a few seconds.
func TestHostileClients(t *testing.T) {
	api.SetHelloTimeout(300 * time.Millisecond)
	cfg := hall.SampleConfig()
	cfg.Rules.NumberDigits = 6 // the flood must not exhaust the day's numbers
	s := halltest.RunHall(t, halltest.Options{Config: &cfg, OpenAll: true, Real: true})
	admin := s.Admin
	ctx := context.Background()
	token := func(role, name string) string {
		tk, err := admin.CreateToken(ctx, wire.TokenRequest{Name: name, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return tk.Token
	}
	goodKiosk := client.New(s.URL, token(wire.RoleKiosk, "good-kiosk"))
	displayTok := token(wire.RoleDisplay, "slow-board")
	floodTok := token(wire.RoleKiosk, "flood-kiosk")

	// Baseline: the well-behaved kiosk alone.
	var base []time.Duration
	for i := range 200 {
		start := time.Now()
		if _, err := goodKiosk.Issue(ctx, "base-"+strconv.Itoa(i), hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
		base = append(base, time.Since(start))
	}

	attackFor := time.Duration(0)
	if v, err := strconv.Atoi(os.Getenv("HALLQ_HOSTILE_SECONDS")); err == nil {
		attackFor = time.Duration(v) * time.Second
	}

	// The well-behaved kiosk issues until the attack is over.
	var (
		good     []time.Duration
		goodErrs []error
		goodMu   sync.Mutex
		stopGood = make(chan struct{})
		goodDone = make(chan struct{})
	)
	go func() {
		defer close(goodDone)
		for i := 0; ; i++ {
			select {
			case <-stopGood:
				return
			default:
			}
			start := time.Now()
			_, err := goodKiosk.Issue(ctx, "good-"+strconv.Itoa(i), hall.IssueRequest{Service: "E"})
			goodMu.Lock()
			if err != nil {
				goodErrs = append(goodErrs, err)
			} else {
				good = append(good, time.Since(start))
			}
			goodMu.Unlock()
		}
	}()

	var st attackStats
	began := time.Now()
	for wave := 0; wave == 0 || time.Since(began) < attackFor; wave++ {
		attackWave(t, s.Server, displayTok, floodTok, &st)
	}
	close(stopGood)
	<-goodDone

	goodMu.Lock()
	defer goodMu.Unlock()
	for _, err := range goodErrs {
		t.Errorf("the well-behaved kiosk failed during the attack: %v", err)
	}
	if len(good) == 0 {
		t.Fatal("the well-behaved kiosk issued nothing during the attack")
	}
	// The server is healthy: /healthz, a fresh websocket, a gap-free log.
	if status, err := admin.Do(ctx, "GET", "/healthz", "", nil, nil); err != nil || status != 200 {
		t.Fatalf("healthz after the attack: %d %v", status, err)
	}
	cn, err := admin.Dial(ctx, 0, nil)
	if err != nil {
		t.Fatalf("a fresh websocket after the attack: %v", err)
	}
	cn.Close()
	var seq uint64
	for {
		page, err := admin.Events(ctx, seq, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			if ev.Seq != seq+1 {
				t.Fatalf("event log gap: %d after %d", ev.Seq, seq)
			}
			seq = ev.Seq
		}
		if !page.More {
			break
		}
	}
	t.Logf("attack: %s, %d waves; slow readers dropped %d/%d (after %s of events at most), silent clients closed %d/%d, oversized closed %d/%d, malformed frames answered %d (connections kept), flood requests %d (answered %d)",
		time.Since(began).Round(time.Millisecond), st.waves, st.slowDropped, st.slow, st.slowDropMax.Round(time.Millisecond),
		st.silentClosed, st.silent, st.bigClosed, st.big, st.malformed, st.floodSent, st.floodAnswered)
	t.Logf("well-behaved kiosk (REST issue): alone p50 %s p99 %s (n=%d); during the attack p50 %s p99 %s (n=%d), 0 errors; %d events in a gap-free log",
		loadgen.Percentile(base, 0.5), loadgen.Percentile(base, 0.99), len(base),
		loadgen.Percentile(good, 0.5), loadgen.Percentile(good, 0.99), len(good), seq)
}

type attackStats struct {
	waves                    int
	slow, slowDropped        int
	slowDropMax              time.Duration
	silent, silentClosed     int
	big, bigClosed           int
	malformed                int
	floodSent, floodAnswered int64
}

// attackWave runs every kind of hostile client once, concurrently, and
// checks each is handled.
func attackWave(t *testing.T, s *server.Server, displayTok, floodTok string, st *attackStats) {
	t.Helper()
	st.waves++
	var wg sync.WaitGroup
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		t.Helper()
		mu.Lock()
		t.Errorf(format, args...)
		mu.Unlock()
	}

	// 1. The flood: one kiosk connection pipelines bursts of requests
	// (issues and reads) without waiting for replies; it reads them, but a
	// client that cannot keep up with its own replies may be dropped too.
	floodDone := make(chan struct{})
	wg.Go(func() {
		ws := dial(t, s.Addr, 0)
		defer ws.Close()
		hello(t, ws, floodTok)
		var answered atomic.Int64
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			for {
				var f wire.Frame
				if err := ws.ReadJSON(&f); err != nil {
					return
				}
				if f.Type == wire.FrameReply {
					answered.Add(1)
				}
			}
		}()
		var sent int64
		body, _ := json.Marshal(hall.IssueRequest{Service: "E"})
	flood:
		for i := 0; ; i++ {
			select {
			case <-floodDone:
				break flood
			case <-readDone:
				break flood
			default:
			}
			f := wire.Frame{Type: wire.FrameRequest, ID: strconv.Itoa(i), Op: "tickets.issue", Body: body}
			if i%2 == 1 {
				f = wire.Frame{Type: wire.FrameRequest, ID: strconv.Itoa(i), Op: "services.list"}
			}
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteJSON(f); err != nil {
				break
			}
			sent++
			if sent%500 == 0 { // bursts of 500, then let the replies drain
				for deadline := time.Now().Add(10 * time.Second); answered.Load() < sent && time.Now().Before(deadline); {
					select {
					case <-readDone:
						break flood
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
		}
		time.Sleep(200 * time.Millisecond) // replies in flight
		ws.Close()
		<-readDone
		mu.Lock()
		st.floodSent += sent
		st.floodAnswered += answered.Load()
		mu.Unlock()
	})

	// 2. Slow readers: say hello, then never read, with a tiny receive
	// buffer. Events flow (the kiosks above issue); the hub drops them.
	const nSlow = 4
	var slow []*websocket.Conn
	for range nSlow {
		ws := dial(t, s.Addr, 4096)
		ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: displayTok}); err != nil {
			t.Fatal(err)
		}
		slow = append(slow, ws)
	}
	slowStart := time.Now()

	// 3. Silent clients: connect, never say hello.
	const nSilent = 3
	for range nSilent {
		wg.Go(func() {
			ws := dial(t, s.Addr, 0)
			defer ws.Close()
			ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			var f wire.Frame
			err := ws.ReadJSON(&f)
			if err == nil && f.Type == wire.FrameError {
				_, _, err = ws.ReadMessage()
			}
			if err == nil || isTimeout(err) {
				fail("a client that never said hello was not closed: %v", err)
				return
			}
			mu.Lock()
			st.silentClosed++
			mu.Unlock()
		})
	}

	// 4. Oversized frames: the connection is closed.
	const nBig = 2
	for range nBig {
		wg.Go(func() {
			ws := dial(t, s.Addr, 0)
			defer ws.Close()
			hello(t, ws, floodTok)
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			big := `{"type":"request","id":"big","op":"tickets.issue","body":{"service":"E","masked_id":"` + strings.Repeat("x", 70<<10) + `"}}`
			ws.WriteMessage(websocket.TextMessage, []byte(big)) // may fail if the server closed first
			ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			for {
				var f wire.Frame
				err := ws.ReadJSON(&f)
				if err == nil {
					if f.Type == wire.FrameReply && f.ID == "big" {
						fail("an oversized frame was answered: %+v", f)
						return
					}
					continue
				}
				if isTimeout(err) {
					fail("a connection that sent a 70 KiB frame stayed open")
					return
				}
				if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
					t.Logf("oversized frame: closed with %v", err)
				}
				break
			}
			mu.Lock()
			st.bigClosed++
			mu.Unlock()
		})
	}

	// 5. Malformed frames: answered with an error, connection survives.
	wg.Go(func() {
		ws := dial(t, s.Addr, 0)
		defer ws.Close()
		hello(t, ws, floodTok)
		ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		bad := []string{`not json at all`, `{"type":"nope"}`, `{"type":"request","id":"x","op":"tickets.issue","body":{"service":`, `[1,2,3]`, "\x00\xff"}
		for _, b := range bad {
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, []byte(b)); err != nil {
				fail("write malformed frame: %v", err)
				return
			}
			f, err := next(ws, func(f wire.Frame) bool { return f.Type == wire.FrameError })
			if err != nil || f.Error == nil || f.Error.Code != hall.Invalid {
				fail("malformed frame %q: %v %+v", b, err, f)
				return
			}
			mu.Lock()
			st.malformed++
			mu.Unlock()
		}
		ws.WriteJSON(wire.Frame{Type: wire.FrameRequest, ID: "u", Op: "no.such.op"})
		if f, err := next(ws, isReply("u")); err != nil || f.Error == nil || f.Error.Code != hall.NotFound {
			fail("unknown op: %v %+v", err, f)
		}
		ws.WriteJSON(wire.Frame{Type: wire.FrameRequest, ID: "ok", Op: "services.list"})
		if f, err := next(ws, isReply("ok")); err != nil || f.Status != 200 {
			fail("the connection did not survive malformed frames: %v %+v", err, f)
		}
	})

	// Wait until the hub has dropped every slow reader (events keep
	// flowing meanwhile), then end the flood.
	deadline := time.Now().Add(2 * time.Minute) // generous: a condition, not a timing
	for api.WSClientsByRole(s.API)[wire.RoleDisplay] > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	dropAfter := time.Since(slowStart)
	close(floodDone)
	wg.Wait()
	dropped := 0
	for _, ws := range slow {
		// Dropped: reading drains what was buffered, then the connection ends.
		ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		var err error
		for err == nil {
			_, _, err = ws.ReadMessage()
		}
		if isTimeout(err) {
			t.Errorf("a websocket client that never read was not dropped")
		} else {
			dropped++
		}
		ws.Close()
	}
	st.slow += nSlow
	st.slowDropped += dropped
	st.slowDropMax = max(st.slowDropMax, dropAfter)
	st.silent += nSilent
	st.big += nBig
}

// dial opens a raw websocket; rcvbuf > 0 shrinks the socket's receive buffer.
func dial(t *testing.T, addr string, rcvbuf int) *websocket.Conn {
	t.Helper()
	nd := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		if rcvbuf == 0 {
			return nil
		}
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		return errors.Join(err, serr)
	}}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: nd.DialContext}
	ws, resp, err := d.Dial("ws://"+addr+"/ws", http.Header{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	resp.Body.Close()
	return ws
}

func hello(t *testing.T, ws *websocket.Conn, token string) {
	ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: token}); err != nil {
		t.Errorf("hello: %v", err)
		return
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if f, err := next(ws, func(f wire.Frame) bool { return true }); err != nil || f.Type != wire.FrameWelcome {
		t.Errorf("welcome: %v %+v", err, f)
	}
}

// next reads frames until one matches.
func next(ws *websocket.Conn, match func(wire.Frame) bool) (wire.Frame, error) {
	for {
		var f wire.Frame
		if err := ws.ReadJSON(&f); err != nil {
			return f, err
		}
		if match(f) {
			return f, nil
		}
	}
}

func isReply(id string) func(wire.Frame) bool {
	return func(f wire.Frame) bool { return f.Type == wire.FrameReply && f.ID == id }
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A client's ping is answered with a pong carrying the same data, by the
// connection's writer.
func TestPingIsAnswered(t *testing.T) {
	s := halltest.RunHall(t, halltest.Options{Real: true})
	ws := dial(t, strings.TrimPrefix(s.URL, "http://"), 0)
	defer ws.Close()
	hello(t, ws, s.Token)
	pong := make(chan string, 1)
	ws.SetPongHandler(func(data string) error { pong <- data; return nil })
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if err := ws.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-pong:
		if got != "are you there" {
			t.Fatalf("pong carries %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no pong within 10 s")
	}
}

// The server pings an idle connection every ping interval (shortened
// here), from the connection's writer.
func TestIdleSocketIsPinged(t *testing.T) {
	api.SetPingInterval(50 * time.Millisecond)
	t.Cleanup(func() { api.SetPingInterval(25 * time.Second) })
	s := halltest.RunHall(t, halltest.Options{Real: true})
	ws := dial(t, strings.TrimPrefix(s.URL, "http://"), 0)
	defer ws.Close()
	hello(t, ws, s.Token)
	pings := make(chan struct{}, 16)
	ws.SetPingHandler(func(string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return nil
	})
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for i := range 3 {
		select {
		case <-pings:
		case <-time.After(30 * time.Second):
			t.Fatalf("ping %d did not come", i+1)
		}
	}
}

// A connection's writer ends with the connection, whoever closes it: the
// client going away, or the server dropping it (a revoked token).
func TestWritersEndWithTheirConnections(t *testing.T) {
	s := halltest.RunHall(t, halltest.Options{Real: true})
	writers := func() int {
		var b strings.Builder
		pprof.Lookup("goroutine").WriteTo(&b, 2) // each goroutine's stack
		return strings.Count(b.String(), "api.(*API).writer(")
	}
	before := writers()
	addr := strings.TrimPrefix(s.URL, "http://")
	var conns []*websocket.Conn
	for range 20 {
		ws := dial(t, addr, 0)
		hello(t, ws, s.Token)
		conns = append(conns, ws)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d writers running, %d before", what, writers(), before)
			}
		}
	}
	waitFor("connected", func() bool { return writers() >= before+20 })
	for _, ws := range conns {
		ws.Close()
	}
	waitFor("closed by the clients", func() bool { return writers() == before })

	ctx := context.Background()
	admin := client.New(s.URL, s.Token)
	disp, err := admin.CreateToken(ctx, wire.TokenRequest{Name: "board", Role: wire.RoleDisplay})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		ws := dial(t, addr, 0)
		defer ws.Close()
		hello(t, ws, disp.Token)
	}
	waitFor("boards connected", func() bool { return writers() >= before+5 })
	if _, err := admin.Do(ctx, "DELETE", "/api/v1/tokens/"+disp.ID, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("dropped by the server", func() bool { return writers() == before })
}
