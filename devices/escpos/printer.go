package escpos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"hallq/devices/devicecode"
	"hallq/devices/serialport"
)

// Status is the printer's real-time status (DLE EOT 1, 2 and 4).
type Status struct {
	Online    bool
	PaperOut  bool
	PaperLow  bool // paper near end: print, but warn staff
	CoverOpen bool
	Error     bool
}

// Error is a printer error with a stable code (shared by the drivers:
// devicecode.Error).
type Error = devicecode.Error

// Printer errors; returned errors wrap them and add context.
var (
	ErrPaperOut    = devicecode.New("paper_out", "printer is out of paper")
	ErrCoverOpen   = devicecode.New("cover_open", "printer cover is open")
	ErrOffline     = devicecode.New("offline", "printer is offline")
	ErrPrinter     = devicecode.New("printer_error", "printer reports an error")
	ErrTimeout     = devicecode.New("timeout", "no status reply from the printer")
	ErrDeviceGone  = devicecode.New("device_gone", "printer disconnected")
	ErrPrintFailed = devicecode.New("print_failed", "the ticket may not have printed")
)

// Code returns the stable code of the first coded error in err's chain
// ("" for nil, "unknown" for an error without a code).
func Code(err error) string { return devicecode.Code(err) }

// Err returns nil when the printer can print, else an error wrapping
// ErrPaperOut, ErrCoverOpen, ErrOffline or ErrPrinter (first that applies).
func (s Status) Err() error {
	switch {
	case s.PaperOut:
		return ErrPaperOut
	case s.CoverOpen:
		return ErrCoverOpen
	case !s.Online:
		return ErrOffline
	case s.Error:
		return ErrPrinter
	}
	return nil
}

func (s Status) String() string {
	var parts []string
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Online, "online"}, {!s.Online, "offline"}, {s.PaperOut, "paper out"}, {s.PaperLow, "paper low"},
		{s.CoverOpen, "cover open"}, {s.Error, "error"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, ", ")
}

// Options tune a Printer. Zero values take the defaults.
type Options struct {
	// Baud is the line rate the port is set to (default 115200). Every wait
	// is derived from it: the bytes on the wire both ways at about baud/10
	// bytes a second, plus the printer's own time.
	Baud int
	// ReplyTime is the printer's own time to answer a status request once
	// the request has arrived, plus the serial read granularity (default
	// 300 ms).
	ReplyTime time.Duration
}

// Printer prints tickets on an ESC/POS printer over rw. Its methods may be
// called from several goroutines; jobs and status polls are serialised, and
// status is only polled between jobs.
type Printer struct {
	rw    io.ReadWriter
	model Model
	opts  Options
	in    *serialport.Chunks
	mu    sync.Mutex
	jobs  uint32 // numbers the process-ID requests
}

// NewPrinter starts a printer driver on rw.
func NewPrinter(rw io.ReadWriter, m Model, opts Options) *Printer {
	if opts.Baud <= 0 {
		opts.Baud = 115200
	}
	if opts.ReplyTime <= 0 {
		opts.ReplyTime = 300 * time.Millisecond
	}
	if m.PrintTime <= 0 {
		m.PrintTime = DefaultPrintTime
	}
	return &Printer{rw: rw, model: m, opts: opts, in: serialport.NewChunks(rw)}
}

// Close stops the driver's reading goroutine (it does not close rw).
func (p *Printer) Close() error {
	p.in.Close()
	return nil
}

// Model returns the printer model.
func (p *Printer) Model() Model { return p.model }

// WireTime is how long n bytes take on the printer's line (8N1: 10 bits a
// byte).
func (p *Printer) WireTime(n int) time.Duration {
	return time.Duration(n) * 10 * time.Second / time.Duration(p.opts.Baud)
}

// statusTime bounds a full status read: three requests and their answers.
func (p *Printer) statusTime() time.Duration { return 3 * (p.WireTime(3+1) + p.opts.ReplyTime) }

// Status queries the real-time status.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status(ctx)
}

