package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// The kiosk opens each device at its configured baud and the drivers time
// their waits by it: a reader set to 9600 that takes 0.7 s to read a card
// (1.35 s of reply on the wire) is read, and a 58 mm raster ticket to a
// printer at 9600 (≈3 KB, over 3 s on the wire) is confirmed printed.
func TestOpenDevicesUsesConfiguredBaud(t *testing.T) {
	card, err := sim.NewIDCard(sim.IDCardOptions{Baud: 9600, ReadTime: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { card.Close() })
	printer, err := sim.NewPrinter(sim.PrinterOptions{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { printer.Close() })
	card.Place(sim.SampleResident)

	d, err := OpenDevices(DeviceConfig{Reader: card.Path(), ReaderBaud: 9600,
		Printer: printer.Path(), PrinterBaud: 9600, PrinterModel: "generic-58"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	c, err := d.Reader.ReadCard(ctx)
	if err != nil || c.Number != sim.SampleResident.Number {
		t.Fatalf("card at 9600: %v", err)
	}
	tk := escpos.Ticket{HallName: "江岸分局政务服务中心", ServiceZH: "户政业务", Number: "A001",
		StatusURL: "https://hall.example:8443/t/7f3a9c0b1d2e4f56", MaskedID: c.Number.Masked()}
	if n := len(escpos.Encode(tk, escpos.Generic58)); n < 2500 {
		t.Fatalf("the 58 mm raster ticket is only %d bytes", n)
	}
	if err := d.Printer.Print(ctx, tk); err != nil {
		t.Fatalf("ticket at 9600: %v", err)
	}
	if got := len(printer.Printed()); got != 1 {
		t.Fatalf("%d pages printed", got)
	}
}

// devices.reply_time reaches the drivers: a printer that never answers is
// given up on only after the configured time (a lower bound, which no load
// on the machine can make fail), not the drivers' default 300 ms.
func TestOpenDevicesUsesConfiguredReplyTime(t *testing.T) {
	printer, err := sim.NewPrinter(sim.PrinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { printer.Close() })
	d, err := OpenDevices(DeviceConfig{Printer: printer.Path(), ReplyTime: "1500ms"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	printer.SetHung(true) // the line stays up, nothing answers
	start := time.Now()
	_, err = d.Printer.Status(context.Background())
	if took := time.Since(start); err == nil || took < 1500*time.Millisecond {
		t.Fatalf("a silent printer: %v after %v, want a failure after at least the configured 1.5 s", err, took)
	}
}

// A silent port's pending read waits a second (idleRead), not the serial
// package's 100 ms: the three ports of an idle kiosk woke it 30 times a
// second for nothing (issue #21). Departures are still noticed at once
// (serialport's TestAHangupEndsAPendingReadAtOnce); the drivers' exchanges
// keep their own deadlines (the flow tests read cards, scan and print
// through these ports).
func TestOpenDevicesWaitsASecondPerIdleRead(t *testing.T) {
	dir := t.TempDir() // no device there yet: the ports open all the same
	d, err := OpenDevices(DeviceConfig{Reader: filepath.Join(dir, "idcard"),
		Printer: filepath.Join(dir, "printer"), Scanner: filepath.Join(dir, "scanner")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if len(d.closers) != 3 {
		t.Fatalf("%d ports opened, want 3", len(d.closers))
	}
	for _, c := range d.closers {
		p := c.(*serialport.Reconnecting)
		if got := p.Config().ReadTimeout; got != time.Second {
			t.Errorf("%s: an idle read waits %v, want 1s", p.Config().Path, got)
		}
	}
}
