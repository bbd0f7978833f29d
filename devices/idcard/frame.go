package idcard

import (
	"bytes"
	"fmt"
)

// Preamble starts every frame in both directions.
var Preamble = []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}

// MaxFrameLen bounds the LEN field; a larger value is taken for line noise.
const MaxFrameLen = 4096

// Command is a request's CMD and PARA bytes.
type Command uint16

// SAM module commands.
const (
	CmdResetSAM   Command = 0x10FF
	CmdSAMStatus  Command = 0x11FF
	CmdSAMID      Command = 0x12FF
	CmdFindCard   Command = 0x2001
	CmdSelectCard Command = 0x2002
	CmdReadText   Command = 0x3001 // text + photo
	CmdReadTextFP Command = 0x3010 // text + photo + fingerprint
)

var commandNames = map[Command]string{
	CmdResetSAM: "reset SAM", CmdSAMStatus: "SAM status", CmdSAMID: "read SAM id",
	CmdFindCard: "find card", CmdSelectCard: "select card", CmdReadText: "read text+photo",
	CmdReadTextFP: "read text+photo+fingerprint",
}

func (c Command) String() string {
	if s, ok := commandNames[c]; ok {
		return s
	}
	return fmt.Sprintf("command %04X", uint16(c))
}

// SW3 success statuses.
const (
	SW3OK        = 0x90
	SW3FoundCard = 0x9F
)

// Encode frames payload (CMD PARA data for a request, SW1 SW2 SW3 data for a
// response): preamble, big-endian length (payload + checksum), payload, XOR
// checksum over length and payload.
func Encode(payload []byte) []byte {
	n := len(payload) + 1
	out := make([]byte, 0, len(Preamble)+2+n)
	out = append(out, Preamble...)
	out = append(out, byte(n>>8), byte(n))
	out = append(out, payload...)
	return append(out, xor(out[len(Preamble):]))
}

// EncodeRequest frames a request.
func EncodeRequest(cmd Command, data ...byte) []byte {
	return Encode(append([]byte{byte(cmd >> 8), byte(cmd)}, data...))
}

// EncodeResponse frames a response with SW1 SW2 = 00 00.
func EncodeResponse(sw3 byte, data ...byte) []byte {
	return Encode(append([]byte{0, 0, sw3}, data...))
}

func xor(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// Decode finds the first frame in buf. It returns the payload and the number
// of bytes consumed (including any garbage before the frame).
//
//   - payload != nil: a complete frame with a good checksum.
//   - err wraps ErrBadChecksum: a complete frame with a bad checksum, consumed.
//   - payload == nil, err == nil: more bytes are needed; the first n bytes are
//     garbage the caller may drop.
//
// Decode resynchronises on the preamble: bytes before it, preambles whose
// length field is impossible, and an unfinished frame followed by a whole
// one, are skipped.
func Decode(buf []byte) (payload []byte, n int, err error) {
	for {
		i := bytes.Index(buf[n:], Preamble)
		if i < 0 {
			// Keep a possible preamble prefix at the end.
			keep := 0
			for k := min(len(Preamble)-1, len(buf)-n); k > 0; k-- {
				if bytes.HasSuffix(buf[n:], Preamble[:k]) {
					keep = k
					break
				}
			}
			return nil, len(buf) - keep, nil
		}
		n += i
		f := buf[n:]
		h := len(Preamble)
		if len(f) < h+2 {
			return nil, n, nil
		}
		l := int(f[h])<<8 | int(f[h+1])
		if l < 3 || l > MaxFrameLen {
			n++ // not a real frame start
			continue
		}
		if len(f) < h+2+l {
			// A frame cut short (the rest of a reply an earlier exchange or
			// process gave up on) may be followed by a whole frame, which
			// it would otherwise wait for forever: resynchronise on it.
			if j := bytes.Index(f[1:], Preamble); j >= 0 {
				if p, m, err := Decode(f[1+j:]); p != nil && err == nil {
					return p, n + 1 + j + m, nil
				}
			}
			return nil, n, nil
		}
		body := f[h : h+2+l]
		if xor(body[:len(body)-1]) != body[len(body)-1] {
			// A frame that was cut short may have swallowed the next one:
			// resynchronise on a later preamble inside it, if any.
			if j := bytes.Index(f[1:h+2+l], Preamble); j >= 0 {
				n += 1 + j
				continue
			}
			return nil, n + h + 2 + l, fmt.Errorf("%w: %d-byte frame", ErrBadChecksum, h+2+l)
		}
		return append([]byte(nil), body[2:len(body)-1]...), n + h + 2 + l, nil
	}
}
