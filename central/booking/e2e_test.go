package booking_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/natsembed"
	"hallq/internal/halltest"
	"hallq/internal/testclock"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
)

// TestABookingMadeAtTheCentralIsCheckedInAtARealHall: a citizen books at
// the central; the booking reaches a real hall server (forwarding to the
// central's NATS) on central.<hall>.appointments; the kiosk checks in by
// the booking id from the QR code and gets a ticket; the hall's event
// comes back on HALLS and the booking becomes arrived; the clerk serves
// the ticket and it becomes served.
func TestABookingMadeAtTheCentralIsCheckedInAtARealHall(t *testing.T) {
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	w := mustWorldAt(t, ns.URL(), 1, 1)
	w.MustHall(sampleHall("420102-01")) // the sample hall's id
	b := w.Book(1, "420102-01", "B", testclock.At(10, 30))

	h := halltest.RunHall(t, halltest.Options{Clock: w.Clock, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: ns.URL(), MinBackoff: 50 * time.Millisecond, PollInterval: 100 * time.Millisecond}
		o.CitizenSecret = provinceKey
	}})
	w.Clock.Set(testclock.At(10, 5)) // the check-in window opens 30 minutes before the slot
	kiosk := h.As("kiosk", "kiosk-1", 0)
	ctx := context.Background()
	var tk hall.TicketView
	eventually(t, "the booking reaches the hall and checks in", func() bool {
		tk, err = kiosk.CheckIn(ctx, "scan-1", hall.CheckIn{Booking: b.ID})
		var he *hall.Error
		if errors.As(err, &he) && he.Reason == string(hall.ReasonNoBooking) {
			return false // not delivered yet
		}
		if err != nil {
			t.Fatalf("check-in: %v", err)
		}
		return true
	})
	if tk.Service != "B" {
		t.Fatalf("ticket %+v", tk)
	}
	get := func() booking.Booking {
		var got booking.Booking
		_, body := w.Do("GET", "/api/v1/bookings/"+b.ID, w.Citizen(1), nil, "")
		_ = json.Unmarshal(body, &got)
		return got
	}
	eventually(t, "the check-in comes back and the booking is arrived", func() bool { return get().Status == booking.Arrived })
	if got := get(); got.Ticket == "" {
		t.Fatalf("arrived without its ticket: %+v", got)
	}

	clerk := h.As("clerk", "clerk-4", 4)
	if _, err := clerk.SetWindow(ctx, 4, "open", ""); err != nil {
		t.Fatal(err)
	}
	called, ok, err := clerk.Call(ctx, "call-1", 4, "")
	if err != nil || !ok || called.ID != get().Ticket {
		t.Fatalf("call: %+v %v %v", called, ok, err)
	}
	for _, a := range []string{"start", "complete"} {
		if _, err := clerk.Act(ctx, a+"-1", called.ID, a, nil); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	eventually(t, "the booking is served", func() bool { return get().Status == booking.Served })
}
