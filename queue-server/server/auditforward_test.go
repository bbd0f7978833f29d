package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/internal/testclock"
	"hallq/queue-server/audit"
	"hallq/queue-server/client"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// A hall that forwards keeps every audit record the province has not
// acknowledged past the audit retention (the central never answered here),
// and /healthz says how many wait; a hall that does not forward prunes
// them as before.
func TestUnforwardedAuditRecordsOutliveTheRetention(t *testing.T) {
	for _, forwarding := range []bool{true, false} {
		dir := t.TempDir()
		clk := testclock.New(testclock.At(10, 0))
		cfg := hall.SampleConfig()
		o := Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: clk, AuditRetention: 24 * time.Hour,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if forwarding {
			o.Forward = &forward.Config{NATSURL: "nats://" + freeAddr(t), MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
		}
		s, err := Start(o)
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
		admin := client.New(s.URL, strings.TrimSpace(string(tok)))
		for _, st := range []string{"open", "pause", "open"} {
			if _, err := admin.SetWindow(context.Background(), 1, st, "lunch"); err != nil {
				t.Fatal(err)
			}
		}
		last := s.Audit.Last().Seq
		if forwarding {
			var h struct {
				Audit forward.AuditStats `json:"audit_forwarding"`
			}
			admin.Do(context.Background(), "GET", "/healthz", "", nil, &h)
			if h.Audit.Sink != "nats" || h.Audit.Backlog != last || h.Audit.ForwardedSeq != 0 || h.Audit.Connected {
				t.Fatalf("/healthz audit_forwarding: %+v (the trail's last record is #%d)", h.Audit, last)
			}
			resp, err := http.Get(s.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(m), fmt.Sprintf("hallq_audit_forward_backlog %d\n", last)) {
				t.Fatalf("/metrics has no hallq_audit_forward_backlog %d", last)
			}
		}
		s.Close()
		clk.Advance(10 * 24 * time.Hour)
		o.Addr = s.Addr
		s, err = Start(o) // retention runs at open
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, audit.FileName))
		res, err := audit.Verify(strings.NewReader(string(b)), auditHashes, "")
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if forwarding && (res.First.Seq != 1 || res.Last.Seq != last) {
			t.Fatalf("forwarding, nothing acknowledged: the trail keeps #%d–#%d, want #1–#%d", res.First.Seq, res.Last.Seq, last)
		}
		if !forwarding && res.First.Seq != last {
			t.Fatalf("alone: the trail keeps #%d–#%d, want only the newest, #%d", res.First.Seq, res.Last.Seq, last)
		}
	}
}
