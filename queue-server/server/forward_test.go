package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hallq/central/platform"
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
	data := t.TempDir() // here, so its removal runs after the central stops (see gm_e2e_test.go)
	go func() {
		done <- platform.Main(ctx, []string{"-data", data, "-nats-listen", natsAddr, "-http", httpAddr}, io.Discard)
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
	var hv platform.HallView
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
			Halls []platform.HallView `json:"halls"`
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

// An operator lists the batches the central refused and re-sends one
// through the API once the central is fixed.
func TestDeadLettersListedAndResentThroughTheAPI(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			http.Error(w, "unknown event type", http.StatusUnprocessableEntity)
		}
	}))
	t.Cleanup(sink.Close)
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	s, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Forward: &forward.Config{HTTPSURL: sink.URL, HTTPSSecret: []byte("hall-shared-secret-0123456789")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
	admin := client.New(s.URL, strings.TrimSpace(string(tok)))
	ctx := context.Background()
	for i := range 3 {
		if _, err := admin.Issue(ctx, fmt.Sprint(i), hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	type listed struct {
		First, Last, Events uint64
		Status              int
		Reason              string
	}
	var dls []listed
	for deadline := time.Now().Add(10 * time.Second); len(dls) == 0 || dls[len(dls)-1].Last < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("dead letters: %+v", dls)
		}
		if _, err := admin.Do(ctx, "GET", "/api/v1/dead-letters", "", nil, &dls); err != nil {
			t.Fatal(err)
		}
	}
	if d := dls[0]; d.First != 1 || d.Events != d.Last-d.First+1 || d.Status != 422 || d.Reason != "unknown event type" {
		t.Fatalf("listed: %+v", dls)
	}
	metric := func() string {
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for line := range strings.Lines(string(body)) {
			if strings.HasPrefix(line, "hallq_forward_dead_letters ") {
				return strings.TrimSpace(line)
			}
		}
		return ""
	}
	if got, want := metric(), fmt.Sprint("hallq_forward_dead_letters ", len(dls)); got != want {
		t.Errorf("/metrics: %q, want %q", got, want)
	}
	resend := func(first string) (int, error) {
		return admin.Do(ctx, "POST", "/api/v1/dead-letters/"+first+"/resend", "", nil, nil)
	}
	if status, err := resend("1"); status != http.StatusConflict || hall.ErrorReason(err) != "central_refused" {
		t.Fatalf("re-send while still refused: %d %v", status, err)
	}
	if status, err := resend("abc"); status != http.StatusBadRequest || hall.ErrorCode(err) != hall.Invalid {
		t.Fatalf("re-send of %q: %d %v", "abc", status, err)
	}
	refuse.Store(false)
	for _, d := range dls {
		if status, err := resend(fmt.Sprint(d.First)); status != http.StatusOK || err != nil {
			t.Fatalf("re-send %d once fixed: %d %v", d.First, status, err)
		}
	}
	if _, err := admin.Do(ctx, "GET", "/api/v1/dead-letters", "", nil, &dls); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters after re-sending: %v %+v", err, dls)
	}
	if got := metric(); got != "hallq_forward_dead_letters 0" {
		t.Errorf("/metrics after re-sending: %q, the alert would not clear", got)
	}

	plain := MustHall(t) // not forwarding
	if status, err := plain.admin.Do(ctx, "POST", "/api/v1/dead-letters/1/resend", "", nil, nil); status != http.StatusConflict || hall.ErrorReason(err) != "not_forwarding" {
		t.Fatalf("re-send without forwarding: %d %v", status, err)
	}
}
