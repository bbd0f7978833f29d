package store

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Token is an access credential, stored under the SHA-256 of its secret
// value: the value itself is never stored.
type Token struct {
	ID      string    `json:"id"`   // public handle (first hex digits of the hash), for listing and revoking
	Name    string    `json:"name"` // who or what holds it: "kiosk-3", "clerk wang"
	Role    string    `json:"role"`
	Window  int       `json:"window,omitempty"` // clerks are bound to a window
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked bool      `json:"revoked,omitempty"`
	Session bool      `json:"session,omitempty"` // made by a password login; its holder may end it (logout)
}

// ErrNoToken is returned for unknown token values.
var ErrNoToken = errors.New("store: unknown token")

func tokenKey(value string) []byte {
	h := sha256.Sum256([]byte(value))
	return h[:]
}

// tokenCache is an immutable snapshot of tokens already looked up, by the
// hash of their value (never the value). Every request on a websocket
// checks its token again; answering from memory spares each one a read
// transaction and a JSON decode (6 % of the issue path's CPU with 200
// clients). A snapshot is never changed: a lookup that misses publishes a
// copy with its token added, and every write to the tokens bucket
// (updateTokens) publishes an empty one of the next generation once it has
// committed, so a revoke bites on the very next request. A lookup that read
// the store before a write committed adds nothing to the later generation.
type tokenCache struct {
	gen uint64
	m   map[[sha256.Size]byte]Token
}

// maxCachedTokens bounds the cache; a hall holds a few hundred tokens.
const maxCachedTokens = 4096

// updateTokens runs fn in a write transaction and then drops every cached
// token: the only way the tokens bucket is written.
func (s *Store) updateTokens(fn func(b *bolt.Bucket) error) error {
	err := s.db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bTokens)) })
	s.invalidateTokens()
	return err
}

func (s *Store) invalidateTokens() {
	for {
		c := s.tokens.Load()
		next := &tokenCache{}
		if c != nil {
			next.gen = c.gen + 1
		}
		if s.tokens.CompareAndSwap(c, next) {
			return
		}
	}
}

// TokenGeneration is the generation of the token snapshot: it changes
// once every write to the tokens (a revoke, a new token, a logout) has
// committed, and at no other time. A holder of a token looked up after
// reading generation g may take it as current while the generation is
// still g (the websocket API checks each request so, without hashing the
// token again).
func (s *Store) TokenGeneration() uint64 {
	return s.tokens.Load().gen
}

// PutToken stores a token under the hash of value.
func (s *Store) PutToken(value string, t Token) error {
	return s.updateTokens(func(b *bolt.Bucket) error {
		v, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return b.Put(tokenKey(value), v)
	})
}

// LookupToken finds the token with this value, as last written.
func (s *Store) LookupToken(value string) (Token, error) {
	key := sha256.Sum256([]byte(value))
	c := s.tokens.Load()
	if c != nil {
		if t, ok := c.m[key]; ok {
			return t, nil
		}
	}
	var t Token
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bTokens).Get(key[:])
		if v == nil {
			return ErrNoToken
		}
		return json.Unmarshal(v, &t)
	})
	if err == nil && c != nil {
		s.cacheToken(c.gen, key, t)
	}
	return t, err
}

// cacheToken publishes a snapshot with t added, unless the tokens were
// written since generation gen was read.
func (s *Store) cacheToken(gen uint64, key [sha256.Size]byte, t Token) {
	for {
		c := s.tokens.Load()
		if c == nil || c.gen != gen {
			return
		}
		next := &tokenCache{gen: gen, m: make(map[[sha256.Size]byte]Token, len(c.m)+1)}
		if len(c.m) < maxCachedTokens {
			for k, v := range c.m {
				next.m[k] = v
			}
		}
		next.m[key] = t
		if s.tokens.CompareAndSwap(c, next) {
			return
		}
	}
}

// Tokens lists every token.
func (s *Store) Tokens() ([]Token, error) {
	var out []Token
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bTokens).ForEach(func(k, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// RevokeToken revokes the token with the given public id.
func (s *Store) RevokeToken(id string) error {
	return s.updateTokens(func(b *bolt.Bucket) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if t.ID == id {
				t.Revoked = true
				nb, err := json.Marshal(t)
				if err != nil {
					return err
				}
				return b.Put(k, nb)
			}
		}
		return ErrNoToken
	})
}

// TokenCount returns how many tokens exist (zero on first start).
func (s *Store) TokenCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bTokens).Stats().KeyN
		return nil
	})
	return n, err
}

// User is a named account that logs in with a password (clerks at window
// PCs, managers). Only the bcrypt hash of the password is stored.
type User struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Window   int       `json:"window,omitempty"`
	Hash     []byte    `json:"hash,omitempty"` // stored; never in an API reply
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled,omitempty"`
}

// ErrNoUser is returned for unknown user names.
var ErrNoUser = errors.New("store: unknown user")

// PutUser creates or replaces a user.
func (s *Store) PutUser(u User) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := json.Marshal(u)
		if err != nil {
			return err
		}
		return tx.Bucket(bUsers).Put([]byte(u.Name), b)
	})
}

// GetUser returns the user with this name.
func (s *Store) GetUser(name string) (User, error) {
	var u User
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bUsers).Get([]byte(name))
		if v == nil {
			return ErrNoUser
		}
		return json.Unmarshal(v, &u)
	})
	return u, err
}

// Users lists every user (without password hashes).
func (s *Store) Users() ([]User, error) {
	var out []User
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			u.Hash = nil
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// TokenByID returns the token with the given public id.
func (s *Store) TokenByID(id string) (Token, error) {
	var out Token
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bTokens).ForEach(func(_, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if t.ID == id {
				out = t
				return errFound
			}
			return nil
		})
	})
	switch {
	case errors.Is(err, errFound):
		return out, nil
	case err == nil:
		return Token{}, ErrNoToken
	}
	return Token{}, err
}

var errFound = errors.New("found")

// DeleteUser removes a user; ErrNoUser when there is none.
func (s *Store) DeleteUser(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bUsers)
		if b.Get([]byte(name)) == nil {
			return ErrNoUser
		}
		return b.Delete([]byte(name))
	})
}
