package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	maxInFlight   = 8    // requests read ahead per connection, waiting behind the one being applied
	summaryPeriod = time.Second
)

// helloWait and pingWait are helloTimeout and pingInterval, in variables
// only so that tests can shorten them (export_test.go); nothing else
// changes them.
var helloWait, pingWait = helloTimeout, pingInterval

// The upgrader reuses the HTTP server's read buffer and takes write buffers
// from a pool, so an idle connection holds neither. Each API checks
// origins with its own list (API.checkOrigin).
var upgrader = websocket.Upgrader{
	WriteBufferPool: &sync.Pool{},
}

// client is one websocket connection. Its writer goroutine is the only one
// that writes to the connection.
type client struct {
	conn  *websocket.Conn
	p     Principal
	token string // the hello's token, checked again for every request (memory only)
	ip    string
	level level
	// events: whether the client follows every hall event. Kiosks do not:
	// they need the live service figures, not each citizen's ticket.
	events bool
	send   chan *outgoing
	// seq of the last event written; live events at or below it are skipped
	floor uint64
	// last: the writer took a last frame (finish); only the writer uses it
	last bool
	once sync.Once
	gone chan struct{}

	// checkedGen: the store's token generation (plus one) when the token
	// was last found valid, zero before; only the request worker uses it
	checkedGen uint64
	expires    time.Time // the token's expiry as last looked up
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.gone)
		c.conn.Close()
		// the writer waits on send alone (one channel is cheaper to wait
		// on than three, for every frame of every client): wake it. When
		// the queue is full the writer is not waiting; it sees gone after
		// its next write.
		select {
		case c.send <- stopWriting:
		default:
		}
	})
}

// stopWriting, queued by close, tells the writer the connection is gone.
var stopWriting = &outgoing{}

// outgoing is one websocket frame, ready for the wire, queued for a client:
// a broadcast event (framed once for every client, with its sequence
// number), a reply, or a pong.
type outgoing struct {
	frame []byte
	seq   uint64 // event frames: skipped when at or below the catch-up floor
	last  bool   // the connection closes once this frame is written
}

// textFrame frames payload as one unfragmented websocket text message.
// Frames from a server are not masked (RFC 6455 §5.1), so the same bytes
// serve every client.
func textFrame(payload []byte) []byte {
	return appendFrame(make([]byte, 0, len(payload)+10), 0x1, payload)
}

func appendFrame(b []byte, opcode byte, payload []byte) []byte {
	return append(appendFrameHeader(b, opcode, len(payload)), payload...)
}

// appendFrameHeader appends the header of an unmasked, final frame whose
// payload is n bytes long.
func appendFrameHeader(b []byte, opcode byte, n int) []byte {
	b = append(b, 0x80|opcode) // FIN
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return b
}

// replyFrame is f as a websocket text frame, as textFrame(json.Marshal(f))
// frames it. A reply without an error (type, id, status and the result,
// already encoded by json.Marshal) is written straight into the frame: its
// result is not scanned and compacted again, nor the payload copied
// behind a header.
func replyFrame(f wire.Frame) []byte {
	rest := f
	rest.Type, rest.ID, rest.Status, rest.Result = "", "", 0, nil
	if f.Type != wire.FrameReply || !reflect.ValueOf(rest).IsZero() { // an error, or fields a reply does not carry
		b, _ := json.Marshal(f)
		return textFrame(b)
	}
	const head = 10 // the longest frame header
	b := make([]byte, head, head+64+len(f.ID)+len(f.Result))
	b = append(b, `{"type":"reply"`...)
	if f.ID != "" {
		id, _ := json.Marshal(f.ID)
		b = append(append(b, `,"id":`...), id...)
	}
	if f.Status != 0 {
		b = strconv.AppendInt(append(b, `,"status":`...), int64(f.Status), 10)
	}
	if len(f.Result) > 0 {
		b = append(append(b, `,"result":`...), f.Result...)
	}
	b = append(b, '}')
	h := appendFrameHeader(make([]byte, 0, head), 0x1, len(b)-head)
	copy(b[head-len(h):], h)
	return b[head-len(h):]
}

// pingFrame is an empty websocket ping.
var pingFrame = []byte{0x80 | websocket.PingMessage, 0}

