package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

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
