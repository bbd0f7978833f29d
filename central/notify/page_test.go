package notify_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/notify"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

const chromium = "/usr/bin/chromium"

var screenshots = flag.String("screenshots", "", "write screenshots of the notifications page into this directory (e.g. ../../docs/screenshots)")

type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	bad []string
}

func mustBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("browser tests need Chromium at %s (make deps): %v", chromium, err)
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1920, 1080))
	t.Cleanup(cancel)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func mustTab(t *testing.T, bctx context.Context, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Source == "security" {
				tb.mu.Lock()
				tb.bad = append(tb.bad, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, m := range tb.bad {
			t.Errorf("page problem: %s", m)
		}
	})
	return tb
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatal(err)
	}
}

func evalT[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitFor polls expr until true; it fails only after a time no person
// would wait (never on a timing).
// holds evaluates a condition that may be waiting on a navigation: while
// the page is being replaced the browser answers "Inspected target
// navigated or closed" or loses the execution context, which means "not
// yet", not a failure. Other errors fail the test.
func (tb *tab) holds(expr string) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		if m := err.Error(); strings.Contains(m, "navigated or closed") || strings.Contains(m, "context was destroyed") || strings.Contains(m, "Cannot find context") {
			return false
		}
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (tb *tab) waitFor(expr string) {
	tb.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !tb.holds(expr); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.t.Fatalf("not true within 30 s: %s\npage: %s", expr, evalT[string](tb, `document.body.innerText.slice(0, 800)`))
		}
	}
}

func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || "").includes(%q)`, sel, want))
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (tb *tab) axe() {
	tb.t.Helper()
	if !evalT[bool](tb, `typeof axe === "object"`) {
		src, err := os.ReadFile("../../ui/web/testdata/axe.min.js")
		if err != nil {
			tb.t.Fatal(err)
		}
		evalT[any](tb, string(src)+";0")
	}
	found := evalT[[]string](tb, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`)
	for _, v := range found {
		tb.t.Errorf("accessibility: %s", v)
	}
}

func (tb *tab) shot(name string) {
	tb.t.Helper()
	if *screenshots == "" {
		return
	}
	evalT[bool](tb, `(window.scrollTo(0, 0), true)`)
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, "portal-"+name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// grantNotifications allows origin's notifications and push, as a
// citizen answering the browser's question "Allow".
func grantNotifications(ctx context.Context, origin string) error {
	for _, name := range []string{"notifications", "push"} {
		if _, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, UserVisibleOnly: name == "push"}, Setting: browser.PermissionSettingGranted, Origin: origin}); err != nil {
			return err
		}
	}
	return nil
}

