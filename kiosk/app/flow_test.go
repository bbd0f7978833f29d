package app

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hallq/devices/sim"
	"hallq/queue-server/hall"
)

// kioskRig is a whole kiosk on one machine: a real hall server, the three
// device simulators on pseudo-terminals, the real drivers through the
// serial library, the core and the flow.
type kioskRig struct {
	t     testing.TB
	h     *hallFixture
	k     *kioskFixture
	sims  *sim.Devices
	flow  *Flow
	views chan View
	mu    sync.Mutex
	last  View
}

func MustRig(t testing.TB) *kioskRig { t.Helper(); return mustRigWith(t, rigOptions{}) }

// rigOptions change a rig: the hall's configuration, the flow's, the
// numbers leased per service (default 10).
type rigOptions struct {
	hall   func(*hall.Config)
	flow   func(*FlowConfig)
	lease  int
	crypto string // the hall server's -crypto
}

func mustRigWith(t testing.TB, o rigOptions) *kioskRig {
	t.Helper()
	if o.lease == 0 {
		o.lease = 10
	}
	h := mustServerCrypto(t, o.hall, o.crypto)
	k := h.MustKiosk("kiosk-1", o.lease)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sims, err := sim.StartAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sims.Close() })
	// ReplyTime: the simulators share a loaded machine; how fast they answer is
	// not what these tests are about (TestOpenDevicesUsesConfiguredReplyTime is)
	devs, err := OpenDevices(DeviceConfig{Reader: sims.IDCard.Path(), Printer: sims.Printer.Path(), Scanner: sims.Scanner.Path(), ReplyTime: "5s"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devs.Close() })
	r := &kioskRig{t: t, h: h, k: k, sims: sims, views: make(chan View, 64)}
	var flow atomic.Pointer[Flow] // the core's changes refresh the home screen, as in Kiosk.Run
	go k.core.Run(ctx, func() {
		if f := flow.Load(); f != nil {
			f.Refresh()
		}
	})
	waitUntil(t, "kiosk online with services", func() bool { return k.core.Online() && len(k.core.Services()) == 5 })
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	reader, printer, scanner := devs.Parts()
	fc := FlowConfig{Poll: 50 * time.Millisecond}
	if o.flow != nil {
		o.flow(&fc)
	}
	r.flow = NewFlow(k.core, reader, printer, scanner, fc, func(v View) {
		r.mu.Lock()
		r.last = v
		r.mu.Unlock()
		select {
		case r.views <- v:
		default:
		}
	})
	flow.Store(r.flow)
	go r.flow.Run(ctx)
	r.await(ScreenHome)
	return r
}

// awaitView returns the view shown now if ok holds for it, else the next
// view for which it holds.
func (r *kioskRig) awaitView(what string, ok func(View) bool) View {
	r.t.Helper()
	r.mu.Lock()
	last := r.last
	r.mu.Unlock()
	if ok(last) {
		return last
	}
	timeout := time.After(15 * time.Second)
	for {
		select {
		case v := <-r.views:
			if ok(v) {
				return v
			}
		case <-timeout:
			r.mu.Lock()
			defer r.mu.Unlock()
			r.t.Fatalf("timed out waiting for %s; last %+v", what, r.last)
		}
	}
}

func waitUntil(t testing.TB, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// await returns the next view showing screen s.
func (r *kioskRig) await(s Screen) View {
	r.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case v := <-r.views:
			if v.Screen == s {
				return v
			}
		case <-timeout:
			r.mu.Lock()
			defer r.mu.Unlock()
			r.t.Fatalf("timed out waiting for screen %s; last %+v", s, r.last)
		}
	}
}

