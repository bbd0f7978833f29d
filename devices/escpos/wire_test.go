package escpos_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// MustPrinterAt opens path at baud and starts a driver that knows the rate.
func MustPrinterAt(t testing.TB, path string, baud int, m escpos.Model) *escpos.Printer {
	t.Helper()
	port, err := serialport.Open(serialport.Config{Path: path, Baud: baud})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	// The simulator shares a loaded CPU with the whole test suite: give its
	// answers a second, not a real printer's 300 ms. The waits under test —
	// the job's wire and print time — are derived from the baud regardless.
	p := escpos.NewPrinter(port, m, escpos.Options{Baud: baud, ReplyTime: time.Second})
	t.Cleanup(func() { p.Close() })
	return p
}

// rasterTicket is a ticket whose raster QR makes the job a few kilobytes.
var rasterTicket = escpos.Ticket{HallName: "江岸分局政务服务中心", ServiceZH: "户政业务", Number: "A001",
	StatusURL: "https://hall.example:8443/t/7f3a9c0b1d2e4f56", MaskedID: "4201**********1234"}

// A raster ticket takes seconds on a slow line; the driver waits for the
// printer's in-band answer instead of a fixed second, so the ticket that is
// printed is reported printed.
func TestRasterTicketsAtRealLineRates(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	for _, tc := range []struct {
		name  string
		model escpos.Model
		baud  int
		least int // bytes the job must have to be a realistic test
	}{
		{"58mm at 9600", escpos.Generic58, 9600, 2000},
		{"80mm at 38400", escpos.Raster80, 38400, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job := escpos.Encode(rasterTicket, tc.model)
			if len(job) < tc.least {
				t.Fatalf("job is %d bytes, want at least %d", len(job), tc.least)
			}
			s := MustPrinterSim(t, sim.PrinterOptions{Baud: tc.baud, PrintRate: 4000})
			p := MustPrinterAt(t, s.Path(), tc.baud, tc.model)
			start := time.Now()
			if err := p.Print(context.Background(), rasterTicket); err != nil {
				t.Fatalf("%d-byte job: %v", len(job), err)
			}
			if took, wire := time.Since(start), sim.WireTime(len(job), tc.baud); took < wire {
				t.Fatalf("printed in %v, less than its %v on the wire: the line is not paced", took, wire)
			}
			pg := MustPage(t, s)
			if len(pg.Images()) != 1 || pg.Unknown != 0 {
				t.Fatalf("page: %d images, %d unknown bytes\n%s", len(pg.Images()), pg.Unknown, pg.Text())
			}
		})
	}
}

