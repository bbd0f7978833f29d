package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/devices/idcard"
	"hallq/queue-server/hall"
	"hallq/queue-server/seal"
	"hallq/queue-server/wire"
)

// TestBookingIDsAndCheckInAnswer: a booking made at the hall without an id
// gets an unguessable one (≥ 128 random bits), an old short id still checks
// in, and the check-in answer to a kiosk carries only what the holder needs:
// no masked ID for a booking code alone, no kiosk, clerk, age class or
// booking id; the card's holder sees their masked ID.
func TestBookingIDsAndCheckInAnswer(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	slot := h.clock.Now().Add(10 * time.Minute)
	num := residentID(t, 7)
	upsert := func(id, idem string) (hall.Booking, error) {
		var b hall.Booking
		_, err := h.admin.Do(ctx, "POST", "/api/v1/appointments", idem, hall.Booking{ID: id, CitizenKey: key1, MaskedID: "1101**********0077",
			Service: "A", SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute), Status: hall.BookingBooked}, &b)
		return b, err
	}
	// (the Go client always sends a key; a client from the docs alone may not)
	body := fmt.Sprintf(`{"citizen_key":%q,"service":"A","slot_start":%q,"slot_end":%q,"status":"booked"}`,
		key1, slot.Format(time.RFC3339), slot.Add(30*time.Minute).Format(time.RFC3339))
	if status, _, reply := h.raw(h.admin.Token, "POST", "/api/v1/appointments", body, map[string]string{"Content-Type": "application/json"}); status != http.StatusBadRequest || !strings.Contains(reply, "Idempotency-Key") {
		t.Errorf("a new booking without an id or idempotency key: %d %s, want 400 naming Idempotency-Key", status, reply)
	}
	minted, err := upsert("", "new-booking-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(minted.ID) != 28 || minted.ID[:2] != "bk" {
		t.Fatalf("minted booking id %q, want bk + 26 base32 characters (130 bits)", minted.ID)
	}
	again, err := upsert("", "new-booking-1")
	if err != nil || again.ID != minted.ID {
		t.Errorf("a retried new booking booked twice: %q vs %q (%v)", again.ID, minted.ID, err)
	}
	other, _ := upsert("", "new-booking-2")
	if other.ID == minted.ID {
		t.Error("two minted booking ids are equal")
	}
	kiosk := h.as(wire.RoleKiosk, 0)
	tv, err := kiosk.CheckIn(ctx, "ci-1", hall.CheckIn{Booking: minted.ID})
	if err != nil {
		t.Fatal(err)
	}
	if tv.MaskedID != "" || tv.Kiosk != "" || tv.Booking != "" || tv.AgeClass != "" || tv.CitizenKey != "" || tv.Number == "" {
		t.Errorf("check-in by booking code tells the code's bearer too much: %+v", tv.Ticket)
	}
	// an old-style id still works; a card check-in shows its holder the masked ID
	var old hall.Booking
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/appointments", "", hall.Booking{ID: "BK-7", CitizenKey: mustKey(t, h, num), MaskedID: "1101**********0077",
		Service: "B", SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute), Status: hall.BookingBooked}, &old); err != nil {
		t.Fatal(err)
	}
	pubText, _ := kiosk.SealKey(ctx)
	pub, _ := seal.ParsePublic(pubText)
	sealed, _ := seal.Seal(pub, num)
	tv, err = kiosk.CheckIn(ctx, "ci-2", hall.CheckIn{SealedID: sealed})
	if err != nil {
		t.Fatal(err)
	}
	if tv.MaskedID == "" || tv.Service != "B" || tv.Kiosk != "" {
		t.Errorf("check-in by card: %+v", tv.Ticket)
	}
}

func mustKey(t *testing.T, h *testHall, num string) string {
	t.Helper()
	secret, err := h.Store.Secret()
	if err != nil {
		t.Fatal(err)
	}
	n, err := idcard.ParseIDNumber(num)
	if err != nil {
		t.Fatal(err)
	}
	return n.Key(secret)
}
