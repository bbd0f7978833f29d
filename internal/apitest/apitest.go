// Package apitest is how the central's and its pages' tests call a JSON API
// over real HTTP: one request with an optional bearer token and headers,
// and the same with its status checked and its body decoded. It imports
// only the standard library and is used by tests only.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Do sends method url with body — a string or []byte as it is, anything
// else as JSON, nil for none — with "Authorization: Bearer token" unless
// token is empty and the header name/value pairs hdr, and returns the
// status and the body read whole.
func Do(t testing.TB, method, url, token string, body any, hdr ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("%s %s: the body does not encode: %v", method, url, err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Must is Do that fails the test unless the status is status, and decodes
// the body into v unless v is nil.
func Must(t testing.TB, status int, method, url, token string, body, v any, hdr ...string) {
	t.Helper()
	st, b := Do(t, method, url, token, body, hdr...)
	if st != status {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, st, status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
}
