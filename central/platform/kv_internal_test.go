package platform

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
)

// The buckets and streams the central opens are recognised as already
// configured once made, so opening them again binds instead of updating.
func TestOpenedConfigurationsAreRecognised(t *testing.T) {
	srv, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := t.Context()
	for _, cfg := range []jetstream.KeyValueConfig{
		{Bucket: "A", History: 1, Storage: jetstream.FileStorage, Replicas: 1, Description: "a"},
		{Bucket: "B", TTL: 30 * 24 * time.Hour},
		{Bucket: "C", History: 16, Replicas: 0},
	} {
		kv, err := OpenKV(ctx, js, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if same, err := kvMatches(ctx, kv, cfg); err != nil || !same {
			t.Errorf("bucket %s is not recognised as configured (%v)", cfg.Bucket, err)
		}
	}
	for _, cfg := range []jetstream.StreamConfig{
		{Name: "S1", Subjects: []string{"s1.>", "s1b.>"}, Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy,
			Discard: jetstream.DiscardOld, MaxAge: 30 * 24 * time.Hour, Duplicates: 24 * time.Hour, Replicas: 1},
		{Name: "S2", Description: "d", Subjects: []string{"s2"}, MaxMsgsPerSubject: 16, DenyDelete: true, DenyPurge: true},
	} {
		st, err := EnsureStream(ctx, js, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !streamHas(st.CachedInfo().Config, cfg) {
			t.Errorf("stream %s is not recognised as configured", cfg.Name)
		}
	}
}
