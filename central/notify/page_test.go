package notify_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/notify"
	"hallq/internal/browsertest"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

var screenshots = flag.String("screenshots", "", "write screenshots of the notifications page into this directory (e.g. ../../docs/screenshots)")

// within is how soon a person would expect the page to answer; a wait
// fails after browsertest.WaitLimit of it (30 s), never on a timing.
const within = 3 * time.Second

// tab is one page (hallq/internal/browsertest), with the notifications
// page's own step: signing in.
type tab struct{ *browsertest.Tab }

// mustBrowser is one headless Chromium; each tab is in a browser context
// of its own (its own cookies: a tab opened after a sign-in is signed out).
func mustBrowser(t *testing.T) *browsertest.Browser {
	t.Helper()
	return browsertest.MustBrowser(t, browsertest.Config{Screenshots: *screenshots, Prefix: "portal-", FromTop: true})
}

func mustTab(t *testing.T, b *browsertest.Browser, width, height int64) *tab {
	t.Helper()
	return &tab{b.MustTab(t, width, height)}
}

// signIn presses the page's sign-in link and signs citizen i in on the
// stand-in provider's page; the session brings the browser back.
func (tb *tab) signIn(i int) {
	tb.T.Helper()
	tb.Click("#signin-link")
	tb.WaitFor(within, `!!document.querySelector("input[name=id_number]")`)
	tb.Type("input[name=id_number]", idNumber(i))
	tb.Click("form button[type=submit]")
	tb.WaitFor(within, `location.pathname === "/notifications" && document.readyState === "complete" && !!document.querySelector("#choices")`)
}

// mustTicket forwards one waiting ticket of hall h1 the way a hall does
// and waits for the central's ticket entry.
func (w *world) mustTicket(id, number string) {
	w.t.Helper()
	at := w.Clock.Now()
	ev := hall.Event{Seq: 1, Type: hall.EvTicketIssued, At: at, Day: at.Format("2006-01-02"),
		Ticket: &hall.Ticket{ID: id, Number: number, Service: "B", Status: hall.Waiting, Day: at.Format("2006-01-02"), IssuedAt: at, QueuedAt: at}}
	data, _ := json.Marshal(ev)
	m := &nats.Msg{Subject: forward.Subject("h1", ev.Type), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, forward.MsgID("h1", 1))
	if _, err := w.P.JS.PublishMsg(context.Background(), m); err != nil {
		w.t.Fatal(err)
	}
	eventually(w.t, "the ticket at the central", func() bool {
		st, _ := w.Do("GET", "/api/v1/tickets/"+id+"/notifications?endpoint=x", "", nil)
		return st == http.StatusOK
	})
}

func (w *world) choices(i int) notify.Choices {
	w.t.Helper()
	var ch notify.Choices
	w.MustDo(200, "GET", "/api/v1/notifications", w.Citizen(i), nil, &ch)
	return ch
}

