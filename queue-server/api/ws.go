package api

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Websocket limits.
const (
	sendBuffer    = 128              // frames queued per client before it counts as slow
	maxFrame      = 64 << 10         // largest frame a client may send
	helloTimeout  = 10 * time.Second // a client must say hello within this
	writeTimeout  = 10 * time.Second
	pingInterval  = 25 * time.Second
	pongTimeout   = 60 * time.Second
	maxReplay     = 5000 // beyond this gap a client gets the overview instead
	maxInFlight   = 8    // concurrent requests per connection
	summaryPeriod = 250 * time.Millisecond
)

// Remote ticket taking (线上取号): tickets per client address per window.
const (
	maxRemotePerIP = 10
	remoteWindow   = time.Hour
)

// helloWait is helloTimeout, in a variable only so that tests can shorten
// it (export_test.go); nothing else changes it.
var helloWait = helloTimeout

// The upgrader reuses the HTTP server's read buffer and takes write buffers
// from a pool, so an idle connection holds neither.
var upgrader = websocket.Upgrader{
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     sameOrigin,
}

// sameOrigin accepts non-browser clients (no Origin header) and pages
// served by this host; other sites' pages cannot open the stream.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// client is one websocket connection. Its writer goroutine is the only one
// that writes to the connection.
type client struct {
	conn  *websocket.Conn
	p     Principal
	ip    string
	level level
	// events: whether the client follows every hall event. Kiosks do not:
	// they need the live service figures, not each citizen's ticket.
	events bool
	send   chan *outgoing
	// seq of the last event written; live events at or below it are skipped
	floor uint64
	once  sync.Once
	gone  chan struct{}
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.gone)
		c.conn.Close()
	})
}

// outgoing is one websocket frame, ready for the wire, queued for a client:
// a broadcast event (framed once for every client, with its sequence
// number), a reply, or a pong.
type outgoing struct {
	frame []byte
	seq   uint64 // event frames: skipped when at or below the catch-up floor
}

// textFrame frames payload as one unfragmented websocket text message.
// Frames from a server are not masked (RFC 6455 §5.1), so the same bytes
// serve every client.
func textFrame(payload []byte) []byte {
	return appendFrame(make([]byte, 0, len(payload)+10), 0x1, payload)
}

