package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

// issueN issues n tickets through a service on s and closes the service.
func issueN(t *testing.T, s *Store, n int) {
	t.Helper()
	svc := MustService(t, s, testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst)))
	for range n {
		if _, err := svc.Issue(context.Background(), hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close()
}

// A 0-byte hall.db (a failed copy, a full disk) is refused, named, and left
// as it is; it never becomes a new hall unless asked (-new-hall).
func TestEmptyFileIsNotANewHall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if !errors.Is(err, ErrNotAHall) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "queue-server restore") {
		t.Fatalf("a 0-byte hall.db: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Fatalf("the refused file was written: %d bytes", fi.Size())
	}
	s, err := OpenWith(dir, OpenOptions{NewHall: true})
	if err != nil {
		t.Fatalf("-new-hall over a 0-byte file: %v", err)
	}
	if !s.Created() || s.Epoch() == "" {
		t.Fatalf("a new hall: created %v, epoch %q", s.Created(), s.Epoch())
	}
	s.Close()
}

// A directory with files but no hall.db is a lost hall, not a new one.
func TestNonEmptyDirWithoutStoreIsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bootstrap-token"), []byte("hq_x\n"), 0o600)
	os.Mkdir(filepath.Join(dir, "lost+found"), 0o700)
	_, err := Open(dir)
	if !errors.Is(err, ErrNotAHall) || !strings.Contains(err.Error(), "bootstrap-token") || strings.Contains(err.Error(), "lost+found") {
		t.Fatalf("a directory with a bootstrap-token and no hall.db: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		t.Fatal("a hall.db was created")
	}
	s, err := OpenWith(dir, OpenOptions{NewHall: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// an empty directory but for lost+found starts a new hall
	empty := t.TempDir()
	os.Mkdir(filepath.Join(empty, "lost+found"), 0o700)
	s, err = Open(empty)
	if err != nil || !s.Created() {
		t.Fatalf("an empty volume: %v", err)
	}
	s.Close()
	s, err = Open(empty)
	if err != nil || s.Created() {
		t.Fatalf("the second open created again (%v)", err)
	}
	s.Close()
}

// A truncated, garbled or foreign file fails with a message naming it and
// the way to restore — never a panic — and is not changed. Inspect (the
// check command) says the same without serving.
func TestBrokenStoreFailsClearly(t *testing.T) {
	good := t.TempDir()
	s := MustStore(t, good)
	issueN(t, s, 300)
	s.Close()
	raw, err := os.ReadFile(filepath.Join(good, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(filepath.Join(good, FileName)); err != nil {
		t.Fatalf("a sound file: %v", err)
	}
	garbled := append([]byte(nil), raw...)
	for i := 2 * 4096; i < len(garbled); i++ { // keep both meta pages, ruin the rest
		garbled[i] = byte(i*7 + 3)
	}
	foreign := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("outbox")); return err })
	db.Close()
	foreignRaw, _ := os.ReadFile(foreign)
	// cut within the pages in use (the file is longer: bbolt grows it
	// ahead in steps)
	var used int64
	if db, err := bolt.Open(filepath.Join(good, FileName), 0o600, &bolt.Options{ReadOnly: true}); err != nil {
		t.Fatal(err)
	} else {
		db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil })
		db.Close()
	}
	cases := map[string][]byte{
		"truncated": raw[:used/2],
		"garbled":   garbled,
		"headless":  append(make([]byte, 8192), raw[8192:]...),
		"foreign":   foreignRaw,
	}
	for name, b := range cases {
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		os.WriteFile(path, b, 0o600)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			s, err := Open(dir)
			if err == nil {
				// bbolt may not notice damage it does not read at open;
				// the check must
				s.Close()
				if _, err := Inspect(path); err == nil {
					t.Errorf("%s: opened and passed the check", name)
				}
				return
			}
			if !errors.Is(err, ErrNotAHall) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "restore") {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := Inspect(path); err == nil {
				t.Errorf("%s: the check passed a file Open refused", name)
			}
		}()
		if now, _ := os.ReadFile(path); string(now) != string(b) {
			t.Errorf("%s: the refused file was changed", name)
		}
	}
}

// A new hall has an epoch; reopening keeps it; a backup copy (marked as
// such) begins a new one at its next seq, and the events before it keep
// theirs.
func TestRestoreBeginsANewEpoch(t *testing.T) {
	dir := t.TempDir()
	s := MustStore(t, dir)
	first := s.Epoch()
	issueN(t, s, 3)
	s.Close()
	s = MustStore(t, dir)
	if s.Epoch() != first || s.Restored() {
		t.Fatalf("a plain reopen changed the epoch %q → %q", first, s.Epoch())
	}
	s.Close()
	if err := MarkRestored(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	if info, err := Inspect(filepath.Join(dir, FileName)); err != nil || !info.Backup || info.Seq != 3 || info.Epoch != first {
		t.Fatalf("inspect a marked backup: %+v %v", info, err)
	}
	s = MustStore(t, dir)
	second := s.Epoch()
	if !s.Restored() || second == first || second == "" {
		t.Fatalf("a restored backup: restored %v, epoch %q (was %q)", s.Restored(), second, first)
	}
	if s.EpochOf(3) != first || s.EpochOf(4) != second || s.EpochOf(1) != first {
		t.Fatalf("epochs of 1, 3, 4: %q %q %q", s.EpochOf(1), s.EpochOf(3), s.EpochOf(4))
	}
	s.Close()
	s = MustStore(t, dir)
	if s.Epoch() != second || s.Restored() {
		t.Fatal("the restore mark was not cleared")
	}
	s.Close()
}