func (p *Printer) status(ctx context.Context) (Status, error) {
	p.in.Discard()
	var b [3]byte
	var sc statusScan
	for i, n := range []byte{1, 2, 4} {
		v, err := p.query(ctx, n, &sc)
		if err != nil {
			return Status{}, err
		}
		b[i] = v
	}
	return Status{
		Online:    b[0]&0x08 == 0,
		CoverOpen: b[1]&0x04 != 0,
		Error:     b[1]&0x40 != 0,
		PaperOut:  b[1]&0x20 != 0 || b[2]&0x60 != 0,
		PaperLow:  b[2]&0x0C != 0,
	}, nil
}

// statusScan is what a status read has seen of a process-ID answer (37 22
// d1 d2 d3 d4 00, ConfirmProcessID) on the line: one that comes late — the
// job of a kiosk process that has since restarted, or one whose wait timed
// out — crosses the status requests, and its digits '2' and '6' are
// well-formed status bytes ('2' reads as paper out).
type statusScan struct {
	prev byte
	skip int // bytes of a process-ID answer still to skip
}

// query sends DLE EOT n and returns the first well-formed status byte (bits
// 1 and 4 set, bits 0 and 7 clear); anything else is skipped as noise, and
// so is a process-ID answer (sc). It waits for the 3 request bytes and the
// reply byte to cross the wire, plus the printer's reply time.
func (p *Printer) query(ctx context.Context, n byte, sc *statusScan) (byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.WireTime(3+1)+p.opts.ReplyTime)
	defer cancel()
	if _, err := p.rw.Write([]byte{0x10, 0x04, n}); err != nil {
		return 0, fmt.Errorf("escpos: status %d: %w: %w", n, ErrDeviceGone, err)
	}
	for {
		b, err := p.in.Next(ctx)
		if errors.Is(err, serialport.ErrTimeout) {
			return 0, fmt.Errorf("escpos: status %d: %w: %w", n, ErrTimeout, err)
		}
		if err != nil {
			return 0, fmt.Errorf("escpos: status %d: %w: %w", n, ErrDeviceGone, err)
		}
		for _, c := range b {
			switch {
			case sc.skip > 0:
				sc.skip-- // its digits and NUL
			case sc.prev == 0x37 && c == 0x22:
				sc.skip = 5
			case c&0x93 == 0x12:
				sc.prev = c
				return c, nil
			}
			sc.prev = c
		}
	}
}

// Print prints t. It checks the status first and refuses (an error wrapping
// ErrPaperOut, ErrCoverOpen, ErrOffline or ErrPrinter) when the printer
// cannot print. After the job it asks the printer, in band, to confirm that
// it has printed up to there (Model.Confirm): a printer answers that request
// only when printing reaches it, so a job still on the wire or in the
// printer's buffer is waited for (its wire time plus Model.PrintTime), and a
// job the printer stopped in — paper out halfway — gets no answer and is
// reported as ErrPrintFailed, with the status that explains why. A ticket is
// never assumed to be in the citizen's hand.
func (p *Printer) Print(ctx context.Context, t Ticket) error {
	return p.PrintJob(ctx, t.Number, Encode(t, p.model))
}

