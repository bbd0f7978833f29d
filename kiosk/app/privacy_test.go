package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hallq/devices/idcard"
	"hallq/devices/sim"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/seal"
	"hallq/queue-server/wire"
)

var idPattern = regexp.MustCompile(`\d{17}[\dXx]`)

// rawIDNumbers finds 18-character resident ID numbers with a valid check
// digit in b (plain ASCII, and as UCS-2 the way the card encodes text).
func rawIDNumbers(b []byte) []string {
	var found []string
	s := string(b)
	s += "|" + strings.ReplaceAll(s, "\x00", "") // UCS-2 little-endian copies
	for _, m := range idPattern.FindAllString(s, -1) {
		if c, err := idcard.CheckDigit(m[:17]); err == nil && strings.EqualFold(string(c), m[17:]) {
			found = append(found, m)
		}
	}
	return found
}

// TestNoRawIDNumberAnywhere reads cards through the whole kiosk, then scans
// the server's data directory, the kiosk's outbox, the printed tickets and
// the logs of the run (server and kiosk, debug level) for any raw ID number.
func TestNoRawIDNumberAnywhere(t *testing.T) {
	r := MustRig(t)
	for _, c := range []string{"A", "B"} {
		r.flow.SelectService(c)
		r.await(ScreenInsertCard)
		card := sim.SampleResident
		if c == "B" {
			card = sim.SampleElderly
		}
		r.sims.IDCard.Place(card)
		r.await(ScreenTicket)
		r.sims.IDCard.Remove()
		// let the reader poll the empty pad a few times, so it reports removal
		n := r.sims.IDCard.Requests()
		waitUntil(t, "reader polls", func() bool { return r.sims.IDCard.Requests() > n+6 })
		r.flow.Home()
		r.await(ScreenHome)
	}
	// the second ticket may still be crossing the line at the baud rate
	// when the citizen is back on the home screen
	waitUntil(t, "two printed tickets", func() bool { return len(r.sims.Printer.Printed()) == 2 })
	// the detector itself must work: the card's text block holds the number
	text, err := idcard.EncodeText(sim.SampleResident)
	if err != nil || len(rawIDNumbers(text)) != 1 {
		t.Fatalf("detector does not find the number in the card's own text block: %v", err)
	}
	r.h.Server.Close() // flush and release the files
	for _, dir := range []string{r.h.Dir, r.k.dir} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if ids := rawIDNumbers(b); len(ids) > 0 {
				t.Errorf("%s holds raw ID numbers", p)
			}
			return nil
		})
	}
	logs := testLogs.Bytes()
	if len(logs) == 0 {
		t.Fatal("no log lines captured: the scan would prove nothing")
	}
	if ids := rawIDNumbers(logs); len(ids) > 0 {
		t.Errorf("the logs of this test run hold raw ID numbers")
	}
	for i, p := range r.sims.Printer.Printed() {
		if ids := rawIDNumbers([]byte(p.Text())); len(ids) > 0 {
			t.Errorf("ticket %d prints a raw ID number", i)
		}
	}
}