// hub owns the set of connected websocket clients and the broadcast to
// them; one goroutine (loop) holds the set. Device reports are
// deviceReports', the remote-ticket limit remoteLimiter's, failed logins
// the loginGuard's.
type hub struct {
	a       *API
	obs     Observer
	in      chan func()
	events  chan []hall.Event
	summary chan struct{}
	quit    chan struct{}
	done    chan struct{}
	clients map[*client]bool
}

func newHub(a *API, obs Observer) *hub {
	h := &hub{a: a, obs: obs, in: make(chan func(), 64), events: make(chan []hall.Event, 1024),
		summary: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		clients: map[*client]bool{}}
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

func (h *hub) unregister(c *client) {
	h.do(func() {
		delete(h.clients, c)
		if h.obs != nil {
			h.obs.WSClients(len(h.clients))
		}
	})
}

// registerCapped registers a websocket client unless its credential (token
// or session) already holds max open websockets: 3,000 sockets on one
// display token once slowed issuing for everyone.
func (h *hub) registerCapped(c *client, max int) bool {
	ok := false
	h.do(func() {
		n := 0
		for o := range h.clients {
			if o.p.TokenID == c.p.TokenID {
				n++
			}
		}
		if ok = n < max; ok {
			h.clients[c] = true
			if h.obs != nil {
				h.obs.WSClients(len(h.clients))
			}
		}
	})
	return ok
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

// closeToken disconnects every client of the token with public id id,
// telling it why (an unauthorized error frame, so pages stop reconnecting).
// Nothing is sent to it after the error: it leaves the hub at once.
func (h *hub) closeToken(id, why string) {
	b, _ := json.Marshal(wire.Frame{Type: wire.FrameError, Error: &wire.Error{Code: hall.Unauthorized, Message: why}})
	h.do(func() {
		for c := range h.clients {
			if c.p.TokenID == id {
				delete(h.clients, c)
				c.finish(b)
			}
		}
		if h.obs != nil {
			h.obs.WSClients(len(h.clients))
		}
	})
}

// finish queues a last frame and closes the connection once it is
// written (at once when the queue is full).
func (c *client) finish(b []byte) {
	select {
	case c.send <- &outgoing{frame: textFrame(b), last: true}:
	default:
		c.close()
	}
}

func (h *hub) sendAll(b []byte) {
	o := &outgoing{frame: textFrame(b)}
	for c := range h.clients {
		h.queue(c, o)
	}
}

// summarize pushes live service figures after changes, at most every
// summaryPeriod, so boards and kiosk tiles stay current without polling.
// The first change after a quiet period goes out at once; while changes
// keep coming (a rush at the kiosks) the figures are at most a period
// late. The frame (≈ 2 KB: every service with its names and hours) goes
// to every connection and each board parses it: at four a second it was
// a sixth of what 300 followers cost the server in a busy hall, and half
// the bytes sent to 200 issuing kiosks.
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

// ---- one connection ----

func (a *API) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := a.upgrader.Upgrade(w, r, nil)
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
		writeClose(conn, wire.Frame{Type: wire.FrameError, Error: a.failed("hello", err)})
		return
	}
	c := &client{conn: conn, p: p, token: hello.Token, ip: a.clientIP(r), level: levelOf(p.Role), events: p.Role != wire.RoleKiosk,
		send: make(chan *outgoing, sendBuffer), gone: make(chan struct{})}
	if !a.hub.registerCapped(c, a.sockCap) {
		writeClose(conn, wire.Frame{Type: wire.FrameError, Error: a.failed("hello", hall.Refusal(hall.QuotaExceeded, hall.ReasonTooManySockets,
			"this credential already holds %d open websockets", a.sockCap))})
		return
	}
	// once more, now that a revoke would find the client in the hub: a
	// revoke that came between the hello's check and the registration
	// missed it, and is seen here
	if _, err := a.authenticate(hello.Token); err != nil {
		a.hub.unregister(c)
		writeClose(conn, wire.Frame{Type: wire.FrameError, Error: a.failed("hello", err)})
		return
	}
	if !p.Expires.IsZero() { // a session: the socket ends with it
		expired, _ := json.Marshal(wire.Frame{Type: wire.FrameError, Error: &wire.Error{Code: hall.Unauthorized, Message: "this token has expired"}})
		t := time.AfterFunc(p.Expires.Sub(a.now()), func() {
			a.hub.unregister(c)
			c.finish(expired)
		})
		go func() { <-c.gone; t.Stop() }()
	}
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
		writeClose(conn, wire.Frame{Type: wire.FrameError, Error: a.failed("hello", err)})
		c.close()
		return
	}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	epoch := a.store.Epoch()
	if err := conn.WriteJSON(wire.Welcome{Type: wire.FrameWelcome, Role: p.Role, Name: p.Name, Window: p.Window, Seq: seq, Epoch: epoch}); err != nil {
		c.close()
		return
	}
	if !c.events || hello.Epoch != epoch {
		// nothing to replay (the overview gives a kiosk the figures), or
		// the client's numbers are another epoch's: the store was restored
		// and the same numbers now name other events
		hello.LastSeq = 0
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
// It waits on the send queue alone: pings come from a timer that queues
// them, and close queues stopWriting.
func (a *API) writer(c *client) {
	every := pingWait
	var ping atomic.Pointer[time.Timer]
	ping.Store(time.AfterFunc(every, func() {
		select {
		case <-c.gone: // first, alone: a closed connection's timer stops here
			return
		default:
		}
		select {
		case c.send <- &outgoing{frame: pingFrame}:
		default: // the queue is full: the connection is not idle
		}
		if t := ping.Load(); t != nil {
			t.Reset(every)
		}
	}))
	defer func() { ping.Load().Stop() }()
	defer c.close() // first: a ping firing now sees gone
	nc := c.conn.NetConn()
	var deadline time.Time
	frames := make([][]byte, 0, 4)
	for {
		o := <-c.send
		if o == stopWriting {
			return
		}
		frames = c.take(o, frames[:0])
	drain:
		for len(frames) < maxCoalesce {
			select {
			case o := <-c.send:
				if o == stopWriting {
					return
				}
				frames = c.take(o, frames)
			default:
				break drain
			}
		}
		last := c.last
		var out []byte
		var joined *[]byte
		switch len(frames) {
		case 0:
			continue
		case 1:
			out = frames[0]
		default:
			joined = joinBuffers.Get().(*[]byte)
			for _, f := range frames {
				*joined = append(*joined, f...)
			}
			out = *joined
		}
		clear(frames) // written frames are not held until the next burst
		// the deadline is moved on at most once a second, not for every
		// write (each move is a timer update under a lock): a write still
		// gets at least writeTimeout less a second
		if now := time.Now(); deadline.Sub(now) < writeTimeout-time.Second {
			deadline = now.Add(writeTimeout)
			nc.SetWriteDeadline(deadline)
		}
		_, err := nc.Write(out)
		if joined != nil && cap(*joined) <= maxJoined {
			*joined = (*joined)[:0]
			joinBuffers.Put(joined)
		}
		if err != nil || last {
			if last {
				nc.Write(appendFrame(nil, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "")))
			}
			return
		}
		select {
		case <-c.gone:
			return
		default:
		}
	}
}

