// Package serialport is the one home of the serial library (github.com/tarm/serial).
//
// It opens a port from a Config that always carries a read timeout, offers a
// Reconnecting port that reopens the device path with back-off when the device
// vanishes (a USB reader unplugged), and a Chunks reader that turns any port into
// a stream of byte chunks consumed with overall deadlines (context), so no driver
// ever blocks forever on a silent or vanished device.
//
// On Linux a tarm/serial read timeout returns (0, io.EOF), exactly like a
// vanished device. This package tells them apart by reopen attempts and by
// whether the path still exists; drivers decide "no reply" by their deadline.
// On Linux reads wait in Go's poller (a read deadline for the timeout), not
// in a blocking system call per read (poll_linux.go).
package serialport

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tarm/serial"
)

// Parity is the parity bit setting: 'N', 'O' or 'E'.
type Parity byte

// Parity settings.
const (
	ParityNone Parity = 'N'
	ParityOdd  Parity = 'O'
	ParityEven Parity = 'E'
)

// Config is how a kiosk's configuration names one serial device.
type Config struct {
	Path        string        // e.g. /dev/ttyUSB0 or /dev/serial/by-id/...
	Baud        int           // bits per second
	Parity      Parity        // zero value means ParityNone
	ReadTimeout time.Duration // per read; 100 ms granularity, clamped to [100 ms, 25.5 s]
}

// DefaultReadTimeout is used when Config.ReadTimeout is zero.
const DefaultReadTimeout = 100 * time.Millisecond

// IDCardConfig returns the ID-card reader defaults: 115200 8N1.
func IDCardConfig(path string) Config {
	return Config{Path: path, Baud: 115200, Parity: ParityNone, ReadTimeout: DefaultReadTimeout}
}

// PrinterConfig returns the ticket printer defaults: 115200 8N1 (many
// printers ship at 9600; set Baud from the printer's self-test page).
func PrinterConfig(path string) Config {
	return Config{Path: path, Baud: 115200, Parity: ParityNone, ReadTimeout: DefaultReadTimeout}
}

// ScannerConfig returns the code scanner defaults: 9600 8N1.
func ScannerConfig(path string) Config {
	return Config{Path: path, Baud: 9600, Parity: ParityNone, ReadTimeout: DefaultReadTimeout}
}

func (c Config) normalized() Config {
	if c.Parity == 0 {
		c.Parity = ParityNone
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	c.ReadTimeout = min(max(c.ReadTimeout, 100*time.Millisecond), 25500*time.Millisecond)
	return c
}

// Port is an open serial port. Read returns within the configured read
// timeout; (0, io.EOF) means "nothing yet or gone".
type Port interface {
	io.ReadWriteCloser
}

// ErrDeviceGone reports that the device vanished (or cannot be opened).
var ErrDeviceGone = errors.New("serial device gone")

// Open opens the port described by c.
func Open(c Config) (Port, error) {
	c = c.normalized()
	if c.Baud <= 0 {
		return nil, fmt.Errorf("serialport: open %s: invalid baud rate %d", c.Path, c.Baud)
	}
	switch c.Parity {
	case ParityNone, ParityOdd, ParityEven:
	default:
		return nil, fmt.Errorf("serialport: open %s: invalid parity %q", c.Path, rune(c.Parity))
	}
	p, err := serial.OpenPort(&serial.Config{
		Name:        c.Path,
		Baud:        c.Baud,
		Parity:      serial.Parity(c.Parity),
		ReadTimeout: c.ReadTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("serialport: open %s: %w: %w", c.Path, ErrDeviceGone, err)
	}
	return pollable(p, c)
}
