package forward_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

func booking(i int, status string) forward.Booking {
	id := testID(i)
	key, _ := platform.CitizenKey(provinceKey, id)
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, cst).Add(time.Duration(i) * time.Minute)
	return forward.Booking{BookingID: fmt.Sprintf("BK-20261127-%06d", i), CitizenKey: key, MaskedID: platform.MaskID(id),
		Service: "A", SlotStart: start, SlotEnd: start.Add(30 * time.Minute), Status: status}
}

func runBookings(t testing.TB, c *Central, h *Hall) (stop func()) {
	cfg := forward.Config{HallID: hallID, NATSURL: c.Srv.URL(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	return goUntilCleanup(t, func(ctx context.Context) {
		if err := forward.RunBookings(ctx, cfg, h.Svc, nil); err != nil {
			t.Errorf("bookings: %v", err)
		}
	})
}

// waitConsumed waits until the hall's durable consumer has nothing pending.
// waitConsumed waits until the hall's consumer has been delivered every
// message of the stream (a fresh consumer can report nothing pending before
// it has looked at the stream) and has none unacknowledged.
func waitConsumed(t testing.TB, c *Central) *jetstream.ConsumerInfo {
	t.Helper()
	var info *jetstream.ConsumerInfo
	waitFor(t, "the hall's consumer to drain", 20*time.Second, func() bool {
		st, err := c.JS.Stream(context.Background(), platform.CentralStream)
		if err != nil {
			return false
		}
		sinfo, err := st.Info(context.Background())
		if err != nil {
			return false
		}
		cons, err := c.JS.Consumer(context.Background(), platform.CentralStream, "hall-"+hallID)
		if err != nil {
			return false
		}
		info, err = cons.Info(context.Background())
		return err == nil && info.Delivered.Stream >= sinfo.State.LastSeq && info.NumPending == 0 && info.NumAckPending == 0
	})
	return info
}

// Bookings, changes, cancellations and remote tickets published while
// the hall is down are all there after it starts; invalid messages are
// terminated; a re-sent remote ticket request issues once.
func TestBookingsWhileHallDown(t *testing.T) {
	c := MustCentral(t)
	ctx := context.Background()
	for i := range 40 {
		if _, err := platform.PublishAppointment(ctx, c.JS, hallID, booking(i, "booked")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 { // cancellations
		if _, err := platform.PublishAppointment(ctx, c.JS, hallID, booking(i, hall.BookingCancelled)); err != nil {
			t.Fatal(err)
		}
	}
	moved := booking(10, "booked") // a change of slot
	moved.SlotStart, moved.SlotEnd = moved.SlotStart.Add(2*time.Hour), moved.SlotEnd.Add(2*time.Hour)
	platform.PublishAppointment(ctx, c.JS, hallID, moved)
	// invalid: bad JSON, a raw ID number as key, an unknown service
	raw := func(subj, body, id string) {
		m := &nats.Msg{Subject: subj, Data: []byte(body), Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, id)
		if _, err := c.JS.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	raw(forward.BookingsSubject(hallID), `{"booking_id": "x"`, "bad-1")
	bad := booking(90, "booked")
	bad.CitizenKey = testID(90)
	platform.PublishAppointment(ctx, c.JS, hallID, bad)
	bad = booking(91, "booked")
	bad.Service = "Z"
	platform.PublishAppointment(ctx, c.JS, hallID, bad)
	// remote tickets, each request sent twice under different message ids
	for i := range 6 {
		r := forward.RemoteTicket{RequestID: fmt.Sprintf("RT-%03d", i), Service: "B", MaskedID: platform.MaskID(testID(100 + i))}
		r.CitizenKey, _ = platform.CitizenKey(provinceKey, testID(100+i))
		platform.PublishRemoteTicket(ctx, c.JS, hallID, r)
		raw(forward.RemoteTicketsSubject(hallID), fmt.Sprintf(`{"request_id":"RT-%03d","service":"B"}`, i), fmt.Sprintf("resend-%d", i))
	}

	h := MustHall(t, "", fastConfig(), nil)
	h.StartForwarder(t, forward.Config{NATSURL: c.Srv.URL()})
	runBookings(t, c, h)
	info := waitConsumed(t, c)
	if info.Delivered.Stream != 40+5+1+3+12 {
		t.Fatalf("consumer delivered up to %d", info.Delivered.Stream)
	}

	bs, err := h.Svc.Bookings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]hall.Booking{}
	for _, b := range bs {
		byID[b.ID] = b
	}
	if len(byID) != 40 {
		t.Fatalf("%d bookings, want 40", len(byID))
	}
	for i := range 40 {
		b := byID[booking(i, "").BookingID]
		want := hall.BookingBooked
		if i < 5 {
			want = hall.BookingCancelled
		}
		if b.Status != want || len(b.CitizenKey) != 64 {
			t.Fatalf("booking %d: %+v", i, b)
		}
	}
	if b := byID[moved.BookingID]; !b.SlotStart.Equal(moved.SlotStart) {
		t.Fatalf("change not applied: %+v", b)
	}
	remote, err := h.Svc.Tickets(ctx, func(t *hall.Ticket) bool { return t.Channel == hall.Remote })
	if err != nil || len(remote) != 6 {
		t.Fatalf("%d remote tickets (%v), want 6: a redelivered request must not issue twice", len(remote), err)
	}
	// The remote tickets reach the central with the request id as actor.
	v := c.CheckOracle(t, h.LastSeq(t))
	if v.Remote != 6 {
		t.Fatalf("central saw %d remote tickets", v.Remote)
	}
}

// A message is acknowledged only after the hall committed it: whatever the
// consumer's ack floor says at a crash is in the store after a restart.
func TestBookingsAckedOnlyAfterCommit(t *testing.T) {
	c := MustCentral(t)
	ctx := context.Background()
	const n = 150
	for i := range n {
		if _, err := platform.PublishAppointment(ctx, c.JS, hallID, booking(i, "booked")); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	h := MustHall(t, dir, fastConfig(), nil)
	stop := runBookings(t, c, h)
	waitFor(t, "some bookings", 20*time.Second, func() bool { bs, _ := h.Svc.Bookings(ctx); return len(bs) >= 20 })
	stop() // the hall dies mid-stream
	h.Close()
	cons, err := c.JS.Consumer(ctx, platform.CentralStream, "hall-"+hallID)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acked := info.AckFloor.Stream
	if acked == 0 || acked >= n {
		t.Logf("ack floor %d of %d", acked, n)
	}

	h2 := MustHall(t, dir, fastConfig(), nil)
	bs, _ := h2.Svc.Bookings(ctx)
	have := map[string]bool{}
	for _, b := range bs {
		have[b.ID] = true
	}
	for i := range int(acked) {
		if !have[booking(i, "").BookingID] {
			t.Fatalf("booking %d was acknowledged (ack floor %d) but is not in the store", i, acked)
		}
	}
	runBookings(t, c, h2)
	waitConsumed(t, c)
	if bs, _ := h2.Svc.Bookings(ctx); len(bs) != n {
		t.Fatalf("%d bookings after restart, want %d", len(bs), n)
	}
}
