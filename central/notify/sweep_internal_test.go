package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
)

// busyKV is the subscriptions bucket of a cluster too busy to answer a
// read of the citizens' choices: those reads time out as a JetStream
// request does (nats.ErrTimeout); everything else is the real bucket.
type busyKV struct{ jetstream.KeyValue }

func (b busyKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if strings.HasPrefix(key, "c.") {
		return nil, nats.ErrTimeout
	}
	return b.KeyValue.Get(ctx, key)
}

// A phone number past its retention is deleted only when the citizen's
// open bookings are known to be none: a read of them that timed out (a
// busy cluster) kept the number until a later sweep, instead of deleting
// a number an open booking's reminder needs.
func TestASweepThatCannotReadTheBookingsKeepsTheNumber(t *testing.T) {
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := t.Context()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "sweep"})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(Phone{Number: "+8613900139000", At: time.Now().Add(-time.Hour)})
	open, _ := json.Marshal(Prefs{Open: []string{"bk-1"}})
	for k, v := range map[string][]byte{"p.a": old, "c.a": open, "p.b": old} {
		if _, err := kv.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	s := &Service{subs: busyKV{kv}, cfg: Config{PhoneRetention: time.Minute}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.sweepPhones(ctx)
	for _, k := range []string{"p.a", "p.b"} {
		if _, err := kv.Get(ctx, k); err != nil {
			t.Errorf("%s after a sweep that could not read the bookings: %v", k, err)
		}
	}
	// the cluster answers again: b (no choices, so no booking) goes, a stays
	s.subs = kv
	s.sweepPhones(ctx)
	if _, err := kv.Get(ctx, "p.a"); err != nil {
		t.Errorf("a number serving an open booking: %v", err)
	}
	if _, err := kv.Get(ctx, "p.b"); err == nil {
		t.Error("a number past its retention with no booking open was kept")
	}
}
