package platform_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/central/natsembed"
	"hallq/central/platform"
	"hallq/queue-server/tlsca"
)

// clientCert signs a client certificate with the CA in dir.
func clientCert(t *testing.T, dir, name string) (cert, key string) {
	t.Helper()
	caCert, caKey, err := tlsca.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// A central process joins a NATS server that speaks TLS only and verifies
// client certificates, given -nats-ca, -nats-cert and -nats-key; without
// its certificate it is refused.
func TestMainJoinsNATSOverMutualTLS(t *testing.T) {
	ca := t.TempDir()
	if err := tlsca.Init(ca, "province CA"); err != nil {
		t.Fatal(err)
	}
	srvCert, err := tlsca.Issue(ca, tlsca.Request{Name: "nats", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(srvCert, filepath.Join(ca, "nats-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(ca, tlsca.CACert)
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(caPEM)
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir(), TLS: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	cert, key := clientCert(t, ca, "central-1")
	url := strings.Replace(ns.URL(), "nats://", "tls://", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := platform.Start(ctx, platform.Config{NATSURLs: url, CA: caFile, Cert: cert, Key: key, HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	if _, err := platform.Start(ctx, platform.Config{NATSURLs: url, CA: caFile, HTTP: "127.0.0.1:0"}); err == nil {
		t.Fatal("joined without a client certificate")
	}
}

// Bad flags and a bad staff token file stop the central at start, saying
// what is wrong.
func TestMainRefusesBadConfiguration(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "staff.json")
	os.WriteFile(bad, []byte(`{"staff":[{"name":"x","role":"hall_supervisor","token_sha256":"`+strings.Repeat("ab", 32)+`"}]}`), 0o600)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"-nats-ca", "ca.pem"}, "are for -nats"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-data", t.TempDir(), "-nats-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-staff-tokens", bad}, "needs halls"},
		{[]string{"-nats-listen", "nonsense"}, "-nats-listen"},
	} {
		err := platform.Main(context.Background(), c.args, testWriter{t})
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: %v, want an error saying %q", c.args, err, c.says)
		}
	}
	for _, c := range []struct{ file, says string }{
		{`{"staff":[{"name":"a","role":"king","token_sha256":"00"}]}`, "role"},
		{`{"staff":[{"name":"a","role":"province_admin","token_sha256":"00"}]}`, "64 hex"},
		{`{"staff":[{"role":"province_admin"}]}`, "name"},
		{`{"staff":[],"extra":1}`, "unknown field"},
	} {
		if _, err := platform.ParseTokens([]byte(c.file)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %q", c.file, err, c.says)
		}
	}
}
