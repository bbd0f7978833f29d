// Package gm is hallq's one home of the national cryptographic algorithms
// (国密): SM3 (GB/T 32905) for hashes and HMAC, SM4 (GB/T 32907) in GCM
// mode for sealing, SM2 (GB/T 32918) for key agreement and certificates.
// It is the one package that imports github.com/emmansun/gmsm; everything
// else (the citizen key, the kiosk's sealing, the hall CA) asks it.
//
// The box (Seal, Open) is how a kiosk seals an ID number to the hall
// server's SM2 public key when the 国密 option is on — the SM2/SM3/SM4
// counterpart of NaCl's anonymous box:
//
//	ephemeral SM2 key pair (e, E = e·G), fresh for every box
//	Z  = x-coordinate of e·P  (P the recipient's public key; ECDH on the SM2 curve)
//	K  = KDF_SM3(Z ‖ E ‖ P, 16+12)   (the key derivation function of GB/T 32918.4 §5.4.3)
//	box = E (65 bytes, uncompressed) ‖ SM4-GCM(K[:16], nonce K[16:], msg, additional data E)
//
// Each box has its own ephemeral key, so its SM4 key and nonce are used
// once; binding E and P into the KDF ties the box to both keys; GCM's tag
// refuses any changed byte. Only the holder of P's private key can derive
// Z, so a kiosk that holds P (and anyone with its disk) cannot open a box.
package gm

import (
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/kdf"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
	"github.com/emmansun/gmsm/smx509"
)

// NewSM3 returns a new SM3 hash (32-byte digest).
func NewSM3() hash.Hash { return sm3.New() }

// SM3 is the SM3 digest of msg.
func SM3(msg []byte) [32]byte { return sm3.Sum(msg) }

// HMACSM3 is HMAC (RFC 2104) with SM3 as its hash.
func HMACSM3(key, msg []byte) []byte {
	m := hmac.New(sm3.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// SM4KeySize is the length of an SM4 key.
const SM4KeySize = 16

// NewSM4GCM returns SM4 in GCM mode (12-byte nonce, 16-byte tag) for a
// 16-byte key.
func NewSM4GCM(key []byte) (cipher.AEAD, error) {
	if len(key) != SM4KeySize {
		return nil, fmt.Errorf("gm: an SM4 key is %d bytes, not %d", SM4KeySize, len(key))
	}
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("gm: %w", err)
	}
	return cipher.NewGCM(b)
}

// EncryptBlock encrypts one 16-byte block with SM4 (the standard's
// electronic-codebook example; the rest of hallq uses GCM).
func EncryptBlock(key, block []byte) ([]byte, error) {
	if len(key) != SM4KeySize || len(block) != sm4.BlockSize {
		return nil, errors.New("gm: SM4 takes a 16-byte key and a 16-byte block")
	}
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("gm: %w", err)
	}
	out := make([]byte, sm4.BlockSize)
	b.Encrypt(out, block)
	return out, nil
}

// Box sizes.
const (
	PublicKeySize  = 65 // an uncompressed SM2 point: 0x04 ‖ x ‖ y
	PrivateKeySize = 32
	boxOverhead    = PublicKeySize + 16 // the ephemeral key and GCM's tag
)

// BoxKey is an SM2 key pair that opens boxes. Its zero value is unusable.
type BoxKey struct{ priv *ecdh.PrivateKey }

// NewBoxKey makes a fresh key pair from crypto/rand.
func NewBoxKey() (BoxKey, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return BoxKey{}, fmt.Errorf("gm: generate SM2 key: %w", err)
	}
	return BoxKey{k}, nil
}

// ParseBoxKey reads a private key as PrivateBytes writes it.
func ParseBoxKey(b []byte) (BoxKey, error) {
	if len(b) != PrivateKeySize {
		return BoxKey{}, fmt.Errorf("gm: an SM2 private key is %d bytes, not %d", PrivateKeySize, len(b))
	}
	k, err := ecdh.P256().NewPrivateKey(b)
	if err != nil {
		return BoxKey{}, fmt.Errorf("gm: SM2 private key: %w", err)
	}
	return BoxKey{k}, nil
}