// A real printer answers DLE EOT the moment it arrives, while the job before
// it still waits in its buffer: a good real-time status right after a job
// says nothing about the job.
func TestRealTimeStatusOvertakesTheBuffer(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	s := MustPrinterSim(t, sim.PrinterOptions{Baud: 9600, PrintRate: 200})
	port, err := serialport.Open(serialport.Config{Path: s.Path(), Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	job := escpos.Encode(ticket, escpos.Generic80)
	if _, err := port.Write(append(job, 0x10, 0x04, 0x01)); err != nil {
		t.Fatal(err)
	}
	in := serialport.NewChunks(port)
	defer in.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := in.Next(ctx)
	if err != nil || len(b) != 1 || b[0] != 0x12 {
		t.Fatalf("status reply % X, %v", b, err)
	}
	if s.Buffered() == 0 || len(s.Printed()) != 0 {
		t.Fatalf("status answered after the job printed (buffered %d, printed %d)", s.Buffered(), len(s.Printed()))
	}
}

// The paper runs out halfway through a job the printer is still printing
// after its real-time status said all is well: each in-band confirmation
// reports the ticket as not printed, with the paper end that explains it, and
// the torn half is not counted as a ticket.
func TestPaperRunsOutMidJob(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	for _, m := range []escpos.Model{escpos.Generic80, escpos.Epson80} {
		t.Run(m.Name+" "+m.Confirm.String(), func(t *testing.T) {
			t.Parallel()
			s := MustPrinterSim(t, sim.PrinterOptions{Baud: 9600, PrintRate: 1000})
			m.PrintTime = 700 * time.Millisecond // keeps the wait for the answer that never comes short
			p := MustPrinterAt(t, s.Path(), 9600, m)
			job := escpos.Encode(ticket, m)
			s.RunOutAfter(len(job) / 2)
			err := p.Print(context.Background(), ticket)
			if !errors.Is(err, escpos.ErrPrintFailed) || !errors.Is(err, escpos.ErrPaperOut) || escpos.Code(err) != "print_failed" {
				t.Fatalf("Print = %v", err)
			}
			if len(s.Printed()) != 0 || len(s.Torn()) != 1 {
				t.Fatalf("printed %d, torn %d", len(s.Printed()), len(s.Torn()))
			}
			s.SetPaper(sim.PaperOK)
			if err := p.Print(context.Background(), ticket); err != nil {
				t.Fatalf("after new paper: %v", err)
			}
			MustPage(t, s)
		})
	}
}

// A printer with neither in-band answer gets the timing fallback: wait the
// job's wire time plus the model's print time, then ask the real-time status.
func TestTimingFallback(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	s := MustPrinterSim(t, sim.PrinterOptions{Baud: 9600, NoTransmitStatus: true, NoProcessID: true})
	m := escpos.Basic58
	m.PrintTime = 300 * time.Millisecond
	p := MustPrinterAt(t, s.Path(), 9600, m)
	tk := ticket
	tk.StatusURL = "" // a small job keeps the test short
	if err := p.Print(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	MustPage(t, s)
	s.RunOutAfter(100)
	if err := p.Print(context.Background(), tk); !errors.Is(err, escpos.ErrPaperOut) || !errors.Is(err, escpos.ErrPrintFailed) {
		t.Fatalf("paper out mid-job, timing fallback: %v", err)
	}
}

// The confirmation is a real answer, not a guess: a driver that asks for a
// process ID a printer does not support gets no answer and does not claim
// the ticket printed (configure the model that matches the printer).
func TestConfirmationNeedsTheRightModel(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	s := MustPrinterSim(t, sim.PrinterOptions{NoProcessID: true})
	m := escpos.Epson80
	m.PrintTime = 200 * time.Millisecond
	p := MustPrinterAt(t, s.Path(), 115200, m)
	if err := p.Print(context.Background(), ticket); !errors.Is(err, escpos.ErrPrintFailed) || !errors.Is(err, escpos.ErrTimeout) {
		t.Fatalf("Print = %v", err)
	}
}

// The printer vanishes mid-job: not printed, and the driver says so promptly.
func TestPrinterVanishesMidJob(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	link := filepath.Join(t.TempDir(), "printer")
	s := MustPrinterSim(t, sim.PrinterOptions{Link: link, Baud: 9600})
	port := serialport.OpenReconnecting(serialport.Config{Path: link, Baud: 9600})
	t.Cleanup(func() { port.Close() })
	p := escpos.NewPrinter(port, escpos.Generic58, escpos.Options{Baud: 9600, ReplyTime: time.Second})
	t.Cleanup(func() { p.Close() })
	go func() {
		for {
			if in, _ := s.Traffic(); in > 600 {
				s.Unplug()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	err := p.Print(context.Background(), rasterTicket)
	if !errors.Is(err, escpos.ErrPrintFailed) {
		t.Fatalf("Print = %v", err)
	}
	if c := escpos.Code(err); c != "print_failed" {
		t.Fatalf("code %q", c)
	}
	t.Log(err)
}

// Images taller than 255 rows go in bands (some firmware reads only the low
// byte of the height); the bands print as one image.
func TestRasterBands(t *testing.T) {
	r := escpos.Raster{WidthBytes: 3, Height: 600, Bits: make([]byte, 3*600)}
	for i := range r.Bits {
		r.Bits[i] = byte(i * 7)
	}
	cmd := r.Command()
	if n := bytes.Count(cmd, []byte{0x1D, 0x76, 0x30, 0x00, 3, 0}); n != 3 {
		t.Fatalf("%d bands, want 3", n)
	}
	if len(cmd) != 3*8+len(r.Bits) || cmd[6] != 255 || cmd[7] != 0 {
		t.Fatalf("first band height %d+%d*256, %d bytes", cmd[6], cmd[7], len(cmd))
	}
	pages, _ := sim.DecodeAll(cmd)
	if len(pages) != 1 || len(pages[0].Images()) != 1 {
		t.Fatalf("%d pages", len(pages))
	}
	if got := pages[0].Images()[0]; got.Height != 600 || !bytes.Equal(got.Bits, r.Bits) {
		t.Fatalf("joined image %dx%d differs", got.WidthBytes*8, got.Height)
	}
}
