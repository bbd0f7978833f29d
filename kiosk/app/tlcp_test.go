package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/internal/tlcp"
	"hallq/kiosk/outbox"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/tlsca"
	"hallq/queue-server/wire"
)

// TestKioskOverTLCP configures a kiosk with "transport": "tlcp" and the
// SM2 hall CA, and checks that its core issues a ticket and follows the
// websocket over the hall server's TLCP listener; the status link goes
// to status_url, which browsers can open.
func TestKioskOverTLCP(t *testing.T) {
	ca := t.TempDir()
	var out bytes.Buffer
	for _, args := range [][]string{{"init", "-dir", ca, "-sm2"},
		{"issue", "-dir", ca, "-name", "hall-sign", "-dns", "127.0.0.1"},
		{"issue", "-dir", ca, "-name", "hall-enc", "-dns", "127.0.0.1", "-enc"}} {
		if tlsca.Main(args, &out, &out) != 0 {
			t.Fatalf("hallq-ca %v: %s", args, out.String())
		}
	}
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	srv, err := server.Start(server.Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: quiet, TLCPAddr: "127.0.0.1:0",
		TLCP: tlcp.ServerFiles{SignCert: filepath.Join(ca, "hall-sign.pem"), SignKey: filepath.Join(ca, "hall-sign-key.pem"),
			EncCert: filepath.Join(ca, "hall-enc.pem"), EncKey: filepath.Join(ca, "hall-enc-key.pem")}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admTok, _ := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	kt, err := client.New(srv.URL, strings.TrimSpace(string(admTok))).CreateToken(ctx, wire.TokenRequest{Name: "kiosk-gm", Role: wire.RoleKiosk})
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "kiosk.json")
	os.WriteFile(conf, []byte(`{"server":"`+srv.TLCPURL+`","token":"`+kt.Token+`","data_dir":"`+t.TempDir()+`",
		"ca_file":"`+filepath.Join(ca, tlsca.CACert)+`","transport":"tlcp","status_url":"`+srv.URL+`/t/"}`), 0o600)
	c, err := LoadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	core, err := NewCore(CoreConfig{Server: c.Server, Token: c.Token, CAPEM: c.caPEM, Transport: c.Transport, StatusURL: c.StatusURL, Logger: quiet}, ob)
	if err != nil {
		t.Fatal(err)
	}
	if core.statusURL != srv.URL+"/t/" {
		t.Errorf("status links go to %q, want the plain listener's %q", core.statusURL, srv.URL+"/t/")
	}
	events := make(chan wire.Frame, 64)
	cn, err := core.cl.Dial(ctx, 0, func(f wire.Frame) { events <- f })
	if err != nil {
		t.Fatalf("the kiosk's websocket over TLCP: %v", err)
	}
	defer cn.Close()
	tk, err := core.cl.Issue(ctx, "k-tlcp", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatalf("the kiosk's REST over TLCP: %v", err)
	}
	for seen := false; !seen; {
		select {
		case f := <-events: // a kiosk follows the services' live figures
			for _, sv := range f.Services {
				seen = seen || (f.Type == wire.FrameServices && sv.Code == tk.Service && sv.Waiting == 1)
			}
		case <-ctx.Done():
			t.Fatal("the ticket's waiting figure never came on the kiosk's TLCP websocket")
		}
	}
	// the same kiosk on the default transport cannot talk to the TLCP port
	tlsCore, err := NewCore(CoreConfig{Server: c.Server, Token: c.Token, CAPEM: c.caPEM, Logger: quiet}, ob)
	if err == nil {
		if _, err = tlsCore.cl.Issue(ctx, "k-tls", hall.IssueRequest{Service: "E"}); err == nil {
			t.Fatal("a TLS kiosk issued a ticket on the TLCP listener")
		}
	}
}

func TestTransportConfigErrors(t *testing.T) {
	for _, tc := range []struct{ cfg, want string }{
		{`"server":"http://h:1","transport":"tlcp","ca_file":"/x"`, "transport: tlcp needs server https://"},
		{`"server":"https://h:1","transport":"tlcp"`, "transport: tlcp needs ca_file"},
		{`"server":"https://h:1","transport":"sm"`, "transport: tls or tlcp"},
		{`"server":"https://h:1","status_url":"ftp://x"`, "status_url"},
	} {
		p := filepath.Join(t.TempDir(), "k.json")
		os.WriteFile(p, []byte(`{`+tc.cfg+`,"token":"t","data_dir":"/tmp/k"}`), 0o600)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