// PrintJob sends an encoded job (see Encode) the same way Print does; name
// labels errors.
func (p *Printer) PrintJob(ctx context.Context, name string, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.status(ctx)
	if err != nil {
		return fmt.Errorf("escpos: before printing %s: %w", name, err)
	}
	if err := st.Err(); err != nil {
		return fmt.Errorf("escpos: not printing %s (%v): %w", name, st, err)
	}
	p.jobs++
	req, reply := p.model.Confirm.request(p.jobs)
	job = append(job[:len(job):len(job)], req...)
	// The printer's answer can come no sooner than the job's wire time plus
	// its printing time; allow for both and the answer's own bytes.
	cctx, cancel := context.WithTimeout(ctx, p.WireTime(len(job)+len(reply))+p.model.PrintTime+p.opts.ReplyTime)
	defer cancel()
	p.in.Discard()
	for rest := job; len(rest) > 0; {
		if err := cctx.Err(); err != nil {
			return fmt.Errorf("escpos: printing %s: %w: %w", name, ErrPrintFailed, err)
		}
		n := min(len(rest), 512)
		if _, err := p.rw.Write(rest[:n]); err != nil {
			return fmt.Errorf("escpos: printing %s: %w: %w: %w", name, ErrPrintFailed, ErrDeviceGone, err)
		}
		rest = rest[n:]
	}
	if reply == nil { // no in-band confirmation on this model: wait it out
		t := time.NewTimer(p.WireTime(len(job)) + p.model.PrintTime)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("escpos: printing %s: %w: %w", name, ErrPrintFailed, context.Cause(ctx))
		}
	} else if err := p.await(cctx, reply); err != nil {
		// Say why, if the printer can still tell (a fresh status wait).
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), p.statusTime())
		defer scancel()
		if st, serr := p.status(sctx); serr == nil && st.Err() != nil {
			return fmt.Errorf("escpos: printing %s (%v): %w: %w", name, st, ErrPrintFailed, st.Err())
		}
		return fmt.Errorf("escpos: printing %s: %w: %w", name, ErrPrintFailed, err)
	}
	sctx, scancel := context.WithTimeout(ctx, p.statusTime())
	defer scancel()
	st, err = p.status(sctx)
	if err == nil {
		err = st.Err()
	}
	if err != nil {
		return fmt.Errorf("escpos: after printing %s: %w: %w", name, ErrPrintFailed, err)
	}
	return nil
}

// await reads until the confirmation reply arrives; other bytes (real-time
// status answers, noise) are skipped.
func (p *Printer) await(ctx context.Context, want []byte) error {
	var got []byte
	for {
		b, err := p.in.Next(ctx)
		if errors.Is(err, serialport.ErrTimeout) {
			return fmt.Errorf("no confirmation that the job printed: %w: %w", ErrTimeout, err)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrDeviceGone, err)
		}
		got = append(got, b...)
		if want[0] == transmitStatusReply {
			for _, c := range got { // GS r 1: a byte with bits 4 and 7 clear
				if c&0x90 == 0 {
					return nil
				}
			}
			got = got[:0]
			continue
		}
		if bytes.Contains(got, want) {
			return nil
		}
		if len(got) > 64 {
			got = got[len(got)-len(want):]
		}
	}
}

// transmitStatusReply marks the GS r reply pattern (any byte with bits 4 and
// 7 clear); it is not itself a reply byte.
const transmitStatusReply = 0xFF

// Confirm is how a printer model confirms that a job has been printed.
type Confirm int

// Confirmation methods.
const (
	// ConfirmTransmitStatus sends GS r 1 (transmit paper sensor status)
	// after the job. Epson documents that it is processed in buffer order
	// and not executed once paper end has stopped the printer; its answer
	// has bit 4 clear, unlike DLE EOT answers. Most ESC/POS clones have it.
	ConfirmTransmitStatus Confirm = iota
	// ConfirmProcessID sends GS ( H fn 48 with a job number; the printer
	// answers 37 22 d1 d2 d3 d4 00 when printing reaches it (Epson TM
	// models).
	ConfirmProcessID
	// ConfirmTiming is the fallback for printers with neither: wait for the
	// job's wire time plus Model.PrintTime, then read the real-time status.
	// A paper end reported by then fails the job; one that comes later
	// cannot be seen.
	ConfirmTiming
)

func (c Confirm) String() string {
	return map[Confirm]string{ConfirmTransmitStatus: "GS r 1", ConfirmProcessID: "GS ( H fn 48", ConfirmTiming: "timing"}[c]
}

// request returns the bytes to send after job n and the reply to wait for
// (nil: none).
func (c Confirm) request(n uint32) (req, reply []byte) {
	switch c {
	case ConfirmTransmitStatus:
		return []byte{0x1D, 0x72, 0x01}, []byte{transmitStatusReply}
	case ConfirmProcessID:
		id := []byte(fmt.Sprintf("%04d", n%10000)) // d1..d4 in 0x30..0x39
		req = append([]byte{0x1D, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30}, id...)
		return req, append(append([]byte{0x37, 0x22}, id...), 0x00)
	}
	return nil, nil
}
