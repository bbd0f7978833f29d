package idcard

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The frames quoted in devices.md, byte for byte.
func TestGoldenRequests(t *testing.T) {
	for _, tc := range []struct {
		cmd  Command
		want string
	}{
		{CmdResetSAM, "AA AA AA 96 69 00 03 10 FF EC"},
		{CmdSAMStatus, "AA AA AA 96 69 00 03 11 FF ED"},
		{CmdSAMID, "AA AA AA 96 69 00 03 12 FF EE"},
		{CmdFindCard, "AA AA AA 96 69 00 03 20 01 22"},
		{CmdSelectCard, "AA AA AA 96 69 00 03 20 02 21"},
		{CmdReadText, "AA AA AA 96 69 00 03 30 01 32"},
		{CmdReadTextFP, "AA AA AA 96 69 00 03 30 10 23"},
	} {
		want := mustHex(t, tc.want)
		if got := EncodeRequest(tc.cmd); !bytes.Equal(got, want) {
			t.Errorf("%v: got % X, want % X", tc.cmd, got, want)
		}
		payload, n, err := Decode(want)
		if err != nil || n != len(want) || !bytes.Equal(payload, []byte{byte(tc.cmd >> 8), byte(tc.cmd)}) {
			t.Errorf("%v: Decode = % X, %d, %v", tc.cmd, payload, n, err)
		}
	}
}

func TestGoldenResponses(t *testing.T) {
	for _, tc := range []struct {
		name string
		sw3  byte
		data []byte
		want string
	}{
		{"SAM status ok", 0x90, nil, "AA AA AA 96 69 00 04 00 00 90 94"},
		{"find card ok", 0x9F, []byte{0, 0, 0, 0}, "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"},
		{"find card failed", 0x80, nil, "AA AA AA 96 69 00 04 00 00 80 84"},
		{"select card ok", 0x90, make([]byte, 8), "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C"},
	} {
		want := mustHex(t, tc.want)
		if got := EncodeResponse(tc.sw3, tc.data...); !bytes.Equal(got, want) {
			t.Errorf("%s: got % X, want % X", tc.name, got, want)
		}
		payload, n, err := Decode(want)
		if err != nil || n != len(want) || payload[2] != tc.sw3 || !bytes.Equal(payload[3:], tc.data) {
			t.Errorf("%s: Decode = % X, %d, %v", tc.name, payload, n, err)
		}
	}
}

func TestReadTextReplyIs1295Bytes(t *testing.T) {
	data := append([]byte{0x01, 0x00, 0x04, 0x00}, make([]byte, 256+1024)...)
	f := EncodeResponse(SW3OK, data...)
	if len(f) != 1295 || f[5] != 0x05 || f[6] != 0x08 {
		t.Fatalf("read reply is %d bytes with LEN % X, want 1295 and 05 08", len(f), f[5:7])
	}
}

func TestDecodeResynchronises(t *testing.T) {
	good := EncodeResponse(0x90)
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"garbage before", append([]byte{1, 2, 0xAA, 0xAA, 3}, good...)},
		{"partial preamble before", append([]byte{0xAA, 0xAA, 0xAA, 0x96}, good...)},
		{"impossible length", append(mustHex(t, "AA AA AA 96 69 FF FF"), good...)},
		{"truncated frame swallowing the next", append(mustHex(t, "AA AA AA 96 69 00 20 00 00 90"), good...)},
	} {
		var buf []byte
		var got []byte
		for i := 0; i < len(tc.in) && got == nil; i++ { // byte by byte, like a slow link
			buf = append(buf, tc.in[i])
			for {
				p, n, err := Decode(buf)
				buf = buf[n:]
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if p != nil {
					got = p
				}
				if p == nil || n == 0 {
					break
				}
			}
		}
		if got == nil && len(buf) > 0 {
			// The truncated frame is only resolved once its claimed length is in.
			buf = append(buf, make([]byte, 40)...)
			got, _, _ = Decode(buf)
		}
		if !bytes.Equal(got, []byte{0, 0, 0x90}) {
			t.Errorf("%s: got % X", tc.name, got)
		}
	}
}

func TestDecodeBadChecksum(t *testing.T) {
	f := EncodeResponse(0x90)
	f[len(f)-1] ^= 1
	p, n, err := Decode(f)
	if !errors.Is(err, ErrBadChecksum) || p != nil || n != len(f) || Code(err) != "checksum" {
		t.Fatalf("Decode = % X, %d, %v", p, n, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(EncodeResponse(0x90))
	f.Add(EncodeResponse(0x9F, 0, 0, 0, 0))
	f.Add(append([]byte{0xAA, 0xAA, 0xAA}, EncodeRequest(CmdFindCard)...))
	f.Add([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x02})
	f.Add([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x10, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		buf := in
		for steps := 0; len(buf) > 0; steps++ {
			p, n, err := Decode(buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("consumed %d of %d", n, len(buf))
			}
			if p != nil {
				if err != nil {
					t.Fatal("payload with error")
				}
				// A decoded frame re-encodes to the bytes it came from.
				if enc := Encode(p); !bytes.Equal(enc, buf[n-len(enc):n]) {
					t.Fatalf("re-encode % X != % X", enc, buf[n-len(enc):n])
				}
			}
			if n == 0 {
				break
			}
			buf = buf[n:]
		}
	})
}

// The first half of a long reply (what a restarted kiosk finds of the
// reply its old process asked for) followed by a whole frame: the whole
// frame is decoded at once instead of waiting for bytes of the cut-short
// one that will never come.
func TestDecodeSkipsAnUnfinishedFrameBeforeAWholeOne(t *testing.T) {
	long := EncodeResponse(SW3OK, make([]byte, 1284)...)
	reply := EncodeResponse(0x80)
	buf := append(append([]byte(nil), long[:600]...), reply...)
	payload, n, err := Decode(buf)
	if err != nil || !bytes.Equal(payload, []byte{0, 0, 0x80}) || n != len(buf) {
		t.Fatalf("Decode = % X, %d, %v; want the no-card reply, all %d bytes consumed", payload, n, err, len(buf))
	}
	// still incomplete, with no whole frame after it: wait for more
	if payload, n, err := Decode(long[:600]); payload != nil || err != nil || n != 0 {
		t.Fatalf("Decode(half a frame) = % X, %d, %v; want more bytes needed", payload, n, err)
	}
}
