// Package tlcp is the hall's TLCP transport (GB/T 38636-2020, the Chinese
// TLS variant, protocol version 0x0101): a listener for the hall server
// with an SM2 sign certificate and an SM2 encryption certificate (TLCP's
// double certificates), and a dialer and http.Transport for the kiosk that
// trust only the hall CA (an SM2 CA, `hallq-ca init -sm2`).
//
// Go's crypto/tls offers neither TLCP nor the SM suites, so this package
// wraps github.com/tjfoc/gmsm's gmtls, and it is the only package that
// imports it (internal/archtest holds the rule). The one suite offered is
// ECC_SM4_CBC_SM3 (0xe013: SM2 key transport to the encryption
// certificate, SM4-CBC, HMAC-SM3), which has no forward secrecy; gmtls
// v1.4.1's ECDHE_SM4_CBC_SM3 (0xe011) is unfinished (its key exchange
// panics), so neither end offers it. There is no fallback to TLS on a TLCP
// listener.
package tlcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tjfoc/gmsm/gmtls"
	"github.com/tjfoc/gmsm/x509"
)

// Version is TLCP's protocol version on the wire.
const Version uint16 = gmtls.VersionGMSSL

// The TLCP cipher suites (GB/T 38636 table; GM/T 0024).
const (
	ECC_SM4_CBC_SM3   uint16 = gmtls.GMTLS_SM2_WITH_SM4_SM3
	ECDHE_SM4_CBC_SM3 uint16 = gmtls.GMTLS_ECDHE_SM2_WITH_SM4_SM3
)

// SuiteName names a TLCP cipher suite for logs and errors.
func SuiteName(s uint16) string {
	switch s {
	case ECC_SM4_CBC_SM3:
		return "ECC_SM4_CBC_SM3"
	case ECDHE_SM4_CBC_SM3:
		return "ECDHE_SM4_CBC_SM3"
	}
	return fmt.Sprintf("0x%04x", s)
}

// ServerFiles names the PEM files of a TLCP server: the sign certificate
// and key (authentication) and the encryption certificate and key (key
// exchange), both issued by the hall's SM2 CA.
type ServerFiles struct {
	SignCert, SignKey, EncCert, EncKey string
}

// Empty reports whether no file is named (TLCP is off).
func (f ServerFiles) Empty() bool {
	return f.SignCert == "" && f.SignKey == "" && f.EncCert == "" && f.EncKey == ""
}

// Server is a loaded TLCP server configuration.
type Server struct{ cfg *gmtls.Config }

// LoadServer reads and checks the four files of f: each certificate must
// be an SM2 certificate matching its key.
func LoadServer(f ServerFiles) (*Server, error) {
	for _, p := range []struct{ flag, path string }{
		{"sign certificate", f.SignCert}, {"sign key", f.SignKey}, {"encryption certificate", f.EncCert}, {"encryption key", f.EncKey}} {
		if p.path == "" {
			return nil, fmt.Errorf("tlcp: no %s file: TLCP needs a sign and an encryption certificate with their keys", p.flag)
		}
	}
	read := func(what, path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("tlcp: %s: %w", what, err)
		}
		return b, nil
	}
	var pems [4][]byte
	for i, p := range []struct{ what, path string }{
		{"sign certificate", f.SignCert}, {"sign key", f.SignKey}, {"encryption certificate", f.EncCert}, {"encryption key", f.EncKey}} {
		b, err := read(p.what, p.path)
		if err != nil {
			return nil, err
		}
		pems[i] = b
	}
	return NewServer(pems[0], pems[1], pems[2], pems[3])
}

// NewServer is LoadServer from PEM bytes.
func NewServer(signCert, signKey, encCert, encKey []byte) (*Server, error) {
	sign, err := keyPair("sign", signCert, signKey)
	if err != nil {
		return nil, err
	}
	enc, err := keyPair("encryption", encCert, encKey)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: &gmtls.Config{
		GMSupport:    gmtls.NewGMSupport(),
		Certificates: []gmtls.Certificate{sign, enc},
		CipherSuites: []uint16{ECC_SM4_CBC_SM3},
	}}, nil
}

func keyPair(what string, certPEM, keyPEM []byte) (gmtls.Certificate, error) {
	c, err := gmtls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return gmtls.Certificate{}, fmt.Errorf("tlcp: %s certificate and key: %w", what, err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return gmtls.Certificate{}, fmt.Errorf("tlcp: %s certificate: %w", what, err)
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA || leaf.SignatureAlgorithm != x509.SM2WithSM3 {
		return gmtls.Certificate{}, fmt.Errorf("tlcp: the %s certificate is not an SM2 certificate signed with SM2-with-SM3 (issue it under an SM2 CA: hallq-ca init -sm2)", what)
	}
	if time.Now().After(leaf.NotAfter) {
		return gmtls.Certificate{}, fmt.Errorf("tlcp: the %s certificate expired on %s", what, leaf.NotAfter.Format(time.DateOnly))
	}
	return c, nil
}

// Listener wraps inner: every accepted connection speaks TLCP (the
// handshake runs on its first read or write, under the server's deadlines).
func (s *Server) Listener(inner net.Listener) net.Listener {
	return gmtls.NewListener(inner, s.cfg)
}

// Client dials a TLCP server whose sign and encryption certificates chain
// to the hall CA.
type Client struct{ cfg *gmtls.Config }

// NewClient returns a client trusting only the CA certificates in caPEM.
func NewClient(caPEM []byte) (*Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("tlcp: no CA certificate in the PEM given (the hall's SM2 CA, ca.pem of hallq-ca init -sm2)")
	}
	return &Client{cfg: &gmtls.Config{
		GMSupport:    gmtls.NewGMSupport(),
		RootCAs:      pool,
		CipherSuites: []uint16{ECC_SM4_CBC_SM3},
	}}, nil
}

// State is what a TLCP handshake agreed on.
type State struct {
	Version     uint16
	CipherSuite uint16
}

// Conn is a client TLCP connection after its handshake.
type Conn struct {
	net.Conn
	State State
}

// DialContext connects to addr ("host:port") and completes the TLCP
// handshake, verifying the server's certificates against the CA and host.
// It has the signature of http.Transport's DialTLSContext and
// websocket.Dialer's NetDialTLSContext.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tlcp: address %q: %w", addr, err)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := c.cfg.Clone()
	cfg.ServerName = host
	tc := gmtls.Client(raw, cfg)
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	// the handshake takes no context: a cancelled ctx closes the connection
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	err = tc.Handshake()
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("tlcp: handshake with %s: %w", addr, err)
	}
	_ = raw.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	return &Conn{Conn: tc, State: State{Version: st.Version, CipherSuite: st.CipherSuite}}, nil
}

// Transport returns an http.Transport whose https:// connections are
// TLCP connections made by c (HTTP/1.1; TLCP has no ALPN here).
func (c *Client) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialTLSContext = c.DialContext
	tr.ForceAttemptHTTP2 = false
	tr.TLSClientConfig = nil
	return tr
}
