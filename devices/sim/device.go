// Package sim simulates the kiosk's serial devices on pseudo-terminals, speaking
// the same bytes as the real hardware: an ID-card reader (SAM protocol), an
// ESC/POS ticket printer and a code scanner. Drivers open Path() through the
// real serial library, so tests, CI and the hall demo need no hardware.
//
// A pseudo-terminal moves bytes instantly; a simulator given a baud rate
// paces them itself in both directions (about baud/10 bytes a second, 8N1),
// and adds the device's own time (the reader reading a card, the printer
// printing its buffer), so drivers meet the timing of real lines. Without a
// baud rate bytes cross at once, for tests of logic alone.
//
// Each simulator runs one goroutine that owns its terminal and its state;
// methods send it operations. A simulator can be unplugged and plugged back
// (a new terminal behind the same Path when a link path is set) to exercise
// the drivers' reconnection.
package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ErrClosed is returned by operations on a closed simulator.
var ErrClosed = errors.New("sim: simulator closed")

// device owns one pseudo-terminal and runs the simulator's loop. Everything
// but ops, done and path is touched only by the loop goroutine.
type device struct {
	name   string
	link   string // optional stable symlink to the terminal
	ops    chan func()
	done   chan struct{}
	closed chan struct{}
	path   atomic.Value // string: the current terminal or link path
	stop   sync.Once    // closes done

	master, slave *os.File
	in            chan []byte   // chunks read from master
	inDone        chan struct{} // closed when the current master's reader ends
	onData        func([]byte)
	onUnplug      func() // optional: the device forgets what it was doing
	baud          int    // > 0: pace both directions as if at this baud rate (8N1)

	// The wire at baud > 0: bytes in each direction wait in a queue and
	// cross one character time apart (10 bits per byte for 8N1).
	rx, tx      wire
	afterTx     []func() // run once everything queued so far has been sent
	bytesIn     int      // bytes the device received (after pacing)
	bytesOut    int      // bytes the device sent
	vanishAfter int      // > 0: unplug after sending this many more bytes
}

// wire is one direction of a paced serial line: queued bytes and the time the
// last byte taken from the queue finished crossing.
type wire struct {
	q     []byte
	clock time.Time
}

// charTime is how long one byte takes on an 8N1 line at baud.
func charTime(baud int) time.Duration { return 10 * time.Second / time.Duration(baud) }

// WireTime is how long n bytes take on an 8N1 line at baud (0 for baud ≤ 0).
func WireTime(n, baud int) time.Duration {
	if baud <= 0 {
		return 0
	}
	return time.Duration(n) * charTime(baud)
}

// minTick keeps a paced line from waking the loop more than every 2 ms: bytes
// cross in small bursts that add up to the exact line rate.
const minTick = 2 * time.Millisecond

func (w *wire) push(b []byte, now time.Time) {
	if len(w.q) == 0 && w.clock.Before(now) {
		w.clock = now
	}
	w.q = append(w.q, b...)
}

// take returns the bytes that have fully crossed by now.
func (w *wire) take(now time.Time, baud int) []byte {
	if len(w.q) == 0 {
		return nil
	}
	ct := charTime(baud)
	n := min(int(now.Sub(w.clock)/ct), len(w.q))
	if n <= 0 {
		return nil
	}
	w.clock = w.clock.Add(time.Duration(n) * ct)
	out := append([]byte(nil), w.q[:n]...)
	w.q = w.q[n:]
	if len(w.q) == 0 {
		w.q = nil
	}
	return out
}

// due is when take will next return something (ok false: nothing queued).
func (w *wire) due(baud int) (time.Time, bool) {
	if len(w.q) == 0 {
		return time.Time{}, false
	}
	ct := charTime(baud)
	n := max(min(len(w.q), int(minTick/ct)), 1)
	return w.clock.Add(time.Duration(n) * ct), true
}

func newDevice(name, link string, baud int, onData func([]byte)) (*device, error) {
	d := &device{name: name, link: link, ops: make(chan func()), done: make(chan struct{}),
		closed: make(chan struct{}), onData: onData, baud: max(baud, 0)}
	if err := d.plug(); err != nil {
		return nil, err
	}
	go d.loop()
	return d, nil
}

