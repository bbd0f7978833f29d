package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/devices/idcard"
	"hallq/internal/gm"
	"hallq/queue-server/audit"
	"hallq/queue-server/hall"
	"hallq/queue-server/seal"
	"hallq/queue-server/wire"
)

// With the 国密 option a kiosk is given the SM2 seal key, a card it seals
// checks in the booking the province keyed with HMAC-SM3 (and not one
// keyed with HMAC-SHA256), a number sealed to the NaCl key before the
// switch still opens, and the audit trail is chained with SM3.
func TestGMOption(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	kiosk := h.as(wire.RoleKiosk, 0)
	naclText, err := kiosk.SealKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	naclPub, _ := seal.ParsePublic(naclText)
	early, _ := seal.Seal(naclPub, residentID(t, 5)) // sealed offline before the switch
	h.Close()
	h.crypto = CryptoGM
	h.start(h.Addr)

	text, err := kiosk.SealKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "sm2:") {
		t.Fatalf("the kiosk's seal key with the 国密 option is %q, want an SM2 key", text)
	}
	pub, _ := seal.ParsePublic(text)
	secret, _ := h.Store.Secret()
	key := func(num string, sm3 bool) string {
		n, err := idcard.ParseIDNumber(num)
		if err != nil {
			t.Fatal(err)
		}
		if sm3 {
			return n.KeyWith(gm.NewSM3, secret)
		}
		return n.Key(secret)
	}
	slot := h.clock.Now().Add(10 * time.Minute)
	book := func(id, citizenKey, service string) {
		t.Helper()
		if _, err := h.admin.Do(ctx, "POST", "/api/v1/appointments", "", hall.Booking{ID: id, CitizenKey: citizenKey, MaskedID: "1101**********0077",
			Service: service, SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute), Status: hall.BookingBooked}, nil); err != nil {
			t.Fatal(err)
		}
	}
	sm3Num, shaNum := residentID(t, 7), residentID(t, 8)
	book("BK-SM3", key(sm3Num, true), "B")
	book("BK-SHA", key(shaNum, false), "A")
	sealed, _ := seal.Seal(pub, sm3Num)
	if !strings.HasPrefix(sealed, "sm2:") {
		t.Fatalf("sealed %q, want an SM2 box", sealed)
	}
	tv, err := kiosk.CheckIn(ctx, "ci-sm3", hall.CheckIn{SealedID: sealed})
	if err != nil || tv.Service != "B" {
		t.Fatalf("check-in of the HMAC-SM3 booking by card: %+v, %v", tv.Ticket, err)
	}
	sealed, _ = seal.Seal(pub, shaNum)
	if tv, err := kiosk.CheckIn(ctx, "ci-sha", hall.CheckIn{SealedID: sealed}); err == nil {
		t.Fatalf("a booking keyed with HMAC-SHA256 checked in under the 国密 option: %+v", tv.Ticket)
	}
	if _, err := kiosk.Issue(ctx, "early", hall.IssueRequest{Service: "C", SealedID: early}); err != nil {
		t.Fatalf("a number sealed to the NaCl key before the switch: %v", err)
	}
	h.Close()

	path := filepath.Join(h.dir, audit.FileName)
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte(`"alg":"sha256"`)) || !bytes.Contains(b, []byte(`"alg":"sm3"`)) {
		t.Fatalf("the trail should hold the SHA-256 records before the switch and SM3 after:\n%s", b)
	}
	// the chain goes on across the switch: each record names its hash
	var out, errOut bytes.Buffer
	if code := Audit([]string{"verify", path}, &out, &errOut); code != 0 {
		t.Fatalf("verify: exit %d, %s%s", code, out.String(), errOut.String())
	}
}
