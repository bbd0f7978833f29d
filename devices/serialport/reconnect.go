package serialport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Reconnecting is a Port that survives the device vanishing: when a read or
// write fails, or reads return at once with nothing (a hung-up terminal), or
// the path disappears, it closes the port, reports ErrDeviceGone, and reopens
// the same path with back-off on later calls. Drivers keep using the same
// value and recover by themselves when the device returns.
//
// Read and Write may be called from different goroutines.
type Reconnecting struct {
	cfg  Config
	open func(Config) (Port, error)

	mu      sync.Mutex // guards the fields below
	port    Port
	closed  bool
	fast    int           // consecutive instant empty reads
	backoff time.Duration // wait before the next reopen attempt
	next    time.Time     // earliest next reopen attempt
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// OpenReconnecting returns a reconnecting port for c. It tries to open the
// device at once but succeeds even when the device is absent.
func OpenReconnecting(c Config) *Reconnecting {
	r := &Reconnecting{cfg: c.normalized(), open: Open}
	r.mu.Lock()
	r.current()
	r.mu.Unlock()
	return r
}

// Config is the port's configuration as it opens the device (defaults
// filled in, the read timeout clamped).
func (r *Reconnecting) Config() Config { return r.cfg }

// current returns the open port, reopening it if the back-off allows.
// r.mu must be held.
func (r *Reconnecting) current() (Port, error) {
	if r.closed {
		return nil, os.ErrClosed
	}
	if r.port != nil {
		return r.port, nil
	}
	if wait := time.Until(r.next); wait > 0 {
		return nil, fmt.Errorf("serialport: %s: %w (retrying in %v)", r.cfg.Path, ErrDeviceGone, wait.Round(time.Millisecond))
	}
	p, err := r.open(r.cfg)
	if err != nil {
		r.backoff = min(max(r.backoff*2, minBackoff), maxBackoff)
		r.next = time.Now().Add(r.backoff)
		return nil, err
	}
	r.port, r.backoff, r.fast = p, 0, 0
	return p, nil
}

// drop closes p if it is still the current port.
func (r *Reconnecting) drop(p Port) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.port == p && p != nil {
		p.Close()
		r.port = nil
		r.backoff = minBackoff
		r.next = time.Now().Add(minBackoff)
	}
}

// Read reads from the device. While the device is gone it waits briefly and
// returns an error wrapping ErrDeviceGone; it never blocks longer than about
// the read timeout plus the back-off.
func (r *Reconnecting) Read(b []byte) (int, error) {
	r.mu.Lock()
	p, err := r.current()
	wait := time.Until(r.next)
	r.mu.Unlock()
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return 0, err
		}
		// Pace the caller's loop so a missing device does not spin.
		time.Sleep(min(max(wait, minBackoff), maxBackoff))
		return 0, err
	}
	start := time.Now()
	n, err := p.Read(b)
	if n > 0 {
		r.mu.Lock()
		r.fast = 0
		r.mu.Unlock()
		return n, nil
	}
	if err != nil && err != io.EOF {
		r.drop(p)
		if errors.Is(err, os.ErrClosed) {
			// p was closed under this read (a failed write dropped it): the
			// device is gone, this port is not closed for good — a reader
			// that took os.ErrClosed for that (Chunks) stopped reading, and
			// the replies of the reopened device were never read
			return 0, fmt.Errorf("serialport: read %s: %w: the port was closed under the read (%v)", r.cfg.Path, ErrDeviceGone, err)
		}
		return 0, fmt.Errorf("serialport: read %s: %w: %w", r.cfg.Path, ErrDeviceGone, err)
	}
	// (0, EOF): a read timeout, or a vanished device.
	if _, serr := os.Stat(r.cfg.Path); serr != nil {
		r.drop(p)
		return 0, fmt.Errorf("serialport: %s vanished: %w", r.cfg.Path, ErrDeviceGone)
	}
	r.mu.Lock()
	if time.Since(start) < r.cfg.ReadTimeout/4 {
		r.fast++
	} else {
		r.fast = 0
	}
	hungUp := r.fast >= 3
	r.mu.Unlock()
	if hungUp {
		r.drop(p)
		return 0, fmt.Errorf("serialport: %s hung up: %w", r.cfg.Path, ErrDeviceGone)
	}
	return 0, io.EOF
}

// Write writes to the device; on failure the port is dropped and reopened by a
// later call.
func (r *Reconnecting) Write(b []byte) (int, error) {
	r.mu.Lock()
	p, err := r.current()
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := p.Write(b)
	if err != nil {
		r.drop(p)
		return n, fmt.Errorf("serialport: write %s: %w: %w", r.cfg.Path, ErrDeviceGone, err)
	}
	return n, nil
}

// Close closes the port for good.
func (r *Reconnecting) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.port != nil {
		err := r.port.Close()
		r.port = nil
		return err
	}
	return nil
}