// maxCoalesce bounds how many queued frames one write carries.
const maxCoalesce = 64

// joinBuffers hold the frames of one coalesced write while it is written:
// shared by every connection's writer, so that an idle one holds none and
// a burst to a thousand boards does not allocate a thousand buffers
// (slices.Concat per write was 3 % of the server's CPU in the fan-out).
// A buffer grown past maxJoined is let go.
var joinBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxJoined = 256 << 10

// take adds o's frame to frames unless the catch-up already sent it, or a
// last frame was taken (nothing follows it).
func (c *client) take(o *outgoing, frames [][]byte) [][]byte {
	if c.last || o.seq != 0 && o.seq <= c.floor {
		return frames
	}
	c.last = o.last
	return append(frames, o.frame)
}

func (a *API) reader(c *client) {
	defer c.close()
	// the read deadline is moved on at most once a second, not for every
	// frame (each move is a timer update under a lock); a client still has
	// at least pongTimeout less a second to send its next frame or pong
	var readBy time.Time
	extend := func() {
		if now := time.Now(); readBy.Sub(now) < pongTimeout-time.Second {
			readBy = now.Add(pongTimeout)
			c.conn.SetReadDeadline(readBy)
		}
	}
	extend()
	c.conn.SetPongHandler(func(string) error { extend(); return nil }) // on this goroutine, inside a read
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
	// Requests are applied one after another in the order they arrived, and
	// their replies queued in that order: a client may pipeline "complete"
	// and "call next" and rely on the first being applied before the
	// second. One worker per connection runs them; at most maxInFlight wait
	// behind it before the reader stops reading (back-pressure, not
	// refusal).
	jobs := make(chan wsJob, maxInFlight)
	ctx, cancel := context.WithCancel(context.Background())
	worked := make(chan struct{})
	go func() {
		defer close(worked)
		for j := range jobs {
			if j.refused != nil {
				a.reply(c, *j.refused)
				continue
			}
			if r := a.handle(ctx, c, j.f); r.Type != "" {
				a.reply(c, r)
			}
		}
	}()
	defer func() {
		close(jobs)
		cancel()
		<-worked
	}()
	for {
		_, r, err := c.conn.NextReader()
		var buf *bytes.Buffer
		if err == nil {
			buf = readBuffers.Get().(*bytes.Buffer)
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			return
		}
		extend()
		var j wsJob
		f, err := decodeRequest(buf.Bytes()) // copies what it keeps
		readBuffers.Put(buf)
		if err != nil {
			j.refused = refusedFrame(f.ID, err)
		} else {
			j.f = f
		}
		select {
		case jobs <- j:
		case <-c.gone:
			return
		}
	}
}

