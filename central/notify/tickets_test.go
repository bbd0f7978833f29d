package notify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/central/notify"
	"hallq/internal/halltest"
	"hallq/internal/testclock"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
)

// A booked citizen checks in at a real hall (forwarding to the central)
// first and is told, by push and SMS, that they are next, when called to
// window 4 ("请到 4 号窗口") and when missed; a walk-in behind four others
// whose browser opted in on the ticket page without signing in is told
// when 3 are ahead and when called, in English. Each kind arrives once.
func TestTicketKindsOfABookedAndAWalkInTicket(t *testing.T) {
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("420102-01"))
	w.OptIn(1, "13800138000")
	b := w.Book(1, "420102-01", "B", testclock.At(10, 30))
	w.pushesOf("citizen-1", notify.Confirmed, 1)

	h := halltest.RunHall(t, halltest.Options{Clock: w.Clock, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: w.NS.URL(), MinBackoff: 50 * time.Millisecond, PollInterval: 50 * time.Millisecond}
		o.CitizenSecret = provinceKey
	}})
	w.Clock.Set(testclock.At(10, 5))
	ctx := context.Background()
	kiosk := h.As("kiosk", "kiosk-1", 0)
	var tk hall.TicketView
	eventually(t, "the booking reaches the hall and checks in", func() bool {
		var err error
		tk, err = kiosk.CheckIn(ctx, "scan-1", hall.CheckIn{Booking: b.ID})
		var he *hall.Error
		if errors.As(err, &he) && he.Reason == string(hall.ReasonNoBooking) {
			return false
		}
		if err != nil {
			t.Fatalf("check-in: %v", err)
		}
		return true
	})
	for i := range 4 {
		if _, err := h.Admin.Issue(ctx, fmt.Sprint("walk-", i), hall.IssueRequest{Service: "B", CitizenKey: strings.Repeat(fmt.Sprint(i), 64), MaskedID: "4201**********1234"}); err != nil {
			t.Fatal(err)
		}
	}
	walk, err := h.Admin.Issue(ctx, "walk-5", hall.IssueRequest{Service: "B", CitizenKey: strings.Repeat("9", 64), MaskedID: "4201**********9999"})
	if err != nil {
		t.Fatal(err)
	}
	// The walk-in's browser opts in on the ticket page: no sign-in.
	sub := w.Push.Subscribe("walk-in")
	eventually(t, "the walk-in ticket reaches the central", func() bool {
		st, _ := w.Do("PUT", "/api/v1/tickets/"+walk.ID+"/notifications", "", notify.TicketRequest{Subscription: sub, Lang: "en"})
		return st == 200
	})
	var tf notify.TicketFollow
	w.MustDo(200, "GET", "/api/v1/tickets/"+walk.ID+"/notifications?endpoint="+sub.Endpoint, "", nil, &tf)
	if !tf.Following || !slices.Equal(tf.Kinds, notify.TicketKinds) {
		t.Fatalf("follow %+v", tf)
	}
	eventually(t, "the booked ticket is followed", func() bool {
		kv, _ := w.P.JS.KeyValue(ctx, notify.SubsBucket)
		l, _ := kv.ListKeys(ctx)
		for k := range l.Keys() {
			if strings.Contains(k, tk.ID) {
				return true
			}
		}
		return false
	})

	clerk := h.As("clerk", "clerk-4", 4)
	if _, err := clerk.SetWindow(ctx, 4, "open", ""); err != nil {
		t.Fatal(err)
	}
	callNext := func() hall.TicketView {
		t.Helper()
		c, ok, err := clerk.Call(ctx, fmt.Sprint("call-", time.Now().UnixNano()), 4, "")
		if err != nil || !ok {
			t.Fatalf("call: %v %v", ok, err)
		}
		t.Logf("called %s %s", c.Number, c.ID)
		return c
	}
	finish := func(c hall.TicketView) {
		t.Helper()
		for _, a := range []string{"start", "complete"} {
			if _, err := clerk.Act(ctx, a+c.ID, c.ID, a, nil); err != nil {
				t.Fatalf("%s: %v", a, err)
			}
		}
	}
	if c := callNext(); c.ID != tk.ID {
		t.Fatalf("called %s before the booked ticket %s", c.Number, tk.Number)
	}
	ahead := w.pushesOf("citizen-1", notify.Ahead, 1)[0]
	if ahead.Body.Body != "下一位就是您，请到大厅等候叫号。" || ahead.Body.URL != "/t/"+tk.ID || ahead.Urgency != "high" {
		t.Fatalf("ahead %+v", ahead)
	}
	called := w.pushesOf("citizen-1", notify.Called, 1)[0]
	if called.Body.Title != "请 "+tk.Number+" 号到 4 号窗口" || called.Body.Body != "请到 4 号窗口办理。" {
		t.Fatalf("called %+v", called.Body)
	}
	if sms := w.textsOf(phone1, "called", 1)[0]; !slices.Equal(sms.Params, []string{tk.Number, "4"}) {
		t.Fatalf("called sms %+v", sms)
	}
	w.textsOf(phone1, "ahead", 1)
	if _, err := clerk.Act(ctx, "ns-"+tk.ID, tk.ID, "no-show", nil); err != nil {
		t.Fatal(err)
	}
	missed := w.pushesOf("citizen-1", notify.Missed, 1)[0]
	if !strings.Contains(missed.Body.Body, tk.Number+" 号叫号时您不在") {
		t.Fatalf("missed %+v", missed.Body)
	}
	w.textsOf(phone1, "missed", 1)

	for {
		c := callNext()
		if c.ID == walk.ID {
			break
		}
		finish(c)
	}
	wa := w.pushesOf("walk-in", notify.Ahead, 1)[0]
	if wa.Body.Title != walk.Number+": your turn is near" || wa.Body.Body != "3 ahead of you. Please come back to the hall." {
		t.Fatalf("walk-in ahead %+v", wa.Body)
	}
	wc := w.pushesOf("walk-in", notify.Called, 1)[0]
	if wc.Body.Title != walk.Number+", please go to window 4" || wc.Body.URL != "/t/"+walk.ID {
		t.Fatalf("walk-in called %+v", wc.Body)
	}
	finish(walk)
	eventually(t, "a ticket over is no longer followed", func() bool {
		var tf notify.TicketFollow
		st, _ := w.Do("GET", "/api/v1/tickets/"+walk.ID+"/notifications?endpoint="+sub.Endpoint, "", nil)
		if st != 200 {
			return false
		}
		w.MustDo(200, "GET", "/api/v1/tickets/"+walk.ID+"/notifications?endpoint="+sub.Endpoint, "", nil, &tf)
		return !tf.Following
	})
	for _, k := range []notify.Kind{notify.Ahead, notify.Called, notify.Missed} {
		w.noMore("citizen-1", k, 1)
	}
	w.noMore("walk-in", notify.Ahead, 1)
	w.noMore("walk-in", notify.Called, 1)
	w.noMore("walk-in", notify.Missed, 0)
}