func appendFrame(b []byte, opcode byte, payload []byte) []byte {
	b = append(b, 0x80|opcode) // FIN
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// pingFrame is an empty websocket ping.
var pingFrame = []byte{0x80 | websocket.PingMessage, 0}

// hub owns the set of connected clients, the kiosks' device reports and
// the failed-login record.
type hub struct {
	a       *API
	obs     Observer
	in      chan func()
	events  chan []hall.Event
	summary chan struct{}
	quit    chan struct{}
	done    chan struct{}
	clients map[*client]bool
	devs    map[string]wire.DeviceHealth
	// failed logins by name, for rate limiting
	failures map[string][]time.Time
	// remote tickets taken by client address, for rate limiting
	remote map[string][]time.Time
}

func newHub(a *API, obs Observer) *hub {
	h := &hub{a: a, obs: obs, in: make(chan func(), 64), events: make(chan []hall.Event, 1024),
		summary: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		clients: map[*client]bool{}, devs: map[string]wire.DeviceHealth{}, failures: map[string][]time.Time{},
		remote: map[string][]time.Time{}}
	go h.loop()
	go h.summarize()
	return h
}

func (h *hub) loop() {
	defer close(h.done)
	for {
		select {
		case fn := <-h.in:
			fn()
		case evs := <-h.events:
			h.broadcast(evs)
		case <-h.quit:
			for c := range h.clients {
				c.close()
			}
			return
		}
	}
}

// do runs fn on the hub goroutine and waits for it.
func (h *hub) do(fn func()) {
	done := make(chan struct{})
	select {
	case h.in <- func() { fn(); close(done) }:
		<-done
	case <-h.done:
	}
}

func (h *hub) close() {
	select {
	case <-h.quit:
	default:
		close(h.quit)
	}
	<-h.done
}

func (h *hub) publish(evs []hall.Event) {
	select {
	case h.events <- evs:
	case <-h.done:
	}
	select {
	case h.summary <- struct{}{}:
	default:
	}
}

func (h *hub) register(c *client) {
	h.do(func() {
		h.clients[c] = true
		if h.obs != nil {
			h.obs.WSClients(len(h.clients))
		}
	})
}

func (h *hub) unregister(c *client) {
	h.do(func() {
		delete(h.clients, c)
		if h.obs != nil {
			h.obs.WSClients(len(h.clients))
		}
	})
}

// broadcast encodes and frames each event once per redaction level that
// has followers and queues it on every follower; a client whose queue is
// full is disconnected (it will reconnect and resume from its last
// sequence number).
func (h *hub) broadcast(evs []hall.Event) {
	var followed [2]bool
	for c := range h.clients {
		followed[c.level] = followed[c.level] || c.events
	}
	var frames [2][]*outgoing
	for l := levelPublic; l <= levelStaff; l++ {
		if !followed[l] {
			continue
		}
		for _, ev := range evs {
			if e, keep := redactEvent(ev, l); keep {
				b, _ := json.Marshal(wire.Frame{Type: wire.FrameEvent, Event: &e})
				frames[l] = append(frames[l], &outgoing{frame: textFrame(b), seq: ev.Seq})
			}
		}
	}
	for c := range h.clients {
		if !c.events {
			continue
		}
		for _, o := range frames[c.level] {
			if !h.queue(c, o) {
				break
			}
		}
	}
}

func (h *hub) queue(c *client, o *outgoing) bool {
	select {
	case c.send <- o:
		return true
	default:
		delete(h.clients, c)
		c.close()
		return false
	}
}

// dropToken disconnects every client signed in with the token: a revoked
// token or an ended session stops at once on open websockets too (the
// client's reconnect is then refused as unauthorized).
func (h *hub) dropToken(id string) {
	h.do(func() {
		for c := range h.clients {
			if c.p.TokenID == id {
				delete(h.clients, c)
				c.close()
			}
		}
		if h.obs != nil {
			h.obs.WSClients(len(h.clients))
		}
	})
}

func (h *hub) sendAll(b []byte) {
	o := &outgoing{frame: textFrame(b)}
	for c := range h.clients {
		h.queue(c, o)
	}
}

// summarize pushes live service figures after changes, at most every
// summaryPeriod, so boards and kiosk tiles stay current without polling.
func (h *hub) summarize() {
	for {
		select {
		case <-h.summary:
		case <-h.quit:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		svcs, err := h.a.svc.Services(ctx)
		cancel()
		if err == nil {
			b, _ := json.Marshal(wire.Frame{Type: wire.FrameServices, Services: svcs})
			h.do(func() { h.sendAll(b) })
		}
		select {
		case <-time.After(summaryPeriod):
		case <-h.quit:
			return
		}
	}
}

func (h *hub) reportDevice(d wire.DeviceHealth) {
	h.do(func() { h.devs[d.Kiosk] = d })
}

func (h *hub) allowLogin(name string) bool {
	allowed := true
	h.do(func() {
		recent := slices.DeleteFunc(h.failures[name], func(t time.Time) bool { return time.Since(t) > failureWindow })
		h.failures[name] = recent
		allowed = len(recent) < maxFailures
	})
	return allowed
}

func (h *hub) loginFailed(name string) {
	h.do(func() {
		if len(h.failures) > 10000 {
			clear(h.failures) // bounded memory under a flood of made-up names
		}
		h.failures[name] = append(h.failures[name], time.Now())
	})
}

// allowRemote counts one remote ticket request from a client address and
// reports whether the address is still within maxRemotePerIP an hour.
func (h *hub) allowRemote(ip string) bool {
	allowed := false
	h.do(func() {
		now := h.a.now()
		if len(h.remote) > 10000 {
			for k, ts := range h.remote {
				if now.Sub(ts[len(ts)-1]) > remoteWindow {
					delete(h.remote, k)
				}
			}
			if len(h.remote) > 10000 {
				clear(h.remote) // bounded memory under a flood of addresses
			}
		}
		recent := slices.DeleteFunc(h.remote[ip], func(t time.Time) bool { return now.Sub(t) > remoteWindow })
		if allowed = len(recent) < maxRemotePerIP; allowed {
			recent = append(recent, now)
		}
		h.remote[ip] = recent
	})
	return allowed
}

func (h *hub) devices() []wire.DeviceHealth {
	var out []wire.DeviceHealth
	h.do(func() {
		for _, d := range h.devs {
			out = append(out, d)
		}
	})
	slices.SortFunc(out, func(a, b wire.DeviceHealth) int {
		if a.Kiosk < b.Kiosk {
			return -1
		}
		return 1
	})
	return out
}

// ---- one connection ----

func (a *API) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	conn.SetReadLimit(maxFrame)
	conn.SetReadDeadline(time.Now().Add(helloWait))
	var hello wire.Frame
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != wire.FrameHello {
		writeClose(conn, wire.Frame{Type: wire.FrameError, Error: &wire.Error{Code: hall.Invalid, Message: "the first frame must be a hello"}})
		return
	}
	p, err := a.authenticate(hello.Token)
	if err == nil && p.Role == "" {
		err = hall.Errorf(hall.Unauthorized, "the hello needs a token")
	}
	if err != nil {
		writeClose(conn, wire.Frame{Type: wire.FrameError, Error: toWire(err)})
		return
	}
	c := &client{conn: conn, p: p, ip: clientIP(r), level: levelOf(p.Role), events: p.Role != wire.RoleKiosk,
		send: make(chan *outgoing, sendBuffer), gone: make(chan struct{})}
	a.hub.register(c)
	registered := true
	defer func() {
		if registered {
			a.hub.unregister(c)
		}
	}()

	// Catch up before live events: the client is registered first, so
	// nothing committed from now on is missed; the writer skips live events
	// already covered by the catch-up.
	seq, err := a.svc.Seq(r.Context())
	if err != nil {
		writeClose(conn, wire.Frame{Type: wire.FrameError, Error: toWire(err)})
		c.close()
		return
	}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := conn.WriteJSON(wire.Frame{Type: wire.FrameWelcome, Role: p.Role, Name: p.Name, Window: p.Window, Seq: seq}); err != nil {
		c.close()
		return
	}
	if !c.events {
		hello.LastSeq = 0 // nothing to replay: the overview gives the figures
	}
	if err := a.catchUp(r.Context(), c, hello.LastSeq, seq); err != nil {
		c.close()
		return
	}
	// The HTTP handler's goroutine (with its deep stack) returns; two small
	// goroutines carry the connection from here on.
	go a.writer(c)
	go func() {
		defer a.hub.unregister(c)
		a.reader(c)
	}()
	registered = false
}

func writeClose(conn *websocket.Conn, f wire.Frame) {
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	conn.WriteJSON(f)
	conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, ""))
	conn.Close()
}