func TestCardPlacedTicketIssuedAndPrinted(t *testing.T) {
	r := MustRig(t)
	r.flow.SelectService("A")
	v := r.await(ScreenInsertCard)
	if v.Service == nil || v.Service.Code != "A" {
		t.Fatalf("insert card for %+v", v.Service)
	}
	if err := r.sims.IDCard.Place(sim.SampleResident); err != nil {
		t.Fatal(err)
	}
	v = r.await(ScreenTicket)
	// A990–A999 are leased to this kiosk for offline use; online numbers still start at A001
	if !v.Printed || v.Ticket.Number != "A001" || v.Ticket.MaskedID != sim.SampleResident.Number.Masked() {
		t.Fatalf("ticket view %+v printed=%v", v.Ticket, v.Printed)
	}
	// the server holds the ticket with the citizen's HMAC key, never the number
	got, err := r.h.Admin.Ticket(context.Background(), v.Ticket.ID)
	if err != nil || got.Number != "A001" {
		t.Fatalf("server ticket: %v %+v", err, got)
	}
	pages := r.sims.Printer.Printed()
	if len(pages) != 1 {
		t.Fatalf("%d pages printed", len(pages))
	}
	text := pages[0].Text()
	if !strings.Contains(text, "A001") || !strings.Contains(text, "户政") || !strings.Contains(text, sim.SampleResident.Number.Masked()) {
		t.Fatalf("printed ticket:\n%s", text)
	}
	if qr := pages[0].QRCodes(); len(qr) != 1 || qr[0] != v.Ticket.StatusURL {
		t.Fatalf("QR %v, want %s", qr, v.Ticket.StatusURL)
	}
	if !pages[0].Cut {
		t.Fatal("ticket not cut")
	}
}

func TestElderlyCardGetsPriority(t *testing.T) {
	r := MustRig(t)
	r.flow.SelectService("B")
	r.await(ScreenInsertCard)
	r.sims.IDCard.Place(sim.SampleElderly)
	v := r.await(ScreenTicket)
	got, _ := r.h.Admin.Ticket(context.Background(), v.Ticket.ID)
	if got.Channel != hall.Priority || got.AgeClass != hall.AgeElderly {
		t.Fatalf("elderly citizen: channel %s age %s", got.Channel, got.AgeClass)
	}
}

func TestExpiredCardIsRefusedInPlainWords(t *testing.T) {
	r := MustRig(t)
	r.flow.SelectService("C")
	r.await(ScreenInsertCard)
	r.sims.IDCard.Place(sim.SampleExpired)
	v := r.await(ScreenRefusal)
	if v.Refusal != RefuseCardExpired {
		t.Fatalf("refusal %q", v.Refusal)
	}
	r.sims.IDCard.Remove() // the citizen takes the card back (the screen reminds them)
	r.awaitView("card lifted", func(v View) bool { return v.Screen == ScreenRefusal && !v.TakeCard })
	r.flow.Retry() // "try again" goes back to the card step of the same service
	if v := r.await(ScreenInsertCard); v.Service == nil || v.Service.Code != "C" {
		t.Fatalf("retry: %+v", v.Service)
	}
	r.flow.Home()
	r.await(ScreenHome)
}

func TestIdleReturnsHomeForANewVisitor(t *testing.T) {
	r := MustRig(t)
	r.flow.SelectService("A")
	r.await(ScreenInsertCard)
	r.h.Clock.Advance(time.Minute) // nobody touched the screen: first a warning
	r.awaitView("still there?", func(v View) bool { return v.Screen == ScreenInsertCard && v.StillThere })
	r.h.Clock.Advance(time.Minute)
	v := r.await(ScreenHome)
	for !v.NewVisitor {
		v = r.await(ScreenHome)
	}
	if v.Service != nil || v.Ticket != nil {
		t.Fatalf("citizen data left on the home screen: %+v", v)
	}
}

func TestAdminPINOpensServiceScreen(t *testing.T) {
	r := MustRig(t)
	if r.flow.CheckPIN("1234") {
		t.Fatal("no PIN configured, yet one was accepted")
	}
	r.flow.cfg.AdminPIN = "2468" // (set before any other goroutine reads it in a real kiosk)
	if r.flow.CheckPIN("1357") {
		t.Fatal("wrong PIN accepted")
	}
	if !r.flow.CheckPIN("2468") {
		t.Fatal("right PIN refused")
	}
	v := r.await(ScreenService)
	if v.Health.Reader != "ok" || v.Health.Printer != "ok" || !v.Health.Online || v.Health.LeasesLeft == 0 {
		t.Fatalf("service screen health %+v", v.Health)
	}
}

