package gm

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestStreamRoundTripAndTampering(t *testing.T) {
	key := make([]byte, 16)
	rand.Read(key)
	for _, size := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 77} {
		plain := make([]byte, size)
		rand.Read(plain)
		var sealed bytes.Buffer
		if err := EncryptStream(&sealed, bytes.NewReader(plain), key); err != nil {
			t.Fatal(err)
		}
		if !IsStream(sealed.Bytes()) || (size > 64 && bytes.Contains(sealed.Bytes(), plain[:64])) {
			t.Fatalf("size %d: not a sealed stream", size)
		}
		var out bytes.Buffer
		if err := DecryptStream(&out, bytes.NewReader(sealed.Bytes()), key); err != nil || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("size %d: round trip: %v", size, err)
		}
		s := sealed.Bytes()
		bad := map[string][]byte{
			"cut at the end":     s[:len(s)-1],
			"last chunk dropped": s[:max(16, lastChunkStart(s))],
			"a byte changed":     flip(s, len(s)/2+8),
			"a byte appended":    append(bytes.Clone(s), 0),
		}
		other := make([]byte, 16)
		rand.Read(other)
		for what, b := range bad {
			if size < chunkSize && what == "last chunk dropped" {
				continue // one chunk: the same as cut to the header, checked below
			}
			if err := DecryptStream(&bytes.Buffer{}, bytes.NewReader(b), key); !errors.Is(err, ErrStream) {
				t.Errorf("size %d, %s: %v", size, what, err)
			}
		}
		if err := DecryptStream(&bytes.Buffer{}, bytes.NewReader(s[:16]), key); !errors.Is(err, ErrStream) {
			t.Errorf("size %d, only the header: %v", size, err)
		}
		if err := DecryptStream(&bytes.Buffer{}, bytes.NewReader(s), other); !errors.Is(err, ErrStream) {
			t.Errorf("size %d, another key: %v", size, err)
		}
	}
	if err := EncryptStream(&bytes.Buffer{}, bytes.NewReader(nil), key[:8]); err == nil {
		t.Error("an 8-byte key was accepted")
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// lastChunkStart is where the last chunk's length begins.
func lastChunkStart(s []byte) int {
	at, last := 16, 16
	for at+4 <= len(s) {
		n := int(s[at])<<24 | int(s[at+1])<<16 | int(s[at+2])<<8 | int(s[at+3])
		last = at
		at += 4 + n
	}
	return last
}
