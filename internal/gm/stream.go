package gm

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A sealed stream (EncryptStream) is how hallq keeps a file under SM4:
//
//	magic "HQSM4G1\n" (8 bytes) ‖ nonce prefix (8 random bytes)
//	then chunks: length (4 bytes, big-endian, ≤ 64 KiB + 16) ‖ SM4-GCM(chunk)
//
// chunk i is sealed with nonce = prefix ‖ i (4 bytes, big-endian) and
// additional data = magic ‖ prefix ‖ final (1 byte: 1 on the last chunk,
// 0 before), so chunks cannot be reordered, dropped, or the stream cut
// short without DecryptStream refusing it. A fresh prefix per stream
// keeps nonces unique under one key for 2^32 chunks per stream.
const (
	streamMagic = "HQSM4G1\n"
	chunkSize   = 64 << 10
)

// ErrStream means a sealed stream is not one, was changed or cut short, or
// was sealed with another key.
var ErrStream = errors.New("gm: the SM4 file is damaged, cut short or sealed with another key")

// IsStream reports whether b begins like a sealed stream.
func IsStream(b []byte) bool { return bytes.HasPrefix(b, []byte(streamMagic)) }

// EncryptStream seals everything read from r to w under the 16-byte key.
func EncryptStream(w io.Writer, r io.Reader, key []byte) error {
	aead, err := NewSM4GCM(key)
	if err != nil {
		return err
	}
	head := make([]byte, 16)
	copy(head, streamMagic)
	if _, err := rand.Read(head[8:]); err != nil {
		return fmt.Errorf("gm: %w", err)
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	buf, next := make([]byte, chunkSize), make([]byte, chunkSize)
	n, err := io.ReadFull(r, buf)
	for i := uint32(0); ; i++ {
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		final := err != nil
		var m int
		if !final { // look ahead: is this the last chunk?
			m, err = io.ReadFull(r, next)
			final = err == io.EOF
		}
		out := aead.Seal(nil, nonce(head[8:], i), buf[:n], ad(head, final))
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(out)))
		if _, werr := w.Write(append(l[:], out...)); werr != nil {
			return werr
		}
		if final {
			return nil
		}
		if i == 1<<32-1 {
			return errors.New("gm: stream too long")
		}
		buf, next, n = next, buf, m
	}
}

// DecryptStream opens a stream EncryptStream sealed, writing the plain
// bytes to w. On ErrStream some bytes may have been written: write to a
// temporary file and keep it only on success.
func DecryptStream(w io.Writer, r io.Reader, key []byte) error {
	aead, err := NewSM4GCM(key)
	if err != nil {
		return err
	}
	head := make([]byte, 16)
	if _, err := io.ReadFull(r, head); err != nil || !IsStream(head) {
		return ErrStream
	}
	var l [4]byte
	for i := uint32(0); ; i++ {
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return ErrStream // cut short before a final chunk
		}
		size := binary.BigEndian.Uint32(l[:])
		if size < uint32(aead.Overhead()) || size > chunkSize+uint32(aead.Overhead()) {
			return ErrStream
		}
		c := make([]byte, size)
		if _, err := io.ReadFull(r, c); err != nil {
			return ErrStream
		}
		plain, err := aead.Open(nil, nonce(head[8:], i), c, ad(head, false))
		final := false
		if err != nil {
			if plain, err = aead.Open(nil, nonce(head[8:], i), c, ad(head, true)); err != nil {
				return ErrStream
			}
			final = true
		}
		if _, err := w.Write(plain); err != nil {
			return err
		}
		if final {
			if n, _ := r.Read(make([]byte, 1)); n != 0 {
				return ErrStream // bytes after the final chunk
			}
			return nil
		}
	}
}

func nonce(prefix []byte, i uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte{}, prefix...), i)
}

func ad(head []byte, final bool) []byte {
	f := byte(0)
	if final {
		f = 1
	}
	return append(append([]byte{}, head...), f)
}
