package escpos_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

var ticket = escpos.Ticket{
	HallName: "江岸分局政务服务中心", ServiceZH: "户政业务", ServiceEN: "Household registration",
	Number: "A023", Ahead: 5, EstimatedWait: 12 * time.Minute,
	IssuedAt:  time.Date(2025, 6, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600)),
	StatusURL: "https://hall.example/t/7f3a9c", MaskedID: "4201**********1234", Footer: "谢谢 Thank you",
}

// MustPrinterSim starts a printer simulator, stopped at cleanup.
func MustPrinterSim(t testing.TB, opts sim.PrinterOptions) *sim.Printer {
	t.Helper()
	s, err := sim.NewPrinter(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// MustPrinter opens path through the real serial library.
func MustPrinter(t testing.TB, path string, m escpos.Model) *escpos.Printer {
	t.Helper()
	port, err := serialport.Open(serialport.PrinterConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	// the simulator shares a loaded machine: its reply time is not under
	// test here, so a budget no scheduling delay reaches (a job that never
	// confirms still fails, only later)
	p := escpos.NewPrinter(port, m, escpos.Options{ReplyTime: 2 * time.Second})
	t.Cleanup(func() { p.Close() })
	return p
}

// MustPage waits for the simulator's next printed page.
func MustPage(t testing.TB, s *sim.Printer) sim.Page {
	t.Helper()
	select {
	case p := <-s.Pages():
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no page printed")
	}
	return sim.Page{}
}

func TestPrintNativeQR(t *testing.T) {
	s := MustPrinterSim(t, sim.PrinterOptions{})
	p := MustPrinter(t, s.Path(), escpos.Generic80)
	if err := p.Print(context.Background(), ticket); err != nil {
		t.Fatal(err)
	}
	pg := MustPage(t, s)
	text := pg.Text()
	for _, want := range []string{"江岸分局政务服务中心", "户政业务", "Household registration", "\nA023\n",
		"前面还有 5 人 / 5 ahead", "预计等候约 12 分钟", "取号时间 2025-06-01 09:30", "4201**********1234", "谢谢 Thank you", "--- cut ---"} {
		if !strings.Contains(text, want) {
			t.Errorf("ticket lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "OFFLINE") {
		t.Error("online ticket marked offline")
	}
	if !slices.Equal(pg.QRCodes(), []string{ticket.StatusURL}) || !pg.Cut || pg.Unknown != 0 {
		t.Errorf("QR %v cut %v unknown %d", pg.QRCodes(), pg.Cut, pg.Unknown)
	}
	for _, l := range pg.Lines {
		if l.Text == "A023" && (l.Width < 3 || !l.Bold || l.Align != escpos.AlignCenter) {
			t.Errorf("ticket number not big, bold and centred: %+v", l)
		}
	}
}

func TestPrintRasterQR58(t *testing.T) {
	s := MustPrinterSim(t, sim.PrinterOptions{})
	p := MustPrinter(t, s.Path(), escpos.Generic58)
	tk := ticket
	tk.Offline = true
	if err := p.Print(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	pg := MustPage(t, s)
	if !strings.Contains(pg.Text(), "*** 离线取号 OFFLINE TICKET ***") || pg.Cut {
		t.Errorf("page:\n%s", pg.Text())
	}
	want, _ := escpos.QRRaster(tk.StatusURL, escpos.Generic58.QRModule())
	imgs := pg.Images()
	if len(imgs) != 1 || imgs[0].WidthBytes != want.WidthBytes || !bytes.Equal(imgs[0].Bits, want.Bits) {
		t.Fatalf("raster QR differs from the status URL's")
	}
	var buf bytes.Buffer
	if err := sim.RenderPNG(&buf, pg, escpos.Generic58.PaperDots); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil || img.Bounds().Dx() != 384 || img.Bounds().Dy() < 300 {
		t.Fatalf("PNG %v %v", img.Bounds(), err)
	}
}

func TestStatusAndRefusals(t *testing.T) {
	s := MustPrinterSim(t, sim.PrinterOptions{})
	p := MustPrinter(t, s.Path(), escpos.Generic80)
	ctx := context.Background()
	st, err := p.Status(ctx)
	if err != nil || st != (escpos.Status{Online: true}) {
		t.Fatalf("idle status %+v %v", st, err)
	}
	for _, tc := range []struct {
		name  string
		set   func()
		want  error
		code  string
		check func(escpos.Status) bool
	}{
		{"paper out", func() { s.SetPaper(sim.PaperOut) }, escpos.ErrPaperOut, "paper_out", func(s escpos.Status) bool { return s.PaperOut && !s.Online }},
		{"cover open", func() { s.SetCover(true) }, escpos.ErrCoverOpen, "cover_open", func(s escpos.Status) bool { return s.CoverOpen }},
		{"offline", func() { s.SetOffline(true) }, escpos.ErrOffline, "offline", func(s escpos.Status) bool { return !s.Online }},
	} {
		tc.set()
		st, err := p.Status(ctx)
		if err != nil || !tc.check(st) {
			t.Errorf("%s: status %+v %v", tc.name, st, err)
		}
		err = p.Print(ctx, ticket)
		if !errors.Is(err, tc.want) || escpos.Code(err) != tc.code {
			t.Errorf("%s: Print = %v (code %s)", tc.name, err, escpos.Code(err))
		}
		s.SetPaper(sim.PaperOK)
		s.SetCover(false)
		s.SetOffline(false)
	}
	if len(s.Printed()) != 0 {
		t.Error("a refused job printed")
	}
	s.SetPaper(sim.PaperLow)
	if st, _ := p.Status(ctx); !st.PaperLow || st.PaperOut {
		t.Errorf("paper low status %+v", st)
	}
	if err := p.Print(ctx, ticket); err != nil {
		t.Errorf("paper low refused: %v", err)
	}
}

func TestPrintFailsMidJob(t *testing.T) {
	s := MustPrinterSim(t, sim.PrinterOptions{})
	m := escpos.Generic80
	m.PrintTime = 300 * time.Millisecond // the answer never comes: do not wait long for it
	p := MustPrinter(t, s.Path(), m)
	s.FailNextJob()
	err := p.Print(context.Background(), ticket)
	if !errors.Is(err, escpos.ErrPrintFailed) || !errors.Is(err, escpos.ErrPaperOut) || escpos.Code(err) != "print_failed" {
		t.Fatalf("Print = %v", err)
	}
	if len(s.Printed()) != 0 {
		t.Fatal("lost page reported printed")
	}
}

func TestSilentPrinterTimesOut(t *testing.T) {
	s := MustPrinterSim(t, sim.PrinterOptions{})
	path := s.Path()
	port, err := serialport.Open(serialport.PrinterConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	s.Close() // the printer vanishes with the port still open
	p := escpos.NewPrinter(port, escpos.Generic80, escpos.Options{ReplyTime: 200 * time.Millisecond})
	defer p.Close()
	err = p.Print(context.Background(), ticket)
	if c := escpos.Code(err); c != "timeout" && c != "device_gone" {
		t.Fatalf("Print to a vanished printer = %v", err)
	}
}

func TestPrinterReconnects(t *testing.T) {
	link := filepath.Join(t.TempDir(), "printer")
	s := MustPrinterSim(t, sim.PrinterOptions{Link: link})
	port := serialport.OpenReconnecting(serialport.PrinterConfig(link))
	t.Cleanup(func() { port.Close() })
	p := escpos.NewPrinter(port, escpos.Generic80, escpos.Options{ReplyTime: 5 * time.Second}) // an unplugged printer fails at once (device_gone); the budget is for a loaded machine
	t.Cleanup(func() { p.Close() })
	ctx := context.Background()
	if _, err := p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	s.Unplug()
	if _, err := p.Status(ctx); err == nil {
		t.Fatal("status from an unplugged printer")
	}
	s.Plug()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := p.Status(ctx); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no recovery: %v", err)
		}
	}
	if err := p.Print(ctx, ticket); err != nil {
		t.Fatal(err)
	}
	MustPage(t, s)
}

// A process-ID answer that comes late — the confirmation of a job sent by
// a kiosk process that has since restarted — crosses the new process's
// status requests. Its digits '2' and '6' are well-formed status bytes
// ('2' as the answer to DLE EOT 2 reads as paper out): they are skipped, so
// the kiosk does not refuse the next citizen's ticket for a printer that
// has paper.
func TestALateConfirmationIsNotTakenForTheStatus(t *testing.T) {
	s := MustPrinterSim(t, sim.PrinterOptions{})
	p := MustPrinter(t, s.Path(), escpos.Epson80)
	ctx := context.Background()
	for _, tc := range []struct {
		n    byte
		late string
	}{{1, "0262"}, {2, "0002"}, {4, "0026"}} {
		if err := s.LateBeforeStatus(tc.n, append(append([]byte{0x37, 0x22}, tc.late...), 0x00)); err != nil {
			t.Fatal(err)
		}
		if st, err := p.Status(ctx); err != nil || st != (escpos.Status{Online: true}) {
			t.Fatalf("job %s confirmed late, before the answer to DLE EOT %d: status %+v, %v; want online with paper", tc.late, tc.n, st, err)
		}
	}
	if err := s.LateBeforeStatus(2, []byte{0x37, 0x22, '0', '0', '0', '2', 0x00}); err != nil {
		t.Fatal(err)
	}
	if err := p.Print(ctx, ticket); err != nil {
		t.Fatalf("a job after a late confirmation: %v", err)
	}
	if pg := MustPage(t, s); !strings.Contains(pg.Text(), "A023") {
		t.Fatalf("printed %q", pg.Text())
	}
}