// plug opens a new terminal pair in raw mode (loop goroutine or before it).
func (d *device) plug() error {
	m, s, err := pty.Open()
	if err != nil {
		return fmt.Errorf("sim: %s: open pty: %w", d.name, err)
	}
	if m, err = pollable(m); err != nil {
		s.Close()
		return fmt.Errorf("sim: %s: pty master: %w", d.name, err)
	}
	if err := makeRaw(s); err != nil {
		m.Close()
		s.Close()
		return fmt.Errorf("sim: %s: raw mode: %w", d.name, err)
	}
	d.master, d.slave = m, s
	d.in, d.inDone = make(chan []byte, 64), make(chan struct{})
	go readAll(m, d.in, d.inDone)
	p := s.Name()
	if d.link != "" {
		if err := os.MkdirAll(filepath.Dir(d.link), 0o755); err != nil {
			return fmt.Errorf("sim: %s: link: %w", d.name, err)
		}
		tmp := d.link + ".new"
		os.Remove(tmp)
		if err := os.Symlink(p, tmp); err != nil {
			return fmt.Errorf("sim: %s: link: %w", d.name, err)
		}
		if err := os.Rename(tmp, d.link); err != nil {
			return fmt.Errorf("sim: %s: link: %w", d.name, err)
		}
		p = d.link
	}
	d.path.Store(p)
	return nil
}

func (d *device) unplug() {
	if d.master == nil {
		return
	}
	if d.link != "" {
		os.Remove(d.link)
	}
	d.master.Close()
	d.slave.Close()
	d.rx.q, d.tx.q, d.afterTx = nil, nil, nil // what was on the cable is lost
	if d.onUnplug != nil {
		d.onUnplug()
	}
	for waiting := true; waiting; {
		select {
		case <-d.in: // unblock the reader
		case <-d.inDone:
			waiting = false
		}
	}
	d.master, d.slave, d.in = nil, nil, nil
}

// pollable returns f as a non-blocking file registered with Go's poller,
// so that Close interrupts a Read blocked on it. A blocking pty master's
// read would never return once the driver side goes quiet, and unplugging
// or closing the simulator would hang.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	name := f.Name()
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

func makeRaw(f *os.File) error {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}

func readAll(f *os.File, out chan<- []byte, done chan<- struct{}) {
	defer close(done)
	b := make([]byte, 4096)
	for {
		n, err := f.Read(b)
		if n > 0 {
			out <- append([]byte(nil), b[:n]...)
		}
		if err != nil {
			return
		}
	}
}

func (d *device) loop() {
	defer close(d.closed)
	defer d.unplug()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wake <-chan time.Time
		if at, ok := d.nextDue(); ok {
			timer.Reset(time.Until(at))
			wake = timer.C
		}
		select {
		case b := <-d.in:
			d.arrive(b)
		case op := <-d.ops:
			op()
		case <-wake:
		case <-d.done:
			return
		}
		d.cross()
	}
}

// nextDue is the earliest time a paced byte finishes crossing either way.
func (d *device) nextDue() (time.Time, bool) {
	if d.baud <= 0 {
		return time.Time{}, false
	}
	rx, okRx := d.rx.due(d.baud)
	tx, okTx := d.tx.due(d.baud)
	switch {
	case okRx && okTx:
		if tx.Before(rx) {
			return tx, true
		}
		return rx, true
	case okRx:
		return rx, true
	}
	return tx, okTx
}

// arrive takes bytes the driver wrote: at once, or onto the paced wire.
func (d *device) arrive(b []byte) {
	if d.baud <= 0 {
		d.bytesIn += len(b)
		d.onData(b)
		return
	}
	d.rx.push(b, time.Now())
}

