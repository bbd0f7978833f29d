package platform_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/central/platform"
	"hallq/internal/halltest"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
)

// hallSecretsFile writes a -hall-secrets file.
func hallSecretsFile(t testing.TB, path string, secrets map[string]string) string {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "hall-secrets.json")
	}
	m := map[string]string{}
	for id, s := range secrets {
		m[id] = hex.EncodeToString([]byte(s))
	}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustCentral starts a central process (an embedded NATS server unless
// c names one) on loopback and stops it when the test ends.
func mustCentral(t testing.TB, c platform.Config) *platform.Process {
	t.Helper()
	if c.DataDir == "" {
		c.DataDir = filepath.Join(t.TempDir(), "central")
	}
	if c.NATSListen == "" {
		c.NATSListen = "127.0.0.1:0"
	}
	if c.HTTP == "" {
		c.HTTP = "127.0.0.1:0"
	}
	p, err := platform.Start(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// httpsForward is a hall's forwarder on the HTTPS sink to the central's
// ingest, retrying fast.
func httpsForward(central, id, secret string) *forward.Config {
	return &forward.Config{HTTPSURL: central + "/api/v1/halls/" + id, HTTPSSecret: []byte(secret),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond}
}

// hallDay is a piece of a hall's day, pressed through the hall's API:
// window 1 opens, five citizens take tickets for E, the first is called,
// served and rated, the second does not come, the third is called.
func hallDay(t *testing.T, h *halltest.Hall) uint64 {
	t.Helper()
	ctx := t.Context()
	if _, err := h.Admin.SetWindow(ctx, 1, string(hall.WindowOpen), ""); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := h.Admin.Issue(ctx, fmt.Sprint("issue-", i), hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
		h.Clock.Advance(time.Minute)
	}
	call := func(n int) hall.TicketView {
		t.Helper()
		tk, ok, err := h.Admin.Call(ctx, fmt.Sprint("call-", n), 1, "")
		if err != nil || !ok {
			t.Fatalf("call %d: %v %v", n, ok, err)
		}
		h.Clock.Advance(time.Minute)
		return tk
	}
	act := func(id, action string, a *hall.Action) {
		t.Helper()
		if _, err := h.Admin.Act(ctx, action+"-"+id, id, action, a); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		h.Clock.Advance(time.Minute)
	}
	first := call(1)
	act(first.ID, hall.ActStart, nil)
	act(first.ID, hall.ActComplete, nil)
	act(first.ID, hall.ActRate, &hall.Action{Score: 5})
	act(call(2).ID, hall.ActNoShow, nil)
	call(3)
	ev, err := h.Admin.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Events[len(ev.Events)-1].Seq
}

// hallMsgs reads every message of a hall from HALLS, in stream order.
func hallMsgs(t *testing.T, p *platform.Process, id string) []jetstream.Msg {
	t.Helper()
	ctx := t.Context()
	cons, err := p.JS.OrderedConsumer(ctx, platform.HallsStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"hall." + id + ".events.>"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for n := int(info.NumPending); len(out) < n; {
		b, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			out = append(out, m)
		}
		if b.Error() != nil {
			t.Fatal(b.Error())
		}
	}
	return out
}

// sameIDs rewrites what is random per hall — its store epoch and its
// ticket ids — into names the same for two halls that lived the same day.
func sameIDs(t *testing.T, h *halltest.Hall) *strings.Replacer {
	t.Helper()
	ev, err := h.Admin.Events(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	pairs := []string{h.Store.Epoch(), "EPOCH"}
	for _, e := range ev.Events {
		if e.Ticket != nil {
			pairs = append(pairs, e.Ticket.ID, "ticket-"+e.Ticket.Number)
		}
	}
	return strings.NewReplacer(pairs...)
}

// A hall on the HTTPS sink, forwarding to the central's HTTPS ingest, is
// seen by the central exactly as the same hall's day forwarded over NATS:
// every event is in HALLS on the same subject, with the same message id,
// headers and payload, and the hall entry, the staff detail and each
// ticket's public status are the same. The hall's link says connected and
// nothing waits; the audit trail goes to the sink URL + /audit, the
// central's audit ingest.
func TestHallOverHTTPSIsSeenAsOverNATS(t *testing.T) {
	ctx := t.Context()
	const id, secret = "420102-01", "hall-secret-0123456789"
	staff, admin, _ := staffFile(t, id)
	viaNATS := mustCentral(t, platform.Config{StaffTokens: staff})
	viaHTTPS := mustCentral(t, platform.Config{StaffTokens: staff, HallSecrets: hallSecretsFile(t, "", map[string]string{id: secret})})
	hn := halltest.RunHall(t, halltest.Options{OpenAll: true, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: viaNATS.NATS.URL(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond}
	}})
	hh := halltest.RunHall(t, halltest.Options{OpenAll: true, Tweak: func(o *server.Options) { o.Forward = httpsForward(viaHTTPS.URL(), id, secret) }})
	last := hallDay(t, hn)
	if l := hallDay(t, hh); l != last {
		t.Fatalf("the two halls' days differ: %d and %d events", last, l)
	}
	stN, stH := waitHall(t, viaNATS, id, last), waitHall(t, viaHTTPS, id, last)
	if stH.Duplicates != 0 || stH.Gaps != 0 || stH.BadIDs != 0 || stH.Unreadable != 0 || stH.Events != last || stH.Epoch != hh.Store.Epoch() {
		t.Fatalf("the hall entry over HTTPS: %+v", stH)
	}

	// the stream: message by message the same
	rn, rh := sameIDs(t, hn), sameIDs(t, hh)
	mn, mh := hallMsgs(t, viaNATS, id), hallMsgs(t, viaHTTPS, id)
	if len(mh) != int(last) || len(mn) != int(last) {
		t.Fatalf("HALLS holds %d events over HTTPS, %d over NATS; the hall wrote %d", len(mh), len(mn), last)
	}
	for i := range mh {
		n, h := mn[i], mh[i]
		var ev hall.Event
		if err := json.Unmarshal(h.Data(), &ev); err != nil || ev.Seq != uint64(i+1) {
			t.Fatalf("message %d: seq %d %v", i, ev.Seq, err)
		}
		if h.Subject() != forward.Subject(id, ev.Type) || h.Headers().Get(jetstream.MsgIDHeader) != forward.EpochMsgID(id, hh.Store.Epoch(), ev.Seq) {
			t.Fatalf("event %d over HTTPS: subject %s, id %s", ev.Seq, h.Subject(), h.Headers().Get(jetstream.MsgIDHeader))
		}
		if h.Subject() != n.Subject() || !reflect.DeepEqual(len(h.Headers()), len(n.Headers())) ||
			rh.Replace(h.Headers().Get(jetstream.MsgIDHeader)) != rn.Replace(n.Headers().Get(jetstream.MsgIDHeader)) ||
			h.Headers().Get(forward.HeaderKeyScheme) != n.Headers().Get(forward.HeaderKeyScheme) || h.Headers().Get(forward.HeaderKeyScheme) != forward.KeySchemeSHA256 {
			t.Fatalf("event %d: over HTTPS %s %v, over NATS %s %v", ev.Seq, h.Subject(), h.Headers(), n.Subject(), n.Headers())
		}
		if a, b := rh.Replace(string(h.Data())), rn.Replace(string(n.Data())); a != b {
			t.Fatalf("event %d's payload over HTTPS:\n%s\nover NATS:\n%s", ev.Seq, a, b)
		}
	}

	// the views: the hall entry, the staff detail, every ticket's status
	norm := func(r *strings.Replacer, v any) string {
		b, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal([]byte(r.Replace(string(b))), &m)
		for _, k := range []string{"applied_at", "apply_lag_s", "lag_s", "audit", "last_stream"} {
			delete(m, k) // when the central applied it, and the trail's own hashes
		}
		out, _ := json.MarshalIndent(m, "", " ")
		return string(out)
	}
	if a, b := norm(rh, stH), norm(rn, stN); a != b {
		t.Fatalf("the hall entry over HTTPS:\n%s\nover NATS:\n%s", a, b)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a, ok1 := viaHTTPS.Views.Hall(id)
		b, ok2 := viaNATS.Views.Hall(id)
		if ok1 && ok2 && a.LastSeq == last && b.LastSeq == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the read copies do not hold the last event")
		}
	}
	var dn, dh platform.HallDetail
	getJSON(t, viaNATS.URL()+"/api/v1/halls/"+id, admin, &dn)
	if code := getJSON(t, viaHTTPS.URL()+"/api/v1/halls/"+id, admin, &dh); code != 200 || dh.Issued != 5 || dh.OpenWindows != 1 {
		t.Fatalf("the staff detail over HTTPS: %d %+v", code, dh)
	}
	if a, b := norm(rh, dh), norm(rn, dn); a != b {
		t.Fatalf("the staff detail over HTTPS:\n%s\nover NATS:\n%s", a, b)
	}
	ev, _ := hh.Admin.Events(ctx, 0, 1000)
	evn, _ := hn.Admin.Events(ctx, 0, 1000)
	for i, e := range ev.Events {
		if e.Type != "ticket.issued" {
			continue
		}
		var th, tn platform.TicketStatus
		if code := getJSON(t, viaHTTPS.URL()+"/api/v1/tickets/"+e.Ticket.ID, "", &th); code != 200 {
			t.Fatalf("ticket %s over HTTPS: %d", e.Ticket.Number, code)
		}
		getJSON(t, viaNATS.URL()+"/api/v1/tickets/"+evn.Events[i].Ticket.ID, "", &tn)
		mine, _ := hh.Admin.Ticket(ctx, e.Ticket.ID)
		if a, b := norm(rh, th), norm(rn, tn); a != b || th.Status != string(mine.Status) {
			t.Fatalf("ticket %s over HTTPS:\n%s\nover NATS:\n%s\nat the hall %s", e.Ticket.Number, a, b, mine.Status)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := hh.Forwarder.Stats()
		if st.Sink == "https" && st.Connected && st.Backlog == 0 && st.ForwardedSeq == last && st.DeadLetters == 0 && st.LastError == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hall's link: %+v", st)
		}
	}
	// the whole day sent again, as a hall whose acknowledgement was lost
	// would: 200, nothing applied twice
	raws := make([]json.RawMessage, len(mh))
	for i, m := range mh {
		raws[i] = m.Data()
	}
	again, _ := json.Marshal(map[string]any{"hall": id, "epoch": hh.Store.Epoch(), "first_seq": 1, "last_seq": last, "events": raws})
	if code, msg := ingestPost(t, viaHTTPS, id, again, secret, nil); code != 200 || !strings.Contains(msg, fmt.Sprintf(`{"stored":0,"duplicates":%d}`, last)) {
		t.Fatalf("the day again: %d %s", code, msg)
	}
	if n := len(hallMsgs(t, viaHTTPS, id)); n != int(last) {
		t.Fatalf("HALLS holds %d events after the repeat, want %d", n, last)
	}
	if tr := waitTrail(t, viaHTTPS, id, hh.Audit.Last().Seq); !tr.Intact() {
		t.Fatalf("the audit trail over HTTPS: %+v", tr)
	}
}

// ingestPost POSTs body as hall's batch to the central's ingest at path
// hall, signed with secret ("" leaves the signature out), with the
// headers given over the hall's own.
func ingestPost(t *testing.T, p *platform.Process, path string, body []byte, secret string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.URL()+"/api/v1/halls/"+path, bytes.NewReader(body))
	req.Header.Set(forward.HeaderHall, path)
	if secret != "" {
		req.Header.Set(forward.HeaderSignature, forward.Sign([]byte(secret), body))
	}
	var b struct { // the key the hall would send with this body
		Hall     string `json:"hall"`
		Epoch    string `json:"epoch"`
		FirstSeq uint64 `json:"first_seq"`
		LastSeq  uint64 `json:"last_seq"`
	}
	_ = json.Unmarshal(body, &b)
	req.Header.Set(forward.HeaderIdempotency, forward.EpochIdempotencyKey(b.Hall, b.Epoch, b.FirstSeq, b.LastSeq))
	req.Header.Set(forward.HeaderKeyScheme, forward.KeySchemeSHA256)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(msg)
}

// testEvents are events first…last of a hall's day, as JSON: window 1
// opening and closing.
func testEvents(first, last uint64) []json.RawMessage {
	var out []json.RawMessage
	for seq := first; seq <= last; seq++ {
		state, typ := hall.WindowOpen, hall.EvWindowOpened
		if seq%2 == 0 {
			state, typ = hall.WindowPaused, hall.EvWindowPaused
		}
		b, _ := json.Marshal(hall.Event{Seq: seq, Type: typ, At: time.Date(2026, 12, 1, 10, int(seq), 0, 0, time.FixedZone("CST", 8*3600)), Day: "2026-12-01",
			Window: &hall.Window{Number: 1, Status: state, Services: []string{"E"}}})
		out = append(out, b)
	}
	return out
}

func testBatch(id, epoch string, first, last uint64) []byte {
	b, _ := json.Marshal(map[string]any{"hall": id, "epoch": epoch, "first_seq": first, "last_seq": last, "events": testEvents(first, last)})
	return b
}

// Every batch the central refuses is refused with what is wrong, and
// nothing of it is stored: credentials with 401/403 (the hall retries),
// a batch that can never be accepted with 400 or 413 (the hall sets it
// aside). A batch partly stored before an outage is completed by the
// retry, its stored events deduped by their message ids.
func TestHTTPSIngestRefusalsAndAPartlyStoredBatch(t *testing.T) {
	const id, other, secret, epoch = "420102-07", "420102-08", "hall-secret-0123456789", "0123456789abcdef"
	staff, _, _ := staffFile(t, id)
	p := mustCentral(t, platform.Config{StaffTokens: staff, HallSecrets: hallSecretsFile(t, "", map[string]string{id: secret, other: "other-secret-0123456789"})})
	good := testBatch(id, epoch, 1, 5)
	with := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	evs := testEvents(1, 5)
	big := append([]byte(`{"hall":"420102-07","events":["`), bytes.Repeat([]byte("x"), 33<<20)...)
	for _, c := range []struct {
		name, path string
		body       []byte
		secret     string
		hdr        map[string]string
		status     int
		code, says string
	}{
		{"no secret at the central", "420102-09", testBatch("420102-09", epoch, 1, 5), secret, nil, 403, "forbidden", "hall 420102-09 has no HTTPS secret"},
		{"X-Hallq-Hall names another hall", id, good, secret, map[string]string{forward.HeaderHall: other}, 403, "forbidden", `X-Hallq-Hall "420102-08" is not hall 420102-07`},
		{"no X-Hallq-Hall", id, good, secret, map[string]string{forward.HeaderHall: ""}, 403, "forbidden", `X-Hallq-Hall "" is not hall 420102-07`},
		{"no signature", id, good, "", nil, 401, "unauthorized", "X-Hallq-Signature does not match"},
		{"another hall's secret", id, good, "other-secret-0123456789", nil, 401, "unauthorized", "with hall 420102-07's secret"},
		{"a tampered body", id, bytes.Replace(good, []byte(`"status":"open"`), []byte(`"status":"closed"`), 1), secret,
			map[string]string{forward.HeaderSignature: forward.Sign([]byte(secret), good)}, 401, "unauthorized", "X-Hallq-Signature does not match"},
		{"too large", id, big, secret, nil, 413, "invalid", "at most 32 MiB"},
		{"events of another hall", id, testBatch(other, epoch, 1, 5), secret, nil, 400, "invalid", `the batch is of hall "420102-08", not of hall 420102-07`},
		{"not JSON", id, []byte("nope"), secret, nil, 400, "invalid", "not a batch of events"},
		{"data after the batch", id, append(append([]byte{}, good...), " {}"...), secret, nil, 400, "invalid", "data after the batch"},
		{"a bad epoch", id, with(func(m map[string]any) { m["epoch"] = "XYZ" }), secret, nil, 400, "invalid", `epoch "XYZ" is not a store epoch`},
		{"first_seq 0", id, with(func(m map[string]any) { m["first_seq"] = 0 }), secret, nil, 400, "invalid", "first_seq 0 and last_seq 5"},
		{"too few events", id, with(func(m map[string]any) { m["events"] = evs[:4] }), secret, nil, 400, "invalid", "events 1–5 are 5 events, the batch holds 4"},
		{"out of order", id, with(func(m map[string]any) { m["events"] = []json.RawMessage{evs[0], evs[2], evs[1], evs[3], evs[4]} }), secret, nil, 400, "invalid", "event 1 has seq 3, want 2"},
		{"not an event", id, with(func(m map[string]any) { m["events"] = []any{evs[0], "x", evs[2], evs[3], evs[4]} }), secret, nil, 400, "invalid", "event 1 (seq 2) is not a hall event"},
		{"an event without type", id, with(func(m map[string]any) { m["events"] = []any{evs[0], evs[1], map[string]any{"seq": 3}, evs[3], evs[4]} }), secret, nil, 400, "invalid", "event 2 (seq 3) has no type"},
		{"no Idempotency-Key", id, good, secret, map[string]string{forward.HeaderIdempotency: ""}, 400, "invalid", `Idempotency-Key "" is not the batch's: want "420102-07:1-5@0123456789abcdef"`},
		{"another batch's Idempotency-Key", id, good, secret, map[string]string{forward.HeaderIdempotency: "420102-07:1-4@0123456789abcdef"}, 400, "invalid", "is not the batch's"},
		{"an unknown key scheme", id, good, secret, map[string]string{forward.HeaderKeyScheme: "md5"}, 400, "invalid", `Hallq-Key-Scheme "md5" is neither hmac-sha256 nor hmac-sm3`},
	} {
		code, msg := ingestPost(t, p, c.path, c.body, c.secret, c.hdr)
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal([]byte(msg), &e)
		if code != c.status || e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.says) {
			t.Errorf("%s: %d %s, want %d %s saying %q", c.name, code, msg, c.status, c.code, c.says)
		}
	}
	s, err := p.JS.Stream(t.Context(), platform.HallsStream)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Info(t.Context()); info.State.Msgs != 0 {
		t.Fatalf("refused batches stored %d events", info.State.Msgs)
	}

	// events 1 and 2 were stored before JetStream went away; the hall
	// sends the batch again
	for i, raw := range evs[:2] {
		typ := hall.EvWindowOpened
		if i%2 == 1 {
			typ = hall.EvWindowPaused
		}
		m := &nats.Msg{Subject: forward.Subject(id, typ), Data: raw, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, forward.EpochMsgID(id, epoch, uint64(i+1)))
		m.Header.Set(forward.HeaderKeyScheme, forward.KeySchemeSHA256)
		if _, err := p.JS.PublishMsg(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	if code, msg := ingestPost(t, p, id, good, secret, nil); code != 200 || !strings.Contains(msg, `{"stored":3,"duplicates":2}`) {
		t.Fatalf("the batch again: %d %s", code, msg)
	}
	// the hall's sink URL with a trailing slash reaches the same ingest
	req, _ := http.NewRequest("POST", p.URL()+"/api/v1/halls/"+id+"/", bytes.NewReader(good))
	req.Header.Set(forward.HeaderHall, id)
	req.Header.Set(forward.HeaderSignature, forward.Sign([]byte(secret), good))
	req.Header.Set(forward.HeaderIdempotency, forward.EpochIdempotencyKey(id, epoch, 1, 5))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("POST …/halls/%s/: %v %v", id, res, err)
	} else {
		res.Body.Close()
	}
	st := waitHall(t, p, id, 5)
	if st.Duplicates != 0 || st.Gaps != 0 || st.Events != 5 || st.Epoch != epoch || st.Windows["1"].Status != string(hall.WindowOpen) {
		t.Fatalf("the hall entry: %+v", st)
	}
	if info, _ := s.Info(t.Context()); info.State.Msgs != 5 {
		t.Fatalf("HALLS holds %d events, want each of 5 once", info.State.Msgs)
	}

	// a hall keying citizens with HMAC-SM3 (-crypto gm) in this
	// HMAC-SHA256 province: stored with its header, refused by the views
	// with the reason, as over NATS
	gm := testBatch(other, epoch, 1, 2)
	if code, msg := ingestPost(t, p, other, gm, "other-secret-0123456789", map[string]string{forward.HeaderKeyScheme: forward.KeySchemeSM3}); code != 200 {
		t.Fatalf("an HMAC-SM3 hall's batch: %d %s", code, msg)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var st platform.HallState
		if e, err := p.Buckets.Halls.Get(t.Context(), other); err == nil {
			_ = json.Unmarshal(e.Value(), &st)
		}
		if st.KeySchemeRefused == 2 && st.Events == 0 && strings.Contains(st.KeySchemeError, "hall 420102-08 keys citizens with hmac-sm3, this province with hmac-sha256") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the HMAC-SM3 hall's entry: %+v", st)
		}
	}
}

