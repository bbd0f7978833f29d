// Package seal keeps an ID number in a form only the hall server can open:
// an anonymous NaCl box (X25519 + XSalsa20-Poly1305, golang.org/x/crypto's
// nacl/box SealAnonymous) to the server's public key. A kiosk holds only
// that public key, so nothing it stores or sends lets anyone — a thief with
// its disk, its token and its memory — turn a sealed number back into the
// number: opening needs the private key, which never leaves the server's
// store. Each sealing uses a fresh ephemeral key, so two boxes of the same
// number look unrelated (no linking of one citizen's tickets by their box).
//
// This is the one package that imports nacl/box.
package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/box"
)

// KeySize is the length of a public or private key.
const KeySize = 32

// MaxSealed bounds a sealed value's text (an ID number is 18 characters;
// a box adds 48 bytes; base64 a third): larger input is refused unread.
const MaxSealed = 256

// Key is the server's key pair. Its zero value is unusable.
type Key struct {
	Public, Private [KeySize]byte
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

// PublicText is the public key in the form kiosks receive (standard base64).
func (k Key) PublicText() string { return base64.StdEncoding.EncodeToString(k.Public[:]) }

// ParsePublic reads a public key as PublicText writes it.
func ParsePublic(s string) ([KeySize]byte, error) {
	var pub [KeySize]byte
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != KeySize {
		return pub, errors.New("seal: a public key is 32 bytes in standard base64")
	}
	copy(pub[:], b)
	return pub, nil
}

// Seal boxes msg to the holder of pub and returns it as base64 text.
func Seal(pub [KeySize]byte, msg string) (string, error) {
	b, err := box.SealAnonymous(nil, []byte(msg), &pub, rand.Reader)
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
