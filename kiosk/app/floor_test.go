package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"hallq/devices/sim"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/queue-server/hall"
)

// withCalendar gives the hall a calendar open 08:00-18:00 every day, with
// service B for bookings only 09:00-11:00 on Fridays (the rig's day) and
// the closures given.
func withCalendar(closures ...calendar.Closure) func(*hall.Config) {
	return func(c *hall.Config) {
		day := []calendar.Span{{From: "08:00", To: "18:00"}}
		weekly := map[string][]calendar.Span{}
		for _, d := range calendar.Weekdays {
			weekly[d] = day
		}
		c.Calendar = &calendar.Calendar{Zone: c.Hall.TimeZone, Weekly: weekly, Closures: closures,
			BookingOnly: []calendar.BookingOnly{{Service: "B", Weekday: "fri", From: "09:00", To: "11:00"}}}
	}
}

// In booking-only hours the kiosk says why a walk-in ticket is refused and
// offers check-in instead; the booking checks in and gets its ticket.
func TestBookingOnlyOffersCheckIn(t *testing.T) {
	r := mustRigWith(t, rigOptions{hall: withCalendar()})
	ctx := context.Background()
	slot := r.h.Clock.Now().Add(10 * time.Minute)
	if _, err := r.h.Admin.Do(ctx, "POST", "/api/v1/appointments", "", hall.Booking{ID: "BK-B1", CitizenKey: strings.Repeat("ef", 32), Service: "B",
		SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)}, nil); err != nil {
		t.Fatal(err)
	}
	if s := r.k.core.Services(); s[1].Code != "B" || s[1].NotIssuing != string(hall.ReasonBookingOnly) {
		t.Fatalf("the kiosk's B: %+v", s[1])
	}
	r.flow.SelectService("B")
	if v := r.await(ScreenRefusal); v.Refusal != RefuseBookingOnly {
		t.Fatalf("walk-in B in booking-only hours: %q (%s)", v.Refusal, v.Detail)
	}
	r.flow.StartBooking() // the refusal's check-in button
	r.await(ScreenBooking)
	r.sims.Scanner.Scan("BK-B1")
	v := r.await(ScreenTicket)
	got, err := r.h.Admin.Ticket(ctx, v.Ticket.ID)
	if err != nil || got.Channel != hall.Appointment || got.Service != "B" {
		t.Fatalf("checked in: %+v, %v", got.Ticket, err)
	}
	// and the server itself refuses a walk-in B, whatever the kiosk's tiles say
	_, err = r.k.core.cl.Issue(ctx, "", hall.IssueRequest{Service: "B"})
	if hall.ReasonOf(err) != hall.ReasonBookingOnly {
		t.Errorf("server issue B: %v", err)
	}
	r.flow.Home()
	r.await(ScreenHome)
	r.flow.SelectService("A") // other services as usual
	r.await(ScreenInsertCard)
	r.sims.IDCard.Place(sim.SampleResident)
	r.await(ScreenTicket)
}

// A special closure: the kiosk refuses with the hall's reason.
func TestClosureReasonOnTheKiosk(t *testing.T) {
	day := "2026-11-27" // the rig's day
	r := mustRigWith(t, rigOptions{hall: withCalendar(calendar.Closure{Day: day, Reason: catalog.Text{ZH: "系统升级", EN: "system upgrade"}})})
	if s := r.k.core.Services(); s[0].NotIssuing != string(hall.ReasonClosure) || s[0].Closure == nil || s[0].Closure.ZH != "系统升级" {
		t.Fatalf("the kiosk's A: %+v", s[0])
	}
	r.flow.SelectService("E")
	v := r.await(ScreenRefusal)
	if v.Refusal != RefuseClosure || v.Closure == nil || v.Closure.EN != "system upgrade" {
		t.Fatalf("closure: %q %+v", v.Refusal, v.Closure)
	}
}

// The kiosk's helper button reaches the server: a call naming the kiosk,
// on the managers' list; the screen says staff were told.
func TestKioskHelperCall(t *testing.T) {
	r := MustRig(t)
	r.flow.CallHelper()
	v := r.awaitView("helper called", func(v View) bool { return v.Helper != "" })
	if v.Helper != HelperCalled || v.Screen != ScreenHome {
		t.Fatalf("after the helper button: %+v", v)
	}
	calls, err := r.h.Admin.HelpCalls(context.Background())
	if err != nil || len(calls) != 1 || calls[0].Kiosk != "kiosk-1" || !calls[0].Open() {
		t.Fatalf("the server's helper calls: %+v, %v", calls, err)
	}
}
