package web_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/internal/browsertest"
	"hallq/internal/halltest"
	"hallq/ui/web"
)

var screenshots = flag.String("screenshots", "", "write a screenshot of each page into this directory (e.g. ../../docs/screenshots)")

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

// browser is one headless Chromium shared by the subtests
// (hallq/internal/browsertest); each page runs in its own tab, in a
// browser context of its own (a board, a console and a pad in one test
// are three devices).
type browser struct{ *browsertest.Browser }

func MustBrowser(t *testing.T) *browser {
	t.Helper()
	return &browser{browsertest.MustBrowser(t, browsertest.Config{Screenshots: *screenshots, Prefix: "web-"})}
}

// tab is one page, with the hall pages' own steps (signing in).
type tab struct{ *browsertest.Tab }

func (b *browser) MustTab(t *testing.T, width, height int64) *tab {
	t.Helper()
	return &tab{b.Browser.MustTab(t, width, height)}
}

// beside opens another tab of tb's browser (its cookies and storage): the
// same machine.
func (tb *tab) beside(t *testing.T, width, height int64) *tab {
	t.Helper()
	return &tab{tb.MustTabBeside(t, width, height)}
}

func (tb *tab) login(token string) {
	tb.T.Helper()
	// the clerk console asks for name and password; its token field is folded away
	tb.WaitFor(5*time.Second, `!document.querySelector("#login").hidden`)
	browsertest.Eval[bool](tb, `(document.querySelectorAll("#login details").forEach((d) => (d.open = true)), true)`)
	tb.Type("#token", token)
	tb.Click("#login button[type=submit]")
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
		tb.Open(h.URL + "/display?token=" + display)
		tb.WaitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		if got := browsertest.Eval[string](tb, `location.search + "|" + localStorage.getItem("hallq.token.display")`); got != "|"+display {
			t.Errorf("token not moved from the address into localStorage: %q", got)
		}
		tb.WaitText(2*time.Second, `#waiting li[data-service="E"] strong`, "3")
		// headless Chromium holds sound back until the page is touched: the
		// board says so, and one tap lets it through
		tb.WaitFor(2*time.Second, `!document.querySelector("#sound-hint").hidden`)
		tb.Click("#latest")
		tb.WaitFor(2*time.Second, `document.querySelector("#sound-hint").hidden`)

		called := h.call(1)
		took := tb.WaitFor(time.Second, fmt.Sprintf(`document.querySelector("#latest-number").textContent === %q &&
			window.hallqAnnouncements.includes("请 A 零 零 一 号，到 1 号窗口办理")`, called.Number))

		t.Logf("call %s on the board and announced after %v", called.Number, took)
		tb.WaitText(time.Second, "#latest-window", "1 号窗口")

		h.api("POST", "tickets/"+called.ID+"/recall", h.admin, nil, nil)
		tb.WaitFor(2*time.Second, `window.hallqAnnouncements.includes("重呼，请 A 零 零 一 号，到 1 号窗口办理")`)
		if got := browsertest.Eval[[]string](tb, `window.hallqAnnouncements`); len(got) != 2 {
			t.Errorf("announcements = %q, want the call and the recall", got)
		}
		tb.Axe()

		// the board's machine drives the window strip too: the strip finds
		// the display token the board keeps in their browser's localStorage
		strip := tb.beside(t, 1920, 540)
		strip.Open(h.URL + "/display/window/1")
		strip.WaitText(3*time.Second, "#number", called.Number)
		strip.Axe()
	})

	t.Run("board speaks with a local Chinese voice, mainland first", func(t *testing.T) {
		h := MustStartHall(t)
		tb := b.MustTab(t, 800, 600)
		tb.Open(h.URL + "/display")
		// the browser's voices, stubbed: what each engine lists, and which one the board takes
		pick := func(voices string) string {
			return browsertest.Eval[string](tb, `import("/assets/js/announce.js").then((m) => new Promise((done) => {
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
		tb.Open(h.URL + "/display?token=" + display)
		tb.WaitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		first := h.call(1)
		say := func(n string) string {
			return "请 E " + strings.Join(strings.Split(spell(n[1:]), ""), " ") + " 号，到 1 号窗口办理"
		}
		tb.WaitFor(time.Second, fmt.Sprintf(`window.hallqAnnouncements.includes(%q)`, say(first.Number)))

		h.restart()
		tb.WaitFor(5*time.Second, `document.querySelector("#conn").dataset.state !== "open"`)
		h.finish(first)     // not announced
		second := h.call(1) // while the board is away: replayed and announced once
		took := tb.WaitFor(10*time.Second, fmt.Sprintf(`document.querySelector("#conn").dataset.state === "open" && window.hallqAnnouncements.includes(%q)`, say(second.Number)))
		t.Logf("board back and caught up %v after the restart", took)
		h.finish(second)
		third := h.call(1)
		tb.WaitFor(3*time.Second, fmt.Sprintf(`window.hallqAnnouncements.includes(%q)`, say(third.Number))) // after the one playing

		got := browsertest.Eval[[]string](tb, `window.hallqAnnouncements`)
		want := []string{say(first.Number), say(second.Number), say(third.Number)}
		if !slices.Equal(got, want) {
			t.Errorf("announcements = %q, want %q", got, want)
		}
		if tb.Text("#latest-number") != third.Number {
			t.Errorf("latest call shows %q, want %s", tb.Text("#latest-number"), third.Number)
		}
	})

	t.Run("clerk console full cycle with rating", func(t *testing.T) {
		h := MustStartHall(t)
		clerk := h.token("wang", "clerk", 1)
		first := h.issue("A") // window 1 prefers A to E
		h.issue("E")

		pad := b.MustTab(t, 1280, 800)
		pad.Open(h.URL + "/rate/1")
		pad.login(clerk)
		pad.WaitFor(5*time.Second, `!document.querySelector("#idle").hidden && document.querySelector("#conn").dataset.state === "open"`)

		c := b.MustTab(t, 1920, 1080)
		c.Open(h.URL + "/clerk")
		c.Axe()
		c.login(clerk)
		c.WaitFor(5*time.Second, `!document.querySelector("#console").hidden && !document.querySelector("#open").disabled`)
		c.Click("#open")
		c.WaitFor(3*time.Second, `!document.querySelector("#call").disabled`)
		c.Key("n")
		c.WaitText(3*time.Second, "#cur-number", first.Number)
		c.WaitText(time.Second, "#cur-status", "已叫号")
		c.Key("s")
		c.WaitText(3*time.Second, "#cur-status", "办理中")
		c.WaitText(3*time.Second, "#queue", "E001")
		c.Axe()
		c.Key("c")
		c.WaitFor(3*time.Second, `document.querySelector("#cur-number").textContent === "—" && document.querySelector("#count-done").textContent === "1"`)

		pad.WaitFor(3*time.Second, `!document.querySelector("#ask").hidden`)
		pad.WaitText(time.Second, "#ask-ticket", first.Number)
		pad.Shot("rate")
		pad.Axe()
		pad.Click(`#levels button[data-score="2"]`)
		pad.WaitFor(time.Second, `!document.querySelector("#why").hidden`)
		pad.Axe()
		pad.WaitFor(time.Second, `document.querySelector("#rate-submit").disabled`) // a poor rating needs its reason
		pad.Click(`#reasons button[data-indicator="efficiency"]`)
		pad.Click("#rate-submit")
		pad.WaitFor(time.Second, `!document.querySelector("#thanks").hidden`)

		deadline := time.Now().Add(browsertest.WaitLimit(3 * time.Second))
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
		tb.Open(h.URL + "/dashboard")
		tb.login(h.admin)
		tb.WaitFor(5*time.Second, `document.querySelectorAll("#services tr").length === 5`)

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
				tb.WaitText(2*time.Second, fmt.Sprintf(`#services tr[data-service=%q] [data-field="waiting"]`, s.Code), fmt.Sprint(s.Waiting))
				if got := tb.Text(fmt.Sprintf(`#services tr[data-service=%q] [data-field="issued"]`, s.Code)); got != fmt.Sprint(s.Issued) {
					t.Errorf("service %s issued shows %q, API says %d", s.Code, got, s.Issued)
				}
			}
			tb.WaitText(2*time.Second, "#kpi-waiting", fmt.Sprint(total))
		}
		check()
		if got := tb.Text("#kpi-open"); got != "2" {
			t.Errorf("open windows = %q, want 2", got)
		}
		if got := tb.Text("#kpi-served"); got != "1" {
			t.Errorf("served today = %q, want 1", got)
		}
		tb.WaitText(2*time.Second, `#windows tr[data-window="2"]`, "暂停服务")
		tb.WaitText(2*time.Second, `#devices [data-field="offline"]`, "1 · 搁置 2 set aside")
		if got := tb.Text("#devices tr"); !strings.Contains(got, "kiosk-1") || !strings.Contains(got, "纸少 paper low") {
			t.Errorf("kiosk row = %q", got)
		}

		h.issue("A") // live: the page follows the event stream
		check()

		tb.Shot("dashboard")
		tb.Click(`#report button[type=submit]`)
		tb.WaitText(3*time.Second, "#report-rows", "A")
		tb.Axe()
	})

	t.Run("dashboard changes a daily quota in the hall configuration", func(t *testing.T) {
		h := MustStartHall(t)
		tb := b.MustTab(t, 1920, 1080)
		tb.Open(h.URL + "/dashboard")
		tb.login(h.admin)
		quota := `#cfg-services tr[data-service="E"] [data-f="quota"]`
		tb.WaitFor(5*time.Second, fmt.Sprintf(`document.querySelector(%q) !== null`, quota))
		browsertest.Eval[bool](tb, fmt.Sprintf(`(() => { const i = document.querySelector(%q); i.value = "42"; i.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, quota))
		tb.Click("#cfg-save")
		tb.WaitText(5*time.Second, "#cfg-result", "已保存")
		type service struct {
			Code       string `json:"code"`
			DailyQuota int    `json:"daily_quota"`
		}
		var cfg struct{ Services []service }
		h.api("GET", "config", h.admin, nil, &cfg)
		if i := slices.IndexFunc(cfg.Services, func(s service) bool { return s.Code == "E" }); i < 0 || cfg.Services[i].DailyQuota != 42 {
			t.Fatalf("GET /api/v1/config after saving: %+v", cfg.Services)
		}
		browsertest.Eval[bool](tb, `(document.querySelector("#hall-config").scrollIntoView(), true)`)
		tb.Shot("dashboard-config")
		tb.Axe()
	})

	t.Run("a configuration change shows on board, window strip and console without a reload", func(t *testing.T) {
		h := MustStartHall(t)
		display := h.token("board", "display", 0)
		clerk := h.token("wang", "clerk", 1)
		h.issue("A")
		h.openWindow(1, "wang")
		h.call(1)

		board := b.MustTab(t, 1920, 1080)
		board.Open(h.URL + "/display?token=" + display)
		board.WaitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		strip := board.beside(t, 1920, 540) // the board's machine: its display token
		strip.Open(h.URL + "/display/window/1")
		strip.WaitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		console := b.MustTab(t, 1920, 1080)
		console.Open(h.URL + "/clerk")
		console.login(clerk)
		console.WaitText(5*time.Second, "#cur-number", "A001")

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

		board.WaitText(3*time.Second, "#hall", "新区政务服务中心")
		board.WaitText(3*time.Second, `#waiting li[data-service="A"]`, "户籍业务")
		strip.WaitText(3*time.Second, "#name", "一号综合窗口")
		strip.WaitText(time.Second, "#number", "A001")
		console.WaitText(3*time.Second, "#cur-service", "户籍业务")
		console.WaitText(3*time.Second, "#win-detail", "一号综合窗口")
	})

	t.Run("status page follows the ticket until it is called", func(t *testing.T) {
		h := MustStartHall(t)
		h.issue("E")
		mine := h.issue("E")
		h.openWindow(8, "qian")

		tb := b.MustTab(t, 390, 844)
		tb.Open(h.URL + "/t/" + mine.ID)
		tb.WaitText(3*time.Second, "#number", mine.Number)
		tb.WaitText(time.Second, "#status", "等候中")
		tb.WaitText(time.Second, "#ahead", "1 人")
		tb.Axe()
		h.finish(h.call(8))
		tb.WaitText(7*time.Second, "#ahead", "0 人")
		tb.Shot("status")
		h.call(8)
		took := tb.WaitFor(7*time.Second, `!document.querySelector("#called").hidden && document.querySelector("#called").textContent === "请到 8 号窗口办理"`)
		t.Logf("status page showed the call after %v", took)
		tb.Click("#lang")
		tb.WaitText(time.Second, "#called", "Please go to window 8")
		tb.Shot("status-called")
		tb.Axe()
	})
}

func TestRemotePage(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	h.issue("A")

	tb := b.MustTab(t, 390, 844)
	tb.Open(h.URL + "/remote")
	// A and B may be taken remotely in the sample hall; C, D and E may not
	tb.WaitFor(5*time.Second, `document.querySelectorAll("#services input[type=radio]").length === 2`)
	if got := browsertest.Eval[string](tb, `[...document.querySelectorAll("#services input")].map(i => i.value).join(",")`); got != "A,B" {
		t.Errorf("services offered: %q, want A,B", got)
	}
	tb.Axe()
	tb.Click(`label[for="svc-A"]`)
	tb.Type("#id-number", "11010519491231002X")
	tb.Shot("remote")
	tb.Click("#submit")
	tb.WaitFor(5*time.Second, `location.pathname.startsWith("/t/")`)
	tb.WaitText(5*time.Second, "#number", "A002")
	tb.WaitText(time.Second, "#ahead", "1 人")
	first := browsertest.Eval[string](tb, `location.pathname`)
	if c := browsertest.Eval[string](tb, `localStorage.getItem("hallq.remote.claim") || ""`); len(c) != 32 {
		t.Errorf("the page keeps no claim for its ticket: %q", c)
	}
	// the same phone again (a reload, a double tap): the same ticket, not a
	// refusal and not a second one
	tb.Open(h.URL + "/remote")
	tb.WaitFor(5*time.Second, `document.querySelectorAll("#services input[type=radio]").length === 2`)
	tb.Click(`label[for="svc-A"]`)
	tb.Type("#id-number", "11010519491231002X")
	tb.Click("#submit")
	tb.WaitFor(5*time.Second, `location.pathname.startsWith("/t/")`)
	if again := browsertest.Eval[string](tb, `location.pathname`); again != first {
		t.Errorf("the same phone took %s, then %s: want the same ticket", first, again)
	}

	// a wrong number gets plain words, in either language
	tb.Open(h.URL + "/remote")
	tb.WaitFor(5*time.Second, `document.querySelectorAll("#services input[type=radio]").length === 2`)
	tb.Click(`label[for="svc-A"]`)
	tb.Type("#id-number", "110105194912310021")
	tb.Click("#submit")
	tb.WaitText(5*time.Second, "#error", "身份证号码有误")
	tb.Axe()
	tb.Click("#lang")
	tb.WaitText(time.Second, "#error", "ID number is not valid")
	tb.WaitText(time.Second, "#privacy", "never stored")
}

// spell writes digits in Chinese, as the board says them.
func spell(digits string) string {
	var b strings.Builder
	for _, c := range digits {
		b.WriteRune([]rune("零一二三四五六七八九")[c-'0'])
	}
	return b.String()
}