// readBuffers hold a frame read from a client while it is decoded (at
// most maxFrame): shared, so that an idle connection holds none.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// wsJob is one frame read from a client, in arrival order: a request to
// run, or the reply to a frame that could not be taken.
type wsJob struct {
	f       wire.Frame
	refused *wire.Frame
}

// refusedFrame answers a frame that is not a valid request: a reply with
// the request's id when it has one, else an error frame; both carry the
// status (400).
func refusedFrame(id string, err error) *wire.Frame {
	e := toWire(err)
	f := wire.Frame{Type: wire.FrameReply, ID: id, Status: HTTPStatus(e.Code), Error: e}
	if id == "" {
		f.Type = wire.FrameError
	}
	return &f
}

// decodeRequest parses one frame a client sent after its hello. Anything
// but a JSON request frame is an invalid error, whose message says why;
// the frame returned with the error carries the request's id when it could
// be read, so that the refusal can name it. Parameters are strings;
// numbers and booleans are taken as their JSON text ({"window":5} is
// {"window":"5"}); objects, arrays and null are refused.
func decodeRequest(data []byte) (wire.Frame, error) {
	var raw struct {
		Type   json.RawMessage `json:"type"`
		ID     json.RawMessage `json:"id"`
		Op     json.RawMessage `json:"op"`
		Params json.RawMessage `json:"params"`
		Idem   json.RawMessage `json:"idempotency_key"`
		Body   json.RawMessage `json:"body"`
	}
	bad := func(f wire.Frame, format string, args ...any) (wire.Frame, error) {
		return f, hall.Errorf(hall.Invalid, "expected a request frame: "+format, args...)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return bad(wire.Frame{}, "%v", err)
	}
	var f wire.Frame
	str := func(name string, v json.RawMessage, dst *string) error {
		if len(v) == 0 || string(v) == "null" {
			return nil
		}
		if err := jsonString(v, dst); err != nil {
			return fmt.Errorf("%s must be a string, got %.40s", name, v)
		}
		return nil
	}
	if err := str("id", raw.ID, &f.ID); err != nil {
		return bad(wire.Frame{}, "%v", err)
	}
	if err := str("type", raw.Type, &f.Type); err != nil {
		return bad(f, "%v", err)
	}
	if f.Type != wire.FrameRequest {
		return bad(f, "wrong frame type %q", f.Type)
	}
	if err := str("op", raw.Op, &f.Op); err != nil {
		return bad(f, "%v", err)
	}
	if err := str("idempotency_key", raw.Idem, &f.Idem); err != nil {
		return bad(f, "%v", err)
	}
	var params map[string]json.RawMessage
	if len(raw.Params) > 0 && string(raw.Params) != "null" {
		if err := json.Unmarshal(raw.Params, &params); err != nil {
			return bad(f, "params must be an object of strings, got %.40s", raw.Params)
		}
	}
	if len(params) > 0 {
		f.Params = make(map[string]string, len(params))
		for _, k := range slices.Sorted(maps.Keys(params)) {
			v := bytes.TrimSpace(params[k])
			switch {
			case len(v) > 0 && v[0] == '"':
				var sv string
				if err := jsonString(v, &sv); err != nil {
					return bad(f, "params.%s: %v", k, err)
				}
				f.Params[k] = sv
			case string(v) == "true" || string(v) == "false":
				f.Params[k] = string(v)
			case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
				var n json.Number
				if err := json.Unmarshal(v, &n); err != nil {
					return bad(f, "params.%s: %v", k, err)
				}
				f.Params[k] = n.String()
			default:
				return bad(f, "params.%s must be a string or a number, got %.40s", k, v)
			}
		}
	}
	if len(raw.Body) > 0 && string(raw.Body) != "null" {
		f.Body = raw.Body
	}
	return f, nil
}

