package booking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/central/oidcdev"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/queue-server/forward"
)

// eventually polls cond until it holds (the consumer applies hall events
// asynchronously); it fails only if nothing happens for a long while.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBookListCancelAndTheHallIsTold(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("420102-01"))
	b := w.Book(1, "420102-01", "B", monday(9, 30))
	if !strings.HasPrefix(b.ID, "bk") || len(b.ID) != 28 || b.Status != booking.Booked || b.MaskedID != "1101**********"+idNumber(1)[14:] || b.CitizenKey != "" {
		t.Fatalf("booking %+v", b)
	}
	if !b.SlotEnd.Equal(monday(10, 0)) {
		t.Fatalf("slot end %v", b.SlotEnd)
	}
	var mine booking.MineReply
	w.MustDo(http.StatusOK, "GET", "/api/v1/bookings", w.Citizen(1), nil, "", &mine)
	if len(mine.Bookings) != 1 || mine.Bookings[0].ID != b.ID || mine.Warning != nil {
		t.Fatalf("mine %+v", mine)
	}
	// Another citizen sees nothing of it.
	w.MustRefuse(http.StatusNotFound, booking.ReasonUnknownBooking, "GET", "/api/v1/bookings/"+b.ID, w.Citizen(2), nil)
	w.MustRefuse(http.StatusNotFound, booking.ReasonUnknownBooking, "POST", "/api/v1/bookings/"+b.ID+"/cancel", w.Citizen(2), nil)

	a := lastAppointment(t, w, "420102-01")
	if a.BookingID != b.ID || a.Status != "booked" || a.Service != "B" || !a.SlotStart.Equal(monday(9, 30)) || len(a.CitizenKey) != 64 {
		t.Fatalf("hall got %+v", a)
	}
	var c booking.Booking
	w.MustDo(http.StatusOK, "POST", "/api/v1/bookings/"+b.ID+"/cancel", w.Citizen(1), nil, "", &c)
	if c.Status != booking.Cancelled || c.Reason != nil {
		t.Fatalf("cancelled %+v", c)
	}
	if s := w.Seats("420102-01", "B", monday(9, 30)); len(s) != 0 {
		t.Fatalf("seats after cancel %v", s)
	}
	if a := lastAppointment(t, w, "420102-01"); a.BookingID != b.ID || a.Status != "cancelled" {
		t.Fatalf("hall got %+v", a)
	}
	// Cancelling again (a retry after a lost answer) answers the cancelled booking.
	w.MustDo(http.StatusOK, "POST", "/api/v1/bookings/"+b.ID+"/cancel", w.Citizen(1), nil, "", &c)
	if c.Status != booking.Cancelled {
		t.Fatalf("cancelled again %+v", c)
	}
	// Booking again for the service is allowed once the first is cancelled.
	w.Book(1, "420102-01", "B", monday(10, 0))
}

