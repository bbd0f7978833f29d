package tlsca

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/internal/gm"
)

func readDER(t *testing.T, path, typ string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(b)
	if p == nil || p.Type != typ {
		t.Fatalf("%s: want PEM %q, got %v", path, typ, p)
	}
	return p.Bytes
}

// hallq-ca init -sm2 makes an SM2 CA; issue then signs SM2 server
// certificates under it (SM2 with SM3), which check against the CA.
func TestSM2CA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	var out, errs bytes.Buffer
	if rc := Main([]string{"init", "-dir", dir, "-sm2", "-name", "江岸区 hall CA"}, &out, &errs); rc != 0 {
		t.Fatalf("init -sm2: %d %s", rc, errs.String())
	}
	if rc := Main([]string{"issue", "-dir", dir, "-name", "hall-server", "-dns", "hall.local,10.20.1.2"}, &out, &errs); rc != 0 {
		t.Fatalf("issue: %d %s", rc, errs.String())
	}
	caDER := readDER(t, filepath.Join(dir, CACert), "CERTIFICATE")
	leafDER := readDER(t, filepath.Join(dir, "hall-server.pem"), "CERTIFICATE")
	ca, err := gm.ParseCertificate(caDER)
	if err != nil || !ca.SM2 || !ca.IsCA || ca.Subject != "江岸区 hall CA" {
		t.Fatalf("CA: %+v %v", ca, err)
	}
	leaf, err := gm.ParseCertificate(leafDER)
	if err != nil || !leaf.SM2 || leaf.IsCA || leaf.Subject != "hall-server" || strings.Join(leaf.DNSNames, ",") != "hall.local" {
		t.Fatalf("server certificate: %+v %v", leaf, err)
	}
	if err := gm.CheckSignedBy(leafDER, caDER); err != nil {
		t.Fatalf("the server certificate is not signed by the SM2 CA: %v", err)
	}
	key, err := gm.ParseSigningKey(readDER(t, filepath.Join(dir, "hall-server-key.pem"), "PRIVATE KEY"))
	if err != nil || !key.PublicKey.Equal(leaf.PublicKey) {
		t.Fatalf("the key file does not hold the certificate's key: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "hall-server-key.pem")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	if rc := Main([]string{"init", "-dir", dir, "-sm2"}, &out, &errs); rc == 0 {
		t.Error("init -sm2 overwrote a CA")
	}
	// an ECDSA CA is still what init makes without -sm2
	plain := filepath.Join(t.TempDir(), "ca")
	if err := Init(plain, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := Issue(plain, Request{Name: "hall-server", Hosts: []string{"localhost"}}); err != nil {
		t.Fatal(err)
	}
	readDER(t, filepath.Join(plain, "hall-server-key.pem"), "EC PRIVATE KEY")
}

func TestEncipherCertificateForTLCP(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	var out, errs bytes.Buffer
	if rc := Main([]string{"init", "-dir", dir, "-sm2"}, &out, &errs); rc != 0 {
		t.Fatalf("init -sm2: %d %s", rc, errs.String())
	}
	if rc := Main([]string{"issue", "-dir", dir, "-name", "hall-enc", "-dns", "127.0.0.1", "-enc"}, &out, &errs); rc != 0 {
		t.Fatalf("issue -enc: %d %s", rc, errs.String())
	}
	c, err := gm.ParseCertificate(readDER(t, filepath.Join(dir, "hall-enc.pem"), "CERTIFICATE"))
	if err != nil {
		t.Fatal(err)
	}
	if want := x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageKeyAgreement; c.KeyUsage != want {
		t.Errorf("key usage %b, want %b (an encryption certificate)", c.KeyUsage, want)
	}
	plain := filepath.Join(t.TempDir(), "ca")
	if err := Init(plain, ""); err != nil {
		t.Fatal(err)
	}
	errs.Reset()
	if rc := Main([]string{"issue", "-dir", plain, "-name", "hall-enc", "-dns", "127.0.0.1", "-enc"}, &out, &errs); rc == 0 || !strings.Contains(errs.String(), "SM2 CA") {
		t.Errorf("-enc under an ECDSA CA: rc %d, %q", rc, errs.String())
	}
}
