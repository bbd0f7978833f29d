// Package tlsca is a small certificate authority for one hall: it creates
// the hall's CA (ECDSA P-256, valid 10 years) and issues server
// certificates (for queue-server's HTTPS and WSS). Everything stays on the
// hall's own machines: no public CA is involved, clients trust the hall
// CA's certificate (ca.pem).
//
// It issues no client certificates: the hall server does not verify any
// (kiosks prove who they are with their enrolment token, sent only over
// the TLS connection the CA's server certificate protects), and a
// certificate nobody checks would only look like a second factor.
//
// Files in the CA directory:
//
//	ca.pem, ca-key.pem          the CA certificate and its key (0600)
//	<name>.pem, <name>-key.pem  an issued certificate and its key (0600)
//
// With the 国密 option, `hallq-ca init -sm2` makes an SM2 CA instead (SM2
// keys, SM2-with-SM3 signatures, GB/T 32918 and GM/T 0015; ca-key.pem is
// then PKCS #8 "PRIVATE KEY"), and issue signs SM2 server certificates
// under it; `issue -enc` signs the encryption certificate TLCP needs
// beside the sign certificate. Go's TLS cannot use them (it has no SM2
// signatures nor SM cipher suites): they are for the hall server's TLCP
// listener (internal/tlcp, -tlcp) and TLCP-capable gateways; the hall
// server's HTTPS keeps an ECDSA certificate (docs/security.md).
//
// The hallq-ca command (queue-server/cmd/hallq-ca) only calls Main.
package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hallq/internal/gm"
)

// File names inside the CA directory.
const (
	CACert = "ca.pem"
	CAKey  = "ca-key.pem"
)

// Validity of the CA and of issued certificates.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	CertValidity = 2 * 365 * 24 * time.Hour
)

// Init creates a new CA in dir. It refuses to overwrite an existing one.
func Init(dir, name string) error { return initCA(dir, name, false) }

// InitSM2 is Init for an SM2 CA (the 国密 option).
func InitSM2(dir, name string) error { return initCA(dir, name, true) }

