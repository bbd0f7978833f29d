package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/tlsca"
	"hallq/queue-server/wire"
)

// TestTLSWithHallCA creates a hall CA with the hallq-ca command, issues a
// server certificate for 127.0.0.1, serves the hall over HTTPS/WSS, and
// checks that a client trusting the CA works over REST and the websocket
// while clients without it are refused with a certificate error.
func TestTLSWithHallCA(t *testing.T) {
	ca := t.TempDir()
	var out, errs bytes.Buffer
	if rc := tlsca.Main([]string{"init", "-dir", ca}, &out, &errs); rc != 0 {
		t.Fatalf("hallq-ca init: %d %s", rc, errs.String())
	}
	if rc := tlsca.Main([]string{"init", "-dir", ca}, &out, &errs); rc == 0 {
		t.Fatal("hallq-ca init overwrote an existing CA")
	}
	if rc := tlsca.Main([]string{"issue", "-dir", ca, "-name", "hall-server", "-dns", "localhost,127.0.0.1"}, &out, &errs); rc != 0 {
		t.Fatalf("hallq-ca issue: %d %s", rc, errs.String())
	}
	// no client certificates: the server would not verify them
	errs.Reset()
	if rc := tlsca.Main([]string{"issue", "-dir", ca, "-client", "kiosk-3"}, &out, &errs); rc != 1 || !strings.Contains(errs.String(), "no client certificates") {
		t.Fatalf("hallq-ca issue -client: %d %s", rc, errs.String())
	}
	if _, err := os.Stat(filepath.Join(ca, "kiosk-3.pem")); err == nil {
		t.Fatal("a client certificate was written")
	}
	for _, f := range []string{"ca-key.pem", "hall-server-key.pem"} {
		if st, err := os.Stat(filepath.Join(ca, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, err, st.Mode())
		}
	}

	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	s, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TLSCert: filepath.Join(ca, "hall-server.pem"), TLSKey: filepath.Join(ca, "hall-server-key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %s", s.URL)
	}
	tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
	caPEM, _ := os.ReadFile(filepath.Join(ca, tlsca.CACert))
	c, err := client.NewTLS(s.URL, strings.TrimSpace(string(tok)), caPEM)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk, err := c.Issue(ctx, "tls-1", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatalf("REST over HTTPS: %v", err)
	}
	events := make(chan wire.Frame, 16)
	cn, err := c.Dial(ctx, 0, func(f wire.Frame) { events <- f })
	if err != nil {
		t.Fatalf("websocket over WSS: %v", err)
	}
	defer cn.Close()
	var got hall.TicketView
	if _, err := cn.Request(ctx, "tickets.get", map[string]string{"id": tk.ID}, "", nil, &got); err != nil || got.ID != tk.ID {
		t.Fatalf("request over WSS: %v %+v", err, got)
	}

	// Without the CA: REST and websocket fail on the certificate.
	plain := client.New(s.URL, strings.TrimSpace(string(tok)))
	if _, err := plain.Services(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("REST without the CA: %v", err)
	}
	if _, err := plain.Dial(ctx, 0, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("websocket without the CA: %v", err)
	}
	// A CA of another hall does not help either.
	other := t.TempDir()
	if err := tlsca.Init(other, "other hall"); err != nil {
		t.Fatal(err)
	}
	otherPEM, _ := os.ReadFile(filepath.Join(other, tlsca.CACert))
	wrong, _ := client.NewTLS(s.URL, "", otherPEM)
	if _, err := wrong.Services(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("REST with another hall's CA: %v", err)
	}
	// TLS 1.2 offers only AEAD suites: a client that knows only CBC
	// suites gets no handshake; one with GCM does, as does TLS 1.3.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for _, tc := range []struct {
		suites []uint16
		max    uint16
		ok     bool
	}{
		{[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}, tls.VersionTLS12, false},
		{[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, tls.VersionTLS12, true},
		{[]uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, tls.VersionTLS12, true},
		{nil, tls.VersionTLS13, true},
	} {
		conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", CipherSuites: tc.suites, MaxVersion: tc.max})
		if err == nil {
			conn.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("TLS %x with suites %v: %v, want ok %v", tc.max, tc.suites, err, tc.ok)
		}
	}

	// Plain HTTP to the TLS port gets no API.
	if resp, err := http.Get("http://" + s.Addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served by the TLS listener")
		}
	}
}

// TestPagesGetSecurityHeaders checks the headers every web page is served
// with when the hall serves pages at /.
func TestPagesGetSecurityHeaders(t *testing.T) {
	cfg := hall.SampleConfig()
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>board</title>")
	})
	s, err := Start(Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Config: &cfg, Pages: pages,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, path := range []string{"/", "/board"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "board") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		want := map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
}
