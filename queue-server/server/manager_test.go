package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// raw sends a request with extra headers and returns status, headers and body.
func (h *testHall) raw(token, method, path, body string, hdr map[string]string) (int, http.Header, string) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// Two managers edit the configuration: the second save, made on the
// version both loaded, is refused instead of overwriting the first.
func TestConfigSaveDetectsAConcurrentChange(t *testing.T) {
	h := MustHall(t)
	one, two := h.as(wire.RoleManager, 0).Token, h.as(wire.RoleManager, 0).Token
	status, hdr, body := h.raw(one, "GET", "/api/v1/config", "", nil)
	etag := hdr.Get("ETag")
	if status != 200 || len(etag) < 10 {
		t.Fatalf("GET config: %d, ETag %q", status, etag)
	}
	if _, hdr2, _ := h.raw(two, "GET", "/api/v1/config", "", nil); hdr2.Get("ETag") != etag {
		t.Fatalf("same configuration, different ETags %q and %q", etag, hdr2.Get("ETag"))
	}
	first := strings.Replace(body, `"daily_quota":300`, `"daily_quota":250`, 1)
	status, hdr, resp := h.raw(one, "PUT", "/api/v1/config", first, map[string]string{"If-Match": etag})
	if status != 200 || hdr.Get("ETag") == etag || hdr.Get("ETag") == "" {
		t.Fatalf("first save: %d %s, ETag %q (was %q)", status, resp, hdr.Get("ETag"), etag)
	}
	second := strings.Replace(body, `"daily_quota":100`, `"daily_quota":90`, 1)
	status, _, resp = h.raw(two, "PUT", "/api/v1/config", second, map[string]string{"If-Match": etag})
	if status != http.StatusConflict || !strings.Contains(resp, `"config_changed"`) || !strings.Contains(resp, "manager") {
		t.Fatalf("second save on the old version: %d %s, want 409 config_changed naming who changed it", status, resp)
	}
	var cfg hall.Config
	h.admin.Do(context.Background(), "GET", "/api/v1/config", "", nil, &cfg)
	if cfg.Services[0].DailyQuota != 250 || cfg.Services[3].DailyQuota != 100 {
		t.Fatalf("after the refused save: A quota %d (want 250), D quota %d (want 100)", cfg.Services[0].DailyQuota, cfg.Services[3].DailyQuota)
	}
}

// Alert thresholds are hall settings: stored with the configuration,
// defaulted, and validated by name.
func TestAlertThresholdsAreHallSettings(t *testing.T) {
	h := MustHall(t)
	var cfg hall.Config
	ctx := context.Background()
	h.admin.Do(ctx, "GET", "/api/v1/config", "", nil, &cfg)
	if cfg.Alerts.WaitOver.D().Minutes() != 30 || cfg.Alerts.PauseOver.D().Minutes() != 15 || cfg.Alerts.KioskSilent.D().Seconds() != 60 {
		t.Fatalf("default alerts: %+v", cfg.Alerts)
	}
	b, _ := json.Marshal(cfg)
	bad := strings.Replace(string(b), `"wait_over":"30m0s"`, `"wait_over":"10s"`, 1)
	status, _, resp := h.raw(h.admin.Token, "PUT", "/api/v1/config", bad, nil)
	if status != 400 || !strings.Contains(resp, "alerts.wait_over") {
		t.Fatalf("wait_over 10s: %d %s", status, resp)
	}
	cfg.Alerts.WaitOver = hall.Duration(20 * 60e9)
	if _, err := h.admin.Do(ctx, "PUT", "/api/v1/config", "", cfg, nil); err != nil {
		t.Fatal(err)
	}
	h.restart()
	var got hall.Config
	h.admin.Do(ctx, "GET", "/api/v1/config", "", nil, &got)
	if got.Alerts.WaitOver.D().Minutes() != 20 {
		t.Fatalf("after a restart wait_over = %v", got.Alerts.WaitOver.D())
	}
}

