package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

var (
	kSealKey    = []byte("seal_key")
	kSealKeySM2 = []byte("seal_key_sm2") // the 国密 option's SM2 key (seal.WithSM2)
)

// SealKey returns the hall server's key pair for sealed ID numbers (see
// package seal), creating it with gen on the first call. It lives in the
// meta bucket next to the citizen-key secret, so a backup keeps both and
// offline tickets sealed before a restore still open after it.
func (s *Store) SealKey(gen func() ([]byte, error)) ([]byte, error) {
	return s.sealKey(kSealKey, gen)
}

// SealKeySM2 is SealKey for the SM2 private key the 国密 option seals with;
// it is kept beside the NaCl key, which stays to open what was sealed to it.
func (s *Store) SealKeySM2(gen func() ([]byte, error)) ([]byte, error) {
	return s.sealKey(kSealKeySM2, gen)
}

func (s *Store) sealKey(name []byte, gen func() ([]byte, error)) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bMeta).Get(name))
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
		if old := m.Get(name); old != nil { // another caller won
			out = bytes.Clone(old)
			return nil
		}
		out = k
		return m.Put(name, k)
	})
	return out, err
}
