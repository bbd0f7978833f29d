package store

import (
	"bytes"
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

// TestBackupMediaRoundTrip puts a board's media files into a backup copy
// and takes them out again the way backup and restore do: what the board
// names comes back byte for byte, a medium gone during the backup is
// reported, the restored copy keeps no second copy of the files, and bad
// input (a size that is not the configuration's, an entry that is no media
// id) is refused with nothing written outside the directory.
func TestBackupMediaRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := MustStore(t, dir)
	svc := MustService(t, s, testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst)))
	files := map[string][]byte{"a1": bytes.Repeat([]byte("png-a"), 1000), "b2": []byte("png-b"), "c3": []byte("gone")}
	if _, err := svc.EditBoard(context.Background(), hall.Op{}, func(b *hall.Board, _ time.Time) error {
		for _, id := range []string{"a1", "b2", "c3"} {
			b.Media = append(b.Media, hall.Media{ID: id, Name: "pic " + id, Type: "image/png", Size: int64(len(files[id]))})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, _ := os.Create(backup)
	if _, err := s.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// a fetch of the wrong length is refused, naming the medium
	_, _, err := AddBackupMedia(backup, func(m hall.Media) ([]byte, bool, error) { return []byte("short"), true, nil })
	if err == nil || !strings.Contains(err.Error(), `board media a1 ("pic a1"): 5 bytes, the configuration says 5000`) {
		t.Fatalf("a short file: %v", err)
	}
	added, missing, err := AddBackupMedia(backup, func(m hall.Media) ([]byte, bool, error) {
		if m.ID == "c3" {
			return nil, false, nil // removed from the board since the copy
		}
		return files[m.ID], true, nil
	})
	if err != nil || added != 2 || len(missing) != 1 || missing[0].ID != "c3" {
		t.Fatalf("added %d, missing %v, %v", added, missing, err)
	}
	if err := Verify(backup); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "board-media")
	carried, missing, err := ExtractBackupMedia(backup, out)
	if err != nil || !carried || len(missing) != 1 || missing[0].ID != "c3" {
		t.Fatalf("extract: carried %v, missing %v, %v", carried, missing, err)
	}
	for _, id := range []string{"a1", "b2"} {
		if got, err := os.ReadFile(filepath.Join(out, id)); err != nil || !bytes.Equal(got, files[id]) {
			t.Fatalf("media %s restored as %q (%v)", id, got, err)
		}
	}
	if left, _ := os.ReadDir(out); len(left) != 2 {
		t.Fatalf("the media directory holds %d files, want 2", len(left))
	}
	if err := Verify(backup); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(backup); bytes.Contains(raw, files["a1"]) {
		t.Fatal("the restored store still holds a copy of a media file")
	}
	if media, err := BoardMedia(backup); err != nil || len(media) != 3 {
		t.Fatalf("the restored store names %d media (%v), want the board's 3", len(media), err)
	}
	// a copy without the bucket (a raw copy, an older backup): nothing is made
	none := filepath.Join(t.TempDir(), "none")
	if carried, _, err := ExtractBackupMedia(backup, none); err != nil || carried {
		t.Fatalf("a copy without media: carried %v, %v", carried, err)
	}
	if _, err := os.Stat(none); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a copy without media made its directory: %v", err)
	}

	// a garbled entry is refused, and nothing lands outside the directory
	db, err := bolt.Open(backup, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists(bBackupMedia)
		return b.Put([]byte("../escape"), []byte("x"))
	})
	db.Close()
	evil := filepath.Join(t.TempDir(), "media")
	if _, _, err := ExtractBackupMedia(backup, evil); err == nil || !strings.Contains(err.Error(), `garbled: a board media entry named "../escape"`) {
		t.Fatalf("a garbled entry: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(evil), "escape")); err == nil {
		t.Fatal("an entry was written outside the media directory")
	}
	// not a store at all
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if _, _, err := ExtractBackupMedia(junk, out); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk: %v", err)
	}
}