// The day close preview matches what the close does; afterwards the
// closed day issues nothing, also after a restart.
func TestDayClosePreviewAndClosedDayThroughREST(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	for _, s := range []string{"A", "A", "E"} {
		if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: s, CitizenKey: strings.Repeat(strings.ToLower(s), 64)[:64]}); err != nil && hall.ErrorReason(err) != "citizen_limit" {
			t.Fatal(err)
		}
	}
	var p hall.DayClosePreview
	if _, err := h.admin.Do(ctx, "GET", "/api/v1/day/close", "", nil, &p); err != nil {
		t.Fatal(err)
	}
	if p.Expire != 3 || p.Carry != 0 || p.Closed {
		t.Fatalf("preview %+v, want 3 to expire", p)
	}
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/day/close", "", nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"after the close", "after a restart"} {
		_, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
		if hall.ErrorCode(err) != hall.Closed || hall.ErrorReason(err) != "day_closed" {
			t.Fatalf("%s: issue gave %v, want closed/day_closed", when, err)
		}
		h.restart()
	}
}

// Reports and the dashboard's figures come from the same definitions; the
// CSV is for people: Chinese and English headers, minutes, names with codes.
func TestReportsAndFiguresAgree(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	clerk := h.as(wire.RoleClerk, 8)
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	if _, err := clerk.Do(ctx, "POST", "/api/v1/windows/8/open", "", wire.WindowRequest{}, nil); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(12 * 60e9)
	var tk hall.TicketView
	if _, err := clerk.Do(ctx, "POST", "/api/v1/windows/8/call", "", nil, &tk); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(3 * 60e9)
	for _, a := range []string{"start", "complete"} {
		if _, err := clerk.Do(ctx, "POST", "/api/v1/tickets/"+tk.ID+"/"+a, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(6 * 60e9)
	}
	var fig hall.DayFigures
	if _, err := h.admin.Do(ctx, "GET", "/api/v1/figures", "", nil, &fig); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Group, Label string
		hall.Figures
	}
	if _, err := h.admin.Do(ctx, "GET", "/api/v1/reports?by=service", "", nil, &rows); err != nil {
		t.Fatal(err)
	}
	var e hall.GroupFigures
	for _, g := range fig.Services {
		if g.Key == "E" {
			e = g
		}
	}
	if len(rows) != 1 || rows[0].Group != "E" || rows[0].Label != "E 综合咨询 General enquiries" {
		t.Fatalf("report rows %+v", rows)
	}
	if e.MeanWaitS != 12*60 || rows[0].MeanWaitS != e.MeanWaitS || rows[0].MeanServiceS != e.MeanServiceS || e.MeanServiceS != 6*60 || rows[0].MeanHandlingS != 9*60 {
		t.Fatalf("figures E %+v\nreport %+v", e.Figures, rows[0].Figures)
	}
	if len(fig.Clerks) != 1 || fig.Clerks[0].Key != "clerk-8" || fig.Clerks[0].Served != 1 {
		t.Fatalf("per-clerk figures %+v", fig.Clerks)
	}
	status, hdr, csv := h.raw(h.admin.Token, "GET", "/api/v1/reports?by=service&format=csv", "", nil)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", status, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"业务（取号时）Service (as issued)", "平均等候（分钟）Mean wait (min)", "E 综合咨询 General enquiries,1,1,", ",12.0,", ",6.0,", ",9.0,"} {
		if !strings.Contains(csv, want) {
			t.Errorf("CSV lacks %q:\n%s", want, csv)
		}
	}
}

