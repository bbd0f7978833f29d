package forward_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// Online ratings from the central: a valid one is applied with channel
// online (once, however often it is delivered); bad or refused ones — bad
// JSON, unknown fields, a bad score, a low score without its reason, an
// unknown ticket, a visit not served, a second rating — are terminated,
// and the ones after them still get through.
func TestOnlineRatingsAtTheHall(t *testing.T) {
	c := MustCentral(t)
	h := MustHall(t, "", fastConfig(), nil)
	ctx := context.Background()
	if _, err := h.Svc.SetWindow(ctx, hall.Op{}, 1, hall.WindowOpen, "", ""); err != nil {
		t.Fatal(err)
	}
	served := func(i int) string {
		tk, err := h.Svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := h.Svc.Call(ctx, hall.Op{}, 1, tk.ID); err != nil || !ok {
			t.Fatalf("call: %v %v", ok, err)
		}
		for _, a := range []string{hall.ActStart, hall.ActComplete} {
			if _, err := h.Svc.Act(ctx, hall.Op{}, hall.Action{Name: a, Ticket: tk.ID}); err != nil {
				t.Fatal(err)
			}
		}
		return tk.ID
	}
	a, b := served(1), served(2)
	waiting, err := h.Svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "A"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	send := func(body string) {
		n++
		m := &nats.Msg{Subject: forward.RatingsSubject(hallID), Data: []byte(body), Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprint("rating-", n))
		if _, err := c.JS.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	rate := func(r forward.Rating) string { b, _ := json.Marshal(r); return string(b) }
	send(`{"request_id":"r0"`)
	send(`{"request_id":"r0","ticket":"` + a + `","score":5,"stars":5}`)
	send(rate(forward.Rating{RequestID: "r1", Ticket: a, Score: 6}))
	send(rate(forward.Rating{RequestID: "r2", Ticket: a, Score: 1}))
	send(rate(forward.Rating{RequestID: "r3", Ticket: "nosuchticket000000", Score: 5}))
	send(rate(forward.Rating{RequestID: "r4", Ticket: waiting.ID, Score: 5}))
	send(rate(forward.Rating{RequestID: "", Ticket: a, Score: 5}))
	send(rate(forward.Rating{RequestID: "rate-a", Ticket: a, Score: 2, Indicators: []hall.Indicator{hall.IndAttitude}, Reason: "态度差"}))
	send(rate(forward.Rating{RequestID: "rate-a", Ticket: a, Score: 2, Indicators: []hall.Indicator{hall.IndAttitude}, Reason: "态度差"})) // a copy
	send(rate(forward.Rating{RequestID: "rate-a2", Ticket: a, Score: 5}))                                                               // a second rating
	send(rate(forward.Rating{RequestID: "rate-b", Ticket: b, Score: 4}))
	runBookings(t, c, h)
	info := waitConsumed(t, c)
	if info.Delivered.Stream != uint64(n) {
		t.Fatalf("delivered up to %d of %d", info.Delivered.Stream, n)
	}
	for id, want := range map[string]hall.Rating{a: {Score: 2, Reason: "态度差", Channel: hall.ViaOnline}, b: {Score: 4, Channel: hall.ViaOnline}} {
		tk, err := h.Svc.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r := tk.Rating; r == nil || r.Score != want.Score || r.Reason != want.Reason || r.Channel != want.Channel {
			t.Fatalf("ticket %s: %+v, want %+v", tk.Number, r, want)
		}
	}
	if tk, _ := h.Svc.Ticket(ctx, waiting.ID); tk.Rating != nil {
		t.Fatalf("a waiting ticket was rated: %+v", tk.Rating)
	}
}
