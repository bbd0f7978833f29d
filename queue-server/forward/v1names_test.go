package forward_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// A forwarded booking event goes out as booking.upserted with the booking
// under "booking" and, for centrals in the field, under "appointment" (the
// v1 field name), on both sinks; the masked ID is stripped from both, and
// the event reads back as one hall.Event.
func TestForwardedBookingCarriesTheV1FieldToo(t *testing.T) {
	check := func(sink string, raw []byte) {
		t.Helper()
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", sink, err)
		}
		if string(m["type"]) != `"`+hall.EvBooking+`"` || m["booking"] == nil || string(m["booking"]) != string(m["appointment"]) {
			t.Errorf("%s: forwarded %s, want type %s and the same booking under booking and appointment", sink, raw, hall.EvBooking)
		}
		if strings.Contains(string(raw), "masked_id") {
			t.Errorf("%s: forwarded a masked ID: %s", sink, raw)
		}
		var ev hall.Event
		if err := json.Unmarshal(raw, &ev); err != nil || ev.Booking == nil || ev.Booking.ID != "BK-1" {
			t.Errorf("%s: reads back as %+v (%v)", sink, ev.Booking, err)
		}
	}
	book := func(h *Hall) {
		slot := h.Clock.Now().Add(time.Hour)
		if _, err := h.Svc.UpsertBooking(t.Context(), hall.Op{Actor: "central"}, hall.Booking{ID: "BK-1", CitizenKey: strings.Repeat("ab", 32),
			MaskedID: "1101**********0077", Service: "A", SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute), Status: hall.BookingBooked}); err != nil {
			t.Fatal(err)
		}
	}

	// HTTPS
	secret := []byte("hall-shared-secret-0123456789")
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h := MustHall(t, "", fastConfig(), nil)
	book(h)
	f, _ := h.StartForwarder(t, forward.Config{HTTPSURL: srv.URL, HTTPSSecret: secret})
	waitFor(t, "the booking to be sent", 20*time.Second, func() bool { return f.Stats().Backlog == 0 })
	mu.Lock()
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	if len(bodies) != 1 || json.Unmarshal(bodies[0], &batch) != nil || len(batch.Events) != 1 {
		t.Fatalf("https: %d bodies: %s", len(bodies), bodies)
	}
	mu.Unlock()
	check("https", batch.Events[0])

	// NATS
	c := MustCentral(t)
	h2 := MustHall(t, "", fastConfig(), nil)
	book(h2)
	f2, _ := h2.StartForwarder(t, forward.Config{NATSURL: c.Srv.URL()})
	waitFor(t, "the booking to be published", 20*time.Second, func() bool { return f2.Stats().Backlog == 0 })
	s, err := c.JS.Stream(t.Context(), platform.HallsStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(t.Context(), forward.Subject(hallID, hall.EvBooking))
	if err != nil {
		t.Fatalf("nats: no message on %s: %v", forward.Subject(hallID, hall.EvBooking), err)
	}
	check("nats", msg.Data)
}