// Device faults become alerts in words, with the hall's thresholds.
func TestAlertsInWords(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	kiosk := h.as(wire.RoleKiosk, 0)
	if err := kiosk.ReportDevices(ctx, wire.DeviceHealth{Reader: "absent", Printer: "paper_out", Scanner: "ok", Online: true, SetAside: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(31 * 60e9)
	var alerts []struct{ Key, Kind, Severity, ZH, EN string }
	if _, err := h.admin.Do(ctx, "GET", "/api/v1/alerts", "", nil, &alerts); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, a := range alerts {
		kinds[a.Kind] = a.ZH + " · " + a.EN
	}
	for kind, want := range map[string]string{"printer": "缺纸", "reader": "读卡器", "set_aside": "2 张离线票", "no_open_window": "没有开放的窗口", "wait_over": "阈值 30 分钟"} {
		if !strings.Contains(kinds[kind], want) {
			t.Errorf("alert %s = %q, want it to say %q (all: %+v)", kind, kinds[kind], want, alerts)
		}
	}
	if alerts[len(alerts)-1].Severity != "warning" || alerts[0].Severity != "critical" {
		t.Errorf("critical alerts come first: %+v", alerts)
	}
}

// The blacklist and password accounts can be listed and managed; removing
// a user ends its sessions at once.
func TestBlacklistAndUsersManaged(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	key := strings.Repeat("ab", 32)
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/blacklist", "", wire.BlacklistRequest{CitizenKey: key, Note: "倒号"}, nil); err != nil {
		t.Fatal(err)
	}
	var list []struct{ Ref, Note, By string }
	h.admin.Do(ctx, "GET", "/api/v1/blacklist", "", nil, &list)
	if len(list) != 1 || list[0].Ref != key[:12] || list[0].Note != "倒号" || list[0].By == "" {
		t.Fatalf("blacklist %+v", list)
	}
	if status, _, body := h.raw(h.admin.Token, "GET", "/api/v1/blacklist", "", nil); strings.Contains(body, key) {
		t.Fatalf("the list gives out the whole citizen key: %d %s", status, body)
	}
	if _, err := h.admin.Do(ctx, "DELETE", "/api/v1/blacklist/"+key[:12], "", nil, nil); err != nil {
		t.Fatal(err)
	}
	list = nil
	h.admin.Do(ctx, "GET", "/api/v1/blacklist", "", nil, &list)
	if len(list) != 0 {
		t.Fatalf("after removal: %+v", list)
	}

	if _, err := h.admin.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "wang", Password: "secret-123", Role: wire.RoleClerk, Window: 1}, nil); err != nil {
		t.Fatal(err)
	}
	var session struct{ Token string }
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "wang", Password: "secret-123"}, &session); err != nil {
		t.Fatal(err)
	}
	// a new password ends the sessions signed in with the old one at once
	// (websocket included), and the new password signs in
	ws, err := client.New(h.URL, session.Token).Dial(ctx, 0, func(wire.Frame) {})
	if err == nil {
		defer ws.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.as(wire.RoleManager, 0).Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "wang", Password: "secret-789", Role: wire.RoleClerk, Window: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := h.raw(session.Token, "GET", "/api/v1/me", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("the session from before the password change still works: %d", status)
	}
	select {
	case <-ws.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the websocket from before the password change stays open")
	}
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "wang", Password: "secret-123"}, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("login with the old password: %v", err)
	}
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "wang", Password: "secret-789"}, &session); err != nil {
		t.Fatal(err)
	}
	// a manager removes clerk accounts only (the one authorization table)
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "li", Password: "secret-456", Role: wire.RoleManager}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.as(wire.RoleManager, 0).Do(ctx, "DELETE", "/api/v1/users/li", "", nil, nil); hall.ErrorCode(err) != hall.Forbidden || hall.ErrorReason(err) != string(hall.ReasonRoleNotManaged) {
		t.Fatalf("a manager removed a manager's account: %v", err)
	}
	var res struct {
		SessionsEnded int `json:"sessions_ended"`
	}
	if _, err := h.as(wire.RoleManager, 0).Do(ctx, "DELETE", "/api/v1/users/wang", "", nil, &res); err != nil || res.SessionsEnded != 1 {
		t.Fatalf("remove user: %v %+v", err, res)
	}
	if status, _, _ := h.raw(session.Token, "GET", "/api/v1/me", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("the removed user's session still works: %d", status)
	}
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "wang", Password: "secret-123"}, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("login after removal: %v", err)
	}
}

// Under make demo the hall clock runs at the load generator's speed, so
// pages show hall minutes, not real seconds.
func TestDemoClockRunsAtItsSpeed(t *testing.T) {
	start := time.Now().Add(-2 * time.Second)
	got := fastClock{start: start, speed: 60}.Now().Sub(start)
	if got < 119*time.Second || got > 150*time.Second {
		t.Fatalf("two real seconds at 60x are %v of hall time", got)
	}
	if code := Main([]string{"-demo-speed", "0.5"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("-demo-speed 0.5 exits %d, want 2", code)
	}
}
