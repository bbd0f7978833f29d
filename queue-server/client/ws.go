package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Conn is one websocket connection: requests are multiplexed by id, and
// every other frame (events, service figures, resyncs) goes to the handler,
// events in sequence order and never twice.
type Conn struct {
	ws      *websocket.Conn
	Welcome wire.Frame
	handler func(wire.Frame)

	wmu     sync.Mutex // serialises writes
	mu      sync.Mutex
	pending map[string]chan wire.Frame
	nextID  uint64
	lastSeq uint64
	closed  chan struct{}
	err     error
}

// Resume is where a client left the event stream: the last sequence
// number it saw and the store epoch of the welcome it was counted in.
type Resume struct {
	Seq   uint64
	Epoch string
}

// Dial opens a websocket to the server, says hello with lastSeq (of the
// empty epoch: on a store with an epoch a lastSeq gets a resync; see
// DialResume), and starts reading. handler (may be nil) receives frames on
// the reading goroutine.
func (c *Client) Dial(ctx context.Context, lastSeq uint64, handler func(wire.Frame)) (*Conn, error) {
	return c.DialResume(ctx, Resume{Seq: lastSeq}, handler)
}

// DialResume is Dial resuming from r (a previous Conn's Resume): events
// after r.Seq, or a resync when r is of another epoch or too far behind.
func (c *Client) DialResume(ctx context.Context, r Resume, handler func(wire.Frame)) (*Conn, error) {
	lastSeq := r.Seq
	u := "ws" + strings.TrimPrefix(c.BaseURL, "http") + "/ws"
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: c.TLS, NetDialTLSContext: c.DialTLS}
	ws, _, err := d.DialContext(ctx, u, http.Header{})
	if err != nil {
		return nil, &hall.Error{Code: hall.Unavailable, Reason: ReasonNetwork, Message: err.Error()}
	}
	ws.SetReadLimit(64 << 20)
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: c.Token, LastSeq: lastSeq, Epoch: r.Epoch}); err != nil {
		ws.Close()
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	var welcome wire.Frame
	if err := ws.ReadJSON(&welcome); err != nil {
		ws.Close()
		return nil, &hall.Error{Code: hall.Unavailable, Reason: ReasonNetwork, Message: err.Error()}
	}
	if welcome.Type == wire.FrameError && welcome.Error != nil {
		ws.Close()
		return nil, welcome.Error.Err()
	}
	if welcome.Type != wire.FrameWelcome {
		ws.Close()
		return nil, fmt.Errorf("client: expected welcome, got %q", welcome.Type)
	}
	ws.SetReadDeadline(time.Time{})
	ws.SetPingHandler(func(data string) error {
		conn := ws
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	cn := &Conn{ws: ws, Welcome: welcome, handler: handler, pending: map[string]chan wire.Frame{}, lastSeq: lastSeq, closed: make(chan struct{})}
	go cn.read()
	return cn, nil
}

// maxKeptBuffer is the largest read buffer a connection keeps between
// frames; a larger one (a resync's overview) is let go after its frame.
const maxKeptBuffer = 64 << 10

func (cn *Conn) read() {
	defer close(cn.closed)
	// one buffer for every frame, and one decode of it: the websocket
	// library's ReadJSON makes a decoder and its buffer for each frame
	var buf bytes.Buffer
	for {
		var f wire.Frame
		skip := false
		_, r, err := cn.ws.NextReader()
		if err == nil {
			buf.Reset()
			if _, err = buf.ReadFrom(r); err == nil {
				if skip = cn.handler == nil && bytes.HasPrefix(buf.Bytes(), servicesPrefix); !skip {
					err = decodeFrame(buf.Bytes(), &f) // copies what it keeps (a reply's result too)
				}
			}
		}
		if buf.Cap() > maxKeptBuffer {
			buf = bytes.Buffer{}
		}
		if err != nil {
			cn.mu.Lock()
			cn.err = err
			cn.mu.Unlock()
			return
		}
		if skip {
			continue // nobody to hand the service figures to: not decoded
		}
		switch f.Type {
		case wire.FrameReply:
			cn.mu.Lock()
			ch := cn.pending[f.ID]
			delete(cn.pending, f.ID)
			cn.mu.Unlock()
			if ch != nil {
				ch <- f
			}
			continue
		case wire.FrameEvent:
			if f.Event == nil || f.Event.Seq <= cn.LastSeq() {
				continue // already seen
			}
			cn.setSeq(f.Event.Seq)
		case wire.FrameResync:
			if f.Overview != nil {
				cn.setSeq(f.Overview.Seq)
			}
		}
		if cn.handler != nil {
			cn.handler(f)
		}
	}
}

// servicesPrefix starts a services frame as the server writes it (the
// type first, as json.Marshal writes a wire.Frame).
var servicesPrefix = []byte(`{"type":"` + wire.FrameServices + `"`)

// decodeFrame decodes one frame the server sent into f, as json.Unmarshal
// does. A successful reply in the form the server frames its replies,
// {"type":"reply","id":"…","status":N,"result":…} with a plain id, is
// taken apart by position: its result (a ticket, a list) is copied, not
// scanned twice more here — Request decodes it into the caller's value,
// which checks it, and a caller that wants no result never pays for it.
// Any other frame, or a reply in any other form, goes through
// json.Unmarshal.
func decodeFrame(b []byte, f *wire.Frame) error {
	if fastReply(b, f) {
		return nil
	}
	return json.Unmarshal(b, f)
}

func fastReply(b []byte, f *wire.Frame) bool {
	rest, ok := bytes.CutPrefix(b, []byte(`{"type":"`+wire.FrameReply+`","id":"`))
	if !ok {
		return false
	}
	q := bytes.IndexByte(rest, '"')
	if q < 0 {
		return false
	}
	id := rest[:q]
	for _, c := range id {
		if c < 0x20 || c == '\\' || c >= 0x80 { // escapes, controls, non-ASCII: the decoder's business
			return false
		}
	}
	rest, ok = bytes.CutPrefix(rest[q+1:], []byte(`,"status":`))
	if !ok {
		return false
	}
	n, i := 0, 0
	for ; i < len(rest) && i < 3 && '0' <= rest[i] && rest[i] <= '9'; i++ {
		n = n*10 + int(rest[i]-'0')
	}
	if i == 0 || rest[0] == '0' {
		return false
	}
	rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"result":`))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != '}' || !wholeValue(rest[:len(rest)-1]) {
		return false
	}
	*f = wire.Frame{Type: wire.FrameReply, ID: string(id), Status: n, Result: bytes.Clone(rest[:len(rest)-1])}
	return true
}

// wholeValue reports whether b is one JSON object or array and nothing
// after it, by its brackets alone (strings skipped): the result is the
// reply's last member, not followed by another. Whether the value inside
// is valid JSON is left to the decoder of the result.
func wholeValue(b []byte) bool {
	if len(b) == 0 || b[0] != '{' && b[0] != '[' {
		return false
	}
	depth, str := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case str:
			switch c {
			case '\\':
				i++
			case '"':
				str = false
			}
		case c == '"':
			str = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return i == len(b)-1
			}
		}
	}
	return false
}

func (cn *Conn) setSeq(s uint64) {
	cn.mu.Lock()
	cn.lastSeq = s
	cn.mu.Unlock()
}

// Resume is where this connection is in the event stream, for the next
// DialResume.
func (cn *Conn) Resume() Resume { return Resume{Seq: cn.LastSeq(), Epoch: cn.Welcome.Epoch} }

// LastSeq is the sequence number of the last event (or resync) received.
func (cn *Conn) LastSeq() uint64 {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.lastSeq
}

// Done is closed when the connection ends.
func (cn *Conn) Done() <-chan struct{} { return cn.closed }

// Close ends the connection.
func (cn *Conn) Close() error {
	cn.wmu.Lock()
	cn.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	cn.wmu.Unlock()
	err := cn.ws.Close()
	<-cn.closed
	return err
}

// Request runs one operation (an x-operation of the OpenAPI document; see
// docs/protocol.md) and decodes its result into out (when not nil). The
// server applies the requests of one connection in the order they are
// sent, so requests made one after another from one goroutine take
// effect in that order.
func (cn *Conn) Request(ctx context.Context, op string, params map[string]string, idem string, body, out any) (int, error) {
	var raw json.RawMessage
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		raw = b
	}
	cn.mu.Lock()
	cn.nextID++
	id := fmt.Sprint(cn.nextID)
	ch := make(chan wire.Frame, 1)
	cn.pending[id] = ch
	cn.mu.Unlock()
	defer func() {
		cn.mu.Lock()
		delete(cn.pending, id)
		cn.mu.Unlock()
	}()
	frame := requestFrame(id, op, params, idem, raw)
	cn.wmu.Lock()
	cn.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err := cn.ws.WriteMessage(websocket.TextMessage, frame)
	cn.wmu.Unlock()
	if err != nil {
		return 0, &hall.Error{Code: hall.Unavailable, Reason: ReasonNetwork, Message: err.Error()}
	}
	var f wire.Frame
	select {
	case f = <-ch:
	case <-cn.closed:
		// a reply read just before the close (the server's last frame, e.g.
		// "unauthorized") is the answer: select picks at random among ready cases
		select {
		case f = <-ch:
		default:
			return 0, &hall.Error{Code: hall.Unavailable, Reason: ReasonNetwork, Message: "connection closed"}
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if f.Error != nil {
		return f.Status, f.Error.Err()
	}
	if out != nil && len(f.Result) > 0 {
		if err := json.Unmarshal(f.Result, out); err != nil {
			return f.Status, err
		}
	}
	return f.Status, nil
}

// requestFrame is the JSON of a request frame, as json.Marshal encodes
// wire.Frame{Type: request, ID: id, Op: op, Params: params, Idem: idem,
// Body: body}, without encoding the body (already JSON, from json.Marshal)
// a second time.
func requestFrame(id, op string, params map[string]string, idem string, body json.RawMessage) []byte {
	b := make([]byte, 0, 80+len(id)+len(op)+len(idem)+len(body))
	b = append(b, `{"type":"request"`...)
	name := func(n string) { b = append(append(append(b, `,"`...), n...), `":`...) }
	str := func(n, v string) { name(n); b = appendJSONString(b, v) }
	if id != "" {
		str("id", id)
	}
	if op != "" {
		str("op", op)
	}
	if len(params) > 0 {
		j, _ := json.Marshal(params) // a map of strings: no error
		name("params")
		b = append(b, j...)
	}
	if idem != "" {
		str("idempotency_key", idem)
	}
	if len(body) > 0 {
		b = append(append(b, `,"body":`...), body...)
	}
	return append(b, '}')
}

// appendJSONString appends s as json.Marshal encodes it: a string of
// printable ASCII that json.Marshal leaves as it is (ids, operations,
// idempotency keys) between quotes, anything else through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s)
			return append(b, j...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// Follow keeps a connection to the server until ctx ends: it reconnects
// with exponential back-off and jitter after any drop, resuming from the
// last sequence number seen, so handler sees every event once, in order
// (or a resync overview when it fell too far behind). connected, when not
// nil, is told about each connection as it opens and closes (nil).
func (c *Client) Follow(ctx context.Context, lastSeq uint64, handler func(wire.Frame), connected func(*Conn)) error {
	backoff := 200 * time.Millisecond
	from := Resume{Seq: lastSeq}
	for {
		cn, err := c.DialResume(ctx, from, handler)
		if err == nil {
			backoff = 200 * time.Millisecond
			if connected != nil {
				connected(cn)
			}
			select {
			case <-cn.Done():
			case <-ctx.Done():
				cn.Close()
			}
			from = cn.Resume()
			if connected != nil {
				connected(nil)
			}
		} else if hall.ErrorCode(err) == hall.Unauthorized {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}
