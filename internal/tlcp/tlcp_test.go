package tlcp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/internal/tlcp"
	"hallq/queue-server/tlsca"
)

// hallCA makes an SM2 hall CA with hallq-ca's code and issues the sign and
// the encryption certificate of a server at 127.0.0.1.
func hallCA(t *testing.T, name string) (dir string, files tlcp.ServerFiles) {
	t.Helper()
	dir = t.TempDir()
	if err := tlsca.InitSM2(dir, name); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"hall-sign", "hall-enc"} {
		r := tlsca.Request{Name: n, Hosts: []string{"127.0.0.1", "localhost"}}
		if n == "hall-enc" {
			r.Encipherment = true
		}
		if _, err := tlsca.Issue(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	return dir, tlcp.ServerFiles{
		SignCert: filepath.Join(dir, "hall-sign.pem"), SignKey: filepath.Join(dir, "hall-sign-key.pem"),
		EncCert: filepath.Join(dir, "hall-enc.pem"), EncKey: filepath.Join(dir, "hall-enc-key.pem"),
	}
}

func serve(t *testing.T, files tlcp.ServerFiles) string {
	t.Helper()
	srv, err := tlcp.LoadServer(files)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over TLCP")
	}), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	go hs.Serve(srv.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

func TestHandshakeIsTLCPWithAnSMSuite(t *testing.T) {
	dir, files := hallCA(t, "hall CA")
	addr := serve(t, files)
	ca, err := os.ReadFile(filepath.Join(dir, tlsca.CACert))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := tlcp.NewClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cl.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	st := c.(*tlcp.Conn).State
	c.Close()
	if st.Version != 0x0101 {
		t.Errorf("version %#04x, want TLCP 0x0101", st.Version)
	}
	if st.CipherSuite != tlcp.ECDHE_SM4_CBC_SM3 && st.CipherSuite != tlcp.ECC_SM4_CBC_SM3 {
		t.Errorf("suite %s, want an SM one", tlcp.SuiteName(st.CipherSuite))
	}

	// and net/http over it, both ways
	hc := &http.Client{Transport: cl.Transport(), Timeout: 30 * time.Second}
	resp, err := hc.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello over TLCP" {
		t.Errorf("body %q", body)
	}
}

func TestClientNotTrustingTheCAIsRefused(t *testing.T) {
	_, files := hallCA(t, "hall CA")
	addr := serve(t, files)
	otherDir, _ := hallCA(t, "another hall's CA")
	other, err := os.ReadFile(filepath.Join(otherDir, tlsca.CACert))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := tlcp.NewClient(other)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cl.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
		t.Fatal("a client trusting another CA completed the handshake")
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v does not say it is the certificate", err)
	}
}

func TestBadFilesArePreciseErrors(t *testing.T) {
	dir, files := hallCA(t, "hall CA")
	for name, tc := range map[string]struct {
		f    tlcp.ServerFiles
		want string
	}{
		"no enc key":   {tlcp.ServerFiles{SignCert: files.SignCert, SignKey: files.SignKey, EncCert: files.EncCert}, "no encryption key file"},
		"missing file": {tlcp.ServerFiles{SignCert: filepath.Join(dir, "nope.pem"), SignKey: files.SignKey, EncCert: files.EncCert, EncKey: files.EncKey}, "sign certificate"},
		"swapped keys": {tlcp.ServerFiles{SignCert: files.SignCert, SignKey: files.EncKey, EncCert: files.EncCert, EncKey: files.SignKey}, "does not match"},
	} {
		_, err := tlcp.LoadServer(tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, tc.want)
		}
	}
	// an ECDSA (non-SM2) hall CA's certificates are refused
	ec := t.TempDir()
	if err := tlsca.Init(ec, "ecdsa CA"); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsca.Issue(ec, tlsca.Request{Name: "s", Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	p, k := filepath.Join(ec, "s.pem"), filepath.Join(ec, "s-key.pem")
	if _, err := tlcp.LoadServer(tlcp.ServerFiles{SignCert: p, SignKey: k, EncCert: p, EncKey: k}); err == nil {
		t.Error("an ECDSA certificate was accepted for TLCP")
	}
	if _, err := tlcp.NewClient([]byte("not a pem")); err == nil {
		t.Error("a CA file without a certificate was accepted")
	}
}
