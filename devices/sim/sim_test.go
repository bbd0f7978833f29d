package sim_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
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

	p := escpos.NewPrinter(MustOpen(t, serialport.PrinterConfig(d.Printer.Path())), escpos.Generic80, escpos.Options{ReplyTime: 5 * time.Second}) // the simulator's speed on a loaded machine is not under test
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

	p := escpos.NewPrinter(MustOpen(t, serialport.PrinterConfig(d.Printer.Path())), escpos.Generic80, escpos.Options{ReplyTime: 5 * time.Second}) // the simulator's speed on a loaded machine is not under test
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

// Printed tickets are drawn with Chinese in the kiosk's CJK font, not tofu
// boxes: each Chinese character puts ink inside its 24×24 cell in a pattern
// of its own (a box would be the same outline for every character).
func TestRenderPNGDrawsChinese(t *testing.T) {
	pages, _ := sim.DecodeAll(escpos.Encode(escpos.Ticket{ServiceZH: "户政出入境", Number: "A1"}, escpos.Generic80))
	var b bytes.Buffer
	if err := sim.RenderPNG(&b, pages[0], 576); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	// the service line is the first: 1×2 magnified, centred
	var line sim.Line
	for _, l := range pages[0].Lines {
		if l.Text == "户政出入境" {
			line = l
		}
	}
	if line.Text == "" {
		t.Fatalf("no service line in %q", pages[0].Text())
	}
	w := 5 * 24 * line.Width
	x0 := (576 - w) / 2
	cells := map[string]bool{}
	for c := 0; c < 5; c++ {
		var sig strings.Builder
		ink := 0
		for y := 4; y < 4+26*line.Height; y += 2 {
			for x := x0 + c*24*line.Width; x < x0+(c+1)*24*line.Width; x += 2 {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
					sig.WriteByte('#')
					ink++
				} else {
					sig.WriteByte('.')
				}
			}
		}
		if ink < 10 {
			t.Fatalf("character %d has almost no ink (%d dots)", c, ink)
		}
		cells[sig.String()] = true
	}
	if len(cells) != 5 {
		t.Fatalf("%d distinct glyphs for 5 different characters: tofu", len(cells))
	}
}

// The console spoils and swaps cards and injects reader and printer faults;
// each command is checked on the drivers, as the kiosk would see it.
func TestConsoleFaultsAndSwap(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := sim.Start(ctx, sim.Config{}.WithLinks(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	in, inW := io.Pipe()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- sim.Console(ctx, d, in, &out, "", 576) }()
	say := func(cmd, want string) {
		t.Helper()
		io.WriteString(inW, cmd+"\n")
		waitFor(t, &out, want)
	}

	rport := serialport.OpenReconnecting(serialport.IDCardConfig(d.IDCard.Path()))
	t.Cleanup(func() { rport.Close() })
	r := idcard.NewReader(rport, idcard.Options{ReplyTime: time.Second, CardTime: 100 * time.Millisecond})
	defer r.Close()
	say("card unreadable", "unreadable card placed")
	if _, err := r.ReadCard(ctx); idcard.Code(err) != "read_failed" {
		t.Fatalf("unreadable card: %v", err)
	}
	say("reader fault silence", "reader: next 1 replies silence")
	if _, err := r.ReadCard(ctx); idcard.Code(err) != "timeout" {
		t.Fatalf("silent reader: %v", err)
	}
	say("reader fault nonsense", "unknown reader fault")

	// A card on the reader is swapped: the reader's watcher sees the first
	// card go and the second come, without anyone typing remove and waiting.
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	say("remove", "card removed")
	say("card", "card placed: resident")
	events := r.Watch(wctx, 20*time.Millisecond)
	MustCard(t, events, sim.SampleResident.Number)
	say("card elderly", "card swapped")
	MustCard(t, events, sim.SampleElderly.Number)
	wcancel()

	pport := serialport.OpenReconnecting(serialport.PrinterConfig(d.Printer.Path()))
	t.Cleanup(func() { pport.Close() })
	m := escpos.Generic80
	m.PrintTime = 300 * time.Millisecond // the torn job's answer never comes: do not wait long
	p := escpos.NewPrinter(pport, m, escpos.Options{ReplyTime: time.Second})
	defer p.Close()
	say("printer offline", "printer offline")
	if st, err := p.Status(ctx); err != nil || st.Online {
		t.Fatalf("offline: %+v %v", st, err)
	}
	say("printer online", "printer online")
	say("paper low", "paper low")
	if st, _ := p.Status(ctx); !st.PaperLow {
		t.Fatalf("paper low: %+v", st)
	}
	say("paper runout", "paper will run out")
	if err := p.Print(ctx, escpos.Ticket{Number: "A1"}); !errors.Is(err, escpos.ErrPaperOut) {
		t.Fatalf("paper ran out mid-ticket: %v", err)
	}
	waitFor(t, &out, "paper ran out: ticket torn")
	say("paper in", "paper in")
	say("unplug printer", "printer unplugged")
	if _, err := p.Status(ctx); err == nil {
		t.Fatal("status from an unplugged printer")
	}
	say("plug printer", "printer plugged in at "+d.Printer.Path())
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := p.Status(ctx); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("printer not back: %v", err)
		}
	}
	say("unplug modem", "unplug reader|printer|scanner")
	io.WriteString(inW, "quit\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// MustCard waits for the watcher to report a card with number n.
func MustCard(t testing.TB, events <-chan idcard.Event, n idcard.IDNumber) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == idcard.CardPresent && e.Card.Number == n {
				return
			}
		case <-deadline:
			t.Fatalf("card %s never reported", n.Masked())
		}
	}
}
