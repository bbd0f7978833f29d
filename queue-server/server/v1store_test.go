package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/internal/testclock"
	"hallq/queue-server/api/apispec"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// TestStoreOfTheV1BookingSpelling opens testdata/v1-store, a store written
// by the hall before the booking rename (events of type
// appointment.upserted, bookings and tickets' booking ids under
// "appointment", channel "appointment"): three bookings (BK-1 checked in,
// BK-2 cancelled, BK-3 booked for 10:30), BK-1's ticket and a walk-in. It
// replays, serves the same bookings and tickets under today's names, both
// on the new routes and the deprecated ones, checks in what it should and
// refuses what it should, before and after a restart.
func TestStoreOfTheV1BookingSpelling(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"hall.db", "bootstrap-token"} {
		b, err := os.ReadFile(filepath.Join("testdata", "v1-store", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := &testHall{t: t, dir: dir, clock: testclock.New(testclock.At(10, 0))}
	h.start("127.0.0.1:0")
	tok, err := os.ReadFile(filepath.Join(dir, BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	h.admin = client.New(h.URL, strings.TrimSpace(string(tok)))
	h.admin.HTTP = apispec.Client(t)
	ctx := context.Background()

	check := func(when, bk3 string) {
		for _, path := range []string{"/api/v1/bookings", "/api/v1/appointments"} {
			var bs []hall.Booking
			if _, err := h.admin.Do(ctx, "GET", path, "", nil, &bs); err != nil {
				t.Fatalf("%s: %s: %v", when, path, err)
			}
			got := map[string]string{}
			for _, b := range bs {
				got[b.ID] = b.Status
			}
			if len(bs) != 3 || got["BK-1"] != hall.BookingCheckedIn || got["BK-2"] != hall.BookingCancelled || got["BK-3"] != bk3 {
				t.Errorf("%s: %s gives %v, want BK-1 checked in, BK-2 cancelled, BK-3 %s", when, path, got, bk3)
			}
		}
		var raw json.RawMessage
		if _, err := h.admin.Do(ctx, "GET", "/api/v1/tickets", "", nil, &raw); err != nil {
			t.Fatal(err)
		}
		var tks []map[string]any
		if err := json.Unmarshal(raw, &tks); err != nil {
			t.Fatal(err)
		}
		channels := map[any]int{}
		for _, tk := range tks {
			channels[tk["channel"]]++
			if tk["channel"] == string(hall.BookingChannel) && tk["booking"] != "BK-1" && tk["booking"] != "BK-3" {
				t.Errorf("%s: a booking ticket names booking %v, want BK-1 or BK-3", when, tk["booking"])
			}
		}
		if channels[string(hall.BookingChannel)] < 1 || channels[string(hall.WalkIn)] != 1 {
			t.Errorf("%s: ticket channels %v, want BK-1's ticket on channel booking and one walk-in", when, channels)
		}
		if strings.Contains(string(raw), "appointment") {
			t.Errorf("%s: tickets served with the v1 spelling: %s", when, raw)
		}
		raw = nil
		if _, err := h.admin.Do(ctx, "GET", "/api/v1/events?after=0", "", nil, &raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "appointment") || strings.Count(string(raw), `"type":"`+hall.EvBooking+`"`) < 4 {
			t.Errorf("%s: the old events are not served as %s with a booking: %s", when, hall.EvBooking, raw)
		}
	}
	check("opened", hall.BookingBooked)

	kiosk := h.as(wire.RoleKiosk, 0)
	if _, err := kiosk.CheckIn(ctx, "v1-again", hall.CheckIn{Booking: "BK-1"}); hall.ErrorReason(err) != string(hall.ReasonAlreadyCheckedIn) {
		t.Errorf("BK-1 checked in again: %v, want %s", err, hall.ReasonAlreadyCheckedIn)
	}
	if _, err := kiosk.CheckIn(ctx, "v1-cancelled", hall.CheckIn{Booking: "BK-2"}); hall.ErrorReason(err) != string(hall.ReasonNoBooking) {
		t.Errorf("cancelled BK-2 checked in: %v, want %s", err, hall.ReasonNoBooking)
	}
	tv, err := kiosk.CheckIn(ctx, "v1-new", hall.CheckIn{Booking: "BK-3"})
	if err != nil || tv.Channel != hall.BookingChannel {
		t.Fatalf("BK-3 check-in: %+v, %v", tv.Ticket, err)
	}
	h.restart()
	check("restarted", hall.BookingCheckedIn)
}
