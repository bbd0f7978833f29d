package outbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

func MustOutbox(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTakeNumbersSurviveRestartAndNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	s := MustOutbox(t, dir)
	day := "2026-11-27"
	if err := s.PutLease(hall.Lease{ID: "L1", Kiosk: "k1", Service: "A", Day: day, From: 11, To: 13}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var got []int
	for i := range 2 {
		tk, _, err := s.Take("A", day, hall.OfflineTicket{ID: fmt.Sprintf("offline-%012d", i), IssuedAt: at.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tk.Number)
	}
	s.Close()
	s = MustOutbox(t, dir) // restart while offline
	tk, _, err := s.Take("A", day, hall.OfflineTicket{ID: "offline-000000000002", IssuedAt: at.Add(3 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, tk.Number)
	if fmt.Sprint(got) != "[11 12 13]" {
		t.Fatalf("numbers %v", got)
	}
	if _, _, err := s.Take("A", day, hall.OfflineTicket{ID: "offline-000000000003"}); !errors.Is(err, ErrNoNumbers) {
		t.Fatalf("exhausted lease: %v", err)
	}
	if _, _, err := s.Take("A", "2026-11-28", hall.OfflineTicket{ID: "x"}); !errors.Is(err, ErrNoNumbers) {
		t.Fatalf("a lease is only good on its day: %v", err)
	}
	p, _ := s.Pending()
	if len(p) != 3 || p[0].Number != 11 || p[2].Number != 13 {
		t.Fatalf("pending %+v", p)
	}
	s.Done(p[0])
	if p, _ = s.Pending(); len(p) != 2 {
		t.Fatalf("after done: %d pending", len(p))
	}
	// a re-sent lease (server's view) keeps what was taken here
	s.PutLease(hall.Lease{ID: "L1", Kiosk: "k1", Service: "A", Day: day, From: 11, To: 13, Used: []int{11}})
	free, _, _ := s.Leases()
	if free["A"] != 0 {
		t.Fatalf("free after re-put: %d", free["A"])
	}
}

// A ticket set aside leaves the pending list in the same transaction and
// keeps no personal data, across a restart.
func TestSetAsideDropsPersonalData(t *testing.T) {
	dir := t.TempDir()
	s := MustOutbox(t, dir)
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if err := s.PutLease(hall.Lease{ID: "l1", Service: "A", Day: "2026-11-27", From: 1, To: 3, Digits: 3}); err != nil {
		t.Fatal(err)
	}
	tk, _, err := s.Take("A", "2026-11-27", hall.OfflineTicket{ID: "offline-ticket-0001", IssuedAt: at,
		CitizenKey: "ab" + fmt.Sprintf("%062d", 0), MaskedID: "4201**********1234"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutAside(tk, "unknown_lease", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = MustOutbox(t, dir)
	pending, _ := s.Pending()
	aside, err := s.Aside(time.Time{})
	if err != nil || len(pending) != 0 || len(aside) != 1 || aside[0].Ticket.ID != tk.ID || aside[0].Reason != "unknown_lease" {
		t.Fatalf("pending %+v, aside %v %+v", pending, err, aside)
	}
	if a := aside[0].Ticket; a.CitizenKey != "" || a.MaskedID != "" {
		t.Fatalf("set aside with personal data: %+v", a)
	}
}

// TestOpenForgetsAnOldCitizenKeySecret: kiosks before sealed ID numbers kept
// the hall's citizen-key secret in the outbox; opening it deletes the
// secret (in place, the file keeps everything else).
func TestOpenForgetsAnOldCitizenKeySecret(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("old-citizen-key-secret-0123456789")
	db, err := bolt.Open(filepath.Join(dir, "kiosk.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("secret"), secret)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []byte
	s.db.View(func(tx *bolt.Tx) error { left = tx.Bucket([]byte("meta")).Get([]byte("secret")); return nil })
	if left != nil {
		t.Error("the old citizen-key secret is still in the outbox")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, secret) {
		t.Error("the old citizen-key secret is still readable in the file's free pages")
	}
	if err := s.SetSealKey("pub"); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.SealKey(); k != "pub" {
		t.Errorf("seal key %q", k)
	}
	s.Close()
}