// TestKioskDataAndTokenRecoverNoID plays the thief of a kiosk: it has the
// kiosk's data directory (its outbox, with tickets issued offline), its
// token, and every answer the kiosk role can fetch from the hall server.
// None of it holds the hall's citizen-key secret or the server's private
// seal key (the two things that turn a key or a sealed number back into an
// ID number), nor any citizen key, nor a raw number. The hand-over still
// gives the server the citizen key and masked form of the offline ticket.
func TestKioskDataAndTokenRecoverNoID(t *testing.T) {
	h := MustServer(t)
	k := h.MustKiosk("kiosk-1", 10)
	ctx := context.Background()
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	online, offline := sim.SampleResident.Number, sim.SampleElderly.Number
	who, err := k.core.Citizen(online, hall.AgeAdult)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := k.core.Issue(ctx, "A", who, hall.WalkIn)
	if err != nil || tk.Offline || tk.MaskedID != online.Masked() {
		t.Fatalf("online issue: %v %+v", err, tk)
	}
	h.Stop()
	who2, err := k.core.Citizen(offline, hall.AgeElderly)
	if err != nil {
		t.Fatal(err)
	}
	tk2, err := k.core.Issue(ctx, "A", who2, hall.WalkIn)
	if err != nil || !tk2.Offline || tk2.MaskedID != offline.Masked() {
		t.Fatalf("offline issue: %v %+v", err, tk2)
	}
	h.Start()
	secret, err := h.Server.Store.Secret()
	if err != nil {
		t.Fatal(err)
	}
	sealKey, err := h.Server.Store.SealKey(func() ([]byte, error) { return nil, errors.New("the key must exist") })
	if err != nil {
		t.Fatal(err)
	}
	// what must not leak, in every encoding the system uses
	forbidden := map[string][]byte{}
	for name, b := range map[string][]byte{"citizen-key secret": secret, "private seal key": sealKey[seal.KeySize:]} {
		forbidden[name] = b
		forbidden[name+" (hex)"] = []byte(hex.EncodeToString(b))
		forbidden[name+" (base64)"] = []byte(base64.StdEncoding.EncodeToString(b))
	}
	for _, n := range []idcard.IDNumber{online, offline} {
		forbidden["citizen key of "+n.Masked()] = []byte(n.Key(secret))
	}
	check := func(where string, b []byte) {
		t.Helper()
		for name, f := range forbidden {
			if bytes.Contains(b, f) {
				t.Errorf("%s holds the %s", where, name)
			}
		}
		if ids := rawIDNumbers(b); len(ids) > 0 {
			t.Errorf("%s holds a raw ID number", where)
		}
	}
	// the kiosk's disk, before hand-over (the offline ticket is pending)
	if k.core.Pending() != 1 {
		t.Fatalf("%d pending, want the offline ticket", k.core.Pending())
	}
	files := 0
	filepath.WalkDir(k.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		files++
		check(p, b)
		if bytes.Contains(b, []byte(offline.Masked())) {
			t.Errorf("%s keeps the masked ID of the offline ticket", p)
		}
		return nil
	})
	if files == 0 {
		t.Fatal("no kiosk files scanned")
	}
	check("the kiosk token", []byte(k.token))
	// everything the kiosk role can read
	thief := client.New(h.Server.URL, k.token)
	for _, path := range []string{"/api/v1/me", "/api/v1/services", "/api/v1/overview", "/api/v1/windows",
		"/api/v1/events", "/api/v1/tickets/" + tk.ID, "/api/v1/kiosk/seal-key", "/healthz"} {
		var raw json.RawMessage
		if _, err := thief.Do(ctx, "GET", path, "", nil, &raw); err != nil {
			t.Errorf("GET %s with the kiosk token: %v", path, err)
		}
		check("GET "+path, raw)
		if bytes.Contains(raw, []byte(online.Masked())) {
			t.Errorf("GET %s shows a masked ID to the kiosk role", path)
		}
	}
	var raw json.RawMessage
	if _, err := thief.Do(ctx, "GET", "/api/v1/kiosk/secret", "", nil, &raw); hall.ErrorCode(err) != hall.NotFound {
		t.Errorf("the old secret route answers the kiosk token: %v %s", err, raw)
	}
	// the hand-over: the server derives the same citizen key as online
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if k.core.Pending() != 0 || k.core.SetAside() != 0 {
		t.Fatalf("after hand-over: %d pending, %d set aside", k.core.Pending(), k.core.SetAside())
	}
	got, err := h.Server.Service.Tickets(ctx, func(t *hall.Ticket) bool { return t.ID == tk2.ID || t.ID == tk.ID })
	if err != nil || len(got) != 2 {
		t.Fatalf("server tickets: %v %d", err, len(got))
	}
	for _, g := range got {
		want := online
		if g.ID == tk2.ID {
			want = offline
			if g.Channel != hall.Priority || !g.Offline {
				t.Errorf("offline elderly ticket: %+v", g.Ticket)
			}
		}
		if g.CitizenKey != want.Key(secret) || g.MaskedID != want.Masked() {
			t.Errorf("ticket %s: key %q masked %q, want the key and masked form of %s", g.Number, g.CitizenKey, g.MaskedID, want.Masked())
		}
	}
}

