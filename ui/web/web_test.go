package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hallq/internal/halltest"
	"hallq/ui/web"
)

const chromium = "/usr/bin/chromium"

var screenshots = flag.String("screenshots", "", "write a screenshot of each page into this directory (e.g. ../../docs/screenshots)")

//go:embed testdata/axe.min.js
var axeSource string

// hallClock is the hall's time: 10:00 in Shanghai today, running forward
// with the real clock, so every test is inside opening hours.
type hallClock struct{ base, start time.Time }

func (c hallClock) Now() time.Time { return c.base.Add(time.Since(c.start)) }

func tenOClock() hallClock {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	n := time.Now().In(loc)
	return hallClock{base: time.Date(n.Year(), n.Month(), n.Day(), 10, 0, 0, 0, loc), start: time.Now()}
}

// testHall is a whole hall (internal/halltest) running in-process with
// the web pages, on hallClock.
type testHall struct {
	*halltest.Hall
	t     *testing.T
	clock hallClock
	admin string
}

func MustStartHall(t *testing.T) *testHall {
	t.Helper()
	clk := tenOClock()
	h := halltest.RunHall(t, halltest.Options{Clock: clk, Pages: web.Handler()})
	return &testHall{Hall: h, t: t, clock: clk, admin: h.Token}
}

// restart stops the server and starts it again on the same data and address.
func (h *testHall) restart() { h.t.Helper(); h.Restart() }

// api calls the REST API and decodes the reply into out (when not nil).
func (h *testHall) api(method, path, token string, body, out any) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.URL+"/api/v1/"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		h.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

type ticket struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Status string `json:"status"`
	Window int    `json:"window"`
	Rating *struct {
		Score      int      `json:"score"`
		Reason     string   `json:"reason"`
		Indicators []string `json:"indicators"`
		Channel    string   `json:"channel"`
	} `json:"rating"`
}

func (h *testHall) token(name, role string, window int) string {
	var tc struct{ Token string }
	h.api("POST", "tokens", h.admin, map[string]any{"name": name, "role": role, "window": window}, &tc)
	return tc.Token
}

// issue takes a ticket as a kiosk would, with a fresh citizen key.
func (h *testHall) issue(service string) ticket {
	var key [32]byte
	rand.Read(key[:])
	var t ticket
	h.api("POST", "tickets", h.admin, map[string]any{"service": service, "citizen_key": hex.EncodeToString(key[:]), "masked_id": "4201**********1234"}, &t)
	return t
}

// finish starts and completes a called ticket.
func (h *testHall) finish(t ticket) {
	h.api("POST", "tickets/"+t.ID+"/start", h.admin, nil, nil)
	h.api("POST", "tickets/"+t.ID+"/complete", h.admin, nil, nil)
}

func (h *testHall) call(window int) ticket {
	var t ticket
	h.api("POST", fmt.Sprintf("windows/%d/call", window), h.admin, nil, &t)
	return t
}

func (h *testHall) openWindow(n int, clerk string) {
	h.api("POST", fmt.Sprintf("windows/%d/open", n), h.admin, map[string]string{"clerk": clerk}, nil)
}

// ---- the browser ----

// browser is one headless Chromium shared by the subtests; each page runs
// in its own tab.
type browser struct {
	ctx context.Context
}

func MustBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("browser tests need Chromium at %s (apt-get install -y chromium): %v", chromium, err)
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
	return &browser{ctx: ctx}
}

// tab is one page. Uncaught exceptions and security messages (CSP
// violations) fail the test when it ends.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	bad []string
}

