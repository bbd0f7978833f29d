package natsembed_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
)

func TestClusterKeepsAReplicatedBucketThroughANodeLoss(t *testing.T) {
	cl, err := natsembed.StartCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	nc, err := nats.Connect(cl.URLs(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "T", Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	// A bucket just created may not take a write at once: its stream's
	// interest reaches the node this client talks to over the routes a
	// moment later ("no response from stream"), as after a node loss.
	if err := put(ctx, kv, "1"); err != nil {
		t.Fatal(err)
	}
	cl.Kill(0)
	if err := put(ctx, kv, "2"); err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "2" {
		t.Fatalf("%v %v", e, err)
	}
}

// put writes k until the bucket answers or ctx ends. Each attempt has its
// own deadline: a request in flight on the connection to a dead node is
// never answered, and the client retries on a survivor (the stream's new
// leader).
func put(ctx context.Context, kv jetstream.KeyValue, v string) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := kv.Put(actx, "k", []byte(v))
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
