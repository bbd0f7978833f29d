package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The phone status page's postpone (暂离): the citizen presses it, confirms,
// and the server moves the ticket back once; the page shows the new place
// and no longer offers it.
func TestPhonePostpone(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	var mine ticket
	for i := range 7 {
		tk := h.issue("E")
		if i == 0 {
			mine = tk
		}
	}
	tb := b.MustTab(t, 390, 844)
	tb.Open(h.Server.URL + "/t/" + mine.ID)
	tb.WaitText(3*time.Second, "#ahead", "0 人")
	tb.WaitFor(time.Second, `!document.querySelector("#postpone").hidden`)
	tb.Axe()
	tb.Click("#postpone")
	tb.WaitFor(time.Second, `!document.querySelector("#postpone-ask").hidden`)
	// changing one's mind changes nothing
	tb.Click("#postpone-no")
	tb.WaitFor(time.Second, `document.querySelector("#postpone-ask").hidden && !document.querySelector("#postpone").hidden`)
	if h.getTicket(mine.ID)["postponed"] == true {
		t.Fatal("no was postponed")
	}
	tb.Click("#postpone")
	tb.Shot("status-postpone")
	tb.Click("#postpone-yes")
	tb.WaitText(3*time.Second, "#floor-note", "已为您向后顺延，请留意叫号。")
	got := h.waitTicket(mine.ID, "postponed", true)
	if got["position"].(float64) != 5 {
		t.Errorf("position after postponing: %v, want 5 (the default five places)", got["position"])
	}
	tb.WaitText(3*time.Second, "#ahead", "5 人")
	tb.WaitFor(time.Second, `document.querySelector("#postpone").hidden`)
	tb.Click("#lang")
	tb.WaitText(time.Second, "#floor-note", "You have been moved back. Please watch for your number.")
	tb.Axe()
	// a reload: the page says it was used, and offers it no more
	tb.Open(h.Server.URL + "/t/" + mine.ID)
	tb.WaitText(3*time.Second, "#floor-note", "You have already used this once.")
	tb.WaitFor(time.Second, `document.querySelector("#postpone").hidden`)
}

// The clerk console's 暂离 Postpone: the called citizen is not ready; the
// clerk puts them back a few places (by key and by button), the window is
// free to call the next, the queue marks the ticket, and the control is
// off for a ticket postponed once already.
func TestClerkPostpone(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	clerk := h.token("li", "clerk", 1)
	c := b.MustTab(t, 1920, 1080)
	c.Open(h.Server.URL + "/clerk")
	c.login(clerk)
	c.WaitFor(5*time.Second, `!document.querySelector("#console").hidden && document.querySelector("#conn").dataset.state === "open"`)
	var ts []ticket
	for range 8 {
		ts = append(ts, h.issue("A"))
	}
	c.press("open", "o", true)
	h.waitWindow(1, "status", "open")
	for i, byKey := range []bool{true, false} {
		c.press("call", "n", true)
		h.waitTicket(ts[i].ID, "status", "called")
		c.WaitText(3*time.Second, "#cur-number", ts[i].Number)
		c.press("postpone", "w", byKey)
		got := h.waitTicket(ts[i].ID, "status", "waiting")
		if got["postponed"] != true {
			t.Fatalf("postponed by %v: %v", byKey, got)
		}
		h.waitWindow(1, "current", nil)
		c.WaitFor(3*time.Second, `document.querySelector("#postpone").disabled`)
		c.WaitText(3*time.Second, `#queue tr[data-ticket="`+ts[i].Number+`"] td:nth-child(3)`, "暂离 Postponed")
	}
	// the next call is the third ticket: the first two let others pass
	c.press("call", "n", true)
	h.waitTicket(ts[2].ID, "status", "called")
	h.finish(ts[2])
	h.waitWindow(1, "current", nil)
	// called again, a postponed ticket cannot be postponed a second time
	row := `#queue button[aria-label="叫此号 Call ` + ts[0].Number + `"]`
	c.WaitFor(5*time.Second, `document.querySelector('`+row+`') && !document.querySelector('`+row+`').disabled`)
	c.Click(row)
	h.waitTicket(ts[0].ID, "status", "called")
	c.WaitText(3*time.Second, "#cur-number", ts[0].Number)
	c.WaitFor(3*time.Second, `document.querySelector("#postpone").disabled`)
	c.Axe()
}

