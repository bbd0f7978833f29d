package hall

import (
	"encoding/json"
	"strings"
	"testing"
)

// Events as halls wrote them before the booking rename (type
// appointment.upserted, the booking and a ticket's booking id under
// "appointment", channel "appointment") read with today's names, and
// today's events are written with them only.
func TestEventReadsTheV1BookingSpelling(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"booking upsert", `{"seq":3,"type":"appointment.upserted","at":"2026-11-27T10:00:00+08:00","day":"2026-11-27","appointment":{"id":"BK-1","service":"A","slot_start":"2026-11-27T10:10:00+08:00","slot_end":"2026-11-27T10:40:00+08:00","status":"booked"}}`},
		{"check-in", `{"seq":4,"type":"ticket.issued","at":"2026-11-27T10:00:00+08:00","day":"2026-11-27","ticket":{"id":"t1","number":"A001","service":"A","channel":"appointment","appointment":"BK-1","status":"waiting"},"appointment":{"id":"BK-1","service":"A","status":"checked_in","ticket":"t1"}}`},
	} {
		var ev Event
		if err := json.Unmarshal([]byte(tc.json), &ev); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ev.Booking == nil || ev.Booking.ID != "BK-1" {
			t.Errorf("%s: booking %+v, want BK-1 read from \"appointment\"", tc.name, ev.Booking)
		}
		if ev.Type == evBookingV1 {
			t.Errorf("%s: type still %s", tc.name, ev.Type)
		}
		if ev.Ticket != nil && (ev.Ticket.Channel != BookingChannel || ev.Ticket.Booking != "BK-1") {
			t.Errorf("%s: ticket channel %q booking %q, want %q BK-1", tc.name, ev.Ticket.Channel, ev.Ticket.Booking, BookingChannel)
		}
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "appointment") {
			t.Errorf("%s: written again as %s, want no v1 spelling", tc.name, out)
		}
		if !strings.Contains(string(out), `"booking":`) {
			t.Errorf("%s: written again as %s, want the booking under \"booking\"", tc.name, out)
		}
	}
	var ev Event
	if err := json.Unmarshal([]byte(`{"seq":1,"type":"appointment.upserted"}`), &ev); err != nil || ev.Type != EvBooking {
		t.Errorf("type appointment.upserted read as %q (%v), want %s", ev.Type, err, EvBooking)
	}
	if err := json.Unmarshal([]byte(`{"seq":"x"}`), &ev); err == nil {
		t.Error("a malformed event decoded without an error")
	}
}
