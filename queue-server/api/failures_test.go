package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
)

// records keeps every log record a server writes, as text.
type records struct {
	mu  sync.Mutex
	all []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.Key + "=" + a.Value.String()); return true })
	r.mu.Lock()
	r.all = append(r.all, b.String())
	r.mu.Unlock()
	return nil
}

// matching returns the records that contain every one of words.
func (r *records) matching(words ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.all {
		all := true
		for _, w := range words {
			all = all && strings.Contains(s, w)
		}
		if all {
			out = append(out, s)
		}
	}
	return out
}

// An internal failure (the store gone from under the hall) is answered
// 503 and logged exactly once, where it becomes the response, with its
// cause and the operation — over REST and over the websocket.
func TestInternalFailureLoggedOnceWithItsCause(t *testing.T) {
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.Hall.TimeZone = "Asia/Shanghai"
	cfg.OpenAllDay()
	logs := &records{}
	s, err := server.Start(server.Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	raw, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))

	ws := dial(t, s.Addr, 0)
	t.Cleanup(func() { ws.Close() })
	ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: token}); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	var welcome wire.Frame
	if err := ws.ReadJSON(&welcome); err != nil || welcome.Type != wire.FrameWelcome {
		t.Fatalf("hello answered %+v, %v", welcome, err)
	}

	const cause = "database not open" // bbolt's words for a closed store
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest("GET", s.URL+"/api/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body wire.ErrorBody
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || body.Error.Code != hall.Unavailable {
		t.Fatalf("GET /api/v1/tokens on a closed store: %d %+v", resp.StatusCode, body.Error)
	}
	if got := logs.matching(cause); len(got) != 1 || !strings.Contains(got[0], "op=tokens.list") || !strings.HasPrefix(got[0], "ERROR") {
		t.Fatalf("REST: the failure is logged %d times, want once as an error with op=tokens.list: %q", len(got), got)
	}

	ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameRequest, ID: "r1", Op: "users.list"}); err != nil { // read from the store (the token check is answered from memory)
		t.Fatal(err)
	}
	for {
		var f wire.Frame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		if f.Type != wire.FrameReply {
			continue // resync, live figures
		}
		if f.ID != "r1" || f.Status != http.StatusServiceUnavailable || f.Error == nil || f.Error.Code != hall.Unavailable {
			t.Fatalf("websocket request on a closed store answered %+v", f)
		}
		break
	}
	if got := logs.matching(cause, "op=users.list"); len(got) != 1 {
		t.Fatalf("websocket: the failure is logged %d times, want once with op=users.list: %q", len(got), logs.matching(cause))
	}
	if got := logs.matching(cause); len(got) != 2 {
		t.Fatalf("two failures are logged %d times, want 2: %q", len(got), got)
	}
	// a refusal is no failure: not logged
	if got := logs.matching("request failed", "unauthorized"); len(got) != 0 {
		t.Fatalf("a refusal was logged as a failure: %q", got)
	}
}
