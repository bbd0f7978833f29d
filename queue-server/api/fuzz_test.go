package api

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// FuzzDecodeRequest feeds arbitrary bytes to the decoder of the frames a
// client sends after its hello. It must never panic; it either returns a
// request frame or an invalid error whose message says a request frame was
// expected. `go test` runs the seeds; `go test -fuzz FuzzDecodeRequest
// ./queue-server/api` searches further.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"request","id":"7","op":"tickets.issue","params":{},"idempotency_key":"k-7","body":{"service":"E"}}`,
		`{"type":"request","id":"1","op":"windows.call","params":{"window":"5"}}`,
		`{"type":"request"}`,
		`{"type":"hello","token":"hq_x","last_seq":41}`,
		`{"type":"reply","id":"7","status":201,"result":{}}`,
		`{"type":5}`,
		`{"type":"request","params":{"window":5}}`,
		`{"type":"request","body":}`,
		`{"type":"request","last_seq":-1}`,
		`{"type":"request","event":{"seq":"x"}}`,
		`{"type":"request"} trailing`,
		`{"type":"request"`,
		`[]`, `null`, `""`, `0`, ``, " ", "\x00\xff\xfe", `{"type":"\ud800"}`,
		strings.Repeat(`{"type":`, 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeRequest(data)
		if err != nil {
			he, ok := err.(*hall.Error)
			if !ok || he.Code != hall.Invalid || !strings.HasPrefix(he.Message, "expected a request frame: ") {
				t.Fatalf("%q: error %#v, want an invalid error about the request frame", data, err)
			}
			if !utf8.ValidString(he.Message) && utf8.Valid(data) {
				t.Fatalf("%q: the error message is not valid UTF-8: %q", data, he.Message)
			}
			return
		}
		if fr.Type != wire.FrameRequest {
			t.Fatalf("%q: accepted a %q frame", data, fr.Type)
		}
	})
}

// FuzzDecodeBody feeds arbitrary bytes as the JSON body of every request
// type an operation decodes. It must never panic; it either fills the value
// or returns an invalid error.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"service":"C","channel":"walk_in","citizen_key":"9a0c3e1b2f4d5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b","masked_id":"4201**********1234","age_class":"adult"}`,
		`{"service":"B","window":3}`, `{"score":2,"reason":"waited too long"}`, `{"reason":"paper_out"}`,
		`{"citizen_key":"9a0c"}`, `{"booking":"BK-1"}`,
		`{"lease":"l1","number":33,"id":"abcdefghijklmnop","issued_at":"2026-11-28T02:38:55Z","channel":"walk_in"}`,
		`{"lease":"l1","number":33,"issued_at":"yesterday"}`,
		`{"id":"b1","citizen_key":"x","service":"B","slot_start":"2026-11-28T09:00:00+08:00","slot_end":"2026-11-28T09:30:00+08:00","status":"booked"}`,
		`{"ticket":"5ktyp7fpyqheu25w"}`, `{"clerk":"li","reason":"lunch"}`, `{"service":"A","count":20}`,
		`{"name":"wang","role":"clerk","window":5,"ttl":"720h"}`, `{"name":"zhang","password":"p","role":"clerk","window":3}`,
		`{"id_number":"110101199003070011","note":"x","until":"2027-01-01T00:00:00Z","remove":true}`,
		`{"reader":"ok","printer":"paper_low","scanner":"ok","online":true,"pending_offline":0,"version":"1"}`,
		`{"service":"E"`, `{"service":"E","bogus":1}`, `{"service":"E"} {"service":"E"}`, `{"service":5}`,
		`{"number":1e400}`, `{"window":-9223372036854775809}`, `{"score":1.5}`, `{"online":"yes"}`,
		``, ` `, `null`, `[]`, `"x"`, "\xff", `{"service":"\ud800"}`, strings.Repeat(`[`, 20000),
	} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return new(hall.IssueRequest) },
		func() any { return new(hall.Action) },
		func() any { return new(hall.CheckIn) },
		func() any { return new(hall.OfflineTicket) },
		func() any { return new(hall.Booking) },
		func() any { return new(wire.CallRequest) },
		func() any { return new(wire.WindowRequest) },
		func() any { return new(wire.LeaseRequest) },
		func() any { return new(wire.TokenRequest) },
		func() any { return new(wire.UserRequest) },
		func() any { return new(wire.LoginRequest) },
		func() any { return new(wire.BlacklistRequest) },
		func() any { return new(wire.DeviceHealth) },
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, optional := range []bool{false, true} {
			for _, mk := range targets {
				v := mk()
				err := (&call{body: data}).decode(v, optional)
				if err != nil && hall.ErrorCode(err) != hall.Invalid {
					t.Fatalf("%T from %q: error %v, want nil or invalid", v, data, err)
				}
			}
		}
	})
}

// FuzzJSONString holds the request decoder's string fast path to
// json.Unmarshal: for every valid JSON value, the same string or an error
// from both.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"k-7"`, `""`, `"号"`, `"a\"b"`, `"\u00e9"`, `"\ud800"`, "\"\xff\"", `"tab\t"`, `5`, `null`, `"x</script>"`, "\"\x7f\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var fast, slow string
		errFast, errSlow := jsonString(data, &fast), json.Unmarshal(data, &slow)
		if (errFast == nil) != (errSlow == nil) || fast != slow {
			t.Fatalf("%q: fast path %q (%v), json.Unmarshal %q (%v)", data, fast, errFast, slow, errSlow)
		}
	})
}
