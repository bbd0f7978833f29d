package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"hallq/queue-server/hall"
)

// canonicalSeeds are bodies in and out of canonical form: spacing, key
// order, duplicate keys, escapes encoding/json writes differently, HTML
// characters, U+2028, invalid UTF-8, numbers as written, nesting,
// malformed text.
var canonicalSeeds = []string{
	`{"citizen_key":"ab","service":"E"}`,
	`{"service":"E","citizen_key":"ab"}`,
	`{ "service" : "E" }`,
	`{"a":1,"a":2}`,
	`{"a":{"c":[1,2,{"e":null,"d":true}],"b":false}}`,
	`{"a":{"b":false,"c":[1,2,{"d":true,"e":null}]}}`,
	`{"name":"张三"}`,
	`{"name":"\u5f20"}`,
	`{"x":"a\"b"}`,
	`{"x":"<b>&"}`,
	"{\"x\":\"\u2028\"}",
	"{\"x\":\"\xff\"}",
	`{"n":1.50,"m":-0,"k":1E+3,"j":12345678901234567890}`,
	`{"j":12345678901234567890,"k":1E+3,"m":-0,"n":1.50}`,
	`[]`, `{}`, `[{}]`, `"s"`, `true`, `null`, `12`,
	`{"a":}`, `{"a":1`, `{"a":1}x`, `{"a" 1}`, `[1,]`, `{"":1,"a":2}`, `{"b":1,"":2}`,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	"  {\"a\":1}\n",
	`{"a":1,"a!":2}`, `{"a!":1,"a":2}`, `{"b":[{"z":1,"y":2},3],"a":{"d":{"f":1,"e":2}}}`,
	"{\"a\":\"\x7f\",\"b\":\"é\"}", "{\"é\":1,\"e\":2}", `{"a":[3,{"b":1,"a":[]}],"a":null}`,
	`{"sealed_id":{"alg":"x","ct":"AA=="},"service":"A"}`,
}

// FuzzCanonicalJSON holds the fast path to the re-encoding it skips: for
// any bytes, canonicalJSON gives what decoding and encoding again gives,
// so a fingerprint never depends on which path took the body.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range canonicalSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := canonicalJSON(b), reencodeJSON(bytes.TrimSpace(b))
		if len(bytes.TrimSpace(b)) == 0 {
			want = nil
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("canonicalJSON(%q) = %q, the re-encoding gives %q", b, got, want)
		}
	})
}

// TestCanonicalBodiesSkipTheReencoding: the bodies the kiosk and the Go
// client send (encoding/json of the request types, fields in declaration
// order) take the fast path; what it cannot take as written goes to the
// re-encoding.
func TestCanonicalBodiesSkipTheReencoding(t *testing.T) {
	for _, v := range []any{
		hall.IssueRequest{Service: "A", CitizenKey: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		map[string]any{"window": 3, "note": "窗口 3"},
	} {
		b, _ := json.Marshal(v)
		if _, ok := canonicalFast(b); !ok {
			t.Errorf("%s: not taken by the fast path", b)
		}
	}
	for _, s := range []string{`{"a": 1}`, `{"a":"\u0041"}`, `{"a":1,"a":1}`, `{"a":01}`} {
		if _, ok := canonicalFast([]byte(s)); ok {
			t.Errorf("%s: taken by the fast path", s)
		}
	}
}
