package forward_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// The HTTPS sink against a central that fails (5xx), hangs past the client
// timeout and refuses one batch for good (4xx): retries keep the same
// Idempotency-Key, the refused batch becomes a dead letter, the queue goes on.
func TestHTTPSRetriesAndDeadLetters(t *testing.T) {
	secret := []byte("hall-shared-secret-0123456789")
	const poison = 42 // the batch holding this seq is refused
	var (
		mu       sync.Mutex
		requests int
		keys     []string
		seen     = map[string]bool{}
		got      []uint64
		bodies   [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		requests++
		n := requests
		key := r.Header.Get(forward.HeaderIdempotency)
		keys = append(keys, key)
		mu.Unlock()
		if !forward.VerifySignature(secret, body, r.Header.Get(forward.HeaderSignature)) {
			t.Errorf("request %d: bad signature", n)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var b forward.Batch
		if err := json.Unmarshal(body, &b); err != nil || b.Hall != hallID || len(b.Events) == 0 {
			t.Errorf("request %d: bad body: %v", n, err)
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if want := fmt.Sprintf("%s:%d-%d", hallID, b.Events[0].Seq, b.Events[len(b.Events)-1].Seq); key != want || b.FirstSeq != b.Events[0].Seq {
			t.Errorf("request %d: idempotency key %q, want %q", n, key, want)
		}
		switch {
		case n <= 2:
			http.Error(w, "central overloaded", http.StatusServiceUnavailable)
			return
		case n == 3:
			select { // longer than the client's timeout
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		case b.FirstSeq <= poison && poison <= b.LastSeq:
			http.Error(w, "event 42: unknown field", http.StatusUnprocessableEntity)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[key] { // a retry of an accepted batch: acknowledge, do not apply
			return
		}
		seen[key] = true
		bodies = append(bodies, body)
		for _, ev := range b.Events {
			got = append(got, ev.Seq)
		}
	}))
	t.Cleanup(srv.Close)

	h := MustHall(t, "", fastConfig(), nil)
	ctx := t.Context()
	for i := range 95 {
		id := testID(i)
		key, _ := platform.CitizenKey(provinceKey, id)
		if _, err := h.Svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "A", CitizenKey: key, MaskedID: platform.MaskID(id)}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := h.StartForwarder(t, forward.Config{HTTPSURL: srv.URL, HTTPSSecret: secret, BatchSize: 10, HTTPTimeout: 200 * time.Millisecond})
	waitFor(t, "the backlog to drain", 20*time.Second, func() bool { return f.Stats().Backlog == 0 })

	mu.Lock()
	defer mu.Unlock()
	if keys[0] != keys[1] || keys[1] != keys[2] || keys[2] != keys[3] {
		t.Fatalf("retries changed the idempotency key: %v", keys[:4])
	}
	var want []uint64
	for s := uint64(1); s <= 95; s++ {
		if s < 41 || s > 50 {
			want = append(want, s)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("central received %v\nwant %v", got, want)
	}
	dl, err := h.Store.DeadLetters(10)
	if err != nil || len(dl) != 1 || dl[0].First != 41 || dl[0].Last != 50 || dl[0].Status != 422 || !strings.Contains(dl[0].Reason, "unknown field") {
		t.Fatalf("dead letters: %v %+v", err, dl)
	}
	var kept forward.Batch
	if err := json.Unmarshal(dl[0].Body, &kept); err != nil || len(kept.Events) != 10 {
		t.Fatalf("dead letter body: %v", err)
	}
	st := f.Stats()
	if st.Sink != "https" || st.DeadLetters != 1 || st.Alert == "" || !st.Connected || st.Errors < 3 || st.LastError != "" {
		t.Fatalf("stats: %+v", st)
	}
	for _, b := range bodies {
		if found := findIDNumbers(b); len(found) > 0 {
			t.Fatalf("a batch carries ID numbers %v", found)
		}
	}
}

// A central that refuses the hall's credentials (a wrong secret) refuses
// every batch alike: nothing may become a dead letter; the forwarder counts
// the link as down, says why, and delivers everything once the secret is
// right.
func TestHTTPSRefusedCredentialsAreRetriedNotDeadLettered(t *testing.T) {
	good := []byte("the-right-secret-0123456789")
	var mu sync.Mutex
	var got []uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !forward.VerifySignature(good, body, r.Header.Get(forward.HeaderSignature)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var b forward.Batch
		json.Unmarshal(body, &b)
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range b.Events {
			got = append(got, ev.Seq)
		}
	}))
	t.Cleanup(srv.Close)

	h := MustHall(t, "", fastConfig(), nil)
	for range 25 {
		if _, err := h.Svc.Issue(t.Context(), hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := forward.Config{HTTPSURL: srv.URL, HTTPSSecret: []byte("a-wrong-secret-0123456789"), BatchSize: 10, HTTPTimeout: time.Second}
	f, stop := h.StartForwarder(t, cfg)
	waitFor(t, "the refusal to show", 10*time.Second, func() bool { return f.Stats().Errors >= 2 })
	st := f.Stats()
	if st.Connected || !strings.Contains(st.LastError, "HTTP 401") || st.DeadLetters != 0 || st.Backlog == 0 {
		t.Fatalf("stats while the secret is wrong: %+v", st)
	}
	if dl, err := h.Store.DeadLetters(10); err != nil || len(dl) != 0 {
		t.Fatalf("dead letters: %v %+v", err, dl)
	}
	stop()
	cfg.HTTPSSecret = good
	f, _ = h.StartForwarder(t, cfg)
	waitFor(t, "the backlog to drain", 10*time.Second, func() bool { return f.Stats().Backlog == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[0] != 1 || got[len(got)-1] < 25 {
		t.Fatalf("central received %v, want every event from seq 1", got)
	}
}

// A dead letter is re-sent once the central is fixed: the same body and
// Idempotency-Key, then it is gone; refused again, it keeps the new reason.
func TestHTTPSDeadLetterResent(t *testing.T) {
	secret := []byte("hall-shared-secret-0123456789")
	var mu sync.Mutex
	fixed := false
	var firstBody []byte
	var firstKey, resentKey string
	var resentBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b forward.Batch
		json.Unmarshal(body, &b)
		mu.Lock()
		defer mu.Unlock()
		if b.FirstSeq > 1 {
			return // only the first batch matters here
		}
		if !fixed {
			if firstBody == nil {
				firstBody, firstKey = body, r.Header.Get(forward.HeaderIdempotency)
			}
			http.Error(w, "schema v2 not supported yet", http.StatusUnprocessableEntity)
			return
		}
		if !forward.VerifySignature(secret, body, r.Header.Get(forward.HeaderSignature)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		resentBody, resentKey = body, r.Header.Get(forward.HeaderIdempotency)
	}))
	t.Cleanup(srv.Close)

	h := MustHall(t, "", fastConfig(), nil)
	for range 15 {
		if _, err := h.Svc.Issue(t.Context(), hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := h.StartForwarder(t, forward.Config{HTTPSURL: srv.URL, HTTPSSecret: secret, BatchSize: 10})
	waitFor(t, "the backlog to drain", 10*time.Second, func() bool { return f.Stats().Backlog == 0 })

	err := f.Resend(t.Context(), 1)
	if hall.ErrorCode(err) != hall.Conflict || hall.ErrorReason(err) != "central_refused" || !strings.Contains(err.Error(), "schema v2") {
		t.Fatalf("re-send while the central still refuses: %v", err)
	}
	if dl, _ := h.Store.DeadLetters(10); len(dl) != 1 || dl[0].First != 1 || dl[0].Last != 10 || dl[0].Status != 422 {
		t.Fatalf("dead letters after a refused re-send: %+v", dl)
	}
	if err := f.Resend(t.Context(), 11); hall.ErrorCode(err) != hall.NotFound {
		t.Fatalf("re-send of a batch that is not a dead letter: %v", err)
	}

	mu.Lock()
	fixed = true
	mu.Unlock()
	if err := f.Resend(t.Context(), 1); err != nil {
		t.Fatalf("re-send once the central is fixed: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if string(resentBody) != string(firstBody) || resentKey != firstKey || firstKey != forward.IdempotencyKey(hallID, 1, 10) {
		t.Fatalf("re-sent %s with key %q; first sent %s with key %q", resentBody, resentKey, firstBody, firstKey)
	}
	if dl, _ := h.Store.DeadLetters(10); len(dl) != 0 {
		t.Fatalf("dead letters after the re-send: %+v", dl)
	}
}

func TestSignatureExample(t *testing.T) {
	// The example in docs/central.md.
	body := []byte(`{"hall":"420102-01","first_seq":1,"last_seq":1,"events":[]}`)
	const want = "sha256=5cd1b19ce8da390288b66f57a7ca5467709848336771b301d5d3e84507449a3c"
	if got := forward.Sign([]byte("example-secret"), body); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	if !forward.VerifySignature([]byte("example-secret"), body, want) || forward.VerifySignature([]byte("other"), body, want) {
		t.Fatal("VerifySignature")
	}
	if k := forward.IdempotencyKey("420102-01", 1, 200); k != "420102-01:1-200" {
		t.Fatal(k)
	}
}