// TestOfflineHandOverAppliesCitizenRules: while the server is away a kiosk
// applies the card's per-ID limit to its own offline tickets (with a tag
// key that lives only in its memory); at hand-over the server applies the
// limit across kiosks and the blacklist, as online. What the server refuses
// is set aside on the kiosk (staff see the count), the rest is queued.
func TestOfflineHandOverAppliesCitizenRules(t *testing.T) {
	h := MustServer(t)
	k1, k2 := h.MustKiosk("kiosk-1", 10), h.MustKiosk("kiosk-2", 10)
	ctx := context.Background()
	for _, k := range []*kioskFixture{k1, k2} {
		if err := k.core.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	banned := sim.SampleElderly.Number
	if _, err := h.Admin.Do(ctx, "POST", "/api/v1/blacklist", "", wire.BlacklistRequest{CitizenKey: banned.Key(mustSecret(t, h))}, nil); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	issue := func(k *kioskFixture, n idcard.IDNumber) (Ticket, error) {
		t.Helper()
		h.Clock.Advance(time.Minute)
		who, err := k.core.Citizen(n, hall.AgeAdult)
		if err != nil {
			t.Fatal(err)
		}
		return k.core.Issue(ctx, "A", who, hall.WalkIn)
	}
	card := sim.SampleResident.Number
	for i, k := range []*kioskFixture{k1, k1, k2, k2} {
		n := card
		if i == 3 {
			n = banned
		}
		if tk, err := issue(k, n); err != nil || !tk.Offline {
			t.Fatalf("offline ticket %d: %v %+v", i, err, tk)
		}
	}
	// service A allows 2 tickets per card a day: kiosk 1 refuses a third itself
	if _, err := issue(k1, card); hall.ErrorReason(err) != "citizen_limit" {
		t.Fatalf("a third offline ticket for one card at one kiosk: %v, want citizen_limit", err)
	}
	h.Start()
	for _, k := range []*kioskFixture{k1, k2} {
		if err := k.core.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// kiosk 2 could not know of kiosk 1's two: its ticket for the card, and
	// the blacklisted card's, are set aside at hand-over
	if k1.core.Pending() != 0 || k1.core.SetAside() != 0 || k2.core.Pending() != 0 || k2.core.SetAside() != 2 {
		t.Fatalf("after hand-over: kiosk 1 %d pending %d aside, kiosk 2 %d pending %d aside; want 0 0 0 2",
			k1.core.Pending(), k1.core.SetAside(), k2.core.Pending(), k2.core.SetAside())
	}
	aside, _ := k2.out.Aside(k2.core.today())
	var reasons []string
	for _, a := range aside {
		reasons = append(reasons, a.Reason)
	}
	if all := strings.Join(reasons, "|"); !strings.Contains(all, "has taken 2") || !strings.Contains(all, "cannot take tickets") {
		t.Errorf("set-aside reasons %q do not name the per-citizen limit and the blacklist", reasons)
	}
	ts, _ := h.Server.Service.Tickets(ctx, func(t *hall.Ticket) bool { return t.Offline })
	if len(ts) != 2 {
		t.Errorf("%d offline tickets queued, want 2", len(ts))
	}
}

func mustSecret(t *testing.T, h *hallFixture) []byte {
	t.Helper()
	s, err := h.Server.Store.Secret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
