package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

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

// Error is a printer error with a stable code.
type Error struct{ code, msg string }

func (e *Error) Error() string { return e.msg }

// Code returns the stable code.
func (e *Error) Code() string { return e.code }

// Printer errors; returned errors wrap them and add context.
var (
	ErrPaperOut    = &Error{"paper_out", "printer is out of paper"}
	ErrCoverOpen   = &Error{"cover_open", "printer cover is open"}
	ErrOffline     = &Error{"offline", "printer is offline"}
	ErrPrinter     = &Error{"printer_error", "printer reports an error"}
	ErrTimeout     = &Error{"timeout", "no status reply from the printer"}
	ErrDeviceGone  = &Error{"device_gone", "printer disconnected"}
	ErrPrintFailed = &Error{"print_failed", "the ticket may not have printed"}
)

// Code returns the stable code of the first coded error in err's chain.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	return "unknown"
}

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

// Options tune a Printer.
type Options struct {
	// Timeout bounds each status reply (default 1 s).
	Timeout time.Duration
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
}

// NewPrinter starts a printer driver on rw.
func NewPrinter(rw io.ReadWriter, m Model, opts Options) *Printer {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
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

// Status queries the real-time status.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status(ctx)
}

func (p *Printer) status(ctx context.Context) (Status, error) {
	p.in.Discard()
	var b [3]byte
	for i, n := range []byte{1, 2, 4} {
		v, err := p.query(ctx, n)
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

// query sends DLE EOT n and returns the first well-formed status byte (bits
// 1 and 4 set, bits 0 and 7 clear); anything else is skipped as noise.
func (p *Printer) query(ctx context.Context, n byte) (byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
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
			if c&0x93 == 0x12 {
				return c, nil
			}
		}
	}
}

// Print prints t. It checks the status first and refuses (an error wrapping
// ErrPaperOut, ErrCoverOpen, ErrOffline or ErrPrinter) when the printer
// cannot print; after sending the job it checks again, and reports
// ErrPrintFailed when the printer stopped or stopped answering: a ticket is
// never assumed to be in the citizen's hand.
func (p *Printer) Print(ctx context.Context, t Ticket) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.status(ctx)
	if err != nil {
		return fmt.Errorf("escpos: before printing %s: %w", t.Number, err)
	}
	if err := st.Err(); err != nil {
		return fmt.Errorf("escpos: not printing %s (%v): %w", t.Number, st, err)
	}
	job := Encode(t, p.model)
	for len(job) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("escpos: printing %s: %w: %w", t.Number, ErrPrintFailed, err)
		}
		n := min(len(job), 512)
		if _, err := p.rw.Write(job[:n]); err != nil {
			return fmt.Errorf("escpos: printing %s: %w: %w: %w", t.Number, ErrPrintFailed, ErrDeviceGone, err)
		}
		job = job[n:]
	}
	st, err = p.status(ctx)
	if err == nil {
		err = st.Err()
	}
	if err != nil {
		return fmt.Errorf("escpos: after printing %s: %w: %w", t.Number, ErrPrintFailed, err)
	}
	return nil
}