// catchUp writes the events after last (up to at least upto), or the whole
// overview when the client is new or too far behind.
func (a *API) catchUp(ctx context.Context, c *client, last, upto uint64) error {
	write := func(f wire.Frame) error {
		c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		return c.conn.WriteJSON(f)
	}
	if last == 0 || last > upto || upto-last > maxReplay {
		o, err := a.svc.Overview(ctx)
		if err != nil {
			return err
		}
		o.Calls = redactViews(o.Calls, c.level)
		c.floor = o.Seq
		return write(wire.Frame{Type: wire.FrameResync, Overview: &o})
	}
	c.floor = last
	for c.floor < upto {
		evs, err := a.store.Events(c.floor, maxEvents)
		if err != nil || len(evs) == 0 {
			return err
		}
		for _, ev := range evs {
			if e, keep := redactEvent(ev, c.level); keep {
				if err := write(wire.Frame{Type: wire.FrameEvent, Event: &e}); err != nil {
					return err
				}
			}
			c.floor = ev.Seq
		}
	}
	return nil
}

// writer is the only goroutine that writes to the connection once it is
// live. It writes frames itself rather than through the websocket library,
// so that everything queued while it was busy goes out in one write: under
// load a board takes a burst of events in one system call, not one each.
func (a *API) writer(c *client) {
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	defer c.close()
	nc := c.conn.NetConn()
	for {
		var frames [][]byte
		select {
		case o := <-c.send:
			frames = c.take(o, nil)
		drain:
			for len(frames) < maxCoalesce {
				select {
				case o := <-c.send:
					frames = c.take(o, frames)
				default:
					break drain
				}
			}
		case <-ping.C:
			frames = [][]byte{pingFrame}
		case <-c.gone:
			return
		}
		var out []byte
		switch len(frames) {
		case 0:
			continue
		case 1:
			out = frames[0]
		default:
			out = slices.Concat(frames...)
		}
		nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

// maxCoalesce bounds how many queued frames one write carries.
const maxCoalesce = 64

// take adds o's frame to frames unless the catch-up already sent it.
func (c *client) take(o *outgoing, frames [][]byte) [][]byte {
	if o.seq != 0 && o.seq <= c.floor {
		return frames
	}
	return append(frames, o.frame)
}

func (a *API) reader(c *client) {
	defer c.close()
	c.conn.SetReadDeadline(time.Now().Add(pongTimeout))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(pongTimeout))
		return nil
	})
	// The writer goroutine owns the connection's writes: a ping's answer is
	// queued to it (a client that cannot take it is dropped like any slow
	// one), and a close is not echoed.
	c.conn.SetPingHandler(func(data string) error {
		select {
		case c.send <- &outgoing{frame: appendFrame(nil, websocket.PongMessage, []byte(data))}:
		default:
			c.close()
		}
		return nil
	})
	c.conn.SetCloseHandler(func(int, string) error { return nil })
	sem := make(chan struct{}, maxInFlight)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(pongTimeout))
		f, err := decodeRequest(data)
		if err != nil {
			a.reply(c, wire.Frame{Type: wire.FrameError, Error: toWire(err)})
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-c.gone:
			return
		}
		go func() {
			defer func() { <-sem }()
			a.reply(c, a.handle(ctx, c, f))
		}()
	}
}

