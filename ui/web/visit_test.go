package web_test

// Tests of the visit's faces (一票到底, the one-time notice, 好差评): every new
// control of the clerk console, the rating pad and the phone page pressed in
// Chromium, each effect checked through the API.

import (
	"fmt"
	"testing"
	"time"

	"hallq/internal/browsertest"
)

// visitMatters are the hall's own matters for these tests: four of 户政 (A),
// one of 出入境 (B).
var visitMatters = []map[string]any{
	{"code": "hukou-move", "name": map[string]string{"zh": "户口迁移", "en": "Hukou move"}, "services": []string{"A"}, "booking": "allowed",
		"materials": []map[string]any{{"name": map[string]string{"zh": "居民身份证", "en": "ID card"}, "original": true}, {"name": map[string]string{"zh": "户口簿", "en": "Household register"}}, {"name": map[string]string{"zh": "准迁证", "en": "Move permit"}}}},
	{"code": "id-renew", "name": map[string]string{"zh": "身份证换领", "en": "ID card renewal"}, "services": []string{"A"}, "booking": "none",
		"materials": []map[string]any{{"name": map[string]string{"zh": "原身份证", "en": "Old ID card"}}}},
	{"code": "residence", "name": map[string]string{"zh": "居住证明", "en": "Residence certificate"}, "services": []string{"A"}, "booking": "none",
		"materials": []map[string]any{{"name": map[string]string{"zh": "租房合同", "en": "Tenancy contract"}}}},
	{"code": "birth", "name": map[string]string{"zh": "出生登记", "en": "Birth registration"}, "services": []string{"A"}, "booking": "none",
		"materials": []map[string]any{{"name": map[string]string{"zh": "出生医学证明", "en": "Birth certificate"}}}},
	{"code": "passport", "name": map[string]string{"zh": "护照申领", "en": "Passport"}, "services": []string{"B"}, "booking": "allowed",
		"materials": []map[string]any{{"name": map[string]string{"zh": "照片回执", "en": "Photo receipt"}}}},
}

// setMatters gives the hall its own matters through the configuration API.
func (h *testHall) setMatters() {
	h.t.Helper()
	var cfg map[string]any
	h.api("GET", "config", h.admin, nil, &cfg)
	cfg["matters"] = visitMatters
	h.api("PUT", "config", h.admin, cfg, nil)
}

// matterOf returns a matter of a ticket as the API gives it to staff.
func (h *testHall) matterOf(id, code string) map[string]any {
	h.t.Helper()
	for _, m := range h.getTicket(id)["matters"].([]any) {
		if mm := m.(map[string]any); mm["code"] == code {
			return mm
		}
	}
	return nil
}

