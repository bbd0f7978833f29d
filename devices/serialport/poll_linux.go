package serialport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/tarm/serial"
)

// pollPort reads a port through Go's poller. The serial library's reads
// are blocking system calls that return after the line's read timeout
// (VTIME): every driver keeps one read pending on each port (the Chunks
// pump), so an idle kiosk spent ten blocking calls a second per port, each
// holding a thread and waking the Go runtime's monitor thread, which then
// polls at 20 µs until the call returns (the idle kiosk's largest CPU
// cost, README "Measured here"). pollPort opens the configured device a
// second time, non-blocking, so a read waits in the poller like a socket's
// and its timeout is a read deadline. The serial library's descriptor
// keeps the line settings (they belong to the device) and writes.
type pollPort struct {
	line    *serial.Port // configured the line; writes
	r       *os.File     // non-blocking, on Go's poller: reads
	timeout time.Duration
}

func pollable(line *serial.Port, c Config) (Port, error) {
	// never call r.Fd(): it would put the descriptor back into blocking mode
	r, err := os.OpenFile(c.Path, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		line.Close()
		return nil, fmt.Errorf("serialport: open %s: %w: %w", c.Path, ErrDeviceGone, err)
	}
	if err := r.SetReadDeadline(time.Time{}); err != nil { // a device the poller cannot wait on
		r.Close()
		return line, nil
	}
	return &pollPort{line: line, r: r, timeout: c.ReadTimeout}, nil
}

// Read returns what arrives within the read timeout; (0, io.EOF) when
// nothing did, as the serial library's read does, and when the port was
// closed meanwhile (Reconnecting drops a port another goroutine is reading
// when a write fails: that reader must go on to the reopened port, so it
// must not see os.ErrClosed, which means the Reconnecting port itself was
// closed).
func (p *pollPort) Read(b []byte) (int, error) {
	if err := p.r.SetReadDeadline(time.Now().Add(p.timeout)); err != nil {
		return 0, io.EOF // closed (pollable sets a deadline once, so the poller waits on it)
	}
	n, err := p.r.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed) {
		return n, io.EOF
	}
	return n, err
}

func (p *pollPort) Write(b []byte) (int, error) { return p.line.Write(b) }

// Close closes both descriptors; a pending Read returns (0, io.EOF) at once.
func (p *pollPort) Close() error {
	return errors.Join(p.r.Close(), p.line.Close())
}