// PrivateBytes is the private scalar (32 bytes, big-endian).
func (k BoxKey) PrivateBytes() []byte { return k.priv.Bytes() }

// PublicBytes is the public key, uncompressed (65 bytes).
func (k BoxKey) PublicBytes() []byte { return k.priv.PublicKey().Bytes() }

// CheckPublic reports whether b is an SM2 public key (a point on the curve).
func CheckPublic(b []byte) error {
	if len(b) != PublicKeySize {
		return fmt.Errorf("gm: an SM2 public key is %d bytes, not %d", PublicKeySize, len(b))
	}
	if _, err := ecdh.P256().NewPublicKey(b); err != nil {
		return fmt.Errorf("gm: not an SM2 public key: %w", err)
	}
	return nil
}

// ErrOpen means a box is malformed, was changed, or was sealed to another key.
var ErrOpen = errors.New("gm: the box cannot be opened with this key")

// Seal boxes msg to the holder of the SM2 public key pub (see the package
// comment for the construction).
func Seal(pub, msg []byte) ([]byte, error) { return seal(rand.Reader, pub, msg) }

func seal(random io.Reader, pub, msg []byte) ([]byte, error) {
	recipient, err := ecdh.P256().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("gm: not an SM2 public key: %w", err)
	}
	eph, err := ecdh.P256().GenerateKey(random)
	if err != nil {
		return nil, fmt.Errorf("gm: ephemeral SM2 key: %w", err)
	}
	z, err := eph.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("gm: SM2 key agreement: %w", err)
	}
	e := eph.PublicKey().Bytes()
	aead, nonce, err := boxCipher(z, e, pub)
	if err != nil {
		return nil, err
	}
	return aead.Seal(e, nonce, msg, e), nil
}

// Open opens a box made by Seal to k's public key.
func (k BoxKey) Open(box []byte) ([]byte, error) {
	if k.priv == nil || len(box) < boxOverhead {
		return nil, ErrOpen
	}
	e := box[:PublicKeySize]
	eph, err := ecdh.P256().NewPublicKey(e)
	if err != nil {
		return nil, ErrOpen
	}
	z, err := k.priv.ECDH(eph)
	if err != nil {
		return nil, ErrOpen
	}
	aead, nonce, err := boxCipher(z, e, k.PublicBytes())
	if err != nil {
		return nil, ErrOpen
	}
	msg, err := aead.Open(nil, nonce, box[PublicKeySize:], e)
	if err != nil {
		return nil, ErrOpen
	}
	return msg, nil
}

func boxCipher(z, e, p []byte) (cipher.AEAD, []byte, error) {
	in := append(append(append([]byte{}, z...), e...), p...)
	km := kdf.Kdf(sm3.New(), in, SM4KeySize+12)
	aead, err := NewSM4GCM(km[:SM4KeySize])
	if err != nil {
		return nil, nil, err
	}
	return aead, km[SM4KeySize:], nil
}

// SigningKey is an SM2 key for certificates (a crypto.Signer).
type SigningKey = sm2.PrivateKey

// NewSigningKey makes a fresh SM2 signing key from crypto/rand.
func NewSigningKey() (*SigningKey, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("gm: generate SM2 key: %w", err)
	}
	return k, nil
}

// CreateCertificate is x509.CreateCertificate for SM2 keys: pub is the
// subject's *ecdsa.PublicKey on the SM2 curve, signer the issuer's
// *SigningKey; the signature is SM2 with SM3 (OID 1.2.156.10197.1.501).
func CreateCertificate(template, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *SigningKey) ([]byte, error) {
	der, err := smx509.CreateCertificate(rand.Reader, template, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("gm: create SM2 certificate: %w", err)
	}
	return der, nil
}

