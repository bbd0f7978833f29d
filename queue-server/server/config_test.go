package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// TestConfigUpdateThroughREST: a manager changes the hall's configuration
// with PUT /api/v1/config; it applies at once, survives a restart, and
// -config-reset goes back to the file's.
func TestConfigUpdateThroughREST(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	manager, clerk := h.as(wire.RoleManager, 0), h.as(wire.RoleClerk, 1)
	put := func(c interface {
		Do(context.Context, string, string, string, any, any) (int, error)
	}, body any) (hall.Config, int, error) {
		var out hall.Config
		status, err := c.Do(ctx, "PUT", "/api/v1/config", "", body, &out)
		return out, status, err
	}
	var cfg hall.Config
	if _, err := manager.Do(ctx, "GET", "/api/v1/config", "", nil, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Services[4].DailyQuota = 1 // E
	cfg.Services[4].Name.ZH = "咨询"
	got, status, err := put(manager, cfg)
	if err != nil || status != http.StatusOK || got.Services[4].DailyQuota != 1 || got.Services[4].Name.ZH != "咨询" {
		t.Fatalf("PUT as manager: %d %v %+v", status, err, got.Services[4])
	}
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	_, err = h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if hall.ErrorReason(err) != "service_quota" {
		t.Fatalf("second E ticket with quota 1: %v", err)
	}

	if _, status, err := put(clerk, cfg); status != http.StatusForbidden || hall.ErrorCode(err) != hall.Forbidden {
		t.Errorf("PUT as clerk: %d %v", status, err)
	}
	for name, tc := range map[string]struct {
		body string
		want []string
	}{
		"broken JSON":   {`{"hall":`, []string{"malformed JSON"}},
		"unknown field": {`{"hall":{"id":"420102-01"},"colour":"red"}`, []string{"colour"}},
		"invalid value": {strings.Replace(mustJSON(t, cfg), `"daily_quota":300`, `"daily_quota":-5`, 1), []string{"services[0].daily_quota"}},
	} {
		req, _ := http.NewRequest("PUT", h.URL+"/api/v1/config", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+manager.Token)
		res, err := h.admin.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body.String(), `"code":"invalid"`) {
			t.Errorf("%s: %d %s", name, res.StatusCode, body.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(body.String(), w) {
				t.Errorf("%s: %s does not name %q", name, body.String(), w)
			}
		}
	}
	noE := cfg
	noE.Services = cfg.Services[:4]
	noE.Windows = nil
	for _, w := range cfg.Windows {
		w.Services = slices.DeleteFunc(slices.Clone(w.Services), func(s string) bool { return s == "E" })
		if len(w.Services) > 0 {
			noE.Windows = append(noE.Windows, w)
		}
	}
	if _, status, err := put(manager, noE); status != http.StatusConflict || !strings.Contains(err.Error(), "service E") {
		t.Errorf("removing E with a waiting ticket: %d %v", status, err)
	}

	h.restart()
	if _, err := manager.Do(ctx, "GET", "/api/v1/config", "", nil, &cfg); err != nil || cfg.Services[4].DailyQuota != 1 {
		t.Fatalf("after restart: quota %d, %v", cfg.Services[4].DailyQuota, err)
	}

	h.reset = true
	h.restart()
	if _, err := manager.Do(ctx, "GET", "/api/v1/config", "", nil, &cfg); err != nil || cfg.Services[4].DailyQuota != 0 || cfg.Services[4].Name.ZH != "综合咨询" {
		t.Fatalf("after -config-reset: %+v, %v", cfg.Services[4], err)
	}
	evs, err := h.Store.Events(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Type != hall.EvConfigChanged || last.Actor != "config-file" {
		t.Fatalf("last event %s by %s, want config.changed by config-file", last.Type, last.Actor)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
