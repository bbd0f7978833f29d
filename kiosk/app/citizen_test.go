package app

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/sim"
	"hallq/queue-server/hall"
)

// recordingVoice is a Voice that keeps what it was asked to say; like the
// espeak-ng port it never blocks the flow.
type recordingVoice struct {
	mu   sync.Mutex
	said []Prompt
}

func (v *recordingVoice) Say(p Prompt) { v.mu.Lock(); v.said = append(v.said, p); v.mu.Unlock() }

// took returns what was said since the last call.
func (v *recordingVoice) took() []Prompt {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := v.said
	v.said = nil
	return out
}

// idleUntil lets the hall's time pass, a minute at a time, until a view
// for which ok holds (a tap reaches the flow asynchronously, so one jump
// could come before it).
func (r *kioskRig) idleUntil(what string, ok func(View) bool) View {
	r.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		r.h.Clock.Advance(time.Minute)
		select {
		case v := <-r.views:
			if ok(v) {
				return v
			}
		case <-time.After(2 * time.Second): // the flow checks its timers every second
		}
	}
	r.t.Fatalf("no %s after idling", what)
	return View{}
}

// idleUntilSaid waits until the voice said p (the flow's timers tick every second).
func (r *kioskRig) idleUntilSaid(voice *recordingVoice, p Prompt) {
	r.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !slices.Contains(voice.took(), p); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("never said %q", p)
		}
	}
}

func (r *kioskRig) lastPage() string {
	r.t.Helper()
	pages := r.sims.Printer.Printed()
	if len(pages) == 0 {
		r.t.Fatal("nothing printed")
	}
	return pages[len(pages)-1].Text()
}

