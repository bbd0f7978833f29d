package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

var kSealKey = []byte("seal_key")

// SealKey returns the hall server's key pair for sealed ID numbers (see
// package seal), creating it with gen on the first call. It lives in the
// meta bucket next to the citizen-key secret, so a backup keeps both and
// offline tickets sealed before a restore still open after it.
func (s *Store) SealKey(gen func() ([]byte, error)) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bMeta).Get(kSealKey))
		return nil
	})
	if err != nil || out != nil {
		return out, err
	}
	k, err := gen()
	if err != nil {
		return nil, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if old := m.Get(kSealKey); old != nil { // another caller won
			out = bytes.Clone(old)
			return nil
		}
		out = k
		return m.Put(kSealKey, k)
	})
	return out, err
}