// lastAppointment reads the last message on the hall's appointments subject.
func lastAppointment(t testing.TB, w *world, hall string) forward.Appointment {
	t.Helper()
	s, err := w.JS.Stream(context.Background(), "CENTRAL")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), forward.AppointmentsSubject(hall))
	if err != nil {
		t.Fatal(err)
	}
	var a forward.Appointment
	if err := json.Unmarshal(m.Data, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRetriedBookingAnswersTheSameBooking(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	req := booking.Request{Hall: "h1", Service: "B", SlotStart: monday(9, 0)}
	var first, again booking.Result
	w.MustDo(http.StatusCreated, "POST", "/api/v1/bookings", w.Citizen(1), req, "k-1", &first)
	w.MustDo(http.StatusOK, "POST", "/api/v1/bookings", w.Citizen(1), req, "k-1", &again)
	if first.Booking.ID != again.Booking.ID {
		t.Fatalf("a retry made another booking: %s, %s", first.Booking.ID, again.Booking.ID)
	}
	if s := w.Seats("h1", "B", monday(9, 0)); len(s) != 1 {
		t.Fatalf("seats %v", s)
	}
}

func TestEveryBadRequestIsRefusedPreciselyAndNothingIsApplied(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	w.Book(1, "h1", "A", monday(9, 0)) // A has one seat
	tok := w.Citizen(2)
	post := func(status int, reason booking.Reason, body any) booking.Error {
		t.Helper()
		return w.MustRefuse(status, reason, "POST", "/api/v1/bookings", tok, body)
	}
	post(400, booking.ReasonBadJSON, `{"hall":`)
	post(400, booking.ReasonBadJSON, `{"hall":"h1"} {}`)
	post(400, booking.ReasonBadJSON, `{"hall":7}`)
	post(400, booking.ReasonUnknownField, `{"hall":"h1","service":"B","slot_start":"2026-11-30T09:00:00+08:00","seats":3}`)
	post(400, booking.ReasonBadField, `{"hall":"h1","service":"B","slot_start":"Monday 9am"}`)
	post(400, booking.ReasonBadField, booking.Request{Hall: "h1", Service: "B"})
	post(404, booking.ReasonUnknownHall, booking.Request{Hall: "nowhere", Service: "B", SlotStart: monday(9, 0)})
	post(404, booking.ReasonUnknownService, booking.Request{Hall: "h1", Service: "Q", SlotStart: monday(9, 0)})
	post(404, booking.ReasonUnknownMatter, booking.Request{Hall: "h1", Service: "B", SlotStart: monday(9, 0), Matter: "no-such"})
	post(400, booking.ReasonNotASlot, booking.Request{Hall: "h1", Service: "B", SlotStart: monday(9, 10)})
	post(400, booking.ReasonNotASlot, booking.Request{Hall: "h1", Service: "B", SlotStart: monday(12, 0)}) // lunch
	post(400, booking.ReasonSlotInPast, booking.Request{Hall: "h1", Service: "B", SlotStart: friday0900})
	post(409, booking.ReasonBookingCutoff, booking.Request{Hall: "h1", Service: "B", SlotStart: friday0900.Add(30 * time.Minute)})
	post(409, booking.ReasonHallClosed, booking.Request{Hall: "h1", Service: "B", SlotStart: friday0900.AddDate(0, 0, 1)}) // Saturday
	e := post(409, booking.ReasonNotReleased, booking.Request{Hall: "h1", Service: "B", SlotStart: time.Date(2026, 12, 9, 9, 0, 0, 0, friday0900.Location())})
	if !strings.Contains(e.Message, "2026-12-08") {
		t.Fatalf("the refusal should name the last bookable day: %s", e.Message)
	}
	post(409, booking.ReasonSlotFull, booking.Request{Hall: "h1", Service: "A", SlotStart: monday(9, 0)})
	w.MustRefuse(401, booking.ReasonNoToken, "POST", "/api/v1/bookings", "", booking.Request{Hall: "h1", Service: "B", SlotStart: monday(9, 0)})

	// Nothing of all that was applied: citizen 2 has no booking, no seat.
	var mine booking.MineReply
	w.MustDo(http.StatusOK, "GET", "/api/v1/bookings", tok, nil, "", &mine)
	if len(mine.Bookings) != 0 {
		t.Fatalf("refused requests left bookings: %+v", mine.Bookings)
	}
	if s := w.Seats("h1", "A", monday(9, 0)); len(s) != 1 {
		t.Fatalf("seats %v", s)
	}
	// And the full slot's refusal released the citizen's reservation: the
	// same citizen books service A at another time.
	w.Book(2, "h1", "A", monday(9, 30))
}

func TestTheWindowOpensADayAtTheReleaseTime(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	tue8 := time.Date(2026, 12, 8, 9, 0, 0, 0, friday0900.Location())
	w.Clock.Set(time.Date(2026, 11, 27, 8, 29, 0, 0, friday0900.Location()))
	w.MustRefuse(409, booking.ReasonNotReleased, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "B", SlotStart: tue8})
	w.Clock.Set(time.Date(2026, 11, 27, 8, 30, 0, 0, friday0900.Location()))
	w.Book(1, "h1", "B", tue8)
}

