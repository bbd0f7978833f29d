package scanner_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hallq/devices/scanner"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// MustScanner starts a scanner simulator and a driver on its terminal.
func MustScanner(t testing.TB, simOpts sim.ScannerOptions, cfg scanner.Config) (*sim.Scanner, *scanner.Scanner) {
	t.Helper()
	s, err := sim.NewScanner(simOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	port, err := serialport.Open(serialport.ScannerConfig(s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	sc := scanner.NewScanner(port, cfg)
	t.Cleanup(func() { sc.Close() })
	return s, sc
}

func MustScan(t testing.TB, sc *scanner.Scanner) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := sc.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestScanCodes(t *testing.T) {
	s, sc := MustScanner(t, sim.ScannerOptions{Suffix: "\r\n"}, scanner.Config{Suffix: "\r"})
	for _, code := range []string{"https://hall.example/appt/8842", "A023", "预约码-77"} {
		if err := s.Scan(code); err != nil {
			t.Fatal(err)
		}
		if got := MustScan(t, sc); got != code {
			t.Errorf("got %q, want %q", got, code)
		}
	}
}

func TestScanFaults(t *testing.T) {
	s, sc := MustScanner(t, sim.ScannerOptions{}, scanner.Config{MaxLen: 16, InterCharTimeout: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Scan(strings.Repeat("x", 40))
	if _, err := sc.Scan(ctx); !errors.Is(err, scanner.ErrTooLong) {
		t.Fatalf("long code: %v", err)
	}
	s.Raw([]byte("half"))
	if _, err := sc.Scan(ctx); !errors.Is(err, scanner.ErrIncomplete) {
		t.Fatalf("partial code: %v", err)
	}
	s.Scan("B007")
	if got := MustScan(t, sc); got != "B007" {
		t.Fatalf("after faults: %q", got)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel2()
	if _, err := sc.Scan(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("idle scanner: %v", err)
	}
}

// Scanner lines at 9600 baud: a long booking URL takes tens of milliseconds
// to arrive, byte by byte; the default inter-character timeout (derived from
// the baud) keeps the line whole, and codes scanned back to back stay apart.
func TestScanAt9600(t *testing.T) {
	s, sc := MustScanner(t, sim.ScannerOptions{Baud: 9600}, scanner.Config{Baud: 9600})
	codes := []string{"https://hall.example/appt/8842?sig=4f1c9a0e7b2d", "A023", "预约码-77"}
	start := time.Now()
	for _, code := range codes {
		if err := s.Scan(code); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, code := range codes {
		if got := MustScan(t, sc); got != code {
			t.Errorf("got %q, want %q", got, code)
		}
		n += len(code) + 1
	}
	if took, wire := time.Since(start), sim.WireTime(n, 9600); took < wire {
		t.Fatalf("%d bytes in %v, less than %v on the wire: not paced", n, took, wire)
	}
}

// The scanner vanishes halfway through a code at 9600 baud: the half code is
// never returned as a code; the driver reports the device gone (or the
// partial code dropped), and scanning works again once it is plugged back.
func TestScannerVanishesMidLine(t *testing.T) {
	link := t.TempDir() + "/scanner"
	s, err := sim.NewScanner(sim.ScannerOptions{Baud: 9600, Link: link})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	port := serialport.OpenReconnecting(serialport.Config{Path: link, Baud: 9600})
	t.Cleanup(func() { port.Close() })
	sc := scanner.NewScanner(port, scanner.Config{Baud: 9600})
	t.Cleanup(func() { sc.Close() })
	if err := s.Vanish(10); err != nil {
		t.Fatal(err)
	}
	s.Scan("https://hall.example/appt/8842")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := sc.Scan(ctx)
	if err == nil {
		t.Fatalf("half a code returned as %q", code)
	}
	if !errors.Is(err, serialport.ErrDeviceGone) && !errors.Is(err, scanner.ErrIncomplete) {
		t.Fatalf("err = %v", err)
	}
	if err := s.Plug(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.Scan("A023")
		sctx, scancel := context.WithTimeout(context.Background(), time.Second)
		code, err := sc.Scan(sctx)
		scancel()
		if err == nil {
			if code != "A023" {
				t.Fatalf("after plug: %q", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %v", err)
		}
	}
}