// TestCitizensWalkThroughTheKiosk walks visitors through the kiosk as a
// hall sees them, against a real server and simulated devices: the card
// placed first, an expired card at 户政 and at 车驾管, the per-ID limit
// with a reprint, the timeout warning, and a fresh start between visitors.
func TestCitizensWalkThroughTheKiosk(t *testing.T) {
	voice := &recordingVoice{}
	r := mustRigWith(t, rigOptions{flow: func(c *FlowConfig) { c.Voice, c.Language = voice, "en" }})
	ctx := context.Background()

	// 1. The card first, on the home screen; then the tile: no second wait.
	r.sims.IDCard.Place(sim.SampleResident)
	r.awaitView("card ready on home", func(v View) bool { return v.Screen == ScreenHome && v.CardReady })
	r.flow.SelectService("A")
	v := r.await(ScreenTicket)
	if !v.Printed || !v.TakeCard || v.Ticket.MaskedID != sim.SampleResident.Number.Masked() {
		t.Fatalf("card-first ticket %+v printed=%v take-card=%v", v.Ticket, v.Printed, v.TakeCard)
	}
	page := r.lastPage()
	// the server keeps UTC; the paper shows the hall's 10:00
	for _, want := range []string{"取号时间 2026-11-27 10:00", "办理窗口 1、2、3、7 号", "当日有效"} {
		if !strings.Contains(page, want) {
			t.Errorf("printed ticket lacks %q:\n%s", want, page)
		}
	}
	if said := voice.took(); !slices.Contains(said, PromptChime) || !slices.Contains(said, PromptTakeTicket) || !slices.Contains(said, PromptTakeCard) {
		t.Errorf("spoken: %q", said)
	}
	first := v.Ticket
	r.h.Clock.Advance(10 * time.Second) // the card still lies there: reminded again
	r.idleUntilSaid(voice, PromptTakeCard)
	r.flow.Done()
	v = r.awaitView("new visitor", func(v View) bool { return v.Screen == ScreenHome && v.NewVisitor })
	if v.Language != "en" || v.Elderly || !v.TakeCard {
		t.Errorf("after 完成: language %q elderly %v take-card %v", v.Language, v.Elderly, v.TakeCard)
	}
	r.sims.IDCard.Remove()
	r.awaitView("card taken", func(v View) bool { return v.Screen == ScreenHome && !v.TakeCard })

	// 2. An expired card at 户政 (accepted there) and at 车驾管 (not).
	r.flow.SelectService("A")
	r.await(ScreenInsertCard)
	if said := voice.took(); !slices.Contains(said, PromptInsertCard) {
		t.Errorf("insert card spoken: %q", said)
	}
	r.sims.IDCard.Place(sim.SampleExpired)
	if v := r.await(ScreenTicket); !v.Printed || !strings.HasPrefix(v.Ticket.Number, "A") {
		t.Fatalf("expired card at 户政: %+v", v.Ticket)
	}
	r.flow.Home()
	r.await(ScreenHome)
	r.flow.SelectService("C") // the same card still lies there
	if v := r.await(ScreenRefusal); v.Refusal != RefuseCardExpired || !v.TakeCard {
		t.Fatalf("expired card at 车驾管: %q take-card %v", v.Refusal, v.TakeCard)
	}
	r.sims.IDCard.Remove()
	r.awaitView("card taken", func(v View) bool { return !v.TakeCard })
	r.flow.Done()
	r.await(ScreenHome)

	// 3. The per-ID limit (2 for 户政) shows the tickets held, with a reprint.
	r.sims.IDCard.Place(sim.SampleResident)
	r.awaitView("card ready", func(v View) bool { return v.CardReady })
	r.flow.SelectService("A")
	second := r.await(ScreenTicket).Ticket
	r.flow.Home()
	r.await(ScreenHome)
	r.flow.SelectService("A")
	v = r.await(ScreenRefusal)
	if v.Refusal != RefuseCitizenLimit || len(v.Held) != 2 || v.Held[0].ID != first.ID || v.Held[1].ID != second.ID {
		t.Fatalf("limit: %q held %+v", v.Refusal, v.Held)
	}
	printed := len(r.sims.Printer.Printed())
	r.flow.Reprint(first.ID)
	v = r.await(ScreenTicket)
	if !v.Reprint || !v.Printed || v.Ticket.Number != first.Number || len(r.sims.Printer.Printed()) != printed+1 {
		t.Fatalf("reprint: %+v reprint=%v printed=%v", v.Ticket, v.Reprint, v.Printed)
	}
	if page := r.lastPage(); !strings.Contains(page, "补打") || !strings.Contains(page, first.Number) {
		t.Errorf("reprinted ticket:\n%s", page)
	}
	tickets, err := r.h.Admin.Tickets(ctx)
	if err != nil || len(tickets) != 3 {
		t.Fatalf("a reprint must not issue a ticket: %d tickets, %v", len(tickets), err)
	}
	r.sims.IDCard.Remove()
	r.awaitView("card taken", func(v View) bool { return !v.TakeCard && !v.CardReady })
	r.flow.Done()
	r.await(ScreenHome)

	// 4. Nobody touches the screen: a warning first, continue keeps the
	// citizen where they were; then a fresh start.
	r.flow.SetElderly(true)
	r.flow.SelectService("B")
	r.await(ScreenInsertCard)
	r.h.Clock.Advance(2 * time.Minute) // large text doubles the 30 s
	r.awaitView("still there?", func(v View) bool { return v.Screen == ScreenInsertCard && v.StillThere })
	r.flow.Continue()
	r.awaitView("continued", func(v View) bool { return v.Screen == ScreenInsertCard && !v.StillThere && v.Elderly })
	r.h.Clock.Advance(2 * time.Minute)
	r.awaitView("still there? again", func(v View) bool { return v.StillThere })
	r.h.Clock.Advance(2 * time.Minute)
	v = r.awaitView("next visitor", func(v View) bool { return v.Screen == ScreenHome && v.NewVisitor })
	if v.Elderly || v.Service != nil {
		t.Errorf("the last visitor's state survived: %+v", v)
	}

	// 5. Idle on the home screen after changing the language resets it too.
	r.flow.SetLanguage("zh")
	r.idleUntil("reset on home", func(v View) bool { return v.Screen == ScreenHome && v.NewVisitor })
}

// Offline: the count ahead is unknown on screen and paper, the ticket
// says its QR works after reconnection, the home screen's figures are
// stale, and a tile whose leased numbers are used up is unavailable.
func TestOfflineCitizen(t *testing.T) {
	r := mustRigWith(t, rigOptions{lease: 2})
	r.h.Stop()
	for i := range 2 {
		r.flow.SelectService("E")
		v := r.await(ScreenTicket)
		if !v.Ticket.Offline || v.Ticket.Ahead >= 0 || !v.Printed {
			t.Fatalf("offline ticket %d: %+v", i, v.Ticket)
		}
		page := r.lastPage()
		for _, want := range []string{"前面人数：离线取号，暂不可知", "离线取号 OFFLINE", "网络恢复后扫码可查看进度"} {
			if !strings.Contains(page, want) {
				t.Errorf("offline ticket lacks %q:\n%s", want, page)
			}
		}
		if strings.Contains(page, "前面还有 -1") {
			t.Errorf("offline ticket prints -1:\n%s", page)
		}
		r.flow.Done()
		r.await(ScreenHome)
	}
	v := r.awaitView("E unavailable", func(v View) bool {
		for _, s := range v.Services {
			if s.Code == "E" {
				return s.NotIssuing == NotIssuingUnavailable && !s.Issuing
			}
		}
		return false
	})
	if v.Online {
		t.Fatal("home claims fresh figures while offline")
	}
	r.flow.SelectService("E")
	if v := r.await(ScreenRefusal); v.Refusal != RefuseUnavailable {
		t.Fatalf("used-up tile: %q", v.Refusal)
	}
}

