package sim_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/idcard"
	"hallq/devices/scanner"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// MustStartAll starts the three simulators, stopped at cleanup.
func MustStartAll(t testing.TB) *sim.Devices {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := sim.StartAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); d.Close() })
	return d
}

func MustOpen(t testing.TB, c serialport.Config) serialport.Port {
	t.Helper()
	p, err := serialport.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// A kiosk's round trip: card, scan, ticket, all through the real serial library.
func TestStartAllWithDrivers(t *testing.T) {
	d := MustStartAll(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	r := idcard.NewReader(MustOpen(t, serialport.IDCardConfig(d.IDCard.Path())), idcard.Options{})
	defer r.Close()
	d.IDCard.Place(sim.SampleElderly)
	card, err := r.ReadCard(ctx)
	if err != nil || card.Number != sim.SampleElderly.Number {
		t.Fatalf("card %v, %v", card.Number, err)
	}

	sc := scanner.NewScanner(MustOpen(t, serialport.ScannerConfig(d.Scanner.Path())), scanner.Config{})
	defer sc.Close()
	d.Scanner.Scan("APPT-42")
	if code, err := sc.Scan(ctx); err != nil || code != "APPT-42" {
		t.Fatalf("scan %q, %v", code, err)
	}

	p := escpos.NewPrinter(MustOpen(t, serialport.PrinterConfig(d.Printer.Path())), escpos.Generic80, escpos.Options{})
	defer p.Close()
	err = p.Print(ctx, escpos.Ticket{HallName: "大厅", ServiceZH: "户政", Number: "A001", MaskedID: card.Number.Masked(), StatusURL: "https://h/t/1"})
	if err != nil {
		t.Fatal(err)
	}
	pg := <-d.Printer.Pages()
	if !strings.Contains(pg.Text(), "A001") || !strings.Contains(pg.Text(), card.Number.Masked()) {
		t.Fatalf("page:\n%s", pg.Text())
	}
}

func TestConsole(t *testing.T) {
	d := MustStartAll(t)
	dir := t.TempDir()
	in, inW := io.Pipe()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- sim.Console(context.Background(), d, in, &out, dir, 576) }()

	p := escpos.NewPrinter(MustOpen(t, serialport.PrinterConfig(d.Printer.Path())), escpos.Generic80, escpos.Options{})
	defer p.Close()
	ctx := context.Background()
	io.WriteString(inW, "paper out\n")
	waitFor(t, &out, "paper out")
	if st, _ := p.Status(ctx); !st.PaperOut {
		t.Fatalf("status %+v after 'paper out'", st)
	}
	io.WriteString(inW, "paper in\ncover open\n")
	waitFor(t, &out, "cover open")
	if st, _ := p.Status(ctx); !st.CoverOpen || st.PaperOut {
		t.Fatalf("status %+v", st)
	}
	io.WriteString(inW, "cover closed\ncard expired\nnonsense\n")
	waitFor(t, &out, "unknown command")
	if err := p.Print(ctx, escpos.Ticket{Number: "C009", StatusURL: "https://h/t/9"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, "C009")
	io.WriteString(inW, "quit\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"idcard /dev/pts/", "printer /dev/pts/", "scanner /dev/pts/", "card placed: resident"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ticket-001.png")); err != nil {
		t.Error(err)
	}
}

func waitFor(t testing.TB, b *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", s, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