// A batch sent again long after it was applied — past the duplicate
// window of HALLS — is answered 200 and not stored again: the central
// knows from the hall's entry that it applied those events.
func TestHTTPSIngestRepeatPastTheDuplicateWindow(t *testing.T) {
	const id, secret, epoch = "420102-07", "hall-secret-0123456789", "0123456789abcdef"
	staff, _, _ := staffFile(t, id)
	p := mustCentral(t, platform.Config{StaffTokens: staff, DuplicateWindow: 200 * time.Millisecond, HallSecrets: hallSecretsFile(t, "", map[string]string{id: secret})})
	body := testBatch(id, epoch, 1, 3)
	if code, msg := ingestPost(t, p, id, body, secret, nil); code != 200 || !strings.Contains(msg, `{"stored":3,"duplicates":0}`) {
		t.Fatalf("the batch: %d %s", code, msg)
	}
	waitHall(t, p, id, 3)
	// wait until JetStream has forgotten the message ids: a probe's id
	// is taken again
	probe := &nats.Msg{Subject: "hall.probe.events.probe", Data: []byte(`{}`), Header: nats.Header{jetstream.MsgIDHeader: []string{"probe"}}}
	if _, err := p.JS.PublishMsg(t.Context(), probe); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ack, err := p.JS.PublishMsg(t.Context(), probe)
		if err != nil {
			t.Fatal(err)
		}
		if !ack.Duplicate {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("JetStream keeps the probe's id past its duplicate window")
		}
	}
	if code, msg := ingestPost(t, p, id, body, secret, nil); code != 200 || !strings.Contains(msg, `{"stored":0,"duplicates":3}`) {
		t.Fatalf("the batch again past the window: %d %s", code, msg)
	}
	if n := len(hallMsgs(t, p, id)); n != 3 {
		t.Fatalf("HALLS holds %d of the hall's events, want 3", n)
	}
}

