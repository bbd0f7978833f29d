package forward_test

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
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	central "hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/tlsca"
)

// mustClientCert signs a client certificate with the CA in dir (the hall
// CA issues none; a province CA would) and writes it to dir.
func mustClientCert(t *testing.T, dir, name string) (cert, key string) {
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

// TestForwardOverMutualTLSWithPassword: a central NATS that requires TLS
// with a verified client certificate and a user/password takes the hall's
// events when the forwarder is given the province CA, the hall's client
// certificate and the credentials (ClientTLS, User, Password); a client
// without the certificate is refused.
func TestForwardOverMutualTLSWithPassword(t *testing.T) {
	ca := t.TempDir()
	if err := tlsca.Init(ca, "province CA"); err != nil {
		t.Fatal(err)
	}
	srvCert, err := tlsca.Issue(ca, tlsca.Request{Name: "central", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	hallCert, hallKey := mustClientCert(t, ca, "hall-420102-01")
	caFile := filepath.Join(ca, tlsca.CACert)

	pair, err := tls.LoadX509KeyPair(srvCert, filepath.Join(ca, "central-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(caPEM)
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir(), User: "hall", Password: "s3cret-pass",
		TLS: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	url := ns.URL()

	tlsConf, err := forward.ClientTLS(caFile, hallCert, hallKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := forward.ClientTLS(caFile, hallCert, ""); err == nil {
		t.Fatal("a certificate without its key was taken")
	}
	// without the client certificate: refused
	noCert, _ := forward.ClientTLS(caFile, "", "")
	if nc, err := nats.Connect(url, nats.Secure(noCert), nats.UserInfo("hall", "s3cret-pass")); err == nil {
		nc.Close()
		t.Fatal("a client without a certificate connected")
	}
	nc, err := nats.Connect(url, nats.Secure(tlsConf), nats.UserInfo("hall", "s3cret-pass"))
	if err != nil {
		t.Fatalf("with certificate and password: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := central.EnsureStreams(ctx, js, central.StreamOptions{}); err != nil {
		t.Fatal(err)
	}

	h := MustHall(t, "", fastConfig(), nil)
	h.StartForwarder(t, forward.Config{NATSURL: url, TLS: tlsConf, User: "hall", Password: "s3cret-pass"})
	h.Produce(t, 10)
	waitFor(t, "the events in the stream over mutual TLS", time.Minute, func() bool {
		ob, _ := h.Store.OutboxStats()
		return ob.Forwarded == 10
	})
	st, err := js.Stream(ctx, central.HallsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	if info.State.Msgs != 10 {
		t.Fatalf("stream holds %d messages, want 10", info.State.Msgs)
	}
}