func TestCitizenCaps(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	w.MustHall(sampleHall("h2"))
	w.MustHall(sampleHall("h3"))
	w.Book(1, "h1", "B", monday(9, 0))
	// One open booking per service.
	w.MustRefuse(409, booking.ReasonAlreadyBooked, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "B", SlotStart: monday(10, 0)})
	// Per day (2): a second service the same day, then a third is refused.
	w.Book(1, "h1", "A", monday(10, 0))
	w.MustRefuse(429, booking.ReasonDayCap, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h2", Service: "B", SlotStart: monday(14, 0)})
	// Per week (4): two more on other days of the week, then the fifth.
	w.Book(1, "h2", "B", monday(9, 0).AddDate(0, 0, 1))
	w.Book(1, "h2", "A", monday(9, 0).AddDate(0, 0, 2))
	e := w.MustRefuse(429, booking.ReasonWeekCap, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h3", Service: "B", SlotStart: monday(9, 0).AddDate(0, 0, 3)})
	if !strings.Contains(e.Message, "2026-W49") {
		t.Fatalf("week cap message %q", e.Message)
	}
	// The next week is free again.
	w.Book(1, "h3", "B", monday(9, 0).AddDate(0, 0, 7))
	// Concurrent requests of one citizen for one service: exactly one wins.
	res := make(chan int, 8)
	for i := range 8 {
		go func() {
			st, _ := do(t, w.Insts[0].URL, "POST", "/api/v1/bookings", w.Citizen(3), booking.Request{Hall: "h1", Service: "B", SlotStart: monday(13, 30).Add(time.Duration(i%4) * 30 * time.Minute)}, "")
			res <- st
		}()
	}
	won := 0
	for range 8 {
		if <-res == http.StatusCreated {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent bookings of one service by one citizen succeeded, want 1", won)
	}
}

func TestRescheduleTakesTheNewSeatBeforeFreeingTheOld(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	b := w.Book(1, "h1", "A", monday(9, 0))
	w.Book(2, "h1", "A", monday(9, 30)) // the one seat of 09:30 is taken
	w.MustRefuse(409, booking.ReasonSlotFull, "POST", "/api/v1/bookings/"+b.ID+"/reschedule", w.Citizen(1), map[string]any{"slot_start": monday(9, 30)})
	// Refused: the booking and its seat are as they were.
	var got booking.Booking
	w.MustDo(200, "GET", "/api/v1/bookings/"+b.ID, w.Citizen(1), nil, "", &got)
	if !got.SlotStart.Equal(monday(9, 0)) || got.Status != booking.Booked {
		t.Fatalf("after a refused reschedule %+v", got)
	}
	if s := w.Seats("h1", "A", monday(9, 0)); !slices.Equal(s, []string{b.ID}) {
		t.Fatalf("old seat %v", s)
	}
	w.MustRefuse(400, booking.ReasonUnknownField, "POST", "/api/v1/bookings/"+b.ID+"/reschedule", w.Citizen(1), `{"slot_start":"2026-11-30T10:00:00+08:00","hall":"h2"}`)
	w.MustRefuse(409, booking.ReasonSameSlot, "POST", "/api/v1/bookings/"+b.ID+"/reschedule", w.Citizen(1), map[string]any{"slot_start": monday(9, 0)})
	w.MustDo(200, "POST", "/api/v1/bookings/"+b.ID+"/reschedule", w.Citizen(1), map[string]any{"slot_start": monday(10, 0)}, "", &got)
	if got.ID != b.ID || !got.SlotStart.Equal(monday(10, 0)) || !got.SlotEnd.Equal(monday(10, 30)) {
		t.Fatalf("rescheduled %+v", got)
	}
	if s := w.Seats("h1", "A", monday(9, 0)); len(s) != 0 {
		t.Fatalf("old seat still held: %v", s)
	}
	if s := w.Seats("h1", "A", monday(10, 0)); !slices.Equal(s, []string{b.ID}) {
		t.Fatalf("new seat %v", s)
	}
	if a := lastAppointment(t, w, "h1"); a.BookingID != b.ID || !a.SlotStart.Equal(monday(10, 0)) || a.Status != "booked" {
		t.Fatalf("hall got %+v", a)
	}
	// Someone else can now take 09:00.
	w.Book(3, "h1", "A", monday(9, 0))

	// Concurrent reschedules of two bookings into one free seat: one wins,
	// the other keeps its slot; no seat is double-taken or lost.
	x := w.Book(4, "h1", "A", monday(14, 0))
	y := w.Book(5, "h1", "A", monday(14, 30))
	sts := make(chan int, 2)
	for i, bk := range []booking.Booking{x, y} {
		go func() {
			st, _ := do(t, w.Insts[0].URL, "POST", "/api/v1/bookings/"+bk.ID+"/reschedule", w.Citizen(4+i), map[string]any{"slot_start": monday(15, 0)}, "")
			sts <- st
		}()
	}
	a, c := <-sts, <-sts
	if a+c != 200+409 {
		t.Fatalf("concurrent reschedules answered %d and %d", a, c)
	}
	if n := len(w.Seats("h1", "A", monday(14, 0))) + len(w.Seats("h1", "A", monday(14, 30))) + len(w.Seats("h1", "A", monday(15, 0))); n != 2 {
		t.Fatalf("%d seats held by two bookings", n)
	}
}

// hallEvent publishes a hall event on HALLS as a hall's forwarder does.
func hallEvent(t testing.TB, js jetstream.JetStream, hall string, seq uint64, typ, day string, fields map[string]any) {
	t.Helper()
	ev := map[string]any{"seq": seq, "type": typ, "day": day, "at": time.Now()}
	for k, v := range fields {
		ev[k] = v
	}
	body, _ := json.Marshal(ev)
	m := &nats.Msg{Subject: "hall." + hall + ".events." + typ, Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d@0123456789abcdef", hall, seq))
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func (w *world) status(citizen int, id string) func() bool {
	return func() bool {
		var b booking.Booking
		_, body := w.Do("GET", "/api/v1/bookings/"+id, w.Citizen(citizen), nil, "")
		_ = json.Unmarshal(body, &b)
		return b.Status != booking.Booked && b.Status != booking.Arrived
	}
}

func TestHallEventsMoveBookingsAndTheMissedRuleBars(t *testing.T) {
	w := MustWorld(t, 2) // two processes share the consumer
	w.MustHall(sampleHall("h1"))
	at := func(d time.Time, hh int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), hh, 0, 0, 0, d.Location())
	}
	seq := uint64(0)
	next := func() uint64 { seq++; return seq }

	// Served: checked in (the v1 "appointment" field), then completed.
	s := w.Book(9, "h1", "B", monday(11, 0))
	hallEvent(t, w.JS, "h1", next(), "appointment.upserted", "2026-11-30", map[string]any{"appointment": map[string]any{"id": s.ID, "status": "checked_in", "ticket": "t9"}})
	hallEvent(t, w.JS, "h1", next(), "ticket.completed", "2026-11-30", map[string]any{"ticket": map[string]any{"id": "t9", "appointment": s.ID}})
	eventually(t, "served", w.status(9, s.ID))
	var got booking.Booking
	w.MustDo(200, "GET", "/api/v1/bookings/"+s.ID, w.Citizen(9), nil, "", &got)
	if got.Status != booking.Served || got.Ticket != "t9" {
		t.Fatalf("served booking %+v", got)
	}

	// Miss 1: never came; the hall closes its day.
	b1 := w.Book(1, "h1", "B", monday(9, 0))
	w.Clock.Set(at(monday(0, 0), 18))
	hallEvent(t, w.JS, "h1", next(), "day.closed", "2026-11-30", nil)
	eventually(t, "missed at day close", w.status(1, b1.ID))
	w.MustDo(200, "GET", "/api/v1/bookings/"+b1.ID, w.Citizen(1), nil, "", &got)
	if got.Status != booking.Missed {
		t.Fatalf("after day close %+v", got)
	}
	// A redelivered day close changes nothing (one miss, not two).
	hallEvent(t, w.JS, "h1", next(), "day.closed", "2026-11-30", nil)

	// Warning after the first.
	var res booking.Result
	tue := monday(9, 0).AddDate(0, 0, 1)
	w.MustDo(201, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "B", SlotStart: tue}, "", &res)
	if res.Warning == nil || res.Warning.Missed != 1 || res.Warning.Limit != 3 || res.Warning.Message.ZH == "" {
		t.Fatalf("warning %+v", res.Warning)
	}
	// Miss 2: checked in (the renamed "booking" field), then a no-show.
	hallEvent(t, w.JS, "h1", next(), "booking.upserted", "2026-12-01", map[string]any{"booking": map[string]any{"id": res.Booking.ID, "status": "checked_in", "ticket": "t1"}})
	hallEvent(t, w.JS, "h1", next(), "ticket.no_show", "2026-12-01", map[string]any{"ticket": map[string]any{"id": "t1", "appointment": res.Booking.ID}})
	eventually(t, "missed by no-show", w.status(1, res.Booking.ID))

	// Miss 3, on Wednesday.
	w.Clock.Set(at(tue, 18))
	wed := tue.AddDate(0, 0, 1)
	b3 := w.Book(1, "h1", "B", wed)
	w.Clock.Set(at(wed, 18))
	hallEvent(t, w.JS, "h1", next(), "day.closed", "2026-12-02", nil)
	eventually(t, "third miss", w.status(1, b3.ID))

	// Barred for 30 days from the third miss.
	e := w.MustRefuse(403, booking.ReasonBanned, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "B", SlotStart: wed.AddDate(0, 0, 1)})
	if d, _ := e.Details.(map[string]any); d["until"] != "2027-01-01" {
		t.Fatalf("ban details %+v", e.Details)
	}
	w.Clock.Set(time.Date(2026, 12, 31, 9, 0, 0, 0, wed.Location()))
	w.MustRefuse(403, booking.ReasonBanned, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "B", SlotStart: time.Date(2027, 1, 4, 9, 0, 0, 0, wed.Location())})
	w.Clock.Set(time.Date(2027, 1, 1, 9, 0, 0, 0, wed.Location()))
	w.MustDo(201, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "B", SlotStart: time.Date(2027, 1, 4, 9, 0, 0, 0, wed.Location())}, "", &res)
	if res.Warning == nil || res.Warning.Missed != 3 {
		t.Fatalf("warning after the ban %+v", res.Warning)
	}
}