// A hall whose secret the central does not hold as the hall's is refused
// (401): its link shows not connected with the reason, nothing is set
// aside, and once the central holds the right secret everything the hall
// did arrives, once. Then the central's NATS goes away under a running
// API: the batches are answered 503, the hall retries, and once NATS is
// back every event arrives once, in order.
func TestHallOverHTTPSWrongSecretThenNATSDown(t *testing.T) {
	ctx := t.Context()
	const id, secret = "420102-01", "hall-secret-0123456789"
	staff, _, _ := staffFile(t, id)
	ns, err := natsembed.Start(natsembed.Options{Dir: filepath.Join(t.TempDir(), "nats"), Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Stop() })
	secrets := hallSecretsFile(t, "", map[string]string{id: "not-the-halls-secret-0123"})
	httpAddr := freeAddr(t)
	cfg := platform.Config{NATSURLs: ns.URL(), HTTP: httpAddr, StaffTokens: staff, HallSecrets: secrets}
	p, err := platform.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	h := halltest.RunHall(t, halltest.Options{OpenAll: true, Tweak: func(o *server.Options) { o.Forward = httpsForward("http://"+httpAddr, id, secret) }})
	last := hallDay(t, h)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := h.Forwarder.Stats()
		if !st.Connected && st.Errors > 1 && strings.Contains(st.LastError, "the central refused the hall's credentials (HTTP 401") && strings.Contains(st.LastError, "X-Hallq-Signature does not match") {
			if st.DeadLetters != 0 || st.ForwardedSeq != 0 || st.Backlog != last {
				t.Fatalf("a refused secret moved the outbox: %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hall's link with a secret the central refuses: %+v", st)
		}
	}
	if n := len(hallMsgs(t, p, id)); n != 0 {
		t.Fatalf("%d events stored with a refused secret", n)
	}
	var health struct {
		Forwarding forward.Stats `json:"forwarding"`
	}
	if code := getJSON(t, h.URL+"/healthz", "", &health); code != 200 && code != 503 || health.Forwarding.Connected || !strings.Contains(health.Forwarding.LastError, "HTTP 401") {
		t.Fatalf("the hall's /healthz: %d %+v", code, health.Forwarding)
	}

	// the operator puts the hall's secret into the central's file and
	// restarts it
	p.Stop()
	hallSecretsFile(t, secrets, map[string]string{id: secret})
	if p, err = platform.Start(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	st := waitHall(t, p, id, last)
	if st.Duplicates != 0 || st.Gaps != 0 || st.Events != last {
		t.Fatalf("after the fix: %+v", st)
	}
	waitLink := func(seq uint64) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if st := h.Forwarder.Stats(); st.Connected && st.ForwardedSeq == seq && st.LastError == "" {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("the hall's link: %+v", st)
			}
		}
	}
	waitLink(last)

	// the central's NATS is down; its API answers
	ns.Stop()
	for range 3 {
		if _, err := h.Admin.Issue(ctx, fmt.Sprint("while-down-", last), hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
		last++
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := h.Forwarder.Stats()
		if strings.Contains(st.LastError, "HTTP 503") && st.RetryingBatch && st.DeadLetters == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hall while the central's NATS is down: %+v", st)
		}
	}
	if ns, err = ns.Restart(); err != nil {
		t.Fatal(err)
	}
	st = waitHall(t, p, id, last)
	waitLink(last)
	if st.Duplicates != 0 || st.Gaps != 0 || st.Events != last {
		t.Fatalf("after the outage: %+v", st)
	}
	msgs := hallMsgs(t, p, id)
	if len(msgs) != int(last) {
		t.Fatalf("HALLS holds %d of the hall's events, want each of %d once", len(msgs), last)
	}
	for i, m := range msgs {
		if want := forward.EpochMsgID(id, h.Store.Epoch(), uint64(i+1)); m.Headers().Get(jetstream.MsgIDHeader) != want {
			t.Fatalf("message %d is %s, want %s", i, m.Headers().Get(jetstream.MsgIDHeader), want)
		}
	}
}

