// Package sim simulates the kiosk's serial devices on pseudo-terminals, speaking
// the same bytes as the real hardware: an ID-card reader (SAM protocol), an
// ESC/POS ticket printer and a code scanner. Drivers open Path() through the
// real serial library, so tests, CI and the hall demo need no hardware.
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
	baud          int // > 0: pace writes as if at this baud rate
}

func newDevice(name, link string, onData func([]byte)) (*device, error) {
	d := &device{name: name, link: link, ops: make(chan func()), done: make(chan struct{}),
		closed: make(chan struct{}), onData: onData}
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
	for {
		select {
		case b := <-d.in:
			d.onData(b)
		case op := <-d.ops:
			op()
		case <-d.done:
			return
		}
	}
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
	if d.baud <= 0 {
		d.master.Write(b)
		return
	}
	const step = 64
	for len(b) > 0 {
		n := min(step, len(b))
		d.master.Write(b[:n])
		time.Sleep(time.Duration(n) * 10 * time.Second / time.Duration(d.baud))
		b = b[n:]
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

// SetBaud paces replies as if the link ran at baud bits per second (0: as
// fast as the terminal goes).
func (d *device) SetBaud(baud int) error { return d.do(func() { d.baud = baud }) }

// Close stops the simulator and closes its terminal. It may be called
// more than once, from several goroutines.
func (d *device) Close() error {
	d.stop.Do(func() { close(d.done) })
	<-d.closed
	return nil
}
