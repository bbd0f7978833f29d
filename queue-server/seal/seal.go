// Package seal keeps an ID number in a form only the hall server can open:
// an anonymous NaCl box (X25519 + XSalsa20-Poly1305, golang.org/x/crypto's
// nacl/box SealAnonymous) to the server's public key. A kiosk holds only
// that public key, so nothing it stores or sends lets anyone — a thief with
// its disk, its token and its memory — turn a sealed number back into the
// number: opening needs the private key, which never leaves the server's
// store. Each sealing uses a fresh ephemeral key, so two boxes of the same
// number look unrelated (no linking of one citizen's tickets by their box).
//
// With the 国密 option (docs/security.md) the hall also holds an SM2 key
// pair and kiosks receive its public key ("sm2:" and base64): a kiosk then
// seals with internal/gm's box (ephemeral SM2 key agreement, SM3 key
// derivation, SM4-GCM), its boxes marked "sm2:" likewise. The hall keeps
// its NaCl key as well, so numbers a kiosk sealed offline before the
// switch still open after it.
//
// This is the one package that imports nacl/box.
package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/nacl/box"

	"hallq/internal/gm"
)

// sm2Prefix marks an SM2 public key or box in text.
const sm2Prefix = "sm2:"

// KeySize is the length of a public or private key.
const KeySize = 32

// MaxSealed bounds a sealed value's text (an ID number is 18 characters;
// a box adds 48 bytes; base64 a third): larger input is refused unread.
const MaxSealed = 256

// Key is the server's key pair (and, with the 国密 option, its SM2 pair,
// which kiosks then receive). Its zero value is unusable.
type Key struct {
	Public, Private [KeySize]byte
	sm2             *gm.BoxKey // nil: NaCl only
}

// NewSM2Private makes a fresh SM2 private key, as WithSM2 reads it.
func NewSM2Private() ([]byte, error) {
	k, err := gm.NewBoxKey()
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k.PrivateBytes(), nil
}

// WithSM2 is k with the SM2 private key priv (NewSM2Private): kiosks are
// then given the SM2 public key; boxes of either kind open.
func (k Key) WithSM2(priv []byte) (Key, error) {
	s, err := gm.ParseBoxKey(priv)
	if err != nil {
		return Key{}, fmt.Errorf("seal: %w", err)
	}
	k.sm2 = &s
	return k, nil
}

// Scheme is the construction kiosks seal with: "sm2-sm4" or "nacl-box".
func (k Key) Scheme() string {
	if k.sm2 != nil {
		return "sm2-sm4"
	}
	return "nacl-box"
}

// NewKey makes a fresh key pair from crypto/rand.
func NewKey() (Key, error) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("seal: generate key: %w", err)
	}
	return Key{Public: *pub, Private: *priv}, nil
}

// ParseKey reads a key pair stored as public key followed by private key.
func ParseKey(b []byte) (Key, error) {
	if len(b) != 2*KeySize {
		return Key{}, fmt.Errorf("seal: a stored key pair is %d bytes, not %d", 2*KeySize, len(b))
	}
	var k Key
	copy(k.Public[:], b[:KeySize])
	copy(k.Private[:], b[KeySize:])
	return k, nil
}

// Bytes is the key pair as ParseKey reads it.
func (k Key) Bytes() []byte { return append(k.Public[:], k.Private[:]...) }

// PublicText is the public key in the form kiosks receive: standard
// base64 of the NaCl key, or "sm2:" and base64 of the SM2 key (65 bytes,
// uncompressed) with the 国密 option.
func (k Key) PublicText() string {
	if k.sm2 != nil {
		return sm2Prefix + base64.StdEncoding.EncodeToString(k.sm2.PublicBytes())
	}
	return base64.StdEncoding.EncodeToString(k.Public[:])
}

// PublicKey is the public key kiosks seal to (ParsePublic of PublicText).
func (k Key) PublicKey() Public {
	if k.sm2 != nil {
		return Public{sm2: k.sm2.PublicBytes()}
	}
	return Public{nacl: k.Public}
}

// Public is a public key as a kiosk holds it.
type Public struct {
	nacl [KeySize]byte
	sm2  []byte // set: an SM2 key
}

// ParsePublic reads a public key as PublicText writes it.
func ParsePublic(s string) (Public, error) {
	var pub Public
	if rest, ok := strings.CutPrefix(s, sm2Prefix); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return pub, errors.New("seal: an SM2 public key is sm2: and 65 bytes in standard base64")
		}
		if err := gm.CheckPublic(b); err != nil {
			return pub, fmt.Errorf("seal: %w", err)
		}
		pub.sm2 = b
		return pub, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != KeySize {
		return pub, errors.New("seal: a public key is 32 bytes in standard base64 (or sm2: and 65)")
	}
	copy(pub.nacl[:], b)
	return pub, nil
}

// Seal boxes msg to the holder of pub and returns it as text: base64 of a
// NaCl box, or "sm2:" and base64 of an SM2 box.
func Seal(pub Public, msg string) (string, error) {
	if pub.sm2 != nil {
		b, err := gm.Seal(pub.sm2, []byte(msg))
		if err != nil {
			return "", fmt.Errorf("seal: %w", err)
		}
		return sm2Prefix + base64.StdEncoding.EncodeToString(b), nil
	}
	b, err := box.SealAnonymous(nil, []byte(msg), &pub.nacl, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// ErrOpen means a sealed value is malformed or was not sealed to this key
// (e.g. to the key of a store that has since been replaced).
var ErrOpen = errors.New("seal: the sealed value cannot be opened with this hall's key")

// Open opens a value made by Seal.
func (k Key) Open(sealed string) (string, error) {
	if len(sealed) > MaxSealed {
		return "", ErrOpen
	}
	if rest, ok := strings.CutPrefix(sealed, sm2Prefix); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || k.sm2 == nil {
			return "", ErrOpen
		}
		msg, err := k.sm2.Open(b)
		if err != nil {
			return "", ErrOpen
		}
		return string(msg), nil
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrOpen
	}
	msg, ok := box.OpenAnonymous(nil, b, &k.Public, &k.Private)
	if !ok {
		return "", ErrOpen
	}
	return string(msg), nil
}
