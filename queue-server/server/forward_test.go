package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/queue-server/central"
	"hallq/queue-server/client"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// TestHallForwardsToCentral runs the reference central (embedded NATS with
// JetStream) and a hall forwarding to it, then checks that the central saw
// every event once, in order, and that /healthz reports the forwarding.
func TestHallForwardsToCentral(t *testing.T) {
	natsAddr, httpAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- central.Main(ctx, []string{"-data", t.TempDir(), "-nats-listen", natsAddr, "-http", httpAddr}, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })

	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	s, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Forward: &forward.Config{NATSURL: "nats://" + natsAddr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
	admin := client.New(s.URL, strings.TrimSpace(string(tok)))
	for i := range 20 {
		if _, err := admin.Issue(ctx, fmt.Sprint(i), hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	var hv central.HallView
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			var h map[string]any
			admin.Do(ctx, "GET", "/healthz", "", nil, &h)
			t.Fatalf("central saw %+v; hall health %v", hv, h)
		}
		resp, err := http.Get("http://" + httpAddr + "/halls")
		if err != nil {
			continue
		}
		var view struct {
			Halls []central.HallView `json:"halls"`
		}
		json.NewDecoder(resp.Body).Decode(&view)
		resp.Body.Close()
		if len(view.Halls) == 1 {
			hv = view.Halls[0]
			if hv.LastSeq >= 20 {
				break
			}
		}
	}
	if hv.Hall != cfg.Hall.ID || hv.Issued != 20 || hv.Duplicates != 0 || hv.Gaps != 0 {
		t.Fatalf("central view: %+v", hv)
	}
	var health struct {
		Forwarding forward.Stats `json:"forwarding"`
	}
	if _, err := admin.Do(ctx, "GET", "/healthz", "", nil, &health); err != nil {
		t.Fatal(err)
	}
	if health.Forwarding.Sink != "nats" || health.Forwarding.LastSeq < 20 {
		t.Fatalf("healthz forwarding: %+v", health.Forwarding)
	}
}