// waitMatter polls until a ticket's matter code has field = want ("" for
// "the matter is not on the ticket").
func (h *testHall) waitMatter(id, code, field string, want any) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(browsertest.WaitLimit(5 * time.Second))
	for {
		t := h.getTicket(id)
		var got map[string]any
		ms, _ := t["matters"].([]any)
		for _, m := range ms {
			if mm := m.(map[string]any); mm["code"] == code {
				got = mm
			}
		}
		if (field == "" && got == nil) || (got != nil && field != "" && fmt.Sprint(got[field]) == fmt.Sprint(want)) {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("ticket %v matter %s: %v, want %s = %v", t["number"], code, got, field, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// choose sets a select's value as a person picking an option would.
func (tb *tab) choose(sel, value string) {
	tb.T.Helper()
	tb.WaitFor(3*time.Second, fmt.Sprintf(`[...document.querySelectorAll(%q + " option")].some(o => o.value === %q)`, sel, value))
	tb.SetValue(sel, value)
}

// TestClerkVisitControls presses each matter control of the clerk console:
// add (three times), remove, and the outcome dialog with each outcome —
// materials incomplete with a missing material ticked, accepted with a case
// number, refused with a reason, done — then completes the ticket, whose
// record lists each matter with its outcome.
func TestClerkVisitControls(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	h.setMatters()
	h.openWindow(1, "wang")
	tk := h.issue("A")

	c := b.MustTab(t, 1920, 1080)
	c.Open(h.Server.URL + "/clerk")
	c.login(h.token("wang", "clerk", 1))
	c.WaitFor(10*time.Second, `!document.querySelector("#console").hidden && document.querySelector("#conn").dataset.state === "open"`)
	c.press("call", "n", false)
	h.waitTicket(tk.ID, "status", "called")
	c.WaitFor(5*time.Second, `!document.querySelector("#visit").hidden`)
	c.Axe()

	for _, code := range []string{"hukou-move", "id-renew", "residence", "birth", "passport"} {
		c.choose("#matter-add", code)
		c.Click("#matter-add-btn")
		h.waitMatter(tk.ID, code, "code", code)
		c.WaitFor(3*time.Second, fmt.Sprintf(`document.querySelector('#matters li[data-matter=%q]') !== null`, code))
	}
	c.WaitFor(3*time.Second, `![...document.querySelectorAll("#matter-add option")].some(o => o.value === "passport")`) // offered once
	c.Click(`#matters button[aria-label="移除 Remove 护照申领 Passport"]`)
	h.waitMatter(tk.ID, "passport", "", nil)

	outcome := func(label, radio string, fill func()) {
		c.Click(fmt.Sprintf(`#matters button[aria-label="办理结果 Outcome %s"]`, label))
		c.WaitFor(3*time.Second, `document.querySelector("#outcome-dialog").open`)
		c.Click("#" + radio)
		if fill != nil {
			fill()
		}
		c.Click(`#outcome-form button[value="ok"]`)
	}
	outcome("户口迁移 Hukou move", "outcome-incomplete", func() { c.Click("#missing-2") })
	m := h.waitMatter(tk.ID, "hukou-move", "outcome", "incomplete")
	if missing := m["missing"].([]any); len(missing) != 1 || missing[0].(map[string]any)["zh"] != "准迁证" {
		t.Fatalf("missing materials: %v", m["missing"])
	}
	c.WaitText(3*time.Second, `#matters li[data-matter="hukou-move"]`, "材料不全")

	outcome("身份证换领 ID card renewal", "outcome-accepted", func() { c.set("#outcome-case", "SL2026-0042") })
	h.waitMatter(tk.ID, "id-renew", "case_number", "SL2026-0042")
	outcome("居住证明 Residence certificate", "outcome-refused", func() { c.set("#outcome-reason", "不属于本辖区") })
	h.waitMatter(tk.ID, "residence", "reason", "不属于本辖区")
	// a refused matter without its reason is refused by the server, in words
	outcome("出生登记 Birth registration", "outcome-refused", nil)
	c.WaitText(3*time.Second, "#error", "输入有误")
	outcome("出生登记 Birth registration", "outcome-done", nil)
	h.waitMatter(tk.ID, "birth", "outcome", "done")
	if h.matterOf(tk.ID, "birth")["window"] != float64(1) {
		t.Fatal("the outcome does not name the window")
	}
	c.WaitFor(3*time.Second, `document.querySelectorAll('#matters button[aria-label^="办理结果"]').length === 0`)

	c.press("start", "s", false)
	h.waitTicket(tk.ID, "status", "serving")
	c.press("complete", "c", false)
	h.waitTicket(tk.ID, "status", "done")
	c.Shot("clerk-visit")
}

// TestClerkKeepsAPickedMatter: a matter picked in the add list stays
// picked while the hall's events redraw the console (a ticket issued at
// the kiosk), so Add adds it — before, the redraw emptied the list's
// choice and Add did nothing.
func TestClerkKeepsAPickedMatter(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	h.setMatters()
	h.openWindow(1, "wang")
	tk := h.issue("A")

	c := b.MustTab(t, 1920, 1080)
	c.Open(h.Server.URL + "/clerk")
	c.login(h.token("wang", "clerk", 1))
	c.WaitFor(10*time.Second, `!document.querySelector("#console").hidden && document.querySelector("#conn").dataset.state === "open"`)
	c.press("call", "n", false)
	h.waitTicket(tk.ID, "status", "called")
	c.WaitFor(5*time.Second, `!document.querySelector("#visit").hidden`)

	c.choose("#matter-add", "birth")
	browsertest.Eval[bool](c, `(document.querySelector('#matter-add option[value="birth"]').dataset.before = "1", true)`)
	h.issue("E") // an event: the console draws again
	c.WaitFor(3*time.Second, `!document.querySelector('#matter-add option[value="birth"]').dataset.before`)
	if got := browsertest.Eval[string](c, `document.querySelector("#matter-add").value`); got != "birth" {
		t.Fatalf("the matter picked before the redraw: %q, want birth", got)
	}
	c.Click("#matter-add-btn")
	h.waitMatter(tk.ID, "birth", "code", "birth")
}

// serveMatters takes a ticket of service A through window 1 by the API:
// called, the matters added and done, started and completed.
func (h *testHall) serveMatters(codes ...string) ticket {
	h.t.Helper()
	tk := h.issue("A")
	if got := h.call(1); got.ID != tk.ID {
		h.t.Fatalf("window 1 called %s", got.Number)
	}
	for _, c := range codes {
		h.api("POST", "tickets/"+tk.ID+"/add-matter", h.admin, map[string]string{"matter": c}, nil)
		h.api("POST", "tickets/"+tk.ID+"/outcome", h.admin, map[string]string{"matter": c, "outcome": "done"}, nil)
	}
	return tk
}

// TestRatingPadRatesEachMatter: the pad asks once per matter handled at its
// window, with the options of the level chosen; a poor level needs one; a
// matter the phone already rated is not asked again.
func TestRatingPadRatesEachMatter(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	h.setMatters()
	h.openWindow(1, "wang")
	pad := b.MustTab(t, 1280, 800)
	pad.Open(h.Server.URL + "/rate/1")
	pad.login(h.token("wang", "clerk", 1))
	pad.WaitFor(10*time.Second, `!document.querySelector("#idle").hidden && document.querySelector("#conn").dataset.state === "open"`)

	tk := h.serveMatters("hukou-move", "id-renew", "birth")
	// the citizen rated 出生登记 on the phone already (no token: channel phone)
	if st, body := h.try("POST", "tickets/"+tk.ID+"/evaluation", "", map[string]any{"matter": "birth", "score": 4}); st != 200 {
		t.Fatalf("phone rating: %d %s", st, body)
	}
	h.api("POST", "tickets/"+tk.ID+"/start", h.admin, nil, nil)
	h.api("POST", "tickets/"+tk.ID+"/complete", h.admin, nil, nil)

	pad.WaitFor(5*time.Second, `!document.querySelector("#ask").hidden`)
	pad.WaitText(time.Second, "#ask-matter", "户口迁移")
	pad.Click(`#levels button[data-score="5"]`)
	pad.WaitFor(time.Second, `!document.querySelector("#why").hidden && !document.querySelector("#why-title-high").hidden`)
	pad.WaitText(time.Second, "#reasons", "服务态度好") // the options of a good level
	pad.Axe()
	pad.Click(`#reasons button[data-indicator="attitude"]`)
	pad.WaitFor(time.Second, `document.querySelector('#reasons button[data-indicator="attitude"]').getAttribute("aria-pressed") === "true"`)
	pad.Click("#rate-submit")

	pad.WaitFor(3*time.Second, `!document.querySelector("#ask").hidden && document.querySelector("#ask-matter").textContent.includes("身份证换领")`)
	pad.Click(`#levels button[data-score="1"]`)
	pad.WaitFor(time.Second, `!document.querySelector("#why-title-low").hidden && document.querySelector("#rate-submit").disabled`)
	pad.WaitText(time.Second, "#reasons", "服务态度差") // the options of a poor level
	pad.Click(`#reasons button[data-indicator="efficiency"]`)
	pad.Click(`#reasons button[data-indicator="overall"]`)
	pad.Click(`#reasons button[data-indicator="overall"]`) // pressed twice: not chosen
	pad.Click("#rate-submit")
	pad.WaitFor(3*time.Second, `!document.querySelector("#thanks").hidden`) // 出生登记 is not asked again

	deadline := time.Now().Add(browsertest.WaitLimit(5 * time.Second))
	for {
		a, r := h.matterOf(tk.ID, "hukou-move")["rating"], h.matterOf(tk.ID, "id-renew")["rating"]
		if a != nil && r != nil {
			ra, rr := a.(map[string]any), r.(map[string]any)
			if ra["score"] != float64(5) || fmt.Sprint(ra["indicators"]) != "[attitude]" || ra["channel"] != "window_pad" ||
				rr["score"] != float64(1) || fmt.Sprint(rr["indicators"]) != "[efficiency]" {
				t.Fatalf("ratings: %v / %v", ra, rr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ratings did not reach the server: %v / %v", a, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := h.matterOf(tk.ID, "birth")["rating"].(map[string]any); r["channel"] != "phone" || r["score"] != float64(4) {
		t.Fatalf("the phone's rating was replaced: %v", r)
	}
}

// TestPhonePageVisit: the phone page shows the checklist while waiting, the
// one-time notice once a matter lacked materials, and rates each handled
// matter as the phone (a poor level needs an option).
func TestPhonePageVisit(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	h.setMatters()
	h.openWindow(1, "wang")
	tk := h.issue("A")
	p := b.MustTab(t, 390, 844)
	p.Open(h.Server.URL + "/t/" + tk.ID)
	p.WaitFor(10*time.Second, `!document.querySelector("#guide").hidden`)
	p.WaitText(time.Second, "#guide", "户口簿") // every matter of 户政, before any was chosen
	p.WaitText(time.Second, "#guide", "出生医学证明")
	p.Axe()
	p.Shot("phone-guide")

	if got := h.call(1); got.ID != tk.ID {
		t.Fatalf("window 1 called %s", got.Number)
	}
	for _, c := range []string{"hukou-move", "id-renew"} {
		h.api("POST", "tickets/"+tk.ID+"/add-matter", h.admin, map[string]string{"matter": c}, nil)
	}
	// the citizen's own matters now: the checklist narrows to them
	p.WaitFor(10*time.Second, `document.querySelectorAll("#guide .guide-matter").length === 2`)
	h.api("POST", "tickets/"+tk.ID+"/outcome", h.admin, map[string]any{"matter": "hukou-move", "outcome": "incomplete", "missing": []int{2}}, nil)
	p.WaitFor(10*time.Second, `!document.querySelector("#notice").hidden`)
	p.WaitText(time.Second, "#notice", "准迁证")
	p.WaitText(time.Second, "#notice-title", tk.Number)
	p.WaitFor(time.Second, `!document.querySelector("#rate").hidden && document.querySelector("#rate-matter").textContent.includes("户口迁移")`)
	p.Axe()
	p.Shot("phone-notice")

	p.Click(`#rate-levels button[data-score="2"]`)
	p.WaitFor(time.Second, `document.querySelector("#rate-send").disabled`)
	p.Click(`#rate-options button[data-indicator="attitude"]`)
	p.Click("#rate-send")
	r := h.waitMatter(tk.ID, "hukou-move", "outcome", "incomplete")
	deadline := time.Now().Add(browsertest.WaitLimit(5 * time.Second))
	for r["rating"] == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		r = h.matterOf(tk.ID, "hukou-move")
	}
	if rt, _ := r["rating"].(map[string]any); rt == nil || rt["channel"] != "phone" || rt["score"] != float64(2) || fmt.Sprint(rt["indicators"]) != "[attitude]" {
		t.Fatalf("the phone's rating: %v", r["rating"])
	}

	h.api("POST", "tickets/"+tk.ID+"/outcome", h.admin, map[string]any{"matter": "id-renew", "outcome": "done"}, nil)
	h.api("POST", "tickets/"+tk.ID+"/start", h.admin, nil, nil)
	h.api("POST", "tickets/"+tk.ID+"/complete", h.admin, nil, nil)
	p.WaitFor(10*time.Second, `document.querySelector("#rate-matter").textContent.includes("身份证换领")`)
	p.Click(`#rate-levels button[data-score="5"]`)
	p.Click("#rate-send")
	p.WaitText(5*time.Second, "#rate-title", "感谢")
	h.waitTicket(tk.ID, "status", "done")
	deadline = time.Now().Add(5 * time.Second)
	for h.matterOf(tk.ID, "id-renew")["rating"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("the second matter's rating did not reach the server")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !p.visible("#notice") {
		t.Fatal("the notice went away once the visit was done")
	}
}

func (tb *tab) visible(sel string) bool {
	tb.T.Helper()
	return browsertest.Eval[bool](tb, fmt.Sprintf(`!document.querySelector(%q).hidden`, sel))
}

// TestDashboardShowsVisitFigures: the dashboard shows the server's walk,
// idle and one-visit figures per window and per matter.
func TestDashboardShowsVisitFigures(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	h.setMatters()
	h.openWindow(1, "wang")
	tk := h.serveMatters("hukou-move", "id-renew")
	h.api("POST", "tickets/"+tk.ID+"/start", h.admin, nil, nil)
	h.api("POST", "tickets/"+tk.ID+"/complete", h.admin, nil, nil)
	var fig struct {
		Windows []struct {
			Key       string  `json:"key"`
			MeanWalkS float64 `json:"mean_walk_s"`
		} `json:"windows"`
		OneVisit struct {
			ByMatter []struct {
				Key     string  `json:"key"`
				Handled int     `json:"handled"`
				Rate    float64 `json:"rate"`
			} `json:"by_matter"`
		} `json:"one_visit"`
	}
	h.api("GET", "figures", h.admin, nil, &fig)
	if len(fig.Windows) != 1 || len(fig.OneVisit.ByMatter) != 2 || fig.OneVisit.ByMatter[0].Rate != 1 {
		t.Fatalf("figures: %+v", fig)
	}
	d := b.MustTab(t, 1920, 1080)
	d.Open(h.Server.URL + "/dashboard")
	d.login(h.admin)
	d.WaitText(10*time.Second, `#onevisit tr[data-matter="hukou-move"]`, "户口迁移")
	d.WaitText(time.Second, `#onevisit tr[data-matter="hukou-move"]`, "100%")
	d.WaitText(time.Second, `#windows-fig tr[data-window="1"]`, "1号窗口")
	d.WaitText(time.Second, `#windows-fig tr[data-window="1"]`, "100%")
	d.WaitFor(time.Second, `document.querySelectorAll('#clerks tr[data-clerk] td').length === 8`)
	d.WaitText(time.Second, "#onevisit-note", "30 天")
	d.Axe()
}
