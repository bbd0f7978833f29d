package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/internal/browsertest"
)

// try calls the REST API and returns the status and body, failing on
// nothing: for checks that expect a refusal.
func (h *testHall) try(method, path, token string, body any) (int, string) {
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
	return res.StatusCode, string(data)
}

// set types a value into an input as a person would, replacing what is there.
func (tb *tab) set(sel, value string) {
	tb.T.Helper()
	tb.WaitFor(3*time.Second, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
	browsertest.Eval[bool](tb, fmt.Sprintf(`(e => { e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); return true })(document.querySelector(%q))`, sel))
	tb.Type(sel, value)
}

// landmarks fails when content lies outside every landmark (axe "region").
func (tb *tab) landmarks() {
	tb.T.Helper()
	found := browsertest.Eval[[]string](tb, `axe.run(document, {runOnly: ["region", "landmark-one-main", "landmark-unique", "page-has-heading-one"]}).then(r => r.violations
		.map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`)
	for _, v := range found {
		tb.T.Errorf("landmarks: %s", v)
	}
}

type tokenRow struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Revoked bool   `json:"revoked"`
}

func TestDashboardActions(t *testing.T) {
	b := MustBrowser(t)

	t.Run("alerts, thresholds, tokens, accounts and the blacklist, each checked through the API", func(t *testing.T) {
		h := MustStartHall(t)
		kiosk := h.token("kiosk-9", "kiosk", 0)
		h.api("POST", "devices", kiosk, map[string]any{"reader": "absent", "printer": "paper_out", "scanner": "ok", "online": true, "pending_offline": 0}, nil)
		h.issue("E")

		tb := b.MustTab(t, 1920, 1080)
		tb.Open(h.URL + "/dashboard")
		tb.login(h.admin)
		tb.WaitFor(5*time.Second, `document.querySelectorAll("#services tr").length === 5`)

		// Device faults are alerts, in words, critical first.
		tb.WaitText(5*time.Second, `#alerts li[data-kind="printer"]`, "缺纸")
		tb.WaitText(time.Second, `#alerts li[data-kind="reader"]`, "读卡器")
		tb.WaitText(time.Second, `#alerts li[data-kind="no_open_window"]`, "没有开放的窗口")
		if cls := browsertest.Eval[string](tb, `document.querySelector("#alerts li").className`); cls != "critical" {
			t.Errorf("first alert is %q, want critical", cls)
		}
		tb.WaitFor(5*time.Second, `document.querySelector("#kpi-served").textContent !== "—" && document.querySelector("#heat table") !== null`)
		if shown := browsertest.Eval[bool](tb, `!document.querySelector("#error").hidden`); shown {
			t.Errorf("the dashboard shows an error: %s", tb.Text("#error"))
		}
		// The sound is optional; turning it on plays it once to check.
		tb.Click("#alert-sound")
		tb.WaitFor(2*time.Second, `document.body.dataset.chimes === "1" && localStorage.getItem("hallq.alert.sound") === "on"`)

		// Alert thresholds are hall settings on the server.
		tb.WaitFor(3*time.Second, `document.querySelector("#thr-wait").value === "30"`)
		tb.set("#thr-wait", "20")
		tb.Click("#thr-save")
		tb.WaitText(5*time.Second, "#thr-result", "已保存")
		var cfg struct {
			Alerts struct {
				WaitOver string `json:"wait_over"`
			} `json:"alerts"`
		}
		h.api("GET", "config", h.admin, nil, &cfg)
		if cfg.Alerts.WaitOver != "20m0s" {
			t.Fatalf("after saving the threshold the server has wait_over %q", cfg.Alerts.WaitOver)
		}
		tb.set("#thr-silent", "5")
		tb.Click("#thr-save")
		tb.WaitText(2*time.Second, "#thr-result", "20–3600")

		// A token is created, and revoking it asks first, naming what stops.
		tb.set("#tok-name", "kiosk-hall-2")
		tb.SetValue("#tok-role", "kiosk")
		tb.Click(`#tok-form button[type=submit]`)
		tb.WaitFor(5*time.Second, `document.querySelector("#tok-secret").textContent.startsWith("hq_")`)
		var toks []tokenRow
		h.api("GET", "tokens", h.admin, nil, &toks)
		i := slices.IndexFunc(toks, func(x tokenRow) bool { return x.Name == "kiosk-hall-2" })
		if i < 0 || toks[i].Role != "kiosk" {
			t.Fatalf("created token not on the server: %+v", toks)
		}
		row := fmt.Sprintf(`#tokens tr[data-token=%q]`, toks[i].ID)
		tb.WaitFor(3*time.Second, fmt.Sprintf(`document.querySelector(%q) !== null`, row))
		tb.Click(row + " button")
		tb.WaitFor(2*time.Second, `document.querySelector("#confirm").open`)
		if body := tb.Text("#confirm-body"); !strings.Contains(body, "不能再取号") || !strings.Contains(body, "kiosk-hall-2") {
			t.Errorf("revoking a kiosk token says %q", body)
		}
		if first := browsertest.Eval[string](tb, `document.querySelector("#confirm .row button").value`); first != "cancel" {
			t.Errorf("the first button of the confirmation is %q, want the safe one", first)
		}
		tb.Click(`#confirm button[value=cancel]`)
		h.api("GET", "tokens", h.admin, nil, &toks)
		if toks[i].Revoked {
			t.Fatal("cancelling the confirmation revoked the token")
		}
		tb.Click(row + " button")
		tb.WaitFor(2*time.Second, `document.querySelector("#confirm").open`)
		tb.Click(`#confirm button[value=ok]`)
		tb.WaitText(3*time.Second, "#tok-result", "已吊销")
		h.api("GET", "tokens", h.admin, nil, &toks)
		if !toks[i].Revoked {
			t.Fatal("confirmed revocation did not reach the server")
		}

		// Password accounts: added, listed, removed after a confirmation.
		tb.set("#user-name", "wang")
		tb.set("#user-password", "secret-123")
		tb.set("#user-window", "1")
		tb.Click(`#user-form button[type=submit]`)
		// bcrypt is slow by design (and slower under -race on a busy machine).
		tb.WaitFor(15*time.Second, `document.querySelector("#user-result").textContent !== ""`)
		if got := tb.Text("#user-result"); !strings.Contains(got, "已添加") {
			t.Fatalf("adding the account says %q", got)
		}
		tb.WaitFor(5*time.Second, `document.querySelector('#users tr[data-user="wang"]') !== null`)
		var users []struct{ Name string }
		h.api("GET", "users", h.admin, nil, &users)
		if len(users) != 1 || users[0].Name != "wang" {
			t.Fatalf("users on the server: %+v", users)
		}
		tb.Click(`#users tr[data-user="wang"] button`)
		tb.WaitFor(2*time.Second, `document.querySelector("#confirm").open`)
		tb.WaitText(time.Second, "#confirm-body", "1 号窗口")
		tb.Click(`#confirm button[value=ok]`)
		tb.WaitText(3*time.Second, "#user-result", "已删除")
		users = nil
		h.api("GET", "users", h.admin, nil, &users)
		if len(users) != 0 {
			t.Fatalf("removed user still on the server: %+v", users)
		}

		// The blacklist: add by key, listed, lifted from the list; the
		// form's own Remove lifts too.
		key := strings.Repeat("c3", 32)
		for _, via := range []string{"list", "form"} {
			tb.set("#bl-id", key)
			tb.set("#bl-note", "倒号 "+via)
			tb.Click(`#bl-form button[value=add]`)
			tb.WaitFor(3*time.Second, fmt.Sprintf(`document.querySelector('#blacklist tr[data-ref=%q]') !== null`, key[:12]))
			var bl []struct{ Ref, Note string }
			h.api("GET", "blacklist", h.admin, nil, &bl)
			if len(bl) != 1 || bl[0].Note != "倒号 "+via {
				t.Fatalf("blacklist on the server: %+v", bl)
			}
			if via == "list" {
				tb.Click(fmt.Sprintf(`#blacklist tr[data-ref=%q] button`, key[:12]))
				tb.WaitFor(2*time.Second, `document.querySelector("#confirm").open`)
				tb.Click(`#confirm button[value=ok]`)
			} else {
				tb.set("#bl-id", key)
				tb.Click(`#bl-form button[value=remove]`)
			}
			tb.WaitFor(3*time.Second, fmt.Sprintf(`document.querySelector('#blacklist tr[data-ref=%q]') === null`, key[:12]))
			bl = nil
			h.api("GET", "blacklist", h.admin, nil, &bl)
			if len(bl) != 0 {
				t.Fatalf("after lifting (%s): %+v", via, bl)
			}
		}
		tb.Axe()
		tb.landmarks()
	})

	t.Run("day close previews, keeps the day on the safe button, then closes it", func(t *testing.T) {
		h := MustStartHall(t)
		for _, s := range []string{"A", "A", "E"} {
			h.issue(s)
		}
		h.openWindow(1, "li")
		h.call(1)
		tb := b.MustTab(t, 1920, 1080)
		tb.Open(h.URL + "/dashboard")
		tb.login(h.admin)
		tb.WaitFor(5*time.Second, `document.querySelectorAll("#services tr").length === 5`)
		var p struct {
			Expire int `json:"expire"`
		}
		h.api("GET", "day/close", h.admin, nil, &p)
		tb.Click("#day-close")
		tb.WaitFor(3*time.Second, `document.querySelector("#confirm-close").open`)
		tb.WaitText(time.Second, `#confirm-what [data-field="expire"]`, fmt.Sprintf("将失效 %d 张", p.Expire))
		tb.WaitText(time.Second, `#confirm-what [data-field="carry"]`, "不顺延")
		if first := browsertest.Eval[string](tb, `document.querySelector("#confirm-close .row button").value`); first != "cancel" {
			t.Errorf("the first button is %q, want the safe one", first)
		}
		tb.Shot("dashboard-day-close")
		tb.Axe()
		tb.Key("\r") // Enter presses the focused, safe button
		tb.WaitFor(2*time.Second, `!document.querySelector("#confirm-close").open`)
		if status, body := h.try("POST", "tickets", h.admin, map[string]string{"service": "E"}); status != http.StatusCreated {
			t.Fatalf("after keeping the day open, issuing gives %d %s", status, body)
		}
		tb.Click("#day-close")
		tb.WaitFor(3*time.Second, `document.querySelector("#confirm-close").open`)
		tb.Click(`#confirm-close button[value=ok]`)
		tb.WaitText(3*time.Second, "#day-result", "已日结")
		status, body := h.try("POST", "tickets", h.admin, map[string]string{"service": "E"})
		if status != http.StatusConflict || !strings.Contains(body, "day_closed") {
			t.Fatalf("after the close, issuing gives %d %s", status, body)
		}
		tb.WaitText(5*time.Second, `#services tr[data-service="E"] [data-field="waiting"]`, "0")
		tb.Click("#day-close")
		tb.WaitText(3*time.Second, "#day-result", "已日结，午夜后恢复取号")
	})

	t.Run("figures come from the server and events are applied, not re-fetched", func(t *testing.T) {
		h := MustStartHall(t)
		h.openWindow(8, "qian")
		first := h.issue("E")
		tb := b.MustTab(t, 1920, 1080)
		tb.Open(h.URL + "/dashboard")
		tb.login(h.admin)
		tb.WaitFor(5*time.Second, `document.querySelectorAll("#services tr").length === 5`)
		tb.WaitFor(5*time.Second, `document.querySelector("#conn").dataset.state === "open"`)
		// the stream's first frame after the welcome is the whole overview
		// (a resync); an event committed before the server read it makes the
		// page read everything again, as it should — so count from after it
		tb.WaitFor(5*time.Second, `!!document.querySelector("#conn").dataset.resynced`)
		fetches := func(path string) int {
			return browsertest.Eval[int](tb, fmt.Sprintf(`performance.getEntriesByType("resource").filter(e => new URL(e.name).pathname === %q).length`, "/api/v1/"+path))
		}
		overviews, lists := fetches("overview"), fetches("tickets")
		h.finish(h.call(8))
		for range 3 {
			h.issue("E")
		}
		tb.WaitText(3*time.Second, `#services tr[data-service="E"] [data-field="waiting"]`, "3")
		var fig struct {
			Total struct {
				Served int `json:"served"`
			} `json:"total"`
			Flow []struct {
				At string `json:"at"`
			} `json:"flow"`
		}
		h.api("GET", "figures", h.admin, nil, &fig)
		tb.WaitText(8*time.Second, "#kpi-served", fmt.Sprint(fig.Total.Served))
		tb.WaitText(2*time.Second, `#clerks tr[data-clerk="qian"]`, "qian")
		// The figures follow the events (re-read at most every few seconds).
		tb.WaitFor(8*time.Second, `[...document.querySelectorAll("#heat tr[data-row] td")].reduce((a, td) => a + Number(td.textContent), 0) === 4`)
		tb.WaitText(2*time.Second, `#windows tr[data-window="8"]`, "qian")
		if got := tb.Text(`#windows tr[data-window="8"]`); strings.Contains(got, first.Number) {
			t.Errorf("window 8 still shows the finished %s: %q", first.Number, got)
		}
		if o, l := fetches("overview"), fetches("tickets"); o != overviews || l != lists {
			t.Errorf("events made the page re-read the overview (%d → %d) or the tickets (%d → %d)", overviews, o, lists, l)
		}
		// The flow chart spans the hall's hours, one bar pair per 15 min,
		// with even, distinct axis ticks and the small values visible.
		if n := browsertest.Eval[int](tb, `document.querySelectorAll("#chart-flow rect").length`); n != 2*len(fig.Flow) {
			t.Errorf("flow chart has %d bars, the server's flow %d bins", n, len(fig.Flow))
		}
		ticks := browsertest.Eval[[]float64](tb, `[...document.querySelectorAll("#chart-flow text[data-tick]")].map(e => Number(e.dataset.tick))`)
		for i := 2; i < len(ticks); i++ {
			if ticks[i]-ticks[i-1] != ticks[1]-ticks[0] || ticks[i] == ticks[i-1] {
				t.Errorf("uneven or repeated ticks %v", ticks)
			}
		}
		if h := browsertest.Eval[float64](tb, `Math.min(...[...document.querySelectorAll("#chart-flow rect")].filter(r => Number(r.dataset.value) > 0).map(r => Number(r.getAttribute("height"))))`); h < 2 {
			t.Errorf("a bar of one ticket is %.1f px tall", h)
		}
		if first := browsertest.Eval[string](tb, `document.querySelector("#chart-flow text[data-label]").dataset.label`); first != "08:30" && !strings.HasSuffix(first, ":00") {
			t.Errorf("first flow label %q", first)
		}

		// Reports: the table and the CSV, with the same figures.
		tb.Click(`#report button[type=submit]`)
		tb.WaitText(3*time.Second, `#report-rows tr[data-group="E"]`, "E 综合咨询 General enquiries")
		tb.Click("#rep-csv")
		tb.WaitFor(3*time.Second, `(document.body.dataset.csv || "").includes("平均等候（分钟）Mean wait (min)")`)

		// The printable daily report: comparisons, per clerk, heat map.
		rep := b.MustTab(t, 1280, 1600)
		rep.Open(h.URL + "/report")
		rep.login(h.admin)
		rep.WaitFor(5*time.Second, `document.querySelector('#clerks tr[data-clerk="qian"]') !== null`)
		rep.WaitText(time.Second, `#clerks tr[data-clerk="qian"]`, "1")
		rep.WaitText(time.Second, `#kpis`, "比前一天")
		heat := browsertest.Eval[int](rep, `[...document.querySelectorAll("#heat tr[data-row] td")].reduce((a, td) => a + Number(td.textContent), 0)`)
		if heat != 4 {
			t.Errorf("the heat map counts %d tickets, want 4", heat)
		}
		rep.Shot("daily-report")
		rep.Axe()
		rep.landmarks()
	})

	t.Run("a configuration save on a stale version is refused and says why in words", func(t *testing.T) {
		h := MustStartHall(t)
		tb := b.MustTab(t, 1920, 1080)
		tb.Open(h.URL + "/dashboard")
		tb.login(h.admin)
		quota := `#cfg-services tr[data-service="E"] [data-f="quota"]`
		tb.WaitFor(5*time.Second, fmt.Sprintf(`document.querySelector(%q) !== null`, quota))
		tb.set(quota, "42")
		// Another manager saves first.
		var cfg map[string]any
		h.api("GET", "config", h.admin, nil, &cfg)
		cfg["hall"].(map[string]any)["name"].(map[string]any)["zh"] = "另一位管理员改的名字"
		h.api("PUT", "config", h.admin, cfg, nil)
		tb.Click("#cfg-save")
		tb.WaitText(5*time.Second, "#cfg-result", "其他管理员刚刚修改了配置")
		h.api("GET", "config", h.admin, nil, &cfg)
		if cfg["hall"].(map[string]any)["name"].(map[string]any)["zh"] != "另一位管理员改的名字" {
			t.Fatal("the stale save overwrote the other manager's change")
		}
		tb.Click("#cfg-reload")
		tb.WaitFor(3*time.Second, fmt.Sprintf(`document.querySelector(%q).value === "0"`, quota))
		tb.set(quota, "42")
		// A window added in the page, then a wrong field named in words.
		tb.Click("#cfg-add-window")
		last := `#cfg-windows tr:last-child`
		tb.set(last+` [data-f="number"]`, "9")
		tb.set(last+` [data-f="zh"]`, "9号窗口")
		tb.set(last+` [data-f="en"]`, "Window 9")
		tb.set(last+` [data-f="services"]`, "E")
		tb.Click("#cfg-save")
		tb.WaitText(5*time.Second, "#cfg-result", "已保存")
		var got struct {
			Services []struct {
				Code       string `json:"code"`
				DailyQuota int    `json:"daily_quota"`
			}
			Windows []struct{ Number int }
		}
		h.api("GET", "config", h.admin, nil, &got)
		if len(got.Windows) != 9 || got.Windows[8].Number != 9 || got.Services[4].DailyQuota != 42 {
			t.Fatalf("after saving: windows %+v, E quota %d", got.Windows, got.Services[4].DailyQuota)
		}
		tb.Click(`#cfg-windows tr[data-window="9"] button`)
		tb.set(`#cfg-services tr[data-service="E"] [data-f="close"]`, "07:00")
		tb.Click("#cfg-save")
		tb.WaitText(5*time.Second, "#cfg-result", "第 5 项业务 E service row 5")
		h.api("GET", "config", h.admin, nil, &got)
		if len(got.Windows) != 9 {
			t.Fatal("a refused save changed the windows")
		}
	})
}
