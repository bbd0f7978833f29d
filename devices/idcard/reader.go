package idcard

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Options tune a Reader. Zero values take the defaults.
type Options struct {
	// Baud is the line rate the port is set to (default 115200). Every
	// exchange waits for its request and the longest reply to that command to
	// cross the wire at about Baud/10 bytes a second, plus the reader's own
	// time: at 9600 the 1295-byte text+photo reply alone takes 1.35 s.
	Baud int
	// ReplyTime is the reader's own time to answer a command, plus the
	// serial read granularity (default 300 ms).
	ReplyTime time.Duration
	// CardTime is the reader's extra time to read a card's text and photo
	// before it answers (default 1 s; vendors quote up to 1 s).
	CardTime time.Duration
	// RemoveAfter is how many consecutive "no card" polls declare a card
	// removed in Watch (default 2): readers sometimes miss a card that is
	// still there.
	RemoveAfter int
	// Now is the clock for expiry checks (default time.Now).
	Now func() time.Time
}

// Reader talks to a SAM module over rw. Its methods may be called from
// several goroutines; exchanges are serialised. Close stops its reading
// goroutine (it does not close rw).
type Reader struct {
	rw   io.ReadWriter
	opts Options

	in   chan chunk
	stop chan struct{}
	done chan struct{}

	mu  sync.Mutex // serialises exchanges and guards buf and dirty
	buf []byte
	// dirty: the last exchange gave up with a reply still arriving, or
	// took a frame that was not one, or none has run yet on this line (a
	// process restarted mid-exchange leaves the rest of a reply to the old
	// one on it); the next exchange waits for the line to go quiet before
	// it asks.
	dirty bool
}

type chunk struct {
	b   []byte
	err error
}

// NewReader starts a reader on rw (a serial port with a read timeout, or any
// stream). It reads rw in its own goroutine, so a silent device never blocks
// a caller beyond its deadline.
func NewReader(rw io.ReadWriter, opts Options) *Reader {
	if opts.Baud <= 0 {
		opts.Baud = 115200
	}
	if opts.ReplyTime <= 0 {
		opts.ReplyTime = 300 * time.Millisecond
	}
	if opts.CardTime <= 0 {
		opts.CardTime = time.Second
	}
	if opts.RemoveAfter <= 0 {
		opts.RemoveAfter = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Reader{rw: rw, opts: opts, in: make(chan chunk, 64), stop: make(chan struct{}), done: make(chan struct{}), dirty: true}
	go r.pump()
	return r
}

// pump reads rw until Close; (0, io.EOF) is a serial read timeout.
func (r *Reader) pump() {
	defer close(r.done)
	b := make([]byte, 4096)
	idle := time.Duration(0)
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		start := time.Now()
		n, err := r.rw.Read(b)
		c := chunk{}
		switch {
		case n > 0:
			c.b, idle = append([]byte(nil), b[:n]...), 0
		case err == nil || err == io.EOF:
			if time.Since(start) < time.Millisecond { // no read timeout: do not spin
				idle = min(max(2*idle, time.Millisecond), 100*time.Millisecond)
				r.sleep(idle)
			}
			continue
		default:
			c.err = err
		}
		select {
		case r.in <- c:
		case <-r.stop:
			return
		}
		if c.err != nil {
			r.sleep(20 * time.Millisecond)
		}
	}
}

func (r *Reader) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.stop:
	}
}

// Close stops the reading goroutine.
func (r *Reader) Close() error {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	return nil
}