// jsonString decodes v, one JSON value already validated by the decoder
// that cut it out of a frame, into dst as json.Unmarshal does. A string
// with no escapes in valid UTF-8 (ids, operations, keys and parameters,
// nearly always) is its bytes between the quotes, taken without the
// reflection and validation of a second json.Unmarshal.
func jsonString(v json.RawMessage, dst *string) error {
	if n := len(v); n >= 2 && v[0] == '"' && v[n-1] == '"' {
		inner := v[1 : n-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			*dst = string(inner)
			return nil
		}
	}
	return json.Unmarshal(v, dst)
}

// handle runs one request and returns its reply, or a zero frame when
// the credential no longer holds (the reply then went out as the
// connection's last frame).
func (a *API) handle(ctx context.Context, c *client, f wire.Frame) wire.Frame {
	out := wire.Frame{Type: wire.FrameReply, ID: f.ID}
	// the credential is checked for every request, not only at the hello:
	// a revoked or expired token stops working on a socket already open
	if err := a.recheck(c); err != nil {
		out.Error = a.failed(f.Op, err)
		out.Status = HTTPStatus(out.Error.Code)
		if out.Error.Code != hall.Unauthorized {
			return out // the store could not tell: refuse this one, keep the socket
		}
		a.hub.unregister(c)
		b, _ := json.Marshal(out)
		c.finish(b)
		return wire.Frame{}
	}
	op, found := ops[f.Op]
	if !found {
		out.Error = &wire.Error{Code: hall.NotFound, Reason: "unknown_op", Message: fmt.Sprintf("unknown operation %q", f.Op)}
		out.Status = HTTPStatus(out.Error.Code)
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	status, v, err := a.run(op, &call{ctx: ctx, a: a, p: c.p, ip: c.ip, params: f.Params, body: f.Body, idem: f.Idem})
	if err != nil {
		out.Error = a.failed(f.Op, err)
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

// recheck checks c's token for a request as authenticate does, without
// hashing it and looking it up again while no token was written since it
// was last found valid: every write to the tokens (a revoke, a logout, a
// new token) moves the store's token generation once it has committed,
// so a revoked token is still refused on its very next request. An expiry
// is checked against the clock every time.
func (a *API) recheck(c *client) error {
	gen := a.store.TokenGeneration() + 1 // read before the lookup: a write after it moves it on
	if c.checkedGen == gen {
		if !c.expires.IsZero() && a.now().After(c.expires) {
			return hall.Errorf(hall.Unauthorized, "this token has expired")
		}
		return nil
	}
	p, err := a.authenticate(c.token)
	if err != nil {
		return err
	}
	c.checkedGen, c.expires = gen, p.Expires
	return nil
}

// reply queues a reply; a client too slow to take its own replies is dropped.
func (a *API) reply(c *client, f wire.Frame) {
	select {
	case c.send <- &outgoing{frame: replyFrame(f)}:
	default: // a client that has gone is closed already
		c.close()
	}
}
