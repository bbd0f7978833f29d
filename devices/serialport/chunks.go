package serialport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ErrTimeout reports that the overall deadline passed before the expected
// bytes arrived.
var ErrTimeout = errors.New("serial read timed out")

// Chunks reads a port in its own goroutine and hands out what arrives, so that
// callers wait with a context (an overall deadline) whatever the port's own
// read timeout. It is the frame and line readers' base: never call
// io.ReadFull on a port.
//
// Next and Discard must be called from one goroutine at a time.
type Chunks struct {
	c    chan chunk
	stop chan struct{}
	done chan struct{}
}

type chunk struct {
	b   []byte
	err error
}

// NewChunks starts reading r. Call Close to stop; the goroutine ends after
// r's current Read returns.
func NewChunks(r io.Reader) *Chunks {
	c := &Chunks{c: make(chan chunk, 64), stop: make(chan struct{}), done: make(chan struct{})}
	go c.pump(r)
	return c
}

func (c *Chunks) pump(r io.Reader) {
	defer close(c.done)
	buf := make([]byte, 4096)
	idle := time.Duration(0)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		start := time.Now()
		n, err := r.Read(buf)
		var out chunk
		switch {
		case n > 0:
			out.b = append([]byte(nil), buf[:n]...)
			idle = 0
		case err == nil || err == io.EOF:
			// Nothing yet. A reader that returns at once without a timeout
			// (a hung-up terminal) must not spin: back off gently.
			if time.Since(start) < time.Millisecond {
				idle = min(max(2*idle, time.Millisecond), 100*time.Millisecond)
				c.sleep(idle)
			}
			continue
		default:
			out.err = err
		}
		select {
		case c.c <- out:
		case <-c.stop:
			return
		}
		if out.err != nil {
			if errors.Is(out.err, os.ErrClosed) || errors.Is(out.err, io.ErrClosedPipe) {
				return
			}
			c.sleep(20 * time.Millisecond)
		}
	}
}

func (c *Chunks) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.stop:
	}
}

// Next returns the next bytes read, or the read error (wrapping
// ErrDeviceGone unless it already says more), or an error wrapping
// ErrTimeout when ctx ends first.
func (c *Chunks) Next(ctx context.Context) ([]byte, error) {
	select {
	case ch := <-c.c:
		if ch.err != nil {
			if errors.Is(ch.err, ErrDeviceGone) {
				return nil, ch.err
			}
			return nil, fmt.Errorf("%w: %w", ErrDeviceGone, ch.err)
		}
		return ch.b, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrTimeout, context.Cause(ctx))
	case <-c.done:
		return nil, fmt.Errorf("%w: reader closed", ErrDeviceGone)
	}
}

// Discard drops everything read so far and not yet taken (stale replies,
// line noise) and returns how many bytes it dropped.
func (c *Chunks) Discard() int {
	n := 0
	for {
		select {
		case ch := <-c.c:
			n += len(ch.b)
		default:
			return n
		}
	}
}

// Close stops the reading goroutine. It does not close the port.
func (c *Chunks) Close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
}
