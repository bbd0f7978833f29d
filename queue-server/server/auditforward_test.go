package server

import (
	"context"
	"crypto/sha256"
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

// audit verify -kept checks the trail against a head written down
// elsewhere (SEQ:HASH), and says what is wrong with a bad one.
func TestAuditVerifyAgainstAKeptHead(t *testing.T) {
	dir := t.TempDir()
	l, err := audit.Open(dir, audit.Options{Alg: "sha256", Hash: sha256.New})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l.Record(audit.Entry{Actor: "wang", Role: "clerk", Action: "windows.call", Outcome: "ok"})
	}
	head := l.Last()
	l.Close()
	file := filepath.Join(dir, audit.FileName)
	run := func(args ...string) (int, string) {
		var out, errb strings.Builder
		code := Audit(append([]string{"verify"}, append(args, file)...), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("-kept", fmt.Sprintf("%d:%s", head.Seq, head.Hash)); code != 0 || !strings.Contains(out, "matches the copy kept elsewhere through seq 3") {
		t.Fatalf("%d %s", code, out)
	}
	if code, out := run("-kept", "2:"+strings.Repeat("0", 64)); code != 1 || !strings.Contains(out, "line 2 (seq 2): the record differs from the copy kept elsewhere") {
		t.Fatalf("%d %s", code, out)
	}
	if code, out := run("-kept", "9:"+head.Hash); code != 1 || !strings.Contains(out, "before the kept head (seq 9)") {
		t.Fatalf("%d %s", code, out)
	}
	if code, out := run("-kept", "three"); code != 2 || !strings.Contains(out, "-kept wants SEQ:HASH") {
		t.Fatalf("%d %s", code, out)
	}
	if code, out := run("-central", "http://127.0.0.1:1"); code != 2 || !strings.Contains(out, "-central needs -hall and -central-token-file") {
		t.Fatalf("%d %s", code, out)
	}
}
