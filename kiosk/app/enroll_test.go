package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/kiosk/outbox"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/tlsca"
	"hallq/queue-server/wire"
)

// TestEnrolledKioskTrustsOnlyTheHallCA enrols a kiosk from an enrolment
// file (server URL, token, hall CA) into an existing configuration, then
// issues a ticket over HTTPS with that CA; the same kiosk without the CA
// cannot reach the server.
func TestEnrolledKioskTrustsOnlyTheHallCA(t *testing.T) {
	ca := t.TempDir()
	var out bytes.Buffer
	if tlsca.Main([]string{"init", "-dir", ca}, &out, &out) != 0 ||
		tlsca.Main([]string{"issue", "-dir", ca, "-name", "hall-server", "-dns", "127.0.0.1"}, &out, &out) != 0 {
		t.Fatalf("hall CA: %s", out.String())
	}
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	srv, err := server.Start(server.Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: quiet,
		TLSCert: filepath.Join(ca, "hall-server.pem"), TLSKey: filepath.Join(ca, "hall-server-key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	caPEM, _ := os.ReadFile(filepath.Join(ca, tlsca.CACert))
	admTok, _ := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	admin, err := client.NewTLS(srv.URL, strings.TrimSpace(string(admTok)), caPEM)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := admin.CreateToken(context.Background(), wire.TokenRequest{Name: "kiosk-9", Role: wire.RoleKiosk})
	if err != nil {
		t.Fatal(err)
	}

	etc := t.TempDir()
	conf := filepath.Join(etc, "kiosk.json")
	os.WriteFile(conf, []byte(`{"server":"http://old:1","token":"x","data_dir":"`+t.TempDir()+`","admin_pin":"2468","devices":{"printer_model":"generic-58"}}`), 0o600)
	enrol := filepath.Join(etc, "enrol.json")
	b, _ := json.Marshal(Enrollment{Server: srv.URL, Token: kt.Token, CAPEM: string(caPEM)})
	os.WriteFile(enrol, b, 0o600)
	if err := Enroll(enrol, conf); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != srv.URL || c.Token != kt.Token || c.AdminPIN != "2468" || c.Devices.PrinterModel != "generic-58" {
		t.Fatalf("enrolled config %+v", c)
	}
	if fi, _ := os.Stat(c.TokenFile); fi.Mode().Perm()&0o007 != 0 {
		t.Fatalf("token file readable by others: %v", fi.Mode().Perm())
	}
	if raw, _ := os.ReadFile(conf); bytes.Contains(raw, []byte(kt.Token)) {
		t.Fatal("the token is written into the configuration itself")
	}

	issue := func(pem []byte) error {
		ob, err := outbox.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer ob.Close()
		core, err := NewCore(CoreConfig{Server: c.Server, Token: c.Token, CAPEM: pem, Logger: quiet}, ob)
		if err != nil {
			return err
		}
		_, err = core.cl.Issue(context.Background(), "k", hall.IssueRequest{Service: "E"})
		return err
	}
	if err := issue(c.caPEM); err != nil {
		t.Fatalf("kiosk with the hall CA: %v", err)
	}
	err = issue(nil)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("kiosk without the hall CA reached the server: %v", err)
	}
}