// MarshalSigningKey is the key in PKCS #8 DER (PEM type "PRIVATE KEY").
func MarshalSigningKey(k *SigningKey) ([]byte, error) {
	return smx509.MarshalPKCS8PrivateKey(k)
}

// ParseSigningKey reads a key as MarshalSigningKey writes it.
func ParseSigningKey(der []byte) (*SigningKey, error) {
	k, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("gm: SM2 private key: %w", err)
	}
	sk, ok := k.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("gm: the key is a %T, not SM2", k)
	}
	return sk, nil
}

// CertInfo is what a parsed SM2 certificate tells.
type CertInfo struct {
	Subject   string
	IsCA      bool
	DNSNames  []string
	SM2       bool // its key is an SM2 key and its signature SM2-with-SM3
	PublicKey *ecdsa.PublicKey
	KeyUsage  x509.KeyUsage
}

// ParseCertificate reads a DER certificate signed with SM2.
func ParseCertificate(der []byte) (CertInfo, error) {
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return CertInfo{}, fmt.Errorf("gm: certificate: %w", err)
	}
	pub, _ := c.PublicKey.(*ecdsa.PublicKey)
	return CertInfo{
		Subject: c.Subject.CommonName, IsCA: c.IsCA, DNSNames: c.DNSNames, PublicKey: pub, KeyUsage: x509.KeyUsage(c.KeyUsage),
		SM2: pub != nil && sm2.IsSM2PublicKey(pub) && c.SignatureAlgorithm == smx509.SM2WithSM3,
	}, nil
}

// CheckSignedBy reports whether the certificate cert was signed by the
// certificate parent's key (both DER).
func CheckSignedBy(cert, parent []byte) error {
	c, err := smx509.ParseCertificate(cert)
	if err != nil {
		return fmt.Errorf("gm: certificate: %w", err)
	}
	p, err := smx509.ParseCertificate(parent)
	if err != nil {
		return fmt.Errorf("gm: issuer certificate: %w", err)
	}
	if err := c.CheckSignatureFrom(p); err != nil {
		return fmt.Errorf("gm: %w", err)
	}
	return nil
}

// VerifySM2 checks an ASN.1 SM2 signature of msg by pub with the signer's
// identity uid (the standard's default is "1234567812345678").
func VerifySM2(pub *ecdsa.PublicKey, uid, msg, sig []byte) bool {
	return sm2.VerifyASN1WithSM2(pub, uid, msg, sig)
}

// ZA is the SM2 signer-identity digest Z_A of GB/T 32918.2 §5.5.
func ZA(pub *ecdsa.PublicKey, uid []byte) ([]byte, error) { return sm2.CalculateZA(pub, uid) }

// SM2PublicKey is the uncompressed public key (0x04 ‖ x ‖ y) of the
// private scalar d.
func SM2PublicKey(d []byte) ([]byte, error) {
	k, err := ParseBoxKey(d)
	if err != nil {
		return nil, err
	}
	return k.PublicBytes(), nil
}

// SM2Point is the SM2 public key with affine coordinates x, y (big-endian),
// checked to lie on the curve.
func SM2Point(x, y []byte) (*ecdsa.PublicKey, error) {
	p := append(append([]byte{4}, pad32(x)...), pad32(y)...)
	if err := CheckPublic(p); err != nil {
		return nil, err
	}
	// gmsm v0.15.5 keeps SM2 public keys as ecdsa.PublicKey with big.Int
	// coordinates and has no constructor from bytes; the point was checked
	// on the curve above.
	//lint:ignore SA1019 the SM2 library's key type needs the coordinates
	return &ecdsa.PublicKey{Curve: sm2.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
}

func pad32(b []byte) []byte {
	if len(b) >= 32 {
		return b
	}
	return append(make([]byte, 32-len(b)), b...)
}

// ParseIssuer reads an SM2 CA certificate (DER) as the parent
// CreateCertificate signs under.
func ParseIssuer(der []byte) (*x509.Certificate, error) {
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("gm: CA certificate: %w", err)
	}
	return c.ToX509(), nil
}
