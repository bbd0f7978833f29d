package booking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/oidcdev"
	"hallq/central/platform"
)

// syncBuffer is the log of a central run in a goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The central program wires bookings into its process: with -province-key
// and -oidc-issuer the booking routes are served next to the hall views,
// a citizen signed in at the issuer books, and the hall list offers slots;
// without -province-key it serves the views alone and says so.
func TestCentralProgramServesBookings(t *testing.T) {
	idp, err := oidcdev.New("")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(idp)
	defer srv.Close()
	idp.Issuer = srv.URL
	keyFile := filepath.Join(t.TempDir(), "province.key")
	os.WriteFile(keyFile, []byte("6578616d706c652d70726f76696e63652d6b6579\n"), 0o600) // "example-province-key"

	run := func(t *testing.T, extra ...string) (string, *syncBuffer, func()) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		natsAddr := ln.Addr().String()
		ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		done := make(chan error, 1)
		args := append([]string{"-data", t.TempDir(), "-nats-listen", natsAddr, "-http", "127.0.0.1:0"}, extra...)
		go func() { done <- platform.Main(ctx, args, logs, booking.Extension()) }()
		var url string
		for deadline := time.Now().Add(60 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the central did not start:\n%s", logs.String())
			}
			for _, l := range strings.Split(logs.String(), "\n") {
				if i := strings.Index(l, "api=http://"); i >= 0 && strings.Contains(l, "central view") {
					url = strings.TrimSuffix(strings.Fields(l[i+4:])[0], "/api/v1/halls")
				}
			}
		}
		return url, logs, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("central stopped with %v", err)
			}
		}
	}
	get := func(url, token string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	t.Run("with a province key and an issuer", func(t *testing.T) {
		url, logs, stop := run(t, "-province-key", keyFile, "-oidc-issuer", srv.URL, "-oidc-client-id", "portal")
		defer stop()
		waitFor := func(what string, ok func() bool) {
			for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%s:\n%s", what, logs.String())
				}
			}
		}
		waitFor("the booking routes", func() bool { st, _ := get(url+"/api/v1/catalog", ""); return st == http.StatusOK })
		if st, body := get(url+"/api/v1/bookings", ""); st != http.StatusUnauthorized {
			t.Fatalf("my bookings without a token: %d %s", st, body)
		}
		citizen := idp.Mint(oidcdev.Token{Subject: "c1", Audience: "portal", IDNumber: "11010519491231002X"})
		if st, body := get(url+"/api/v1/bookings", citizen); st != http.StatusOK {
			t.Fatalf("my bookings signed in: %d %s", st, body)
		}
		if st, body := get(url+"/api/v1/halls", ""); st != http.StatusOK || !json.Valid([]byte(body)) {
			t.Fatalf("the hall list: %d %s", st, body)
		}
	})
	t.Run("without a province key", func(t *testing.T) {
		url, logs, stop := run(t)
		defer stop()
		if st, _ := get(url+"/api/v1/catalog", ""); st != http.StatusNotFound {
			t.Fatalf("the catalogue without bookings: %d", st)
		}
		if !strings.Contains(logs.String(), "bookings off: no -province-key") {
			t.Fatalf("the log does not say bookings are off:\n%s", logs.String())
		}
	})
}
