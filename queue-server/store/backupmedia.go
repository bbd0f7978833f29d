package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

// The display board's images and videos are files beside the store
// (<data dir>/board-media/<id>, queue-server/api/board.go), not in it. A
// backup carries them in a bucket of its own, so that one file restores the
// hall and its board:
//
//	backup-media  media id → the file's bytes (only in a backup copy, written by
//	              AddBackupMedia; ExtractBackupMedia takes it out again)
//
// The bucket's presence says the backup carries the board's media (it is
// made even when the board has none); a backup without it is from before.
var bBackupMedia = []byte("backup-media")

// BoardMedia returns the media the configuration in the store file at
// path names (its board.media), none when it holds no configuration. The
// file must not be open elsewhere (a backup copy being made).
func BoardMedia(path string) ([]hall.Media, error) {
	var media []hall.Media
	err := withFile(path, "read the board media of", func(db *bolt.DB) error {
		return db.View(func(tx *bolt.Tx) error {
			raw := setting(tx, kConfig)
			if raw == nil {
				return nil
			}
			var c hall.Config
			if err := json.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("the stored configuration: %w", err)
			}
			media = c.Board.Media
			return nil
		})
	})
	return media, err
}

// AddBackupMedia puts the board's media files into the backup copy at
// path: for each media its configuration names, fetch returns the file's
// bytes, which must be as many as the configuration says. A medium fetch
// reports as gone (ok false: removed from the board since the copy was
// taken) is left out and returned in missing. Each file is its own
// transaction, so at most one is in memory.
func AddBackupMedia(path string, fetch func(hall.Media) (data []byte, ok bool, err error)) (added int, missing []hall.Media, err error) {
	media, err := BoardMedia(path)
	if err != nil {
		return 0, nil, err
	}
	err = withFile(path, "add the board media to", func(db *bolt.DB) error {
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(bBackupMedia)
			return err
		}); err != nil {
			return err
		}
		for _, m := range media {
			data, ok, err := fetch(m)
			if err != nil {
				return fmt.Errorf("board media %s (%q): %w", m.ID, m.Name, err)
			}
			if !ok {
				missing = append(missing, m)
				continue
			}
			if int64(len(data)) != m.Size {
				return fmt.Errorf("board media %s (%q): %d bytes, the configuration says %d", m.ID, m.Name, len(data), m.Size)
			}
			if err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bBackupMedia).Put([]byte(m.ID), data)
			}); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	return added, missing, err
}

// ExtractBackupMedia writes the board media a backup copy at path carries
// into the directory dir (made, mode 0700; each file synced, mode 0600),
// then removes them from the copy and compacts it, so the restored store
// does not keep a second copy of every file. It reports whether the copy
// carries media at all (false: a backup from before media were backed
// up; dir is not made) and returns the media the copy's configuration
// names that it does not carry. A name that could not be a media id, or a
// file whose size is not the configuration's, is refused.
func ExtractBackupMedia(path, dir string) (carried bool, missing []hall.Media, err error) {
	media, err := BoardMedia(path)
	if err != nil {
		return false, nil, err
	}
	size := map[string]int64{}
	for _, m := range media {
		size[m.ID] = m.Size
	}
	err = withFile(path, "restore the board media of", func(db *bolt.DB) error {
		if err := db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bBackupMedia)
			if b == nil {
				return nil
			}
			carried = true
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			for _, m := range media {
				if b.Get([]byte(m.ID)) == nil {
					missing = append(missing, m)
				}
			}
			return b.ForEach(func(k, v []byte) error {
				id := string(k)
				if !mediaID(id) {
					return fmt.Errorf("garbled: a board media entry named %q", id)
				}
				want, named := size[id]
				if !named {
					return nil // not on the board any more: nothing would serve it
				}
				if int64(len(v)) != want {
					return fmt.Errorf("board media %s: %d bytes, the configuration says %d", id, len(v), want)
				}
				return writeSynced(filepath.Join(dir, id), v)
			})
		}); err != nil || !carried {
			return err
		}
		return db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bBackupMedia) })
	})
	if err != nil || !carried {
		return carried, missing, err
	}
	return true, missing, compactFile(path)
}

// mediaID reports whether s can be a media id (hall.NewBoardID), and so a
// file name in the media directory.
func mediaID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func writeSynced(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// compactFile rewrites the store file at path into a fresh file with
// bbolt's Compact (the pages a removed bucket freed are not kept), synced,
// and renames it over path.
func compactFile(path string) error {
	tmp := path + ".compact"
	os.Remove(tmp)
	err := withFile(path, "compact", func(src *bolt.DB) error {
		dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: 2 * time.Second})
		if err != nil {
			return err
		}
		err = bolt.Compact(dst, src, 64<<20)
		if cerr := dst.Close(); err == nil { // each of Compact's transactions was synced
			err = cerr
		}
		return err
	})
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: compact %s: %w", path, err)
	}
	return nil
}

// withFile opens the store file at path (which must exist and be a hallq
// store) for fn and closes it; errors name what was being done (doing)
// and the file.
func withFile(path, doing string, fn func(*bolt.DB) error) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: %s %s: %w", doing, path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", doing, path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta) == nil {
			return fmt.Errorf("not a hallq store")
		}
		return nil
	})
	if err == nil {
		err = fn(db)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", doing, path, err)
	}
	return nil
}