func TestASpecialClosureCancelsItsBookingsAndSaysWhy(t *testing.T) {
	w := MustWorld(t, 1)
	h := w.MustHall(sampleHall("h1"))
	b1 := w.Book(1, "h1", "B", monday(9, 0))
	b2 := w.Book(2, "h1", "A", monday(14, 0))
	keep := w.Book(3, "h1", "B", monday(9, 0).AddDate(0, 0, 1))
	reason := catalog.Text{ZH: "系统升级，暂停办公", EN: "Closed for a system upgrade"}
	h.Calendar.Closures = []calendar.Closure{{Day: "2026-11-30", Reason: reason}}
	// A supervisor of another hall may not; a citizen may not.
	sup := w.IDP.Mint(oidcdev.Token{Subject: "sup", Audience: clientID, Role: auth.RoleHallSupervisor, Halls: []string{"h2"}})
	w.MustRefuse(403, booking.ReasonNotStaff, "PUT", "/api/v1/staff/halls/h1", sup, h)
	w.MustRefuse(403, booking.ReasonNotStaff, "PUT", "/api/v1/staff/halls/h1", w.Citizen(1), h)
	// A stale revision is refused.
	stale := h
	stale.Revision--
	w.MustRefuse(409, booking.ReasonChanged, "PUT", "/api/v1/staff/halls/h1", w.Admin(), stale)
	bad := h
	bad.Calendar.Closures = []calendar.Closure{{Day: "2026-11-30"}}
	w.MustRefuse(400, booking.ReasonBadField, "PUT", "/api/v1/staff/halls/h1", w.Admin(), bad)

	own := w.IDP.Mint(oidcdev.Token{Subject: "sup1", Audience: clientID, Role: auth.RoleHallSupervisor, Halls: []string{"h1"}})
	var rep booking.PutHallReply
	w.MustDo(200, "PUT", "/api/v1/staff/halls/h1", own, h, "", &rep)
	if rep.Cancelled != 2 {
		t.Fatalf("cancelled %d, want 2", rep.Cancelled)
	}
	for i, b := range []booking.Booking{b1, b2} {
		var got booking.Booking
		w.MustDo(200, "GET", "/api/v1/bookings/"+b.ID, w.Citizen(i+1), nil, "", &got)
		if got.Status != booking.Cancelled || got.Reason == nil || *got.Reason != reason {
			t.Fatalf("closed day's booking %+v", got)
		}
	}
	var got booking.Booking
	w.MustDo(200, "GET", "/api/v1/bookings/"+keep.ID, w.Citizen(3), nil, "", &got)
	if got.Status != booking.Booked {
		t.Fatalf("other day's booking %+v", got)
	}
	if a := lastAppointment(t, w, "h1"); a.Status != "cancelled" {
		t.Fatalf("hall not told: %+v", a)
	}
	e := w.MustRefuse(409, booking.ReasonHallClosed, "POST", "/api/v1/bookings", w.Citizen(4), booking.Request{Hall: "h1", Service: "B", SlotStart: monday(10, 0)})
	if !strings.Contains(e.Message, reason.ZH) {
		t.Fatalf("closure refusal %q", e.Message)
	}
	var slots booking.SlotsReply
	w.MustDo(200, "GET", "/api/v1/halls/h1/slots?service=B&day=2026-11-30", "", nil, "", &slots)
	if len(slots.Slots) != 0 {
		t.Fatalf("a closed day has slots: %+v", slots.Slots)
	}
	// The report lists the day's bookings with their reason; CSV too.
	var r booking.Report
	w.MustDo(200, "GET", "/api/v1/staff/halls/h1/bookings?day=2026-11-30", own, nil, "", &r)
	if r.Counts[booking.Cancelled] != 2 || len(r.Bookings) != 2 || r.Bookings[0].CitizenKey != "" {
		t.Fatalf("report %+v", r)
	}
	st, csv := w.Do("GET", "/api/v1/staff/halls/h1/bookings?day=2026-11-30&format=csv", own, nil, "")
	if st != 200 || !strings.Contains(string(csv), reason.ZH) || !strings.Contains(string(csv), b1.ID) || strings.Contains(string(csv), idNumber(1)) {
		t.Fatalf("csv %d %s", st, csv)
	}
	w.MustRefuse(403, booking.ReasonNotStaff, "GET", "/api/v1/staff/halls/h1/bookings?day=2026-11-30", sup, nil)
}

