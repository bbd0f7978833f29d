package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/internal/tlcp"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/tlsca"
	"hallq/queue-server/wire"
)

// sm2HallCA makes an SM2 hall CA with the hallq-ca command and issues
// the TLCP sign and encryption certificates of a server at 127.0.0.1.
func sm2HallCA(t *testing.T) (string, tlcp.ServerFiles) {
	t.Helper()
	ca := t.TempDir()
	var out, errs bytes.Buffer
	for _, args := range [][]string{
		{"init", "-dir", ca, "-sm2"},
		{"issue", "-dir", ca, "-name", "hall-sign", "-dns", "localhost,127.0.0.1"},
		{"issue", "-dir", ca, "-name", "hall-enc", "-dns", "localhost,127.0.0.1", "-enc"},
	} {
		if rc := tlsca.Main(args, &out, &errs); rc != 0 {
			t.Fatalf("hallq-ca %v: %d %s", args, rc, errs.String())
		}
	}
	return ca, tlcp.ServerFiles{
		SignCert: filepath.Join(ca, "hall-sign.pem"), SignKey: filepath.Join(ca, "hall-sign-key.pem"),
		EncCert: filepath.Join(ca, "hall-enc.pem"), EncKey: filepath.Join(ca, "hall-enc-key.pem")}
}

// TestTLCPListener serves a hall over TLCP beside its plain listener and
// checks that a client trusting the SM2 hall CA issues a ticket over REST
// and follows it on the websocket, both over TLCP, while a TLS client and
// a TLCP client trusting another CA get no API.
func TestTLCPListener(t *testing.T) {
	ca, files := sm2HallCA(t)
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	s, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TLCPAddr: "127.0.0.1:0", TLCP: files})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !strings.HasPrefix(s.TLCPURL, "https://127.0.0.1:") || s.TLCPAddr == s.Addr {
		t.Fatalf("TLCP URL %q beside %q", s.TLCPURL, s.URL)
	}
	tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
	token := strings.TrimSpace(string(tok))
	caPEM, _ := os.ReadFile(filepath.Join(ca, tlsca.CACert))
	c, err := client.NewTLCP(s.TLCPURL, token, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	events := make(chan wire.Frame, 64)
	cn, err := c.Dial(ctx, 0, func(f wire.Frame) { events <- f })
	if err != nil {
		t.Fatalf("websocket over TLCP: %v", err)
	}
	defer cn.Close()
	tk, err := c.Issue(ctx, "tlcp-1", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatalf("REST over TLCP: %v", err)
	}
	for seen := false; !seen; {
		select {
		case f := <-events:
			seen = f.Type == wire.FrameEvent && f.Event != nil && f.Event.Ticket != nil && f.Event.Ticket.ID == tk.ID
		case <-ctx.Done():
			t.Fatalf("the ticket %s issued over TLCP never came on the TLCP websocket", tk.ID)
		}
	}
	var got hall.TicketView
	if _, err := cn.Request(ctx, "tickets.get", map[string]string{"id": tk.ID}, "", nil, &got); err != nil || got.Number != tk.Number {
		t.Fatalf("request over the TLCP websocket: %v %+v", err, got)
	}
	// the plain listener serves the same hall
	if v, err := client.New(s.URL, token).Ticket(ctx, tk.ID); err != nil || v.Number != tk.Number {
		t.Fatalf("the plain listener: %v %+v", err, v)
	}

	// Go's TLS cannot talk to it; a TLCP client of another hall's CA is refused.
	if conn, err := tls.Dial("tcp", s.TLCPAddr, &tls.Config{InsecureSkipVerify: true}); err == nil {
		conn.Close()
		t.Fatal("a TLS client completed a handshake with the TLCP listener")
	}
	other, _ := sm2HallCA(t)
	otherPEM, _ := os.ReadFile(filepath.Join(other, tlsca.CACert))
	wrong, err := client.NewTLCP(s.TLCPURL, token, otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Services(ctx); err == nil {
		t.Fatal("REST over TLCP with another hall's CA")
	}
	if _, err := wrong.Dial(ctx, 0, nil); err == nil {
		t.Fatal("websocket over TLCP with another hall's CA")
	}
}

// TestTLCPOptionsRefused: half a TLCP configuration is a precise error
// and no hall is started.
func TestTLCPOptionsRefused(t *testing.T) {
	_, files := sm2HallCA(t)
	cfg := hall.SampleConfig()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for name, tc := range map[string]struct {
		o    Options
		want string
	}{
		"files without an address": {Options{TLCP: files}, "-tlcp-addr"},
		"an address without files": {Options{TLCPAddr: "127.0.0.1:0"}, "no sign certificate file"},
		"no encryption key":        {Options{TLCPAddr: "127.0.0.1:0", TLCP: tlcp.ServerFiles{SignCert: files.SignCert, SignKey: files.SignKey, EncCert: files.EncCert}}, "no encryption key file"},
	} {
		tc.o.DataDir, tc.o.Addr, tc.o.Config, tc.o.Logger = t.TempDir(), "127.0.0.1:0", &cfg, log
		s, err := Start(tc.o)
		if err == nil {
			s.Close()
			t.Errorf("%s: started", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to say %q", name, err, tc.want)
		}
	}
}

// TestTLCPFlags: the -tlcp-* flags reach Start (half of them is refused by
// name before anything is served).
func TestTLCPFlags(t *testing.T) {
	_, files := sm2HallCA(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-tlcp-sign-cert", files.SignCert}, "-tlcp-addr"},
		{[]string{"-tlcp-addr", "127.0.0.1:0", "-tlcp-sign-cert", files.SignCert, "-tlcp-sign-key", files.SignKey, "-tlcp-enc-cert", files.EncCert}, "no encryption key file"},
		{[]string{"-tlcp-addr", "127.0.0.1:0", "-tlcp-sign-cert", files.SignCert, "-tlcp-sign-key", files.EncKey, "-tlcp-enc-cert", files.EncCert, "-tlcp-enc-key", files.SignKey}, "does not match"},
	} {
		var stderr bytes.Buffer
		args := append([]string{"-data", t.TempDir(), "-addr", "127.0.0.1:0"}, tc.args...)
		if code := Main(args, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want it to say %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