// BenchmarkHTTPSIngest measures the central's HTTPS ingest against an
// embedded NATS server syncing every write (the default): one hall's
// backlog of 4,000 events in batches of 200 (the hall's default), POSTed
// one after another as the hall's forwarder does — events/s and the
// batch's p50/p99 — and eight halls doing so at once (events/s in all).
// Each event is one synced publish, in order (none is stored ahead of one
// that failed), so the disk sets the rate.
func BenchmarkHTTPSIngest(b *testing.B) {
	for range b.N {
		const secret, epoch, batch, batches = "hall-secret-0123456789", "0123456789abcdef", 200, 20
		ids := []string{"B-00", "B-01", "B-02", "B-03", "B-04", "B-05", "B-06", "B-07", "B-08"}
		secrets := map[string]string{}
		for _, id := range ids {
			secrets[id] = secret
		}
		staff, _, _ := staffFile(b, ids[0])
		p := mustCentral(b, platform.Config{StaffTokens: staff, HallSecrets: hallSecretsFile(b, "", secrets)})
		send := func(id string, n int) []time.Duration {
			var took []time.Duration
			for i := range n {
				first := uint64(i*batch + 1)
				body := testBatch(id, epoch, first, first+batch-1)
				req, _ := http.NewRequest("POST", p.URL()+"/api/v1/halls/"+id, bytes.NewReader(body))
				req.Header.Set(forward.HeaderHall, id)
				req.Header.Set(forward.HeaderSignature, forward.Sign([]byte(secret), body))
				req.Header.Set(forward.HeaderIdempotency, forward.EpochIdempotencyKey(id, epoch, first, first+batch-1))
				t0 := time.Now()
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					return took
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("batch %d of %s: %d", i, id, res.StatusCode)
					return took
				}
				took = append(took, time.Since(t0))
			}
			return took
		}
		t0 := time.Now()
		took := send(ids[0], batches)
		one := time.Since(t0)
		slices.Sort(took)
		t0 = time.Now()
		var wg sync.WaitGroup
		for _, id := range ids[1:] {
			wg.Go(func() { send(id, batches/4) })
		}
		wg.Wait()
		many := time.Since(t0)
		b.ReportMetric(float64(batch*batches)/one.Seconds(), "events/s_one_hall")
		b.ReportMetric(float64(len(ids[1:])*batch*batches/4)/many.Seconds(), "events/s_8_halls")
		if len(took) > 0 {
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "batch_p50_ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "batch_p99_ms")
		}
	}
}