// decodeRequest parses one frame a client sent after its hello. Anything
// but a JSON request frame is an invalid error, whose message says why.
func decodeRequest(data []byte) (wire.Frame, error) {
	var f wire.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return wire.Frame{}, hall.Errorf(hall.Invalid, "expected a request frame: %v", err)
	}
	if f.Type != wire.FrameRequest {
		return wire.Frame{}, hall.Errorf(hall.Invalid, "expected a request frame: wrong frame type %q", f.Type)
	}
	return f, nil
}

func (a *API) handle(ctx context.Context, c *client, f wire.Frame) wire.Frame {
	out := wire.Frame{Type: wire.FrameReply, ID: f.ID}
	op, found := ops[f.Op]
	if !found {
		out.Error = &wire.Error{Code: hall.NotFound, Message: "unknown operation " + f.Op}
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	status, v, err := a.run(op, &call{ctx: ctx, a: a, p: c.p, ip: c.ip, params: f.Params, body: f.Body, idem: f.Idem})
	if err != nil {
		out.Error = toWire(err)
		out.Status = HTTPStatus(out.Error.Code)
		return out
	}
	out.Status = status
	if v != nil {
		if _, isCSV := v.(csvBody); !isCSV {
			out.Result, _ = json.Marshal(v)
		}
	}
	return out
}

// reply queues a reply; a client too slow to take its own replies is dropped.
func (a *API) reply(c *client, f wire.Frame) {
	b, _ := json.Marshal(f)
	select {
	case c.send <- &outgoing{frame: textFrame(b)}:
	case <-c.gone:
	default:
		c.close()
	}
}
