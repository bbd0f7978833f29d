// Package scanner reads codes from a QR / barcode scanner on a serial link:
// each code is a line ended by a configurable suffix (CR or CR LF), bounded by
// a maximum length and an inter-character timeout.
package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"hallq/devices/serialport"
)

// Config tunes a Scanner. Zero values take the defaults.
type Config struct {
	// Suffix ends a code (default "\r"). Any byte of the suffix ends a line,
	// CR and LF are interchangeable, and empty lines are skipped, so a
	// CR/CRLF mismatch between scanner and configuration is harmless.
	Suffix string
	// MaxLen is the longest code accepted (default 1024 bytes).
	MaxLen int
	// Baud is the line rate the port is set to (default 9600); the default
	// inter-character timeout is derived from it.
	Baud int
	// InterCharTimeout: a partial code silent for this long is dropped
	// (default: 32 character times at Baud plus 150 ms for the serial read
	// granularity and USB latency — 183 ms at 9600).
	InterCharTimeout time.Duration
}

// Errors Scan reports; the scanner keeps working after each.
var (
	ErrTooLong    = errors.New("scanner: code longer than the maximum")
	ErrIncomplete = errors.New("scanner: partial code without suffix")
)

// Scanner yields scanned codes. Scan must be called from one goroutine at a
// time.
type Scanner struct {
	cfg     Config
	in      *serialport.Chunks
	pending []byte // bytes after the last returned code
	line    []byte
	tooLong bool
}

// NewScanner starts reading r (a serial port with a read timeout, or any
// stream).
func NewScanner(r io.Reader, c Config) *Scanner {
	if c.Suffix == "" {
		c.Suffix = "\r"
	}
	if strings.ContainsAny(c.Suffix, "\r\n") {
		c.Suffix += "\r\n"
	}
	if c.MaxLen <= 0 {
		c.MaxLen = 1024
	}
	if c.Baud <= 0 {
		c.Baud = 9600
	}
	if c.InterCharTimeout <= 0 {
		c.InterCharTimeout = 32*10*time.Second/time.Duration(c.Baud) + 150*time.Millisecond
	}
	return &Scanner{cfg: c, in: serialport.NewChunks(r)}
}

// Close stops the reading goroutine (it does not close the port).
func (s *Scanner) Close() error {
	s.in.Close()
	return nil
}

// Scan returns the next code. It returns ErrTooLong or ErrIncomplete for a
// code it had to drop, an error wrapping serialport.ErrDeviceGone when the
// device fails, and ctx's error when ctx ends first.
func (s *Scanner) Scan(ctx context.Context) (string, error) {
	for {
		if code, ok, err := s.take(); ok {
			return code, err
		}
		wait, cancel := ctx, context.CancelFunc(func() {})
		if len(s.line) > 0 || s.tooLong {
			wait, cancel = context.WithTimeout(ctx, s.cfg.InterCharTimeout)
		}
		b, err := s.in.Next(wait)
		cancel()
		switch {
		case err == nil:
			s.pending = append(s.pending, b...)
		case ctx.Err() != nil:
			return "", ctx.Err()
		case errors.Is(err, serialport.ErrTimeout):
			n, long := len(s.line), s.tooLong
			s.line, s.tooLong = s.line[:0], false
			if long {
				return "", ErrTooLong
			}
			return "", fmt.Errorf("%w: %d bytes dropped after %v of silence", ErrIncomplete, n, s.cfg.InterCharTimeout)
		default:
			// a device that failed mid-code does not finish it later: the
			// part already read is not the start of the next code
			s.line, s.tooLong, s.pending = s.line[:0], false, nil
			return "", err
		}
	}
}

// take consumes pending bytes up to the end of a code.
func (s *Scanner) take() (code string, ok bool, err error) {
	for len(s.pending) > 0 {
		c := s.pending[0]
		s.pending = s.pending[1:]
		if strings.IndexByte(s.cfg.Suffix, c) < 0 {
			if len(s.line) < s.cfg.MaxLen {
				s.line = append(s.line, c)
			} else {
				s.tooLong = true
			}
			continue
		}
		line, long := s.line, s.tooLong
		s.line, s.tooLong = nil, false
		if long {
			return "", true, fmt.Errorf("%w (%d bytes)", ErrTooLong, s.cfg.MaxLen)
		}
		if len(line) == 0 {
			continue
		}
		if !utf8.Valid(line) {
			return strings.ToValidUTF8(string(line), "\uFFFD"), true, nil
		}
		return string(line), true, nil
	}
	return "", false, nil
}
