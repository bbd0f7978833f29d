package booking_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/platform"
)

// A process died after reserving a citizen's caps and a seat, before it
// wrote the booking, and the request was never retried. For a minute the
// seat and the reservation stand (a live request may be between its
// writes); after that, the next booking that finds the slot full reclaims
// the seat, and the citizen's reservation no longer counts.
func TestSeatsAndCapsOfADeadRequestAreReclaimed(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	ctx := context.Background()
	key, _ := platform.CitizenKey(provinceKey, idNumber(1))
	const ghost = "bkghostghostghostghostghost0"
	now := w.Clock.Now()
	put := func(bucket, k string, v any) {
		kv, err := w.JS.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		if _, err := kv.Put(ctx, k, b); err != nil {
			t.Fatal(err)
		}
	}
	put(booking.SlotsBucket, "h1.A.20261130.0900", map[string]any{"ids": []string{ghost}, "since": map[string]time.Time{ghost: now}})
	put(booking.CitizensBucket, key, map[string]any{"refs": []map[string]any{{"id": ghost, "hall": "h1", "service": "A", "day": "2026-11-30",
		"week": "2026-W49", "start": monday(9, 0), "status": "booked", "at": now}}})

	w.MustRefuse(409, booking.ReasonSlotFull, "POST", "/api/v1/bookings", w.Citizen(2), booking.Request{Hall: "h1", Service: "A", SlotStart: monday(9, 0)})
	w.MustRefuse(409, booking.ReasonAlreadyBooked, "POST", "/api/v1/bookings", w.Citizen(1), booking.Request{Hall: "h1", Service: "A", SlotStart: monday(10, 0)})
	w.Clock.Advance(2 * time.Minute)
	b := w.Book(2, "h1", "A", monday(9, 0))
	if s := w.Seats("h1", "A", monday(9, 0)); len(s) != 1 || s[0] != b.ID {
		t.Fatalf("seats %v", s)
	}
	w.Book(1, "h1", "A", monday(10, 0))
}