// cross moves the bytes whose time has come across the wire both ways.
func (d *device) cross() {
	if d.baud <= 0 {
		return
	}
	now := time.Now()
	if b := d.tx.take(now, d.baud); len(b) > 0 && d.master != nil {
		d.bytesOut += len(b)
		d.master.Write(b)
	}
	if len(d.tx.q) == 0 && len(d.afterTx) > 0 {
		fs := d.afterTx
		d.afterTx = nil
		for _, f := range fs {
			f()
		}
	}
	if b := d.rx.take(now, d.baud); len(b) > 0 {
		d.bytesIn += len(b)
		d.onData(b)
	}
}

// whenSent runs f on the loop once every byte written so far has crossed
// the wire (at once when the line is not paced).
func (d *device) whenSent(f func()) {
	if d.baud <= 0 || len(d.tx.q) == 0 {
		f()
		return
	}
	d.afterTx = append(d.afterTx, f)
}

// after runs f on the loop goroutine once dur has passed (the device's own
// time: reading a card, printing). f is dropped if the simulator closes.
func (d *device) after(dur time.Duration, f func()) {
	time.AfterFunc(dur, func() {
		select {
		case d.ops <- f:
		case <-d.closed:
		}
	})
}

// do runs op on the loop goroutine and waits for it.
func (d *device) do(op func()) error {
	finished := make(chan struct{})
	select {
	case d.ops <- func() { op(); close(finished) }:
		<-finished
		return nil
	case <-d.closed:
		return ErrClosed
	}
}

// write sends bytes to the driver, paced at the simulated baud rate (loop
// goroutine only). Writes to an unplugged device are lost, as on a cable.
func (d *device) write(b []byte) {
	if d.master == nil {
		return
	}
	vanish := false
	if d.vanishAfter > 0 {
		if len(b) >= d.vanishAfter {
			b, vanish, d.vanishAfter = b[:d.vanishAfter], true, 0
		} else {
			d.vanishAfter -= len(b)
		}
	}
	if d.baud <= 0 {
		d.bytesOut += len(b)
		d.master.Write(b)
	} else {
		d.tx.push(b, time.Now())
	}
	if vanish {
		d.whenSent(d.unplug)
	}
}

// Path is the terminal (or link) a driver opens.
func (d *device) Path() string { return d.path.Load().(string) }

// Unplug closes the terminal as if the USB cable were pulled.
func (d *device) Unplug() error { return d.do(d.unplug) }

// Plug opens a new terminal (behind the same link path, if one was set).
func (d *device) Plug() error {
	var err error
	if e := d.do(func() {
		if d.master == nil {
			err = d.plug()
		}
	}); e != nil {
		return e
	}
	return err
}

// SetBaud paces the bytes in both directions as if the link ran at baud bits
// per second, 8N1: about baud/10 bytes a second (0: as fast as the terminal
// goes, which no real link does). Bytes already queued cross at the new rate.
func (d *device) SetBaud(baud int) error {
	return d.do(func() {
		if baud <= 0 { // deliver what waits on the wire at once
			if d.master != nil && len(d.tx.q) > 0 {
				d.master.Write(d.tx.q)
			}
			d.bytesOut += len(d.tx.q)
			rx := d.rx.q
			d.rx.q, d.tx.q = nil, nil
			d.baud = 0
			if len(rx) > 0 {
				d.bytesIn += len(rx)
				d.onData(rx)
			}
			for _, f := range d.afterTx {
				f()
			}
			d.afterTx = nil
			return
		}
		d.baud = baud
	})
}

// Baud returns the simulated line rate (0: unpaced).
func (d *device) Baud() int {
	var b int
	d.do(func() { b = d.baud })
	return b
}

// Traffic returns how many bytes the device has received and sent.
func (d *device) Traffic() (in, out int) {
	d.do(func() { in, out = d.bytesIn, d.bytesOut })
	return in, out
}

// Vanish unplugs the device after it has sent the first n bytes of whatever
// it sends next (n = 0: at once), as if the cable were pulled mid-frame.
func (d *device) Vanish(n int) error {
	return d.do(func() {
		if n <= 0 {
			d.unplug()
			return
		}
		d.vanishAfter = n
	})
}

// Close stops the simulator and closes its terminal. It may be called
// more than once, from several goroutines.
func (d *device) Close() error {
	d.stop.Do(func() { close(d.done) })
	<-d.closed
	return nil
}
