package forward_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"hallq/queue-server/forward"
	"hallq/queue-server/store"
)

func TestEpochMsgIDs(t *testing.T) {
	if got := forward.EpochMsgID(hallID, "", 42); got != "420102-01:42" {
		t.Errorf("the empty epoch's message id changed: %q", got)
	}
	id := forward.EpochMsgID(hallID, "0a1b2c3d4e5f6a7b", 42)
	if id != "420102-01:42@0a1b2c3d4e5f6a7b" {
		t.Errorf("EpochMsgID = %q", id)
	}
	for in, want := range map[string]bool{id: true, "420102-01:42": true, "420102-01:42@": false, "420102-01:x": false, "a.b:1": false, "420102-01:0": false} {
		h, e, seq, ok := forward.ParseMsgID(in)
		if ok != want {
			t.Errorf("ParseMsgID(%q) ok = %v", in, ok)
		}
		if ok && (h != hallID || seq != 42 || (e != "") != (in == id)) {
			t.Errorf("ParseMsgID(%q) = %q %q %d", in, h, e, seq)
		}
	}
	if k := forward.EpochIdempotencyKey(hallID, "e1", 1, 9); k != "420102-01:1-9@e1" {
		t.Errorf("EpochIdempotencyKey = %q", k)
	}
}

// TestRestoredHallIsNotDroppedAsDuplicates: a hall forwards 30 events, its
// store is lost and a backup taken at event 20 is restored; the restored
// hall numbers its next events 21… again. They reach the central's view
// as new events of a new epoch — none dropped as a duplicate of the lost
// store's 21…30, none applied twice — and a restart of the restored hall
// (which re-publishes nothing new) keeps it so.
func TestRestoredHallIsNotDroppedAsDuplicates(t *testing.T) {
	c := MustCentral(t)
	h := MustHall(t, "", fastConfig(), nil)
	cfg := forward.Config{NATSURL: c.Srv.URL(), EpochOf: h.Store.EpochOf}
	_, stop := h.StartForwarder(t, cfg)
	h.Produce(t, 20)
	c.CheckOracle(t, 20)
	waitFor(t, "the outbox marked forwarded", 30*time.Second, func() bool {
		ob, _ := h.Store.OutboxStats()
		return ob.Forwarded == 20
	})
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, _ := os.Create(backup)
	if _, err := h.Store.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h.Produce(t, 10)
	c.CheckOracle(t, 30)
	stop()
	first := h.Store.Epoch()
	h.Close()

	dir := t.TempDir()
	b, _ := os.ReadFile(backup)
	os.WriteFile(filepath.Join(dir, store.FileName), b, 0o600)
	if err := store.MarkRestored(filepath.Join(dir, store.FileName)); err != nil {
		t.Fatal(err)
	}
	r := MustHall(t, dir, fastConfig(), h.Clock)
	if r.Store.Epoch() == first {
		t.Fatal("the restored store kept its epoch")
	}
	cfg.EpochOf = r.Store.EpochOf
	_, stop = r.StartForwarder(t, cfg)
	r.Produce(t, 5)
	want := func() bool {
		v, _ := c.View.Hall(hallID)
		return v.Events == 35 && v.LastSeq == 25 && v.Epoch == r.Store.Epoch()
	}
	waitFor(t, "the restored hall's events in the view", 30*time.Second, want)
	stop()
	v, _ := c.View.Hall(hallID)
	if v.Duplicates != 0 || v.Gaps != 0 || v.BadIDs != 0 || v.Restores != 1 || v.Superseded != 0 {
		t.Fatalf("view after the restore: %+v", v)
	}
}
