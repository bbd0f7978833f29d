package platform

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
)

// A process that stalled between writing a ticket's status and its hall
// entry's compare-and-set, while another applied later events of the same
// ticket, writes its older status late: it must not overwrite the newer one.
func TestALateTicketWriteDoesNotOverwriteANewerOne(t *testing.T) {
	srv, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := EnsureBuckets(ctx, js, ViewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := NewApplier(js, b, ViewOptions{}, nil)
	called := TicketState{ID: "t1", Hall: "h1", Number: "A001", Status: "called", Window: 3, Seq: 11, Epoch: "e1"}
	waiting := TicketState{ID: "t1", Hall: "h1", Number: "A001", Status: "waiting", Seq: 10, Epoch: "e1"}
	read := func() TicketState {
		e, err := b.Tickets.Get(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		var got TicketState
		json.Unmarshal(e.Value(), &got)
		return got
	}
	if err := a.writeEffects(ctx, "h1", &effects{tickets: map[string]TicketState{"t1": called}}, "e1"); err != nil {
		t.Fatal(err)
	}
	if err := a.writeEffects(ctx, "h1", &effects{tickets: map[string]TicketState{"t1": waiting}}, "e1"); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.Status != "called" || got.Seq != 11 {
		t.Fatalf("the late, older write won: %+v", got)
	}
	// the same write again (a redo after a crash) and a newer one both land
	done := TicketState{ID: "t1", Hall: "h1", Number: "A001", Status: "done", Seq: 12, Epoch: "e1"}
	for _, ts := range []TicketState{called, done} {
		if err := a.writeEffects(ctx, "h1", &effects{tickets: map[string]TicketState{"t1": ts}}, "e1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(); got.Status != "done" {
		t.Fatalf("the newer write did not land: %+v", got)
	}
	// a restored hall (a new epoch) starts its numbering again: its status is written
	restored := TicketState{ID: "t1", Hall: "h1", Number: "A001", Status: "waiting", Seq: 3, Epoch: "e2"}
	if err := a.writeEffects(ctx, "h1", &effects{tickets: map[string]TicketState{"t1": restored}}, "e2"); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.Epoch != "e2" || got.Seq != 3 {
		t.Fatalf("the new epoch's status was not written: %+v", got)
	}
}
