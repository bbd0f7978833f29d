package notify_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"hallq/central/notify"
)

func (w *world) entry(id string) notify.Entry {
	w.t.Helper()
	kv, err := w.P.JS.KeyValue(context.Background(), notify.OutboxBucket)
	if err != nil {
		w.t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), id)
	if err != nil {
		w.t.Fatalf("outbox %s: %v", id, err)
	}
	var v notify.Entry
	_ = json.Unmarshal(e.Value(), &v)
	return v
}

// The central process dies between deciding a notification (its outbox
// entry written and claimed) and sending it; the process started again
// sends it once the dead one's claim has lapsed — exactly once.
func TestACrashBetweenDecidedAndSentSendsOnce(t *testing.T) {
	claimed := make(chan notify.Entry, 1)
	var once sync.Once
	w := mustWorld(t, func(c *notify.Config) {
		c.BeforeSend = func(ctx context.Context, e notify.Entry) {
			once.Do(func() {
				claimed <- e
				<-ctx.Done() // the process dies here, before sending
			})
		}
	})
	w.MustHall(sampleHall("h1"))
	w.OptIn(1, "", notify.Confirmed)
	w.Book(1, "h1", "B", monday(10, 0))
	e := <-claimed
	w.Kill()
	if n := len(w.Push.Got()); n != 0 {
		t.Fatalf("sent before the crash: %+v", w.Push.Got())
	}
	w.cfg = nil
	w.Start()
	w.pushesOf("citizen-1", notify.Confirmed, 1)
	w.noMore("citizen-1", notify.Confirmed, 1)
	if got := w.entry(e.ID); got.State != notify.Sent || got.Attempts != 2 {
		t.Fatalf("entry after the restart: %+v", got)
	}
}

// Two central processes share the work: every notification of ten
// bookings is sent once, by one of them.
func TestTwoProcessesSendEachNotificationOnce(t *testing.T) {
	w := mustWorld(t, nil)
	w.Start() // a second process on the same NATS
	w.MustHall(sampleHall("h1"))
	for i := range 10 {
		w.OptIn(i, "1380013800"+string(rune('0'+i)), notify.Confirmed)
	}
	for i := range 10 {
		w.Book(i, "h1", []string{"A", "B"}[i%2], monday(9, 0).Add(time.Duration(i/2)*30*time.Minute))
	}
	for i := range 10 {
		w.pushesOf("citizen-"+string(rune('0'+i)), notify.Confirmed, 1)
	}
	w.settle()
	if n := len(w.Push.Got()); n != 10 {
		t.Fatalf("%d pushes, want 10", n)
	}
	eventually(t, "ten texts", func() bool { return len(w.SMS.Got()) >= 10 })
	w.settle()
	if n := len(w.SMS.Got()); n != 10 {
		t.Fatalf("%d texts, want 10", n)
	}
}

// A push service that answers 503 is tried again with back-off until it
// takes the message; an SMS provider's InternalError likewise.
func TestRetryWithBackoff(t *testing.T) {
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("h1"))
	w.OptIn(1, "13800138000", notify.Confirmed)
	w.Push.Failing(2, 503)
	w.SMS.mu.Lock()
	w.SMS.failCode, w.SMS.failTimes = "InternalError.Timeout", 1
	w.SMS.mu.Unlock()
	start := time.Now()
	w.Book(1, "h1", "B", monday(10, 0))
	p := w.pushesOf("citizen-1", notify.Confirmed, 1)[0]
	if time.Since(start) < 150*time.Millisecond { // 50 ms, then 100 ms
		t.Fatalf("the retries did not back off")
	}
	if got := w.entry(p.Body.ID); got.State != notify.Sent || got.Attempts != 3 {
		t.Fatalf("entry %+v", got)
	}
	sms := w.textsOf(phone1, "confirmed", 1)[0]
	if got := w.entry(sms.Session); got.State != notify.Sent || got.Attempts != 2 {
		t.Fatalf("sms entry %+v", got)
	}
	w.noMore("citizen-1", notify.Confirmed, 1)
}

// A subscription the push service says is gone (410) is forgotten: the
// notification is dropped and the citizen's device list no longer has it.
// A refusal for good (an SMS to a blacklisted number) is failed, not retried.
func TestGoneAndRefusedAreNotRetried(t *testing.T) {
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("h1"))
	sub := w.OptIn(1, "13800138000", notify.Confirmed)
	w.Push.Gone("citizen-1")
	w.SMS.mu.Lock()
	w.SMS.failCode, w.SMS.failTimes = "FailedOperation.PhoneNumberInBlacklist", 1
	w.SMS.mu.Unlock()
	w.Book(1, "h1", "B", monday(10, 0))
	eventually(t, "the device is forgotten", func() bool {
		var ch notify.Choices
		w.MustDo(200, "GET", "/api/v1/notifications?endpoint="+sub.Endpoint, w.Citizen(1), nil, &ch)
		return ch.Devices == 0 && !ch.ThisDevice
	})
	w.settle()
	kv, _ := w.P.JS.KeyValue(context.Background(), notify.OutboxBucket)
	l, _ := kv.ListKeys(context.Background())
	states := map[notify.Channel]string{}
	for k := range l.Keys() {
		e := w.entry(k)
		states[e.Channel] = e.State
		if e.Attempts != 1 {
			t.Fatalf("%s tried %d times", k, e.Attempts)
		}
	}
	if states[notify.Push] != notify.Dropped || states[notify.SMS] != notify.Failed {
		t.Fatalf("states %v", states)
	}
	if n := len(w.SMS.Got()); n != 0 {
		t.Fatalf("texts %+v", w.SMS.Got())
	}
}