func TestPublicSlotsShowFreeSeats(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	w.Book(1, "h1", "B", monday(9, 0))
	var r booking.SlotsReply
	w.MustDo(200, "GET", "/api/v1/halls/h1/slots?service=B&day=2026-11-30", "", nil, "", &r)
	if len(r.Slots) != 13 || r.Slots[0].Free != 1 || r.Slots[1].Free != 2 || !r.Slots[0].Bookable {
		t.Fatalf("slots %+v", r.Slots)
	}
	w.MustDo(200, "GET", "/api/v1/halls/h1/slots?service=B", "", nil, "", &r)
	if len(r.Slots) != 10 || !r.Slots[0].Start.Equal(friday0900.Add(time.Hour)) { // today 10:00: booking closes at 09:00
		t.Fatalf("next free %+v", r.Slots)
	}
	all, err := w.Insts[0].Svc.NextFreeAll(context.Background(), []string{"h1", "nowhere"})
	if err != nil || len(all) != 1 || len(all["h1"]) != 2 || !all["h1"][0].Start.Equal(friday0900.Add(time.Hour)) || all["h1"][0].Free == 0 {
		t.Fatalf("next free of every hall: %+v %v", all, err)
	}
	w.MustRefuse(404, booking.ReasonUnknownHall, "GET", "/api/v1/halls/nowhere/slots?service=B", "", nil)
	w.MustRefuse(400, booking.ReasonBadField, "GET", "/api/v1/halls/h1/slots?service=B&day=30.11.2026", "", nil)
	w.MustRefuse(400, booking.ReasonBadField, "GET", "/api/v1/halls/h1/slots", "", nil)
}

