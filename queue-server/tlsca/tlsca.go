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
func Init(dir, name string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, CAKey)); err == nil {
		return fmt.Errorf("tlsca: %s already holds a CA (%s); refusing to overwrite it", dir, CAKey)
	}
	if name == "" {
		name = "hallq hall CA"
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
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
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	return writePair(dir, "ca", der, key)
}

// Request describes a certificate to issue.
type Request struct {
	Name  string   // common name and file name, e.g. "hall-server"
	Hosts []string // DNS names and IP addresses of the server
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
	caCert, caKey, err := LoadCA(dir)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
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
	if tmpl.NotAfter.After(caCert.NotAfter) {
		tmpl.NotAfter = caCert.NotAfter
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
  hallq-ca init  -dir D [-name "hall CA"]             create the hall CA (ECDSA P-256, 10 years)
  hallq-ca issue -dir D -name hall-server -dns host,127.0.0.1   a server certificate
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
	clientName := fs.String("client", "", "no longer supported: the hall server verifies no client certificates")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch args[0] {
	case "init":
		if err := Init(*dir, *name); err != nil {
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
		r := Request{Name: *name}
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