func initCA(dir, name string, sm2 bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, CAKey)); err == nil {
		return fmt.Errorf("tlsca: %s already holds a CA (%s); refusing to overwrite it", dir, CAKey)
	}
	if name == "" {
		name = "hallq hall CA"
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"hallq"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	if sm2 {
		key, err := gm.NewSigningKey()
		if err != nil {
			return err
		}
		der, err := gm.CreateCertificate(tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return err
		}
		return writeSM2Pair(dir, "ca", der, key)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	return writePair(dir, "ca", der, key)
}

// sm2PEM is the PEM type of an SM2 CA's key (PKCS #8); an ECDSA CA's is
// "EC PRIVATE KEY".
const sm2PEM = "PRIVATE KEY"

func writeSM2Pair(dir, name string, der []byte, key *gm.SigningKey) error {
	kder, err := gm.MarshalSigningKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: sm2PEM, Bytes: kder}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// issueSM2 signs tmpl with the SM2 CA in dir, if dir holds one.
func issueSM2(dir string, r Request, tmpl *x509.Certificate) (done bool, err error) {
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKey))
	if err != nil {
		return false, nil // LoadCA says why
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != sm2PEM {
		return false, nil
	}
	caKey, err := gm.ParseSigningKey(kb.Bytes)
	if err != nil {
		return true, fmt.Errorf("tlsca: CA key: %w", err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, CACert))
	if err != nil {
		return true, fmt.Errorf("tlsca: no CA certificate in %s: %w", dir, err)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil {
		return true, fmt.Errorf("tlsca: %s holds no PEM CA certificate", dir)
	}
	parent, err := gm.ParseIssuer(cb.Bytes)
	if err != nil {
		return true, fmt.Errorf("tlsca: %w", err)
	}
	if tmpl.NotAfter.After(parent.NotAfter) {
		tmpl.NotAfter = parent.NotAfter
	}
	key, err := gm.NewSigningKey()
	if err != nil {
		return true, err
	}
	der, err := gm.CreateCertificate(tmpl, parent, &key.PublicKey, caKey)
	if err != nil {
		return true, err
	}
	return true, writeSM2Pair(dir, r.Name, der, key)
}

// Request describes a certificate to issue.
type Request struct {
	Name  string   // common name and file name, e.g. "hall-server"
	Hosts []string // DNS names and IP addresses of the server
	// Encipherment makes the certificate a TLCP encryption certificate
	// (key usage keyEncipherment, dataEncipherment and keyAgreement)
	// instead of a sign certificate; only under an SM2 CA.
	Encipherment bool
}

// ErrNoClientCerts is the answer to a request for a client certificate.
var ErrNoClientCerts = errors.New("tlsca: the hall CA issues no client certificates: the hall server does not verify them; " +
	"a kiosk authenticates with its enrolment token over TLS (docs/operations.md, TLS)")

// Issue signs a new certificate with the CA in dir and writes
// <name>.pem and <name>-key.pem there. It returns the certificate's path.
func Issue(dir string, r Request) (string, error) {
	if r.Name == "" || strings.ContainsAny(r.Name, `/\`) || strings.HasPrefix(r.Name, ".") || r.Name == "ca" {
		return "", fmt.Errorf("tlsca: invalid certificate name %q", r.Name)
	}
	if len(r.Hosts) == 0 {
		return "", errors.New("tlsca: a server certificate needs at least one host (-dns)")
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: r.Name, Organization: []string{"hallq"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(CertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range r.Hosts {
		h = strings.TrimSpace(h)
		switch ip := net.ParseIP(h); {
		case h == "":
		case ip != nil:
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		default:
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if r.Encipherment {
		tmpl.KeyUsage = x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageKeyAgreement
	}
	if done, err := issueSM2(dir, r, tmpl); done || err != nil {
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, r.Name+".pem"), nil
	}
	if r.Encipherment {
		return "", errors.New("tlsca: an encryption certificate (-enc) is for TLCP and needs an SM2 CA (hallq-ca init -sm2)")
	}
	caCert, caKey, err := LoadCA(dir)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	if tmpl.NotAfter.After(caCert.NotAfter) {
		tmpl.NotAfter = caCert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	if err := writePair(dir, r.Name, der, key); err != nil {
		return "", err
	}
	return filepath.Join(dir, r.Name+".pem"), nil
}

// LoadCA reads the CA certificate and key from dir.
func LoadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACert))
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: no CA in %s (run hallq-ca init first): %w", dir, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKey))
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: read CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("tlsca: %s holds no PEM CA", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}

func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

const usage = `usage:
  hallq-ca init  -dir D [-name "hall CA"] [-sm2]      create the hall CA (ECDSA P-256, or SM2 with -sm2; 10 years)
  hallq-ca issue -dir D -name hall-server -dns host,127.0.0.1   a server certificate
  hallq-ca issue -dir D -name hall-enc -dns host,127.0.0.1 -enc  (SM2 CA) a TLCP encryption certificate
`

// Main runs the hallq-ca command with args (without the program name) and
// returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("hallq-ca "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", env("HALLQ_CA_DIR", "./hallq-ca"), "CA directory (env HALLQ_CA_DIR)")
	name := fs.String("name", "", "init: the CA's name; issue: the certificate's name (file name and CN)")
	dns := fs.String("dns", "", "issue: comma-separated DNS names and IP addresses of the server")
	sm2 := fs.Bool("sm2", false, "init: an SM2 CA (国密; its certificates are for TLCP, not Go's TLS)")
	enc := fs.Bool("enc", false, "issue: a TLCP encryption certificate (SM2 CA only); without it, a sign/server certificate")
	clientName := fs.String("client", "", "no longer supported: the hall server verifies no client certificates")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch args[0] {
	case "init":
		initFn := Init
		if *sm2 {
			initFn = InitSM2
		}
		if err := initFn(*dir, *name); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "CA created: %s (give this file to every client), key %s\n",
			filepath.Join(*dir, CACert), filepath.Join(*dir, CAKey))
	case "issue":
		if *clientName != "" {
			fmt.Fprintln(stderr, ErrNoClientCerts)
			return 1
		}
		r := Request{Name: *name, Encipherment: *enc}
		if *dns != "" {
			r.Hosts = strings.Split(*dns, ",")
		}
		path, err := Issue(*dir, r)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "certificate: %s\nkey:         %s\n", path, strings.TrimSuffix(path, ".pem")+"-key.pem")
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	return 0
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