func TestTokensAreVerified(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	req := booking.Request{Hall: "h1", Service: "B", SlotStart: monday(9, 0)}
	good := oidcdev.Token{Subject: "c1", Audience: clientID, IDNumber: idNumber(1)}
	for name, tok := range map[string]string{
		"bad signature":  w.IDP.MintForeign(good),
		"wrong audience": w.IDP.Mint(oidcdev.Token{Subject: "c1", Audience: "someone-else", IDNumber: idNumber(1)}),
		"expired":        w.IDP.Mint(oidcdev.Token{Subject: "c1", Audience: clientID, IDNumber: idNumber(1), TTL: -time.Minute}),
		"garbage":        "not.a.token",
		"bad id number":  w.IDP.Mint(oidcdev.Token{Subject: "c1", Audience: clientID, IDNumber: "110105194912310021"}),
	} {
		t.Run(name, func(t *testing.T) {
			w.MustRefuse(401, booking.ReasonBadToken, "POST", "/api/v1/bookings", tok, req)
		})
	}
	// A token that was good expires as the clock moves on.
	tok := w.IDP.Mint(good)
	w.Clock.Advance(2 * time.Hour)
	w.MustRefuse(401, booking.ReasonBadToken, "GET", "/api/v1/bookings", tok, nil)
	w.Clock.Advance(-2 * time.Hour)
	w.MustRefuse(403, booking.ReasonNotCitizen, "POST", "/api/v1/bookings", w.Admin(), req)
	w.MustRefuse(403, booking.ReasonNotStaff, "GET", "/api/v1/staff/halls", w.Citizen(1), nil)
	w.MustRefuse(403, booking.ReasonNotStaff, "PUT", "/api/v1/staff/catalog", w.IDP.Mint(oidcdev.Token{Subject: "s", Audience: clientID, Role: auth.RoleHallSupervisor, Halls: []string{"h1"}}), map[string]any{"base_version": 0, "matters": []any{}})
	w.MustDo(201, "POST", "/api/v1/bookings", w.IDP.Mint(good), req, "", nil)
}

