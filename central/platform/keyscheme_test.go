package platform_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
	"hallq/internal/gm"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// A province on the 国密 option keys citizens with HMAC-SM3, and refuses
// the events of a hall keyed with HMAC-SHA256 (or a hall from before the
// option, whose events name no scheme), saying why; a hall on the same
// option is seen as usual.
func TestProvinceRefusesAHallOfAnotherKeyScheme(t *testing.T) {
	id := "11010519491231002X"
	k, err := platform.CitizenKeyWith(platform.KeySchemeSM3, []byte("k"), " 11010519491231002x ")
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(gm.HMACSM3([]byte("k"), []byte(id))); k != want {
		t.Fatalf("HMAC-SM3 key %s, want %s", k, want)
	}
	// the example of docs/central.md
	if ex, _ := platform.CitizenKeyWith(platform.KeySchemeSM3, []byte("example-province-key"), id); ex != "358ac96033168587f59ea242400862ed22d96e10e5492363c01f5acf4ee1f210" {
		t.Errorf("docs/central.md's HMAC-SM3 example is %s here", ex)
	}
	if sha, _ := platform.CitizenKeyWith(platform.KeySchemeSHA256, []byte("k"), id); sha == k {
		t.Fatal("the two schemes give one key")
	}
	if old, _ := platform.CitizenKey([]byte("k"), id); old == k {
		t.Fatal("CitizenKey is not HMAC-SHA256")
	}
	if _, err := platform.CitizenKeyWith("hmac-md5", []byte("k"), id); err == nil {
		t.Fatal("an unknown scheme was accepted")
	}
	if _, err := platform.SchemeOfCrypto("sm"); err == nil || !strings.Contains(err.Error(), "standard or gm") {
		t.Fatalf("a bad -crypto: %v", err)
	}

	js := mustJS(t)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	publish := func(hallID, scheme string, seq uint64) {
		ev := hall.Event{Seq: seq, Type: hall.EvTicketIssued, At: at, Day: "2026-12-01", Ticket: &hall.Ticket{ID: "t", Day: "2026-12-01", Channel: hall.WalkIn, IssuedAt: at}}
		data, _ := json.Marshal(ev)
		m := &nats.Msg{Subject: forward.Subject(hallID, ev.Type), Data: data, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, forward.EpochMsgID(hallID, "", seq))
		if scheme != "" {
			m.Header.Set(forward.HeaderKeyScheme, scheme)
		}
		if _, err := js.PublishMsg(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	publish("SHA-1", forward.KeySchemeSHA256, 1)
	publish("OLD-1", "", 1)
	publish("GM-1", forward.KeySchemeSM3, 1)

	v := platform.NewView(nil)
	v.KeyScheme = platform.KeySchemeSM3
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); v.Run(ctx, js) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := v.WaitSeq(wctx, "GM-1", 1); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"SHA-1", "OLD-1"} {
		h, ok := v.Hall(id)
		if !ok || h.KeySchemeRefused != 1 || h.Issued != 0 || h.Events != 0 ||
			!strings.Contains(h.KeySchemeError, "keys citizens with hmac-sha256, this province with hmac-sm3") || !strings.Contains(h.KeySchemeError, "-crypto") {
			t.Errorf("hall %s: %+v", id, h)
		}
	}
	if h, _ := v.Hall("GM-1"); h.KeySchemeRefused != 0 || h.Issued != 1 {
		t.Errorf("the 国密 hall: %+v", h)
	}
}