// The kiosk applies the server's elderly age, not its own: with the hall's
// rule at 80, a 76-year-old gets neither priority nor large text.
func TestElderlyAgeIsTheServersRule(t *testing.T) {
	r := mustRigWith(t, rigOptions{hall: func(c *hall.Config) { c.Rules.ElderlyAge = 80 }})
	r.flow.SelectService("B")
	r.await(ScreenInsertCard)
	r.sims.IDCard.Place(sim.SampleElderly)
	v := r.await(ScreenTicket)
	got, _ := r.h.Admin.Ticket(context.Background(), v.Ticket.ID)
	if got.Channel != hall.WalkIn || got.AgeClass != hall.AgeAdult || v.Elderly || v.Ticket.Priority {
		t.Fatalf("76 under a rule of 80: channel %s age %s large text %v", got.Channel, got.AgeClass, v.Elderly)
	}
}

// A closed service says today's hours; outside the check-in window says
// the slot and when check-in opens.
func TestRefusalsSayWhen(t *testing.T) {
	r := MustRig(t)
	ctx := context.Background()
	slot := r.h.Clock.Now().Add(2 * time.Hour) // 12:00; check-in from 11:30
	if _, err := r.h.Admin.Do(ctx, "POST", "/api/v1/bookings", "", hall.Booking{ID: "BK-9", CitizenKey: strings.Repeat("cd", 32), Service: "B",
		SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)}, nil); err != nil {
		t.Fatal(err)
	}
	r.flow.StartBooking()
	r.await(ScreenBooking)
	r.sims.Scanner.Scan("BK-9")
	v := r.await(ScreenRefusal)
	if v.Refusal != RefuseOutsideWindow || !v.OfferWalk || v.SlotStart.Format("15:04") != "12:00" || v.CheckInFrom.Format("15:04") != "11:30" {
		t.Fatalf("outside window: %q slot %v from %v", v.Refusal, v.SlotStart, v.CheckInFrom)
	}
	r.flow.Home()
	r.await(ScreenHome)
	r.h.Clock.Advance(150 * time.Minute) // 12:30, lunch (the tiles learn it with the next figures)
	r.flow.SelectService("A")
	r.await(ScreenInsertCard)
	r.sims.IDCard.Place(sim.SampleResident)
	v = r.await(ScreenRefusal)
	if v.Refusal != RefuseClosed || v.Hours == nil || v.Hours.LunchEnd != "13:30" {
		t.Fatalf("closed: %q hours %+v", v.Refusal, v.Hours)
	}
}

// gatedPrinter is the real printer driver held at a gate, so a test can
// tap while the kiosk is busy printing.
type gatedPrinter struct {
	TicketPrinter
	gate chan struct{}
}

func (g gatedPrinter) Print(ctx context.Context, t escpos.Ticket) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.TicketPrinter.Print(ctx, t)
}

// A tap while the kiosk works is answered ("please wait") and changes
// nothing on the server.
func TestTapWhileBusyIsAnswered(t *testing.T) {
	r := MustRig(t)
	gate := make(chan struct{})
	r.flow.printer = gatedPrinter{TicketPrinter: r.flow.printer, gate: gate} // set before the first print; read only by print jobs
	r.flow.SelectService("E")
	r.awaitView("working", func(v View) bool { return v.Screen == ScreenWorking })
	r.flow.SelectService("E")
	r.flow.Done()
	r.awaitView("busy answer", func(v View) bool { return v.Screen == ScreenWorking && v.Busy })
	close(gate)
	v := r.await(ScreenTicket)
	if !v.Printed {
		t.Fatal("not printed")
	}
	if ts, err := r.h.Admin.Tickets(context.Background()); err != nil || len(ts) != 1 {
		t.Fatalf("taps while busy issued tickets: %d, %v", len(ts), err)
	}
}
