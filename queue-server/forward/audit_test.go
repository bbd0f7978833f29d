package forward_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"hallq/queue-server/audit"
	"hallq/queue-server/forward"
)

func mustTrail(t *testing.T, dir string, n int) *audit.Log {
	t.Helper()
	l, err := audit.Open(dir, audit.Options{Alg: "sha256", Hash: sha256.New, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	for range n {
		if err := l.Record(audit.Entry{Actor: "wang", Role: "clerk", Action: "windows.call", Target: "window=5", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// auditReceiver is an HTTPS sink's receiver that refuses the first
// refuse batches with status and keeps the records of the ones it takes.
type auditReceiver struct {
	mu      sync.Mutex
	refuse  int
	status  int
	seqs    []uint64
	batches int
}

func (r *auditReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !forward.VerifySignature([]byte("0123456789abcdef"), body, req.Header.Get(forward.HeaderSignature)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.refuse > 0 {
		r.refuse--
		http.Error(w, "not now", r.status)
		return
	}
	var b forward.AuditBatch
	json.Unmarshal(body, &b)
	if req.Header.Get(forward.HeaderIdempotency) != forward.AuditIdempotencyKey(hallID, b.FirstSeq, b.LastSeq) {
		http.Error(w, "bad key", http.StatusBadRequest)
		return
	}
	for _, raw := range b.Records {
		var rec audit.Record
		json.Unmarshal(raw, &rec)
		r.seqs = append(r.seqs, rec.Seq)
	}
	r.batches++
}

func (r *auditReceiver) got() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint64(nil), r.seqs...)
}

// A batch the central refuses (a 4xx other than 401/403) is not set aside
// as an event batch would be: it is retried, with an alert, until taken;
// every record arrives once, in order, and the mark follows.
func TestAuditOverHTTPSIsRetriedNotSetAside(t *testing.T) {
	dir := t.TempDir()
	l := mustTrail(t, dir, 5)
	rcv := &auditReceiver{refuse: 1 << 30, status: 422}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	f, err := forward.NewAudit(forward.Config{HallID: hallID, HTTPSURL: srv.URL + "/events", HTTPSSecret: []byte("0123456789abcdef"), BatchSize: 2,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond}, dir, l.Last, nil)
	if err != nil {
		t.Fatal(err)
	}
	goUntilCleanup(t, func(ctx context.Context) { f.Run(ctx) })
	for deadline := time.Now().Add(20 * time.Second); f.Stats().Errors < 3 || f.Stats().Alert == ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no alert while the central refuses: %+v", f.Stats())
		}
	}
	if st := f.Stats(); st.ForwardedSeq != 0 || st.Backlog != 5 {
		t.Fatalf("refused, nothing is forwarded or set aside: %+v", st)
	}
	rcv.mu.Lock()
	rcv.refuse = 0
	rcv.mu.Unlock()
	for deadline := time.Now().Add(20 * time.Second); len(rcv.got()) < 5; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("received %v; stats %+v", rcv.got(), f.Stats())
		}
	}
	if got := rcv.got(); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Fatalf("received %v, want 1…5 once", got)
	}
	for deadline := time.Now().Add(5 * time.Second); f.Stats().ForwardedSeq != 5; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", f.Stats())
		}
	}
	st := f.Stats()
	if st.Errors < 3 || st.Alert != "" || st.Backlog != 0 || st.Sent != 5 {
		t.Fatalf("stats %+v: want ≥3 errors for the refusals, the alert cleared by the success", st)
	}
	if m, err := audit.ReadMark(dir); err != nil || m.Seq != 5 || m.Hash != l.Last().Hash {
		t.Fatalf("mark %+v %v, the trail's last %+v", m, err, l.Last())
	}
}

// A mark beyond the trail's end (audit.log lost or replaced) does not
// stop forwarding: the trail there is goes from its start.
func TestAuditTrailReplacedIsForwardedFromItsStart(t *testing.T) {
	dir := t.TempDir()
	if err := audit.WriteMark(dir, audit.Head{Seq: 40, Hash: "x"}); err != nil {
		t.Fatal(err)
	}
	l := mustTrail(t, dir, 3)
	rcv := &auditReceiver{}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	f, err := forward.NewAudit(forward.Config{HallID: hallID, HTTPSURL: srv.URL, HTTPSSecret: []byte("0123456789abcdef"), PollInterval: 20 * time.Millisecond}, dir, l.Last, nil)
	if err != nil {
		t.Fatal(err)
	}
	goUntilCleanup(t, func(ctx context.Context) { f.Run(ctx) })
	for deadline := time.Now().Add(20 * time.Second); len(rcv.got()) < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("received %v; stats %+v", rcv.got(), f.Stats())
		}
	}
	if got := rcv.got(); got[0] != 1 || got[2] != 3 {
		t.Fatalf("received %v", got)
	}
}
