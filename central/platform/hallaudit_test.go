package platform_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/central/platform"
	"hallq/internal/halltest"
	"hallq/queue-server/audit"
	"hallq/queue-server/forward"
	"hallq/queue-server/server"
)

// freeAddr is a loopback address nothing listens on, for a central that
// must come back on the same port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitTrail waits until the central has judged the hall's trail through
// seq, failing when nothing moved for 60 s.
func waitTrail(t *testing.T, p *platform.Process, id string, seq uint64) platform.AuditTrail {
	t.Helper()
	var prev uint64
	moved := time.Now()
	for {
		var tr platform.AuditTrail
		if e, err := p.Buckets.Audit.Get(context.Background(), "h."+id); err == nil {
			_ = json.Unmarshal(e.Value(), &tr)
		}
		if tr.LastSeq >= seq {
			return tr
		}
		if tr.LastSeq != prev {
			prev, moved = tr.LastSeq, time.Now()
		}
		if time.Since(moved) > 60*time.Second {
			t.Fatalf("the central holds hall %s's trail through #%d, waiting for #%d", id, tr.LastSeq, seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func trailLines(t *testing.T, dir string) []audit.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for l := range bytes.SplitSeq(bytes.TrimSpace(b), []byte("\n")) {
		var r audit.Record
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// The hall's audit trail reaches the central record by record, exactly
// once and in order, across a central that is down and a hall restart;
// the central keeps it append-only, serves it newest first to staff, and
// its head finds a trail rewritten on the hall (every hash recomputed);
// the records the rewritten hall forwards next do not chain, which the
// hall's entry and the alerts say.
func TestHallAuditTrailReachesTheCentralAndCatchesARewrite(t *testing.T) {
	ctx := t.Context()
	const id = "420102-01"
	staff, admin, super := staffFile(t, id)
	natsAddr := freeAddr(t)
	cdir := filepath.Join(t.TempDir(), "central")
	startCentral := func() *platform.Process {
		p, err := platform.Start(ctx, platform.Config{DataDir: cdir, NATSListen: natsAddr, HTTP: "127.0.0.1:0", StaffTokens: staff})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := startCentral()
	t.Cleanup(func() { p.Stop() })
	h := halltest.RunHall(t, halltest.Options{OpenAll: true, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: "nats://" + natsAddr, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond}
	}})
	act := func(n int) {
		t.Helper()
		for i := range n {
			state := "open"
			if i%2 == 1 {
				state = "pause"
			}
			if _, err := h.Admin.SetWindow(ctx, 1, state, "lunch"); err != nil {
				t.Fatal(err)
			}
		}
	}
	act(5)
	tr := waitTrail(t, p, id, h.Audit.Last().Seq)
	if !tr.Intact() || tr.Records != tr.LastSeq || tr.FirstSeq != 1 || tr.Start != "genesis" || tr.Duplicates != 0 || tr.LastHash != h.Audit.Last().Hash {
		t.Fatalf("the central's trail: %+v (hall's last %+v)", tr, h.Audit.Last())
	}

	// the central is down for a while: the hall goes on recording
	p.Stop()
	act(4)
	p = startCentral()
	tr = waitTrail(t, p, id, h.Audit.Last().Seq)
	// the hall restarts after a crash that lost the mark of its last
	// batches (as if killed between publish and mark): it publishes those
	// records again, and the central keeps each once
	h.Stop()
	early := trailLines(t, h.Dir)[1]
	if err := audit.WriteMark(h.Dir, audit.Head{Seq: early.Seq, Hash: early.Hash}); err != nil {
		t.Fatal(err)
	}
	h.Start()
	act(3)
	last := h.Audit.Last()
	tr = waitTrail(t, p, id, last.Seq)
	if !tr.Intact() || tr.Records != last.Seq || tr.LastHash != last.Hash {
		t.Fatalf("after the outage and the restart: %+v, hall's last %+v", tr, last)
	}
	for deadline := time.Now().Add(30 * time.Second); h.AuditForwarder.Stats().Duplicates == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the records after the lost mark were not sent again: %+v", h.AuditForwarder.Stats())
		}
	}
	// exactly once, in order: the stream holds every record once
	var page platform.AuditPage
	if code := getJSON(t, p.URL()+"/api/v1/halls/"+id+"/audit?limit=500", admin, &page); code != 200 {
		t.Fatalf("records: %d", code)
	}
	if len(page.Records) != int(last.Seq) {
		t.Fatalf("%d records at the central, the hall wrote %d", len(page.Records), last.Seq)
	}
	local := trailLines(t, h.Dir)
	for i, r := range page.Records {
		want := local[len(local)-1-i]
		if r.Seq != want.Seq || r.Hash != want.Hash || r.Action != want.Action {
			t.Fatalf("record %d newest first: %+v, the hall's %+v", i, r.Record, want)
		}
	}
	// paged
	var p1, p2 platform.AuditPage
	getJSON(t, p.URL()+"/api/v1/halls/"+id+"/audit?limit=2", admin, &p1)
	getJSON(t, fmt.Sprintf("%s/api/v1/halls/%s/audit?limit=2&before=%d", p.URL(), id, p1.NextBefore), admin, &p2)
	if len(p1.Records) != 2 || p1.Records[0].Seq != last.Seq || p1.NextBefore != last.Seq-1 || len(p2.Records) != 2 || p2.Records[0].Seq != last.Seq-2 {
		t.Fatalf("pages: %+v / %+v", p1, p2)
	}
	if code := getJSON(t, p.URL()+"/api/v1/halls/"+id+"/audit/head", "", nil); code != 401 {
		t.Fatalf("the head without a staff token: %d", code)
	}
	var head platform.AuditHead
	if code := getJSON(t, p.URL()+"/api/v1/halls/"+id+"/audit/head", super, &head); code != 200 || head.LastSeq != last.Seq || !head.Intact {
		t.Fatalf("the hall's supervisor reads the head: %d %+v", code, head)
	}
	if code := getJSON(t, p.URL()+"/api/v1/halls/420102-09/audit?limit=5", super, nil); code != 403 {
		t.Fatalf("another hall's records for this hall's supervisor: %d", code)
	}
	if code := getJSON(t, p.URL()+"/api/v1/halls/"+id+"/audit?limit=0", admin, nil); code != 400 {
		t.Fatalf("limit=0: %d", code)
	}

	// verified against the central, the hall's own trail is fine
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(admin+"\n"), 0o600)
	verify := func() (int, string) {
		var out, errb bytes.Buffer
		code := server.Audit([]string{"verify", "-central", p.URL(), "-hall", id, "-central-token-file", tokFile, filepath.Join(h.Dir, audit.FileName)}, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := verify(); code != 0 || !strings.Contains(out, fmt.Sprintf("matches the copy kept elsewhere through seq %d", last.Seq)) {
		t.Fatalf("verify -central on the untouched trail: %d %s", code, out)
	}

	// someone with root rewrites record 3 (names another actor) and
	// recomputes every hash after it
	h.Stop()
	recs := trailLines(t, h.Dir)
	recs[2].Actor = "nobody"
	var buf bytes.Buffer
	for i := range recs {
		if i > 0 {
			recs[i].Prev = recs[i-1].Hash
		}
		recs[i].Hash = ""
		b, _ := json.Marshal(recs[i])
		sum := sha256.Sum256(b)
		recs[i].Hash = hex.EncodeToString(sum[:])
		b, _ = json.Marshal(recs[i])
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(h.Dir, audit.FileName), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := server.Audit([]string{"verify", filepath.Join(h.Dir, audit.FileName)}, &out, &errb); code != 0 {
		t.Fatalf("the rewritten trail verifies alone (that is the attack): %d %s", code, errb.String())
	}
	if code, out := verify(); code != 1 || !strings.Contains(out, "differs from the copy kept elsewhere") {
		t.Fatalf("verify -central on the rewritten trail: %d %s", code, out)
	}

	// the hall goes on: its next record chains to the rewritten one, and
	// the central says so
	h.Start()
	act(1)
	next := h.Audit.Last()
	tr = waitTrail(t, p, id, next.Seq)
	if tr.Intact() || tr.BrokenAt != last.Seq+1 || !strings.Contains(tr.BrokenWhy, "is not the hash of the record before") || tr.Records != next.Seq {
		t.Fatalf("after the rewrite: %+v", tr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var d platform.HallDetail
		getJSON(t, p.URL()+"/api/v1/halls/"+id, admin, &d)
		var al struct{ Alerts []platform.Alert }
		getJSON(t, p.URL()+"/api/v1/alerts", admin, &al)
		found := false
		for _, a := range al.Alerts {
			found = found || a.Kind == "audit_broken" && a.Hall == id
		}
		if d.Audit != nil && !d.Audit.Intact && strings.HasPrefix(d.Audit.Summary, fmt.Sprintf("audit trail: received through #%d at ", next.Seq)) &&
			strings.Contains(d.Audit.Summary, fmt.Sprintf("broken at #%d: ", last.Seq+1)) && found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hall's entry %+v, alerts %+v", d.Audit, al.Alerts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A hall on the HTTPS sink forwards its trail to the central's HTTPS
// ingest, signed with its secret; a batch sent again is stored once, and
// a batch with a bad signature or of a hall without a secret is refused.
func TestHallAuditTrailOverHTTPS(t *testing.T) {
	ctx := t.Context()
	const id = "420102-01"
	staff, admin, _ := staffFile(t, id)
	secret := "hall-secret-0123456789"
	secrets := filepath.Join(t.TempDir(), "hall-secrets.json")
	os.WriteFile(secrets, []byte(fmt.Sprintf(`{%q: %q}`, id, hex.EncodeToString([]byte(secret)))), 0o600)
	p, err := platform.Start(ctx, platform.Config{DataDir: filepath.Join(t.TempDir(), "central"), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0", StaffTokens: staff, HallSecrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	// the events go to the province's own HTTPS receiver (not the
	// central's); the audit records to the central's ingest
	events := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(events.Close)
	h := halltest.RunHall(t, halltest.Options{OpenAll: true, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{HTTPSURL: events.URL, HTTPSSecret: []byte(secret), AuditHTTPSURL: p.URL() + "/api/v1/halls/" + id + "/audit",
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond}
	}})
	for _, s := range []string{"open", "pause", "open"} {
		if _, err := h.Admin.SetWindow(ctx, 1, s, "lunch"); err != nil {
			t.Fatal(err)
		}
	}
	last := h.Audit.Last()
	tr := waitTrail(t, p, id, last.Seq)
	if !tr.Intact() || tr.Records != last.Seq || tr.LastHash != last.Hash {
		t.Fatalf("over HTTPS: %+v, the hall's last %+v", tr, last)
	}
	// the central may judge the last record before the hall has its answer
	for deadline := time.Now().Add(30 * time.Second); h.AuditForwarder.Stats().ForwardedSeq != last.Seq; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the hall's audit forwarding: %+v", h.AuditForwarder.Stats())
		}
	}
	if st := h.AuditForwarder.Stats(); st.Sink != "https" || st.Backlog != 0 || st.Alert != "" || st.Sent != last.Seq {
		t.Fatalf("the hall's audit forwarding: %+v", st)
	}

	// the same batch again: stored once
	lines, _ := audit.NewReader(h.Dir).After(0, 100)
	b := forward.AuditBatch{Hall: id, FirstSeq: lines[0].Seq, LastSeq: lines[len(lines)-1].Seq}
	for _, l := range lines {
		b.Records = append(b.Records, l.Data)
	}
	body, _ := json.Marshal(b)
	post := func(hallID string, body []byte, sig string) (int, string) {
		req, _ := http.NewRequest("POST", p.URL()+"/api/v1/halls/"+hallID+"/audit", bytes.NewReader(body))
		req.Header.Set(forward.HeaderHall, hallID)
		req.Header.Set(forward.HeaderSignature, sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		msg, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(msg)
	}
	if code, msg := post(id, body, forward.Sign([]byte(secret), body)); code != 200 || !strings.Contains(msg, `"stored":0`) {
		t.Fatalf("the batch again: %d %s", code, msg)
	}
	if code, msg := post(id, body, forward.Sign([]byte("another-secret-0123456"), body)); code != 401 {
		t.Fatalf("a bad signature: %d %s", code, msg)
	}
	if code, msg := post("420102-02", body, forward.Sign([]byte(secret), body)); code != 403 {
		t.Fatalf("a hall without a secret: %d %s", code, msg)
	}
	bad, _ := json.Marshal(forward.AuditBatch{Hall: id, FirstSeq: 1, LastSeq: 1, Records: []json.RawMessage{json.RawMessage(`{"seq":9}`)}})
	if code, msg := post(id, bad, forward.Sign([]byte(secret), bad)); code != 400 || !strings.Contains(msg, "record 0 has no seq from 1 to 1") {
		t.Fatalf("a record outside the batch: %d %s", code, msg)
	}
	var page platform.AuditPage
	getJSON(t, p.URL()+"/api/v1/halls/"+id+"/audit", admin, &page)
	if len(page.Records) != int(last.Seq) {
		t.Fatalf("%d records kept, want %d once each", len(page.Records), last.Seq)
	}
	if tr := waitTrail(t, p, id, last.Seq); tr.Duplicates != 0 || !tr.Intact() {
		t.Fatalf("%+v", tr)
	}
}