func TestPaperOutShowsTicketOnScreenAndTellsServer(t *testing.T) {
	r := MustRig(t)
	r.sims.Printer.SetPaper(sim.PaperOut)
	r.flow.SelectService("E") // no ID needed
	v := r.await(ScreenTicket)
	if v.Printed || v.Ticket == nil || !v.ScreenOnly {
		t.Fatalf("view %+v", v)
	}
	got, _ := r.h.Admin.Ticket(context.Background(), v.Ticket.ID)
	if !got.PrintFailed {
		t.Fatal("the server does not know the ticket was not printed")
	}
	// the ticket exists only on screen: it stays until the citizen taps done
	if d := r.deadline(); !d.IsZero() {
		t.Fatalf("a screen-only ticket leaves by itself at %v", d)
	}
	if logs := string(testLogs.Bytes()); !strings.Contains(logs, `msg="ticket not printed" number=`+v.Ticket.Number+" why=paper_out") {
		t.Error("the log does not say why the ticket was not printed")
	}
	r.flow.Done()
	r.await(ScreenHome)
	r.flow.SelectService("E") // the kiosk knows the paper is out: it does not try
	v = r.await(ScreenTicket)
	if logs := string(testLogs.Bytes()); v.Printed || !strings.Contains(logs, `msg="print skipped" number=`+v.Ticket.Number+" why=paper_out") {
		t.Error("the log does not say the print was skipped and why")
	}
}

// deadline is the flow's current timeout, read on the flow's goroutine.
func (r *kioskRig) deadline() time.Time {
	got := make(chan time.Time, 1)
	r.flow.actions <- func() { got <- r.flow.deadline }
	return <-got
}

func TestBookingQRChecksIn(t *testing.T) {
	r := MustRig(t)
	ctx := context.Background()
	slot := r.h.Clock.Now().Add(10 * time.Minute)
	key := strings.Repeat("ab", 32)
	if _, err := r.h.Admin.Do(ctx, "POST", "/api/v1/bookings", "", hall.Booking{ID: "BK-7", CitizenKey: key, Service: "B",
		SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)}, nil); err != nil {
		t.Fatal(err)
	}
	r.flow.StartBooking()
	r.await(ScreenBooking)
	r.sims.Scanner.Scan("https://gaj.example.gov.cn/booking?booking=BK-7")
	v := r.await(ScreenTicket)
	got, _ := r.h.Admin.Ticket(ctx, v.Ticket.ID)
	if got.Channel != hall.BookingChannel || got.Booking != "BK-7" {
		t.Fatalf("checked-in ticket %+v", got.Ticket)
	}
	r.flow.Home()
	r.await(ScreenHome)
	r.sims.Scanner.Scan("BK-7")
	if v := r.await(ScreenRefusal); v.Refusal != RefuseAlreadyCheckedIn || len(v.Held) != 1 || v.Held[0].ID != got.ID {
		t.Fatalf("second check-in: %q, held %+v", v.Refusal, v.Held)
	}
}

// A printer that did not answer one status check (a busy moment, a cable
// jiggled) is tried again for the next citizen, and prints: only what the
// printer itself reports — paper out, cover open — skips the print. The
// kiosk used to show the next ticket on screen only, after a status check
// that timed out once.
func TestAPrinterThatMissedAStatusCheckIsTriedAgain(t *testing.T) {
	r := MustRig(t)
	r.sims.Printer.SetHung(true) // the line stays up, nothing answers
	checked := make(chan string, 1)
	r.flow.actions <- func() { r.flow.checkDevices(context.Background()); checked <- r.flow.printerErr }
	if got := <-checked; got != "offline" {
		t.Fatalf("after an unanswered status check the kiosk holds the printer as %q, want offline", got)
	}
	r.sims.Printer.SetHung(false)
	r.flow.SelectService("E") // no ID needed
	if v := r.await(ScreenTicket); !v.Printed || v.ScreenOnly {
		t.Fatalf("the printer answers again, but the ticket was not printed: %+v", v)
	}
}