// setCalendar gives the hall a calendar open every day 08:00-18:00 with
// the closures given (day → reason), through the dashboard's own route.
func (h *testHall) setCalendar(closures map[string]string) {
	h.t.Helper()
	var cfg map[string]any
	h.api("GET", "config", h.admin, nil, &cfg)
	day := []map[string]string{{"from": "08:00", "to": "18:00"}}
	weekly := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly[d] = day
	}
	var cl []map[string]any
	for d, why := range closures {
		cl = append(cl, map[string]any{"day": d, "reason": map[string]string{"zh": why, "en": "system upgrade"}})
	}
	cfg["calendar"] = map[string]any{"weekly": weekly, "closures": cl}
	h.api("PUT", "config", h.admin, cfg, nil)
}

// A special closure of the hall calendar shows its reason on the board, and
// goes when the closure is lifted.
func TestBoardShowsClosure(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	display := h.token("board", "display", 0)
	today := h.clock.Now().Format("2006-01-02")
	h.setCalendar(map[string]string{today: "系统升级"})
	tb := b.MustTab(t, 1920, 1080)
	tb.Open(h.Server.URL + "/display")
	tb.login(display)
	tb.WaitText(5*time.Second, "#closure", "今日暂停办理：系统升级Closed today: system upgrade")
	tb.Axe()
	tb.Shot("board-closure")
	h.setCalendar(nil)
	tb.WaitFor(5*time.Second, `document.querySelector("#closure").hidden`)
	h.setCalendar(map[string]string{today: "设备检修"})
	tb.WaitText(5*time.Second, "#closure", "今日暂停办理：设备检修Closed today: system upgrade")
}

// 帮办: the phone page's button calls a helper; the call appears on the
// manager's dashboard with the ticket's number (a kiosk's with the kiosk's
// name), and "On my way" acknowledges it on the server.
func TestHelperCallFromPhoneToDashboard(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	mine := h.issue("E")
	dash := b.MustTab(t, 1920, 1080)
	dash.Open(h.Server.URL + "/dashboard")
	dash.login(h.admin)
	dash.WaitFor(5*time.Second, `!document.querySelector("#dash").hidden && !document.querySelector("#help-none").hidden`)

	phone := b.MustTab(t, 390, 844)
	phone.Open(h.Server.URL + "/t/" + mine.ID)
	phone.WaitFor(3*time.Second, `!document.querySelector("#help").hidden`)
	phone.Click("#help")
	phone.WaitText(3*time.Second, "#floor-note", "已通知工作人员，请留在原处，工作人员会按号码 "+mine.Number+" 来找您。")
	phone.WaitFor(time.Second, `document.querySelector("#help").hidden`)
	phone.Axe()

	kiosk := h.token("kiosk-7", "kiosk", 0)
	if st, body := h.try("POST", "help", kiosk, nil); st != 201 {
		t.Fatalf("kiosk call: %d %s", st, body)
	}
	dash.WaitText(5*time.Second, "#help-count", "(2)")
	dash.WaitFor(time.Second, `document.querySelector("#help-calls").textContent.includes("号码 Ticket `+mine.Number+`") &&
		document.querySelector("#help-calls").textContent.includes("自助机 Kiosk kiosk-7")`)

	dash.Axe()
	dash.Shot("dashboard-help")
	dash.Click(`#help-calls button[aria-label="前往处理 On my way: 号码 Ticket ` + mine.Number + `"]`)
	dash.WaitText(5*time.Second, "#help-count", "(1)")
	dash.WaitFor(time.Second, `document.querySelector("#help-done").textContent.includes("号码 Ticket `+mine.Number+`")`)
	var calls []map[string]any
	h.api("GET", "help", h.admin, nil, &calls)
	var acked int
	for _, c := range calls {
		if c["number"] == mine.Number && c["ack_by"] != nil && c["ack_by"] != "" {
			acked++
		}
	}
	if acked != 1 {
		t.Errorf("the server's calls: %v", calls)
	}
}

