package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/booking"
	"hallq/central/notify"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

const phone1 = "+8613800138000"

// noMore checks, once the outbox has settled, that exactly n pushes of
// kind k reached endpoint (nothing sent twice).
func (w *world) noMore(endpoint string, k notify.Kind, n int) {
	w.t.Helper()
	w.settle()
	got := 0
	for _, p := range w.Push.Got() {
		if p.Endpoint == endpoint && p.Body.Kind == k {
			got++
		}
	}
	if got != n {
		w.t.Fatalf("%d %s pushes to %s, want %d: %+v", got, k, endpoint, n, w.Push.Got())
	}
}

// A booking made tells the citizen by push and by SMS: the hall's name
// and the slot in the hall's time (Asia/Shanghai), the page to open; the
// SMS is signed and uses the confirmed template with the same facts.
func TestConfirmedArrivesByPushAndSMS(t *testing.T) {
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("h1"))
	w.OptIn(1, "138 0013 8000")
	w.Book(1, "h1", "B", monday(10, 0))
	p := w.pushesOf("citizen-1", notify.Confirmed, 1)[0]
	if p.Body.Title != "预约成功" || !strings.Contains(p.Body.Body, "测试大厅，11月30日（周一）10:00") || p.Body.URL != "/bookings" {
		t.Fatalf("push %+v", p.Body)
	}
	if len(p.Topic) != 32 || p.TTL == "" {
		t.Fatalf("push headers: topic %q ttl %q", p.Topic, p.TTL)
	}
	sms := w.textsOf(phone1, "confirmed", 1)[0]
	if !slices.Equal(sms.Params, []string{"测试大厅", "11月30日（周一）10:00"}) || !strings.HasPrefix(sms.Session, "confirmed.bk") {
		t.Fatalf("sms %+v", sms)
	}
	w.noMore("citizen-1", notify.Confirmed, 1)
	// Another citizen, who opted into nothing, is told nothing.
	w.Book(2, "h1", "B", monday(10, 0))
	w.settle()
	if n := len(w.Push.Got()); n != 1 {
		t.Fatalf("%d pushes: %+v", n, w.Push.Got())
	}
}

// A moved booking tells "changed" with the new slot; the reminders (the
// evening before at 20:00 and 2 h before) come for the new slot only —
// those decided for the old slot are dropped when due.
func TestChangedAndReminders(t *testing.T) {
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("h1"))
	w.OptIn(1, "13800138000")
	b := w.Book(1, "h1", "B", monday(10, 0))
	w.pushesOf("citizen-1", notify.Confirmed, 1)
	w.MustDo(200, "POST", "/api/v1/bookings/"+b.ID+"/reschedule", w.Citizen(1), booking.RescheduleRequest{SlotStart: monday(11, 0)}, nil)
	p := w.pushesOf("citizen-1", notify.Changed, 1)[0]
	if p.Body.Title != "预约已改期" || !strings.Contains(p.Body.Body, "11月30日（周一）11:00") {
		t.Fatalf("changed %+v", p.Body)
	}
	w.textsOf(phone1, "changed", 1)
	w.settle()
	if n := len(w.pushesOfNow("citizen-1", notify.Reminder)); n != 0 {
		t.Fatalf("%d reminders before they are due", n)
	}
	w.Clock.Set(time.Date(2026, 11, 29, 20, 0, 0, 0, time.FixedZone("CST", 8*3600))) // Sunday evening
	eve := w.pushesOf("citizen-1", notify.Reminder, 1)[0]
	if !strings.Contains(eve.Body.Body, "11:00") {
		t.Fatalf("evening reminder %+v", eve.Body)
	}
	w.noMore("citizen-1", notify.Reminder, 1)
	w.Clock.Set(monday(9, 0))
	w.pushesOf("citizen-1", notify.Reminder, 2)
	w.noMore("citizen-1", notify.Reminder, 2)
	for _, r := range w.pushesOfNow("citizen-1", notify.Reminder) {
		if !strings.Contains(r.Body.Body, "11:00") {
			t.Fatalf("a reminder of the old slot: %+v", r.Body)
		}
	}
	if n := len(w.textsOf(phone1, "reminder", 2)); n != 2 {
		t.Fatalf("%d reminder texts", n)
	}
}

func (w *world) pushesOfNow(endpoint string, k notify.Kind) []pushed {
	var out []pushed
	for _, p := range w.Push.Got() {
		if p.Endpoint == endpoint && p.Body.Kind == k {
			out = append(out, p)
		}
	}
	return out
}