// Exchange sends one request and returns the reply's SW3 and data. Stale
// bytes are dropped first (before the first exchange, and after one that
// gave up on a late reply or took a garbled one, until the line is quiet);
// garbage before the reply, and a whole frame too long to answer cmd (an
// earlier request's), are skipped.
func (r *Reader) Exchange(ctx context.Context, cmd Command, data ...byte) (sw3 byte, reply []byte, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	req := EncodeRequest(cmd, data...)
	r.buf = r.buf[:0]
	if r.dirty {
		r.dirty = false
		if err := r.quiet(ctx); err != nil {
			return 0, nil, fmt.Errorf("idcard: %v: %w", cmd, err)
		}
	}
	start := time.Now()
	deadline := start.Add(r.ExchangeTime(cmd, len(req)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for drained := false; !drained; {
		select {
		case <-r.in:
		default:
			drained = true
		}
	}
	if _, err := r.rw.Write(req); err != nil {
		return 0, nil, fmt.Errorf("idcard: %v: %w: %w", cmd, ErrDeviceGone, err)
	}
	for {
		payload, n, err := Decode(r.buf)
		r.buf = r.buf[n:]
		switch {
		case err != nil:
			r.dirty = true // the rest of a garbled reply may still be on its way
			return 0, nil, fmt.Errorf("idcard: %v: %w", cmd, err)
		case payload != nil && len(Preamble)+2+len(payload)+1 > maxReply(cmd)+staleSlack:
			// Longer than any reply to cmd: the answer to a request made
			// before this one — by a kiosk process restarted while the
			// reader was still reading a card. Skip it; ours follows.
			continue
		case payload != nil && len(payload) < 3:
			r.dirty = true
			return 0, nil, fmt.Errorf("idcard: %v: %w: %d-byte payload", cmd, ErrFrame, len(payload))
		case payload != nil:
			return payload[2], payload[3:], nil
		}
		// A reply longer than expected (its length field says so) gets the
		// wire time it needs.
		if i := bytes.Index(r.buf, Preamble); i >= 0 && len(r.buf) >= i+len(Preamble)+2 {
			n := int(binary.BigEndian.Uint16(r.buf[i+len(Preamble):]))
			if n <= MaxFrameLen {
				if d := start.Add(r.ExchangeTime(cmd, len(req)) - r.wire(maxReply(cmd)) + r.wire(len(Preamble)+2+n)); d.After(deadline) {
					deadline = d
					timer.Reset(time.Until(deadline))
				}
			}
		}
		select {
		case c := <-r.in:
			if c.err != nil {
				return 0, nil, fmt.Errorf("idcard: %v: %w: %w", cmd, ErrDeviceGone, c.err)
			}
			r.buf = append(r.buf, c.b...)
		case <-timer.C:
			waited := time.Since(start).Round(time.Millisecond)
			r.dirty = true // the rest of a late reply may still be on its way
			if len(r.buf) > 0 {
				return 0, nil, fmt.Errorf("idcard: %v: %w: %w: %d bytes of an unfinished frame after %v", cmd, ErrFrame, ErrTimeout, len(r.buf), waited)
			}
			return 0, nil, fmt.Errorf("idcard: %v: %w (no reply in %v at %d baud)", cmd, ErrTimeout, waited, r.opts.Baud)
		case <-ctx.Done():
			r.dirty = true
			if len(r.buf) > 0 {
				return 0, nil, fmt.Errorf("idcard: %v: %w: %w: %d bytes of an unfinished frame", cmd, ErrFrame, ErrTimeout, len(r.buf))
			}
			return 0, nil, fmt.Errorf("idcard: %v: %w (%v)", cmd, ErrTimeout, context.Cause(ctx))
		}
	}
}

// quiet drops what arrives until the line has been silent for 20 character
// times (at least 100 ms: a frame's bytes come back to back), so the tail of a reply the last exchange gave up on
// is not taken for the next reply. It waits at most as long as the longest
// frame takes on the wire (at least 2 s, for a line slower than configured).
func (r *Reader) quiet(ctx context.Context) error {
	gap := max(r.wire(20), 100*time.Millisecond)
	limit := time.NewTimer(max(r.wire(5+2+MaxFrameLen)+r.opts.ReplyTime, 2*time.Second))
	defer limit.Stop()
	for {
		t := time.NewTimer(gap)
		select {
		case c := <-r.in:
			t.Stop()
			if c.err != nil {
				return fmt.Errorf("%w: %w", ErrDeviceGone, c.err)
			}
		case <-t.C:
			return nil
		case <-limit.C:
			t.Stop()
			return nil // a line that never goes quiet: ask anyway
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (%v)", ErrTimeout, context.Cause(ctx))
		}
	}
}

// staleSlack is how much longer than maxReply a reply may be and still be
// taken for the answer (a vendor's extra bytes); a longer one is an earlier
// request's.
const staleSlack = 16

// maxReply is the longest well-formed reply to cmd, in bytes on the wire.
func maxReply(cmd Command) int {
	const frame = 5 + 2 + 3 + 1 // preamble, length, SW1-SW3, checksum
	switch cmd {
	case CmdSAMID:
		return frame + 16
	case CmdFindCard:
		return frame + 4
	case CmdSelectCard:
		return frame + 8
	case CmdReadText:
		return frame + 4 + TextLen + 1024 // 1295
	case CmdReadTextFP:
		return frame + 6 + TextLen + 1024 + 1024
	case CmdResetSAM, CmdSAMStatus:
		return frame
	}
	return 5 + 2 + MaxFrameLen
}

func (r *Reader) wire(n int) time.Duration {
	return time.Duration(n) * 10 * time.Second / time.Duration(r.opts.Baud)
}

// ExchangeTime is how long Exchange waits for the reply to cmd after a
// request of reqLen bytes: both on the wire at the configured baud, plus the
// reader's reply time, plus its card time for the commands that read a card.
func (r *Reader) ExchangeTime(cmd Command, reqLen int) time.Duration {
	d := r.wire(reqLen+maxReply(cmd)) + r.opts.ReplyTime
	if cmd == CmdReadText || cmd == CmdReadTextFP {
		d += r.opts.CardTime
	}
	return d
}

// expect runs cmd and turns any status other than want into a *StatusError.
func (r *Reader) expect(ctx context.Context, cmd Command, want byte) ([]byte, error) {
	sw3, data, err := r.Exchange(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if sw3 != want {
		return nil, &StatusError{Cmd: cmd, SW3: sw3}
	}
	return data, nil
}

// ResetSAM resets the SAM module.
func (r *Reader) ResetSAM(ctx context.Context) error {
	_, err := r.expect(ctx, CmdResetSAM, SW3OK)
	return err
}

// SAMStatus checks that the SAM module is working.
func (r *Reader) SAMStatus(ctx context.Context) error {
	_, err := r.expect(ctx, CmdSAMStatus, SW3OK)
	return err
}

// SAMID is the module's 16-byte identity.
type SAMID [16]byte

// String formats the id the way vendor tools print it (unverified):
// 05.01-20101010-0012345678-1234567890.
func (id SAMID) String() string {
	le := binary.LittleEndian
	return fmt.Sprintf("%02d.%02d-%08d-%010d-%010d", le.Uint16(id[0:]), le.Uint16(id[2:]),
		le.Uint32(id[4:]), le.Uint32(id[8:]), le.Uint32(id[12:]))
}

// ReadSAMID reads the module's id.
func (r *Reader) ReadSAMID(ctx context.Context) (SAMID, error) {
	data, err := r.expect(ctx, CmdSAMID, SW3OK)
	if err != nil {
		return SAMID{}, err
	}
	if len(data) < 16 {
		return SAMID{}, fmt.Errorf("idcard: %v: %w: %d data bytes, want 16", CmdSAMID, ErrFrame, len(data))
	}
	return SAMID(data), nil
}

// FindCard polls for a card: true when one is present, false (and no
// error) when the reader reports "no card".
func (r *Reader) FindCard(ctx context.Context) (bool, error) {
	sw3, _, err := r.Exchange(ctx, CmdFindCard)
	switch {
	case err != nil:
		return false, err
	case sw3 == SW3FoundCard:
		return true, nil
	case sw3 == 0x80:
		return false, nil
	}
	return false, &StatusError{Cmd: CmdFindCard, SW3: sw3}
}

// SelectCard selects the card found by FindCard.
func (r *Reader) SelectCard(ctx context.Context) error {
	_, err := r.expect(ctx, CmdSelectCard, SW3OK)
	return err
}

// ReadText reads the selected card's 256-byte text block and its photo (WLT).
func (r *Reader) ReadText(ctx context.Context) (text, photo []byte, err error) {
	data, err := r.expect(ctx, CmdReadText, SW3OK)
	if err != nil {
		return nil, nil, err
	}
	if len(data) < 4 {
		return nil, nil, fmt.Errorf("idcard: %v: %w: %d data bytes", CmdReadText, ErrFrame, len(data))
	}
	tl, pl := int(binary.BigEndian.Uint16(data)), int(binary.BigEndian.Uint16(data[2:]))
	if 4+tl+pl > len(data) {
		return nil, nil, fmt.Errorf("idcard: %v: %w: lengths %d+%d exceed %d data bytes", CmdReadText, ErrFrame, tl, pl, len(data)-4)
	}
	return data[4 : 4+tl], data[4+tl : 4+tl+pl], nil
}

// ReadCard finds, selects and reads the card on the reader. With no card it
// returns a *StatusError with code "no_card". An expired card is returned
// together with an *ExpiredError (errors.Is(err, ErrExpired)).
func (r *Reader) ReadCard(ctx context.Context) (Card, error) {
	found, err := r.FindCard(ctx)
	if err != nil {
		return Card{}, err
	}
	if !found {
		return Card{}, &StatusError{Cmd: CmdFindCard, SW3: 0x80}
	}
	return r.readSelected(ctx)
}

func (r *Reader) readSelected(ctx context.Context) (Card, error) {
	if err := r.SelectCard(ctx); err != nil {
		return Card{}, err
	}
	text, _, err := r.ReadText(ctx)
	if err != nil {
		return Card{}, err
	}
	c, err := DecodeText(text)
	if err != nil {
		return Card{}, fmt.Errorf("idcard: %w", err)
	}
	return c, c.Check(r.opts.Now())
}

// EventKind says what a Watch event reports.
type EventKind int

// Event kinds.
const (
	CardPresent EventKind = iota + 1 // a card was placed and read (Err may wrap ErrExpired)
	CardRemoved                      // the card was taken away
	ReaderError                      // polling or reading failed; Watch keeps polling
	ReaderReady                      // after a ReaderError, the reader answered a poll properly again
)

func (k EventKind) String() string {
	return map[EventKind]string{CardPresent: "card present", CardRemoved: "card removed", ReaderError: "reader error",
		ReaderReady: "reader ready"}[k]
}

// Event is one Watch report.
type Event struct {
	Kind EventKind
	Card Card  // CardPresent, CardRemoved
	Err  error // ReaderError; or an *ExpiredError with CardPresent
}

// Watch polls the reader every interval until ctx ends, then closes the
// channel. A card left on the reader is reported once, until it has been
// missing for Options.RemoveAfter polls in a row. After a ReaderError, the
// next poll the reader answers properly throughout ("no card", a card
// still there, or a card found and read) is reported as ReaderReady, so a
// transient fault does not outlive its cause; a card that cannot be read
// keeps the reader failing until it is read or taken away.
func (r *Reader) Watch(ctx context.Context, interval time.Duration) <-chan Event {
	ch := make(chan Event, 1)
	go func() {
		defer close(ch)
		send := func(e Event) bool {
			select {
			case ch <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		var card Card
		present, misses := false, 0
		failing := false // the last report was a ReaderError
		for {
			found, err := r.FindCard(ctx)
			ok, failed := true, false
			fail := func(err error) bool {
				failed = true
				return send(Event{Kind: ReaderError, Err: err})
			}
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				ok = fail(err)
			case found && present:
				misses = 0
			case found:
				c, err := r.readSelected(ctx)
				if err == nil || errors.Is(err, ErrExpired) {
					card, present, misses = c, true, 0
					ok = send(Event{Kind: CardPresent, Card: c, Err: err})
				} else if ctx.Err() == nil {
					ok = fail(err)
				}
			case present:
				if misses++; misses >= r.opts.RemoveAfter {
					present = false
					ok = send(Event{Kind: CardRemoved, Card: card})
					card = Card{}
				}
			}
			switch {
			case failed:
				failing = true
			case failing && ok && ctx.Err() == nil: // a whole poll answered properly
				failing = false
				ok = send(Event{Kind: ReaderReady})
			}
			if !ok {
				return
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