// writePNG writes a small real PNG image and returns its path.
func writePNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{R: uint8(x * 6), G: 90, B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "welcome.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Board notices and media from the dashboard to the board: every control
// of the dashboard's card pressed, its effect checked on the server, and
// the board showing what is current — and hiding a notice outside its times.
func TestBoardNoticesAndMediaFromDashboard(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	display := h.token("board", "display", 0)
	dash := b.MustTab(t, 1920, 1080)
	dash.Open(h.Server.URL + "/dashboard")
	dash.login(h.admin)
	dash.WaitFor(5*time.Second, `!document.querySelector("#dash").hidden && document.querySelector("#notice-list").textContent.includes("None")`)
	board := b.MustTab(t, 1920, 1080)
	board.Open(h.Server.URL + "/display")
	board.login(display)
	board.WaitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)

	dash.set("#notice-zh", "今天下午系统维护")
	dash.set("#notice-en", "Maintenance this afternoon")
	dash.Click("#notice-post")
	dash.WaitText(5*time.Second, "#board-msg", "已发布到叫号屏 · Posted to the boards")
	var o struct {
		Board struct {
			Notices []map[string]any `json:"notices"`
			Media   []map[string]any `json:"media"`
		} `json:"board"`
	}
	h.api("GET", "overview", h.admin, nil, &o)
	if len(o.Board.Notices) != 1 || o.Board.Notices[0]["text"].(map[string]any)["zh"] != "今天下午系统维护" {
		t.Fatalf("the server's notices: %v", o.Board.Notices)
	}
	board.WaitText(5*time.Second, "#notices-text", "今天下午系统维护　Maintenance this afternoon")
	board.WaitFor(time.Second, `!document.querySelector("#notices").hidden`)

	dash.Upload("#media-file", writePNG(t))
	dash.set("#media-seconds", "30")
	dash.Click("#media-upload")
	dash.WaitText(5*time.Second, "#board-msg", "已上传，叫号屏空闲时播放 · Uploaded; the boards play it between calls")
	h.api("GET", "overview", h.admin, nil, &o)
	if len(o.Board.Media) != 1 || o.Board.Media[0]["type"] != "image/png" || o.Board.Media[0]["seconds"].(float64) != 30 {
		t.Fatalf("the server's media: %v", o.Board.Media)
	}
	id := o.Board.Media[0]["id"].(string)
	board.WaitFor(5*time.Second, `document.querySelector("#media").dataset.showing === "`+id+`" &&
		document.querySelector("#media-img").complete && document.querySelector("#media-img").naturalWidth === 40`)

	board.Axe()
	board.Shot("board-notices-media")
	// a call: the panel makes way while it is announced
	h.issue("A")
	h.openWindow(1, "li")
	h.call(1)
	board.WaitFor(5*time.Second, `document.querySelector("#media").classList.contains("quiet")`)

	// a notice outside its times is not shown; one that ends goes by itself
	var cfg map[string]any
	h.api("GET", "config", h.admin, nil, &cfg)
	now := h.clock.Now()
	cfg["board"].(map[string]any)["notices"] = []map[string]any{
		{"id": "past", "text": map[string]string{"zh": "昨天的通知"}, "until": now.Add(-time.Hour).Format(time.RFC3339)},
		{"id": "future", "text": map[string]string{"zh": "明天的通知"}, "from": now.Add(24 * time.Hour).Format(time.RFC3339)},
		{"id": "ending", "text": map[string]string{"zh": "马上结束的通知"}, "until": now.Add(3 * time.Second).Format(time.RFC3339Nano)},
	}
	h.api("PUT", "config", h.admin, cfg, nil)
	board.WaitFor(5*time.Second, `document.querySelector("#notices").dataset.ids === "ending"`)
	board.WaitFor(10*time.Second, `document.querySelector("#notices").hidden`)

	// removing from the dashboard
	dash.WaitFor(5*time.Second, `document.querySelectorAll("#notice-list tr[data-notice]").length === 3`)
	dash.Click(`#notice-list button[aria-label="删除 Remove: 昨天的通知"]`)
	dash.WaitFor(5*time.Second, `document.querySelectorAll("#notice-list tr[data-notice]").length === 2`)
	dash.WaitFor(5*time.Second, `document.querySelectorAll("#media-list tr[data-media]").length === 1`)
	dash.Click(`#media-list button[aria-label="删除 Remove: welcome.png"]`)
	dash.WaitFor(5*time.Second, `document.querySelector("#media-list").textContent.includes("None")`)
	o.Board.Notices, o.Board.Media = nil, nil // absent lists leave a decoded value alone
	h.api("GET", "overview", h.admin, nil, &o)
	if len(o.Board.Notices) != 2 || len(o.Board.Media) != 0 {
		t.Errorf("after removing: %v %v", o.Board.Notices, o.Board.Media)
	}
	board.WaitFor(5*time.Second, `document.querySelector("#media").hidden`)
	dash.Axe()
}