// A booking cancelled by the citizen says so; the SMS uses the cancelled
// template. The phone number, needed by no other booking, is deleted.
func TestCancelledByTheCitizen(t *testing.T) {
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("h1"))
	w.OptIn(1, "13800138000")
	b := w.Book(1, "h1", "B", monday(10, 0))
	w.pushesOf("citizen-1", notify.Confirmed, 1)
	var ch notify.Choices
	w.MustDo(200, "GET", "/api/v1/notifications", w.Citizen(1), nil, &ch)
	if ch.Phone != "+86 138****8000" {
		t.Fatalf("phone shown as %q", ch.Phone)
	}
	w.MustDo(200, "POST", "/api/v1/bookings/"+b.ID+"/cancel", w.Citizen(1), nil, nil)
	p := w.pushesOf("citizen-1", notify.Cancelled, 1)[0]
	if p.Body.Title != "预约已取消" || !strings.Contains(p.Body.Body, "测试大厅 11月30日（周一）10:00 的预约已取消") {
		t.Fatalf("cancelled %+v", p.Body)
	}
	w.textsOf(phone1, "cancelled", 1)
	w.noMore("citizen-1", notify.Cancelled, 1)
	eventually(t, "the phone number is deleted with the last booking", func() bool {
		ch = notify.Choices{}
		w.MustDo(200, "GET", "/api/v1/notifications", w.Citizen(1), nil, &ch)
		return ch.Phone == ""
	})
	kv, _ := w.P.JS.KeyValue(context.Background(), notify.SubsBucket)
	l, _ := kv.ListKeys(context.Background())
	for k := range l.Keys() {
		e, _ := kv.Get(context.Background(), k)
		if strings.HasPrefix(k, "p.") || strings.Contains(string(e.Value()), "13800138000") {
			t.Fatalf("the number is still stored: %s = %s", k, e.Value())
		}
	}
}

// A closure the province puts on the hall's calendar cancels the day's
// bookings; the citizen is told why, in the closure template.
func TestCancelledByAClosure(t *testing.T) {
	w := mustWorld(t, nil)
	h := w.MustHall(sampleHall("h1"))
	w.OptIn(1, "13800138000")
	w.Book(1, "h1", "B", monday(10, 0))
	w.pushesOf("citizen-1", notify.Confirmed, 1)
	reason := catalog.Text{ZH: "系统升级，暂停办公", EN: "Closed for a system upgrade"}
	h.Calendar.Closures = []calendar.Closure{{Day: "2026-11-30", Reason: reason}}
	w.MustDo(200, "PUT", "/api/v1/staff/halls/h1", w.Admin(), h, nil)
	p := w.pushesOf("citizen-1", notify.Cancelled, 1)[0]
	if !strings.Contains(p.Body.Body, "因“系统升级，暂停办公”取消") {
		t.Fatalf("closure %+v", p.Body)
	}
	sms := w.textsOf(phone1, "cancelled_closure", 1)[0]
	if len(sms.Params) != 3 || sms.Params[2] != reason.ZH {
		t.Fatalf("closure sms %+v", sms)
	}
}

// A booking never checked in is missed when the hall closes its day: the
// citizen hears it (missed_booking template), once.
func TestMissedBookingNeverCheckedIn(t *testing.T) {
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("h1"))
	w.OptIn(1, "13800138000")
	b := w.Book(1, "h1", "B", monday(10, 0))
	w.pushesOf("citizen-1", notify.Confirmed, 1)
	w.Clock.Set(monday(17, 30))
	ev := hall.Event{Seq: 1, Type: hall.EvDayClosed, At: monday(17, 30), Day: "2026-11-30"}
	data, _ := json.Marshal(ev)
	m := &nats.Msg{Subject: forward.Subject("h1", ev.Type), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, forward.MsgID("h1", 1))
	if _, err := w.P.JS.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := w.pushesOf("citizen-1", notify.Missed, 1)[0]
	if !strings.Contains(p.Body.Body, "未签到") {
		t.Fatalf("missed %+v", p.Body)
	}
	w.textsOf(phone1, "missed_booking", 1)
	var got booking.Booking
	w.MustDo(http.StatusOK, "GET", "/api/v1/bookings/"+b.ID, w.Citizen(1), nil, &got)
	if got.Status != booking.Missed {
		t.Fatalf("booking %+v", got)
	}
	w.noMore("citizen-1", notify.Missed, 1)
}