func TestCatalogueVersionsAreKeptAndPublishedToHalls(t *testing.T) {
	w := MustWorld(t, 1)
	var c catalog.Catalog
	w.MustDo(200, "GET", "/api/v1/catalog", "", nil, "", &c)
	if c.Version != 0 || len(c.Matters) != 0 {
		t.Fatalf("empty catalogue %+v", c)
	}
	m := catalog.Matter{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Household move"}, Services: []string{"B"},
		Booking: catalog.BookingAllowed, Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证"}, Original: true}}}
	w.MustRefuse(400, booking.ReasonBadField, "PUT", "/api/v1/staff/catalog", w.Admin(), map[string]any{"base_version": 0, "matters": []any{map[string]any{"code": "x", "name": map[string]any{"zh": "x"}, "services": []string{"b"}, "booking": "none"}}})
	w.MustRefuse(400, booking.ReasonBadField, "PUT", "/api/v1/staff/catalog", w.Admin(), map[string]any{"matters": []any{}})
	w.MustRefuse(400, booking.ReasonUnknownField, "PUT", "/api/v1/staff/catalog", w.Admin(), map[string]any{"base_version": 0, "matters": []any{}, "version": 9})
	w.MustDo(200, "PUT", "/api/v1/staff/catalog", w.Admin(), map[string]any{"base_version": 0, "matters": []catalog.Matter{m}}, "", &c)
	if c.Version != 1 || c.PublishedAt != friday0900.Format(time.RFC3339) {
		t.Fatalf("v1 %+v", c)
	}
	w.MustRefuse(409, booking.ReasonChanged, "PUT", "/api/v1/staff/catalog", w.Admin(), map[string]any{"base_version": 0, "matters": []catalog.Matter{m}})
	m.Booking = catalog.BookingRequired
	w.MustDo(200, "PUT", "/api/v1/staff/catalog", w.Admin(), map[string]any{"base_version": 1, "matters": []catalog.Matter{m}}, "", &c)
	// The halls' subject carries the last version whole, with its id.
	s, err := w.JS.Stream(context.Background(), "CATALOG_OUT")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(context.Background(), "central.catalog")
	if err != nil {
		t.Fatal(err)
	}
	var got catalog.Catalog
	_ = json.Unmarshal(msg.Data, &got)
	if got.Version != 2 || msg.Header.Get(jetstream.MsgIDHeader) != "catalog@2" || got.Matters[0].Booking != catalog.BookingRequired {
		t.Fatalf("published %+v %v", got, msg.Header)
	}
	// A booking may name a bookable matter of its service.
	w.MustHall(sampleHall("h1"))
	w.MustRefuse(404, booking.ReasonUnknownMatter, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "A", SlotStart: monday(9, 0), Matter: "hukou-move"})
	var res booking.Result
	w.MustDo(201, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "B", SlotStart: monday(9, 0), Matter: "hukou-move"}, "", &res)
	if res.Booking.Matter != "hukou-move" {
		t.Fatalf("booking %+v", res.Booking)
	}
}

func TestOnlyAProvinceAdminAddsAHall(t *testing.T) {
	w := MustWorld(t, 1)
	sup := w.IDP.Mint(oidcdev.Token{Subject: "sup", Audience: clientID, Role: auth.RoleHallSupervisor, Halls: []string{"h9"}})
	w.MustRefuse(403, booking.ReasonNotStaff, "PUT", "/api/v1/staff/halls/h9", sup, sampleHall("h9"))
	w.MustRefuse(400, booking.ReasonBadField, "PUT", "/api/v1/staff/halls/h9", w.Admin(), sampleHall("h8"))
	w.MustRefuse(404, booking.ReasonUnknownHall, "GET", "/api/v1/staff/halls/h9", sup, nil)
	w.MustHall(sampleHall("h9"))
	var list struct{ Halls []map[string]any }
	w.MustDo(200, "GET", "/api/v1/staff/halls", sup, nil, "", &list)
	if len(list.Halls) != 1 || list.Halls[0]["id"] != "h9" {
		t.Fatalf("a supervisor's halls %+v", list)
	}
}