// The notifications page in real Chromium, zh and en, phone and desktop:
// signed out it offers sign-in; signed in, every control is pressed and
// its effect checked on the server; with ?ticket= it follows one ticket
// without sign-in; axe finds nothing serious. The service worker shows a
// push message delivered to it, with the page to open.
func TestNotificationsPage(t *testing.T) {
	b := mustBrowser(t)
	w := mustWorld(t, nil)
	w.MustHall(sampleHall("h1"))
	w.mustTicket("tk-page-1", "B007")
	for _, v := range []struct {
		name          string
		width, height int64
		lang          string
		citizen       int
		press         bool // press the push buttons (each waits out the page's push-service timeout)
	}{{"phone-zh", 390, 844, "zh", 1, true}, {"desktop-en", 1366, 900, "en", 2, true}, {"phone-en", 390, 844, "en", 3, false}, {"desktop-zh", 1366, 900, "zh", 4, false}} {
		t.Run(v.name, func(t *testing.T) {
			zh := v.lang == "zh"
			pick := func(z, e string) string {
				if zh {
					return z
				}
				return e
			}
			base := w.P.URL()
			tb := mustTab(t, b, v.width, v.height)
			tb.Open(base + "/notifications?lang=" + v.lang)
			tb.WaitFor(within, `!document.querySelector("#signin").hidden`)
			tb.WaitText(within, "#signin-title", pick("请先登录", "Please sign in"))
			if got := browsertest.Eval[string](tb, `document.querySelector("#signin-link").getAttribute("href")`); got != "/auth/login?next=%2Fnotifications" {
				t.Fatalf("sign-in link %q", got)
			}
			tb.Axe()
			tb.signIn(v.citizen)
			tb.WaitFor(within, `!document.querySelector("#choices").hidden`)
			tb.WaitText(within, "#phone-kept", pick("尚未保存号码", "No number kept"))
			tb.Axe()

			// SMS: two kinds and a number as people type it.
			for _, k := range []string{"#sms-reminder", "#sms-called"} {
				tb.Click(k)
			}
			tb.Type("#phone", "138 0013 8000")
			tb.Click("#sms-save")
			tb.WaitText(within, "#note", pick("已保存", "Saved"))
			ch := w.choices(v.citizen)
			if ch.Phone != "+86 138****8000" || len(ch.SMS) != 2 || ch.SMS[0] != notify.Reminder || ch.SMS[1] != notify.Called {
				t.Fatalf("server after sms-save: %+v", ch)
			}
			tb.WaitText(within, "#phone-kept", "+86 138****8000")
			if strings.Contains(browsertest.Eval[string](tb, `document.body.innerText`), "13800138000") {
				t.Fatal("the page shows the whole number")
			}
			// A wrong number is refused in words, and nothing changes.
			tb.Type("#phone", "12345")
			tb.Click("#sms-save")
			tb.WaitText(within, "#note", pick("手机号不对", "That number is not right"))
			browsertest.Eval[bool](tb, `(document.querySelector("#phone").value = "", true)`)
			if ch := w.choices(v.citizen); ch.Phone != "+86 138****8000" {
				t.Fatalf("a refused number changed the choices: %+v", ch)
			}
			tb.Shot("notifications-" + v.name)

			// Push: this headless browser has no push service; the page says
			// so. A subscription made as the page makes it (the API) shows,
			// and turning push off removes it at the central.
			tb.Grant(base, "notifications", "push")
			if v.press {
				tb.Click("#push-on")
				tb.WaitText(within, "#note", pick("连不上推送服务", "cannot reach its push service"))
				if got := w.choices(v.citizen); got.Devices != 0 {
					t.Fatalf("a device without a push subscription: %+v", got)
				}
			}
			sub := w.Push.Subscribe(fmt.Sprintf("page-%d", v.citizen))
			w.MustDo(200, "PUT", "/api/v1/notifications/push", w.Citizen(v.citizen), notify.PushRequest{Subscription: sub, Kinds: []notify.Kind{notify.Called}}, nil)
			tb.Reload()
			tb.WaitText(within, "#push-state", pick("已在 1 个浏览器开启推送", "Push is on in 1 browser"))
			tb.Click("#push-off")
			tb.WaitText(within, "#note", pick("已关闭推送", "Push is off"))
			if ch := w.choices(v.citizen); ch.Devices != 0 || len(ch.Push) != 0 {
				t.Fatalf("server after push-off: %+v", ch)
			}
			tb.Click("#sms-off")
			tb.WaitText(within, "#note", pick("已关闭短信，号码已删除", "Texts are off; the number is deleted"))
			if ch := w.choices(v.citizen); ch.Phone != "" || len(ch.SMS) != 0 {
				t.Fatalf("server after sms-off: %+v", ch)
			}

			// Reading preferences and the language switch.
			tb.Click("#large")
			tb.WaitFor(within, `document.documentElement.classList.contains("large-text")`)
			tb.Click("#contrast")
			tb.WaitFor(within, `document.documentElement.classList.contains("high-contrast")`)
			tb.Axe()
			tb.Click("#large")
			tb.Click("#contrast")
			tb.Click("#lang")
			tb.WaitText(within, "#title", pick("Notifications", "消息提醒"))
			tb.Click("#lang")
			tb.WaitText(within, "#title", pick("消息提醒", "Notifications"))

			// One ticket, no sign-in (a fresh browser without the cookie,
			// where the citizen allows notifications too).
			tt := mustTab(t, b, v.width, v.height)
			tt.Grant(base, "notifications", "push")
			tt.Open(base + "/notifications?ticket=tk-page-1&lang=" + v.lang)
			tt.WaitFor(within, `!document.querySelector("#ticket").hidden`)
			tt.WaitText(within, "#ticket-state", pick("未开启", "Off"))
			tt.Axe()
			if v.press {
				tt.Click("#ticket-on")
				tt.WaitText(within, "#note", pick("连不上推送服务", "cannot reach its push service"))
			}
			tt.Shot("notifications-ticket-" + v.name)
		})
	}

	t.Run("service-worker", func(t *testing.T) {
		tb := mustTab(t, b, 390, 844)
		base := w.P.URL()
		regs := tb.ServiceWorkers(base)
		tb.Grant(base, "notifications", "push")
		tb.Open(base + "/notifications?ticket=tk-page-1")
		tb.WaitFor(within, `navigator.serviceWorker.ready.then(r => !!r.active)`)
		browsertest.Eval[bool](tb, `(window.pushes = [], navigator.serviceWorker.addEventListener("message", (e) => window.pushes.push(e.data)), true)`)
		var reg string
		select {
		case reg = <-regs:
		case <-time.After(30 * time.Second):
			t.Fatal("no service worker registration reported")
		}
		payload := `{"id":"called.tk-page-1-w4-1.push.x","kind":"called","title":"请 B007 号到 4 号窗口","body":"请到 4 号窗口办理。","url":"/t/tk-page-1"}`
		tb.Push(base, reg, payload)
		t.Logf("registration %s", reg)
		defer func() {
			if t.Failed() {
				t.Logf("told: %s", browsertest.Eval[string](tb, `JSON.stringify(window.pushes)`))
				t.Logf("notifications: %s", browsertest.Eval[string](tb, `navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => JSON.stringify(ns.map(n => [n.title, n.body, n.data, n.requireInteraction])))`))
			}
		}()
		// Headless Chromium shows a notification and closes it at once (no
		// notification centre), so the worker's own report says what it showed.
		tb.WaitFor(within, `window.pushes.some(p => p.shown && p.title === "请 B007 号到 4 号窗口" && p.body === "请到 4 号窗口办理。" && p.url === "/t/tk-page-1" && p.urgent)`)
		// A message naming another site would open this site's home instead.
		evil := `{"id":"x","kind":"ahead","title":"t2","body":"b2","url":"//evil.example/"}`
		tb.Push(base, reg, evil)
		tb.WaitFor(within, `window.pushes.some(p => p.shown && p.title === "t2" && p.url === "/" && !p.urgent)`)
	})
}