// signIn presses the page's sign-in link and signs citizen i in on the
// stand-in provider's page; the session brings the browser back.
func (tb *tab) signIn(i int) {
	tb.t.Helper()
	tb.click("#signin-link")
	tb.waitFor(`!!document.querySelector("input[name=id_number]")`)
	tb.do(chromedp.SendKeys(chromedp.CSS("input[name=id_number]"), idNumber(i), chromedp.NodeVisible))
	tb.click("form button[type=submit]")
	tb.waitFor(`location.pathname === "/notifications" && document.readyState === "complete" && !!document.querySelector("#choices")`)
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
	bctx := mustBrowser(t)
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
			tb := mustTab(t, bctx, v.width, v.height)
			tb.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
				return chromedp.Void{}, err
			})
			tb.do(chromedp.Navigate(base + "/notifications?lang=" + v.lang))
			tb.waitFor(`!document.querySelector("#signin").hidden`)
			tb.waitText("#signin-title", pick("请先登录", "Please sign in"))
			if got := evalT[string](tb, `document.querySelector("#signin-link").getAttribute("href")`); got != "/auth/login?next=%2Fnotifications" {
				t.Fatalf("sign-in link %q", got)
			}
			tb.axe()
			tb.signIn(v.citizen)
			tb.waitFor(`!document.querySelector("#choices").hidden`)
			tb.waitText("#phone-kept", pick("尚未保存号码", "No number kept"))
			tb.axe()

			// SMS: two kinds and a number as people type it.
			for _, k := range []string{"#sms-reminder", "#sms-called"} {
				tb.click(k)
			}
			tb.do(chromedp.SendKeys(chromedp.CSS("#phone"), "138 0013 8000", chromedp.NodeVisible))
			tb.click("#sms-save")
			tb.waitText("#note", pick("已保存", "Saved"))
			ch := w.choices(v.citizen)
			if ch.Phone != "+86 138****8000" || len(ch.SMS) != 2 || ch.SMS[0] != notify.Reminder || ch.SMS[1] != notify.Called {
				t.Fatalf("server after sms-save: %+v", ch)
			}
			tb.waitText("#phone-kept", "+86 138****8000")
			if strings.Contains(evalT[string](tb, `document.body.innerText`), "13800138000") {
				t.Fatal("the page shows the whole number")
			}
			// A wrong number is refused in words, and nothing changes.
			tb.do(chromedp.SendKeys(chromedp.CSS("#phone"), "12345", chromedp.NodeVisible))
			tb.click("#sms-save")
			tb.waitText("#note", pick("手机号不对", "That number is not right"))
			evalT[bool](tb, `(document.querySelector("#phone").value = "", true)`)
			if ch := w.choices(v.citizen); ch.Phone != "+86 138****8000" {
				t.Fatalf("a refused number changed the choices: %+v", ch)
			}
			tb.shot("notifications-" + v.name)

			// Push: this headless browser has no push service; the page says
			// so. A subscription made as the page makes it (the API) shows,
			// and turning push off removes it at the central.
			tb.do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
				return chromedp.Void{}, grantNotifications(ctx, base)
			})
			if v.press {
				tb.click("#push-on")
				tb.waitText("#note", pick("连不上推送服务", "cannot reach its push service"))
				if got := w.choices(v.citizen); got.Devices != 0 {
					t.Fatalf("a device without a push subscription: %+v", got)
				}
			}
			sub := w.Push.Subscribe(fmt.Sprintf("page-%d", v.citizen))
			w.MustDo(200, "PUT", "/api/v1/notifications/push", w.Citizen(v.citizen), notify.PushRequest{Subscription: sub, Kinds: []notify.Kind{notify.Called}}, nil)
			tb.do(chromedp.Reload())
			tb.waitText("#push-state", pick("已在 1 个浏览器开启推送", "Push is on in 1 browser"))
			tb.click("#push-off")
			tb.waitText("#note", pick("已关闭推送", "Push is off"))
			if ch := w.choices(v.citizen); ch.Devices != 0 || len(ch.Push) != 0 {
				t.Fatalf("server after push-off: %+v", ch)
			}
			tb.click("#sms-off")
			tb.waitText("#note", pick("已关闭短信，号码已删除", "Texts are off; the number is deleted"))
			if ch := w.choices(v.citizen); ch.Phone != "" || len(ch.SMS) != 0 {
				t.Fatalf("server after sms-off: %+v", ch)
			}

			// Reading preferences and the language switch.
			tb.click("#large")
			tb.waitFor(`document.documentElement.classList.contains("large-text")`)
			tb.click("#contrast")
			tb.waitFor(`document.documentElement.classList.contains("high-contrast")`)
			tb.axe()
			tb.click("#large")
			tb.click("#contrast")
			tb.click("#lang")
			tb.waitText("#title", pick("Notifications", "消息提醒"))
			tb.click("#lang")
			tb.waitText("#title", pick("消息提醒", "Notifications"))

			// One ticket, no sign-in (a fresh tab without the cookie).
			tt := mustTab(t, bctx, v.width, v.height)
			tt.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
				return chromedp.Void{}, err
			})
			tt.do(chromedp.Navigate(base + "/notifications?ticket=tk-page-1&lang=" + v.lang))
			tt.waitFor(`!document.querySelector("#ticket").hidden`)
			tt.waitText("#ticket-state", pick("未开启", "Off"))
			tt.axe()
			if v.press {
				tt.click("#ticket-on")
				tt.waitText("#note", pick("连不上推送服务", "cannot reach its push service"))
			}
			tt.shot("notifications-ticket-" + v.name)
		})
	}

	t.Run("service-worker", func(t *testing.T) {
		tb := mustTab(t, bctx, 390, 844)
		base := w.P.URL()
		regs := make(chan serviceworker.RegistrationID, 8)
		tb.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			evs := cdp.Events(tb.ctx, tg, serviceworker.WorkerRegistrationUpdated) // subscribed now, read for the tab's life
			go func() {
				for ev, err := range evs {
					if err != nil {
						return
					}
					for _, r := range ev.Registrations {
						if strings.HasPrefix(r.ScopeURL, base) && !r.IsDeleted {
							select {
							case regs <- r.RegistrationID:
							default:
							}
						}
					}
				}
			}()
			_, err := cdp.Call(ctx, tg, serviceworker.Enable, cdp.Empty{})
			return chromedp.Void{}, err
		})
		tb.do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			return chromedp.Void{}, grantNotifications(ctx, base)
		})
		tb.do(chromedp.Navigate(base + "/notifications?ticket=tk-page-1"))
		tb.waitFor(`navigator.serviceWorker.ready.then(r => !!r.active)`)
		evalT[bool](tb, `(window.pushes = [], navigator.serviceWorker.addEventListener("message", (e) => window.pushes.push(e.data)), true)`)
		var reg serviceworker.RegistrationID
		select {
		case reg = <-regs:
		case <-time.After(30 * time.Second):
			t.Fatal("no service worker registration reported")
		}
		payload := `{"id":"called.tk-page-1-w4-1.push.x","kind":"called","title":"请 B007 号到 4 号窗口","body":"请到 4 号窗口办理。","url":"/t/tk-page-1"}`
		tb.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{Origin: base, RegistrationID: reg, Data: payload})
			return chromedp.Void{}, err
		})
		t.Logf("registration %s", reg)
		defer func() {
			if t.Failed() {
				t.Logf("told: %s", evalT[string](tb, `JSON.stringify(window.pushes)`))
				t.Logf("notifications: %s", evalT[string](tb, `navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => JSON.stringify(ns.map(n => [n.title, n.body, n.data, n.requireInteraction])))`))
			}
		}()
		// Headless Chromium shows a notification and closes it at once (no
		// notification centre), so the worker's own report says what it showed.
		tb.waitFor(`window.pushes.some(p => p.shown && p.title === "请 B007 号到 4 号窗口" && p.body === "请到 4 号窗口办理。" && p.url === "/t/tk-page-1" && p.urgent)`)
		// A message naming another site would open this site's home instead.
		evil := `{"id":"x","kind":"ahead","title":"t2","body":"b2","url":"//evil.example/"}`
		tb.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{Origin: base, RegistrationID: reg, Data: evil})
			return chromedp.Void{}, err
		})
		tb.waitFor(`window.pushes.some(p => p.shown && p.title === "t2" && p.url === "/" && !p.urgent)`)
	})
}
