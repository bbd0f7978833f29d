package app

import (
	"context"
	"testing"

	"hallq/devices/idcard"
	"hallq/devices/sim"
	"hallq/queue-server/wire"
)

// awaitReported runs the kiosk's device check (on the flow's goroutine, as
// its 10 s ticker does) until the hall server holds a report from this kiosk
// for which ok holds, and returns it.
func (r *kioskRig) awaitReported(what string, ok func(wire.DeviceHealth) bool) wire.DeviceHealth {
	r.t.Helper()
	var got wire.DeviceHealth
	waitUntil(r.t, what, func() bool {
		done := make(chan struct{})
		r.flow.actions <- func() { r.flow.checkDevices(context.Background()); close(done) }
		<-done
		var devs []wire.DeviceHealth
		if _, err := r.h.Admin.Do(context.Background(), "GET", "/api/v1/devices", "", nil, &devs); err != nil {
			r.t.Fatal(err)
		}
		for _, d := range devs {
			if d.Kiosk == "kiosk-1" && ok(d) {
				got = d
				return true
			}
		}
		return false
	})
	return got
}

// A reader fault — garbled replies, as a restart mid-exchange leaves on the
// line — shows on the server as "reader error" while it lasts, and as "ok"
// again once the reader answers its polls properly, without a card being
// placed. The kiosk used to report "error" until the next card.
func TestReaderErrorClearsWhenTheReaderAnswersAgain(t *testing.T) {
	r := MustRig(t)
	r.awaitReported("the reader reported ok", func(d wire.DeviceHealth) bool { return d.Reader == "ok" })
	if err := r.sims.IDCard.Inject(sim.Fault{Kind: sim.FaultBadChecksum, On: idcard.CmdFindCard, Times: -1}); err != nil {
		t.Fatal(err)
	}
	r.awaitReported("the reader reported in error", func(d wire.DeviceHealth) bool { return d.Reader == "error" })
	if err := r.sims.IDCard.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if r.sims.IDCard.Present() {
		t.Fatal("a card is on the reader")
	}
	r.awaitReported("the reader reported ok again, with no card placed", func(d wire.DeviceHealth) bool { return d.Reader == "ok" })
	card := make(chan *idcard.Event, 1)
	r.flow.actions <- func() { card <- r.flow.card }
	if c := <-card; c != nil {
		t.Fatalf("the reader's recovery was taken for a card: %+v", *c)
	}
}

// The same for the printer: a printer that stopped answering shows on the
// server as "offline", and as "ok" again as soon as it answers a status
// check, without a ticket being printed.
func TestPrinterOfflineClearsWhenThePrinterAnswersAgain(t *testing.T) {
	r := MustRig(t)
	r.awaitReported("the printer reported ok", func(d wire.DeviceHealth) bool { return d.Printer == "ok" })
	if err := r.sims.Printer.SetHung(true); err != nil { // the line stays up, nothing answers
		t.Fatal(err)
	}
	r.awaitReported("the printer reported offline", func(d wire.DeviceHealth) bool { return d.Printer == "offline" })
	if err := r.sims.Printer.SetHung(false); err != nil {
		t.Fatal(err)
	}
	r.awaitReported("the printer reported ok again, with nothing printed", func(d wire.DeviceHealth) bool { return d.Printer == "ok" })
	if n := len(r.sims.Printer.Printed()); n != 0 {
		t.Fatalf("%d pages printed", n)
	}
}