func (b *browser) MustTab(t *testing.T, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
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

func (tb *tab) open(url string) { tb.t.Helper(); tb.do(chromedp.Navigate(url)) }

// eval evaluates a JavaScript expression into a T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript expression until it is true and returns how
// long that took. within is how soon a person would expect it; a test does
// not fail on a timing (a busy machine is slow, benchmarks measure speed),
// so it fails only when the expression stays false for waitLimit(within),
// and logs a wait beyond within.
func (tb *tab) waitFor(within time.Duration, expr string) time.Duration {
	tb.t.Helper()
	start, limit := time.Now(), waitLimit(within)
	for {
		if tb.evalWhileNavigating(expr) {
			took := time.Since(start)
			if took > within {
				tb.t.Logf("took %v (expected within %v): %s", took.Round(time.Millisecond), within, expr)
			}
			return took
		}
		if time.Since(start) > limit {
			tb.t.Fatalf("not true within %v: %s\npage: %s", limit, expr, eval[string](tb, `document.body.innerText.slice(0, 600)`))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// evalWhileNavigating evaluates a condition that may be waiting on a
// navigation: while the page is being replaced the browser answers
// "Inspected target navigated or closed" or loses the execution context,
// which means "not yet", not a failure. Other errors fail the test.
func (tb *tab) evalWhileNavigating(expr string) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
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

// settle brings the element sel names into view and waits until it has
// been the same element in the same place for three frames (at most two
// seconds): a list re-rendered from the stream replaces its rows, and a
// page still growing moves what is below.
func (tb *tab) settle(sel string) {
	tb.t.Helper()
	tb.evalWhileNavigating(fmt.Sprintf(`new Promise((done) => {
		let last = "", node = null, still = 0, frames = 0;
		const look = () => {
			const e = document.querySelector(%q);
			if (e && e !== node) { node = e; still = 0; e.scrollIntoView({block: "center", inline: "center"}); }
			const b = e ? e.getBoundingClientRect() : null, now = b ? [b.x, b.y, b.width, b.height].join() : "";
			still = e && now === last ? still + 1 : 0;
			last = now;
			if (still >= 3 || ++frames > 120) done(true); else requestAnimationFrame(look);
		};
		requestAnimationFrame(look);
	})`, sel))
}

// waitLimit is how long waitFor waits before it fails: ten times what a
// person would expect, and at least 30 s.
func waitLimit(within time.Duration) time.Duration { return max(10*within, 30*time.Second) }

// text returns the text of the first element that matches a CSS selector.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

func (tb *tab) waitText(within time.Duration, sel, want string) {
	tb.t.Helper()
	tb.waitFor(within, fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || "").includes(%q)`, sel, want))
}

// click presses the element as a person's tap would (a mouse event at
// its centre, so whatever covers it gets the tap instead). It first brings
// the element into view and waits until it has stopped moving for three
// frames: a tap computed while the page above it was still growing (a
// table filling in from the stream) landed beside the button.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.waitFor(time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
	tb.settle(sel)
	tb.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (tb *tab) key(k string) { tb.t.Helper(); tb.do(chromedp.KeyEvent(k)) }

func (tb *tab) login(token string) {
	tb.t.Helper()
	// the clerk console asks for name and password; its token field is folded away
	tb.waitFor(5*time.Second, `!document.querySelector("#login").hidden`)
	eval[bool](tb, `(document.querySelectorAll("#login details").forEach((d) => (d.open = true)), true)`)
	tb.do(chromedp.SendKeys(chromedp.CSS("#token"), token, chromedp.NodeVisible), chromedp.Click(chromedp.CSS("#login button[type=submit]")))
}

// axe runs axe-core in the page and fails on serious or critical violations.
func (tb *tab) axe() {
	tb.t.Helper()
	if !eval[bool](tb, `typeof axe === "object"`) {
		eval[any](tb, axeSource+";0")
	}
	found := eval[[]string](tb, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`)
	for _, v := range found {
		tb.t.Errorf("accessibility: %s", v)
	}
}

// shot writes a screenshot when -screenshots is given.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	if *screenshots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, "web-"+name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// ---- the tests ----

func TestPages(t *testing.T) {
	b := MustBrowser(t)

	t.Run("board shows and speaks a call within 1s", func(t *testing.T) {
		h := MustStartHall(t)
		display := h.token("board", "display", 0)
		for _, s := range []string{"A", "A", "B", "C", "E", "E", "E"} {
			h.issue(s)
		}
		h.openWindow(1, "li")
		h.openWindow(3, "zhao")
		h.call(3)
		tb := b.MustTab(t, 1920, 1080)
		tb.open(h.URL + "/display?token=" + display)
		tb.waitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		if got := eval[string](tb, `location.search + "|" + localStorage.getItem("hallq.token.display")`); got != "|"+display {
			t.Errorf("token not moved from the address into localStorage: %q", got)
		}
		tb.waitText(2*time.Second, `#waiting li[data-service="E"] strong`, "3")
		// headless Chromium holds sound back until the page is touched: the
		// board says so, and one tap lets it through
		tb.waitFor(2*time.Second, `!document.querySelector("#sound-hint").hidden`)
		tb.click("#latest")
		tb.waitFor(2*time.Second, `document.querySelector("#sound-hint").hidden`)

		called := h.call(1)
		took := tb.waitFor(time.Second, fmt.Sprintf(`document.querySelector("#latest-number").textContent === %q &&
			window.hallqAnnouncements.includes("请 A 零 零 一 号，到 1 号窗口办理")`, called.Number))
		t.Logf("call %s on the board and announced after %v", called.Number, took)
		tb.waitText(time.Second, "#latest-window", "1 号窗口")

		h.api("POST", "tickets/"+called.ID+"/recall", h.admin, nil, nil)
		tb.waitFor(2*time.Second, `window.hallqAnnouncements.includes("重呼，请 A 零 零 一 号，到 1 号窗口办理")`)
		if got := eval[[]string](tb, `window.hallqAnnouncements`); len(got) != 2 {
			t.Errorf("announcements = %q, want the call and the recall", got)
		}
		tb.axe()

		strip := b.MustTab(t, 1920, 540)
		strip.open(h.URL + "/display/window/1")
		strip.waitText(3*time.Second, "#number", called.Number)
		strip.axe()
	})

	t.Run("board speaks with a local Chinese voice, mainland first", func(t *testing.T) {
		h := MustStartHall(t)
		tb := b.MustTab(t, 800, 600)
		tb.open(h.URL + "/display")
		// the browser's voices, stubbed: what each engine lists, and which one the board takes
		pick := func(voices string) string {
			return eval[string](tb, `import("/assets/js/announce.js").then((m) => new Promise((done) => {
				window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
				speechSynthesis.getVoices = () => `+voices+`;
				speechSynthesis.speak = (u) => { done(u.voice.name + "|" + u.text); u.onend(); };
				new m.Announcer().add(m.callText("A023", 5));
			}))`)
		}
		const said = "|请 A 零 二 三 号，到 5 号窗口办理"
		for _, c := range []struct{ voices, want string }{
			{`[{name: "en", lang: "en-US", localService: true}, {name: "tw", lang: "zh-TW", localService: true}, {name: "cn", lang: "zh-CN", localService: true}]`, "cn"},
			// espeak-ng's plain cmn voice reads 请/零/三 by English rules: never; its pinyin voice is right
			{`[{name: "online", lang: "zh-CN", localService: false}, {name: "espeak", lang: "cmn", localService: true}, {name: "pinyin", lang: "cmn-latn-pinyin", localService: true}]`, "pinyin"},
			{`[{name: "hk", lang: "zh_HK", localService: true}]`, "hk"},
		} {
			if got := pick(c.voices); got != c.want+said {
				t.Errorf("voices %s: spoke %q, want %q", c.voices, got, c.want+said)
			}
		}
	})

	t.Run("board survives a server restart without repeating a call", func(t *testing.T) {
		h := MustStartHall(t)
		display := h.token("board", "display", 0)
		for range 3 {
			h.issue("E")
		}
		h.openWindow(1, "li")
		tb := b.MustTab(t, 1920, 1080)
		tb.open(h.URL + "/display?token=" + display)
		tb.waitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		first := h.call(1)
		say := func(n string) string {
			return "请 E " + strings.Join(strings.Split(spell(n[1:]), ""), " ") + " 号，到 1 号窗口办理"
		}
		tb.waitFor(time.Second, fmt.Sprintf(`window.hallqAnnouncements.includes(%q)`, say(first.Number)))

		h.restart()
		tb.waitFor(5*time.Second, `document.querySelector("#conn").dataset.state !== "open"`)
		h.finish(first)     // not announced
		second := h.call(1) // while the board is away: replayed and announced once
		took := tb.waitFor(10*time.Second, fmt.Sprintf(`document.querySelector("#conn").dataset.state === "open" && window.hallqAnnouncements.includes(%q)`, say(second.Number)))
		t.Logf("board back and caught up %v after the restart", took)
		h.finish(second)
		third := h.call(1)
		tb.waitFor(3*time.Second, fmt.Sprintf(`window.hallqAnnouncements.includes(%q)`, say(third.Number))) // after the one playing

		got := eval[[]string](tb, `window.hallqAnnouncements`)
		want := []string{say(first.Number), say(second.Number), say(third.Number)}
		if !slices.Equal(got, want) {
			t.Errorf("announcements = %q, want %q", got, want)
		}
		if tb.text("#latest-number") != third.Number {
			t.Errorf("latest call shows %q, want %s", tb.text("#latest-number"), third.Number)
		}
	})

	t.Run("clerk console full cycle with rating", func(t *testing.T) {
		h := MustStartHall(t)
		clerk := h.token("wang", "clerk", 1)
		first := h.issue("A") // window 1 prefers A to E
		h.issue("E")

		pad := b.MustTab(t, 1280, 800)
		pad.open(h.URL + "/rate/1")
		pad.login(clerk)
		pad.waitFor(5*time.Second, `!document.querySelector("#idle").hidden && document.querySelector("#conn").dataset.state === "open"`)

		c := b.MustTab(t, 1920, 1080)
		c.open(h.URL + "/clerk")
		c.axe()
		c.login(clerk)
		c.waitFor(5*time.Second, `!document.querySelector("#console").hidden && !document.querySelector("#open").disabled`)
		c.click("#open")
		c.waitFor(3*time.Second, `!document.querySelector("#call").disabled`)
		c.key("n")
		c.waitText(3*time.Second, "#cur-number", first.Number)
		c.waitText(time.Second, "#cur-status", "已叫号")
		c.key("s")
		c.waitText(3*time.Second, "#cur-status", "办理中")
		c.waitText(3*time.Second, "#queue", "E001")
		c.axe()
		c.key("c")
		c.waitFor(3*time.Second, `document.querySelector("#cur-number").textContent === "—" && document.querySelector("#count-done").textContent === "1"`)

		pad.waitFor(3*time.Second, `!document.querySelector("#ask").hidden`)
		pad.waitText(time.Second, "#ask-ticket", first.Number)
		pad.shot("rate")
		pad.axe()
		pad.click(`#levels button[data-score="2"]`)
		pad.waitFor(time.Second, `!document.querySelector("#why").hidden`)
		pad.axe()
		pad.waitFor(time.Second, `document.querySelector("#rate-submit").disabled`) // a poor rating needs its reason
		pad.click(`#reasons button[data-indicator="efficiency"]`)
		pad.click("#rate-submit")
		pad.waitFor(time.Second, `!document.querySelector("#thanks").hidden`)

		deadline := time.Now().Add(waitLimit(3 * time.Second))
		for {
			var tk ticket
			h.api("GET", "tickets/"+first.ID, h.admin, nil, &tk)
			if tk.Rating != nil {
				if tk.Rating.Score != 2 || !slices.Equal(tk.Rating.Indicators, []string{"efficiency"}) || tk.Rating.Channel != "window_pad" {
					t.Errorf("rating = %+v, want 2 with the efficiency option from the window pad", *tk.Rating)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the rating did not reach the server")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("dashboard numbers match the API", func(t *testing.T) {
		h := MustStartHall(t)
		for _, s := range []string{"A", "A", "A", "B", "B", "C", "D", "E", "E"} {
			h.issue(s)
		}
		h.openWindow(1, "li")
		h.openWindow(4, "zhou")
		h.openWindow(2, "sun")
		h.api("POST", "windows/2/pause", h.admin, map[string]string{"clerk": "sun", "reason": "meeting"}, nil)
		h.finish(h.call(1))
		h.call(1)
		h.call(4)
		kiosk := h.token("kiosk-1", "kiosk", 0)
		h.api("POST", "devices", kiosk, map[string]any{"reader": "ok", "printer": "paper_low", "scanner": "ok",
			"online": true, "pending_offline": 1, "set_aside_offline": 2}, nil)

		tb := b.MustTab(t, 1920, 1080)
		tb.open(h.URL + "/dashboard")
		tb.login(h.admin)
		tb.waitFor(5*time.Second, `document.querySelectorAll("#services tr").length === 5`)

		check := func() {
			t.Helper()
			var svcs []struct {
				Code    string `json:"code"`
				Waiting int    `json:"waiting"`
				Issued  int    `json:"issued"`
			}
			h.api("GET", "services", h.admin, nil, &svcs)
			total := 0
			for _, s := range svcs {
				total += s.Waiting
				tb.waitText(2*time.Second, fmt.Sprintf(`#services tr[data-service=%q] [data-field="waiting"]`, s.Code), fmt.Sprint(s.Waiting))
				if got := tb.text(fmt.Sprintf(`#services tr[data-service=%q] [data-field="issued"]`, s.Code)); got != fmt.Sprint(s.Issued) {
					t.Errorf("service %s issued shows %q, API says %d", s.Code, got, s.Issued)
				}
			}
			tb.waitText(2*time.Second, "#kpi-waiting", fmt.Sprint(total))
		}
		check()
		if got := tb.text("#kpi-open"); got != "2" {
			t.Errorf("open windows = %q, want 2", got)
		}
		if got := tb.text("#kpi-served"); got != "1" {
			t.Errorf("served today = %q, want 1", got)
		}
		tb.waitText(2*time.Second, `#windows tr[data-window="2"]`, "暂停服务")
		tb.waitText(2*time.Second, `#devices [data-field="offline"]`, "1 · 搁置 2 set aside")
		if got := tb.text("#devices tr"); !strings.Contains(got, "kiosk-1") || !strings.Contains(got, "纸少 paper low") {
			t.Errorf("kiosk row = %q", got)
		}

		h.issue("A") // live: the page follows the event stream
		check()

		tb.shot("dashboard")
		tb.click(`#report button[type=submit]`)
		tb.waitText(3*time.Second, "#report-rows", "A")
		tb.axe()
	})

	t.Run("dashboard changes a daily quota in the hall configuration", func(t *testing.T) {
		h := MustStartHall(t)
		tb := b.MustTab(t, 1920, 1080)
		tb.open(h.URL + "/dashboard")
		tb.login(h.admin)
		quota := `#cfg-services tr[data-service="E"] [data-f="quota"]`
		tb.waitFor(5*time.Second, fmt.Sprintf(`document.querySelector(%q) !== null`, quota))
		eval[bool](tb, fmt.Sprintf(`(() => { const i = document.querySelector(%q); i.value = "42"; i.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, quota))
		tb.click("#cfg-save")
		tb.waitText(5*time.Second, "#cfg-result", "已保存")
		type service struct {
			Code       string `json:"code"`
			DailyQuota int    `json:"daily_quota"`
		}
		var cfg struct{ Services []service }
		h.api("GET", "config", h.admin, nil, &cfg)
		if i := slices.IndexFunc(cfg.Services, func(s service) bool { return s.Code == "E" }); i < 0 || cfg.Services[i].DailyQuota != 42 {
			t.Fatalf("GET /api/v1/config after saving: %+v", cfg.Services)
		}
		eval[bool](tb, `(document.querySelector("#hall-config").scrollIntoView(), true)`)
		tb.shot("dashboard-config")
		tb.axe()
	})

	t.Run("a configuration change shows on board, window strip and console without a reload", func(t *testing.T) {
		h := MustStartHall(t)
		display := h.token("board", "display", 0)
		clerk := h.token("wang", "clerk", 1)
		h.issue("A")
		h.openWindow(1, "wang")
		h.call(1)

		board := b.MustTab(t, 1920, 1080)
		board.open(h.URL + "/display?token=" + display)
		board.waitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		strip := b.MustTab(t, 1920, 540)
		strip.open(h.URL + "/display/window/1")
		strip.waitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		console := b.MustTab(t, 1920, 1080)
		console.open(h.URL + "/clerk")
		console.login(clerk)
		console.waitText(5*time.Second, "#cur-number", "A001")

		var cfg map[string]any
		h.api("GET", "config", h.admin, nil, &cfg)
		rename := func(list any, key string, match any, zh string) {
			for _, v := range list.([]any) {
				if m := v.(map[string]any); m[key] == match {
					m["name"].(map[string]any)["zh"] = zh
				}
			}
		}
		cfg["hall"].(map[string]any)["name"].(map[string]any)["zh"] = "新区政务服务中心"
		rename(cfg["windows"], "number", 1.0, "一号综合窗口")
		rename(cfg["services"], "code", "A", "户籍业务")
		h.api("PUT", "config", h.admin, cfg, nil)

		board.waitText(3*time.Second, "#hall", "新区政务服务中心")
		board.waitText(3*time.Second, `#waiting li[data-service="A"]`, "户籍业务")
		strip.waitText(3*time.Second, "#name", "一号综合窗口")
		strip.waitText(time.Second, "#number", "A001")
		console.waitText(3*time.Second, "#cur-service", "户籍业务")
		console.waitText(3*time.Second, "#win-detail", "一号综合窗口")
	})

	t.Run("status page follows the ticket until it is called", func(t *testing.T) {
		h := MustStartHall(t)
		h.issue("E")
		mine := h.issue("E")
		h.openWindow(8, "qian")

		tb := b.MustTab(t, 390, 844)
		tb.open(h.URL + "/t/" + mine.ID)
		tb.waitText(3*time.Second, "#number", mine.Number)
		tb.waitText(time.Second, "#status", "等候中")
		tb.waitText(time.Second, "#ahead", "1 人")
		tb.axe()
		h.finish(h.call(8))
		tb.waitText(7*time.Second, "#ahead", "0 人")
		tb.shot("status")
		h.call(8)
		took := tb.waitFor(7*time.Second, `!document.querySelector("#called").hidden && document.querySelector("#called").textContent === "请到 8 号窗口办理"`)
		t.Logf("status page showed the call after %v", took)
		tb.click("#lang")
		tb.waitText(time.Second, "#called", "Please go to window 8")
		tb.shot("status-called")
		tb.axe()
	})
}

func TestRemotePage(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	h.issue("A")

	tb := b.MustTab(t, 390, 844)
	tb.open(h.URL + "/remote")
	// A and B may be taken remotely in the sample hall; C, D and E may not
	tb.waitFor(5*time.Second, `document.querySelectorAll("#services input[type=radio]").length === 2`)
	if got := eval[string](tb, `[...document.querySelectorAll("#services input")].map(i => i.value).join(",")`); got != "A,B" {
		t.Errorf("services offered: %q, want A,B", got)
	}
	tb.axe()
	tb.click(`label[for="svc-A"]`)
	tb.do(chromedp.SendKeys(chromedp.CSS("#id-number"), "11010519491231002X", chromedp.NodeVisible))
	tb.shot("remote")
	tb.click("#submit")
	tb.waitFor(5*time.Second, `location.pathname.startsWith("/t/")`)
	tb.waitText(5*time.Second, "#number", "A002")
	tb.waitText(time.Second, "#ahead", "1 人")
	first := eval[string](tb, `location.pathname`)
	if c := eval[string](tb, `localStorage.getItem("hallq.remote.claim") || ""`); len(c) != 32 {
		t.Errorf("the page keeps no claim for its ticket: %q", c)
	}
	// the same phone again (a reload, a double tap): the same ticket, not a
	// refusal and not a second one
	tb.open(h.URL + "/remote")
	tb.waitFor(5*time.Second, `document.querySelectorAll("#services input[type=radio]").length === 2`)
	tb.click(`label[for="svc-A"]`)
	tb.do(chromedp.SendKeys(chromedp.CSS("#id-number"), "11010519491231002X", chromedp.NodeVisible))
	tb.click("#submit")
	tb.waitFor(5*time.Second, `location.pathname.startsWith("/t/")`)
	if again := eval[string](tb, `location.pathname`); again != first {
		t.Errorf("the same phone took %s, then %s: want the same ticket", first, again)
	}

	// a wrong number gets plain words, in either language
	tb.open(h.URL + "/remote")
	tb.waitFor(5*time.Second, `document.querySelectorAll("#services input[type=radio]").length === 2`)
	tb.click(`label[for="svc-A"]`)
	tb.do(chromedp.SendKeys(chromedp.CSS("#id-number"), "110105194912310021", chromedp.NodeVisible))
	tb.click("#submit")
	tb.waitText(5*time.Second, "#error", "身份证号码有误")
	tb.axe()
	tb.click("#lang")
	tb.waitText(time.Second, "#error", "ID number is not valid")
	tb.waitText(time.Second, "#privacy", "never stored")
}

// spell writes digits in Chinese, as the board says them.
func spell(digits string) string {
	var b strings.Builder
	for _, c := range digits {
		b.WriteRune([]rune("零一二三四五六七八九")[c-'0'])
	}
	return b.String()
}
