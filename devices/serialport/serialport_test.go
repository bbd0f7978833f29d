package serialport

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// mustPty is a pseudo-terminal pair: the device's end (master) and the
// path the kiosk opens (its tty).
func mustPty(t *testing.T) (*os.File, string) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	path := tty.Name()
	tty.Close()
	t.Cleanup(func() { master.Close() })
	return master, path
}

// A read on a silent line waits in Go's poller, not in a system call that
// holds a thread and keeps the runtime's monitor thread polling: the idle
// kiosk keeps a read pending on every port all day.
func TestAPendingReadHoldsNoThread(t *testing.T) {
	master, path := mustPty(t)
	p, err := Open(Config{Path: path, Baud: 115200, ReadTimeout: 25 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := make(chan []byte)
	go func() {
		b := make([]byte, 16)
		n, _ := p.Read(b)
		got <- b[:n]
	}()
	// the reader goroutine, once it waits in Read: "[IO wait" (the poller)
	// or "[syscall" (a blocking read)
	var state string
	for state == "" {
		runtime.Gosched()
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "TestAPendingReadHoldsNoThread.func") && strings.Contains(g, ").Read(") {
				if _, s, ok := strings.Cut(g, " ["); ok {
					state, _, _ = strings.Cut(s, "]")
				}
			}
		}
		if !strings.HasPrefix(state, "IO wait") && !strings.HasPrefix(state, "syscall") {
			state = ""
		}
	}
	if !strings.HasPrefix(state, "IO wait") {
		t.Errorf("a read waiting on a silent line is in state %q, want IO wait (the poller)", state)
	}
	if _, err := master.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "ok" {
		t.Errorf("read %q, want what the device sent", b)
	}
}

// A read that times out returns (0, io.EOF), as the serial library's does;
// bytes sent meanwhile come with the next; writes reach the device; Close
// ends a pending read at once, as a timeout: a Reconnecting port drops a
// port another goroutine is reading, whose next read must go on to the
// reopened port.
func TestReadTimeoutWriteAndClose(t *testing.T) {
	master, path := mustPty(t)
	p, err := Open(Config{Path: path, Baud: 9600, ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	if n, err := p.Read(b); n != 0 || err != io.EOF {
		t.Fatalf("silent line: read %d, %v; want 0, io.EOF", n, err)
	}
	if _, err := p.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	w := make([]byte, 2)
	if _, err := io.ReadFull(master, w); err != nil || string(w) != "hi" {
		t.Fatalf("the device read %q, %v", w, err)
	}
	master.Write([]byte("yo"))
	var read []byte
	for len(read) < 2 {
		n, err := p.Read(b)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		read = append(read, b[:n]...)
	}
	if string(read) != "yo" {
		t.Fatalf("read %q, want yo", read)
	}

	long, err := Open(Config{Path: path, Baud: 9600, ReadTimeout: 25 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := long.Read(b)
		done <- err
	}()
	long.Close()
	if err := <-done; err != io.EOF {
		t.Fatalf("a read pending at Close returned %v, want io.EOF", err)
	}
	p.Close()
}

// closedPort is a port closed under its pending read — as a failed write
// closes the port it drops while the reader waits on it: its read returns
// os.ErrClosed.
type closedPort struct{}

func (closedPort) Read([]byte) (int, error) {
	return 0, &os.PathError{Op: "read", Path: "/dev/ttyUSB0", Err: os.ErrClosed}
}
func (closedPort) Write(b []byte) (int, error) { return len(b), nil }
func (closedPort) Close() error                { return nil }

// A read whose port was closed under it reports the device gone and the
// reader goes on with the reopened port: it used to return os.ErrClosed
// wrapped, which Chunks takes for the Reconnecting port's own Close, so the
// pump stopped and nothing was read again — the printer's replies filled
// the line until both sides blocked writing (TestPrinterReconnects hung in
// make test).
func TestAReadClosedUnderItsPortGoesOnWithTheReopenedPort(t *testing.T) {
	master, path := mustPty(t)
	opens := 0
	r := &Reconnecting{cfg: PrinterConfig(path).normalized(), open: func(c Config) (Port, error) {
		if opens++; opens == 1 {
			return closedPort{}, nil
		}
		return Open(c)
	}}
	t.Cleanup(func() { r.Close() })
	c := NewChunks(r)
	t.Cleanup(c.Close)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := master.Write([]byte("ok")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		b, err := c.Next(ctx)
		cancel()
		if len(b) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing read from the reopened port: %v", err)
		}
	}
}

// An unplugged device hangs its terminal up, and that ends a read pending
// on it at once, however long the read timeout: the kiosk waits a second
// per idle read (kiosk/app's idleRead) and still notices a departure the
// moment it happens, not when the read's timeout runs out (25 s here: a
// read that returned sooner was ended by the hangup).
func TestAHangupEndsAPendingReadAtOnce(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	path := tty.Name()
	tty.Close()
	const timeout = 25 * time.Second
	r := OpenReconnecting(Config{Path: path, Baud: 115200, ReadTimeout: timeout})
	t.Cleanup(func() { r.Close() })
	if got := r.Config().ReadTimeout; got != timeout {
		t.Fatalf("Config().ReadTimeout = %v, want %v", got, timeout)
	}
	if _, err := master.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	if n, err := r.Read(b); err != nil || string(b[:n]) != "ok" {
		t.Fatalf("read %q, %v; want ok", b[:n], err)
	}
	type result struct {
		err     error
		elapsed time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		_, err := r.Read(b)
		done <- result{err, time.Since(start)}
	}()
	for !pendingInPoller("TestAHangupEndsAPendingReadAtOnce.func") {
		runtime.Gosched()
	}
	master.Close() // the cable is pulled
	got := <-done
	if !errors.Is(got.err, ErrDeviceGone) {
		t.Fatalf("the read pending at the hangup returned %v, want ErrDeviceGone", got.err)
	}
	if got.elapsed >= timeout {
		t.Errorf("the read pending at the hangup returned when its timeout ran out (%v), not at the hangup", got.elapsed)
	}
}

// pendingInPoller reports whether a goroutine of function fn waits in a
// Read in Go's poller.
func pendingInPoller(fn string) bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, fn) && strings.Contains(g, ").Read(") && strings.Contains(g, " [IO wait") {
			return true
		}
	}
	return false
}
