package gm

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GB/T 32905-2016 Appendix A: the two examples.
func TestSM3StandardVectors(t *testing.T) {
	for _, v := range []struct{ msg, digest string }{
		{"abc", "66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732"},
	} {
		got := SM3([]byte(v.msg))
		if want := unhex(t, v.digest); !bytes.Equal(got[:], want) {
			t.Errorf("SM3(%q) = %x, want %x", v.msg, got, want)
		}
		h := NewSM3()
		h.Write([]byte(v.msg))
		if got := h.Sum(nil); !bytes.Equal(got, unhex(t, v.digest)) {
			t.Errorf("NewSM3 over %q = %x", v.msg, got)
		}
	}
}

// HMAC-SM3 is RFC 2104 with SM3: computed here from its definition
// (block size 64) with the standard's SM3, and checked against HMACSM3.
func TestHMACSM3IsRFC2104OverSM3(t *testing.T) {
	key, msg := []byte("province secret"), []byte("110101199003070011")
	k := make([]byte, 64)
	copy(k, key)
	ipad, opad := make([]byte, 64), make([]byte, 64)
	for i := range k {
		ipad[i], opad[i] = k[i]^0x36, k[i]^0x5c
	}
	inner := SM3(append(ipad, msg...))
	want := SM3(append(opad, inner[:]...))
	if got := HMACSM3(key, msg); !bytes.Equal(got, want[:]) {
		t.Fatalf("HMACSM3 = %x, want %x", got, want)
	}
}

// GB/T 32907-2016 Appendix A: example 1 (one encryption) and example 2
// (the plaintext encrypted 1,000,000 times with the same key).
func TestSM4StandardVectors(t *testing.T) {
	key := unhex(t, "01 23 45 67 89 ab cd ef fe dc ba 98 76 54 32 10")
	out, err := EncryptBlock(key, key)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "68 1e df 34 d2 06 96 5e 86 b3 e9 4f 53 6e 42 46"); !bytes.Equal(out, want) {
		t.Fatalf("SM4 example 1 = %x, want %x", out, want)
	}
	if testing.Short() {
		return
	}
	block := append([]byte{}, key...)
	for range 1_000_000 {
		if block, err = EncryptBlock(key, block); err != nil {
			t.Fatal(err)
		}
	}
	if want := unhex(t, "59 52 98 c7 c6 fd 27 1f 04 02 f8 04 c3 3d 3f 66"); !bytes.Equal(block, want) {
		t.Fatalf("SM4 example 2 = %x, want %x", block, want)
	}
	if _, err := EncryptBlock(key[:15], key); err == nil {
		t.Error("a 15-byte key was accepted")
	}
}

// GB/T 32918.5-2017 (= GM/T 0003.5) Appendix: the signature example on
// the recommended curve — the public key of dA, Z_A of "1234567812345678",
// and the standard's (r, s) verified for "message digest"; one changed
// bit of the message or of s is refused.
func TestSM2StandardSignatureVector(t *testing.T) {
	d := unhex(t, "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8")
	x := unhex(t, "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020")
	y := unhex(t, "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13")
	pubBytes, err := SM2PublicKey(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{4}, x...), y...); !bytes.Equal(pubBytes, want) {
		t.Fatalf("public key of dA = %x, want %x", pubBytes, want)
	}
	pub, err := SM2Point(x, y)
	if err != nil {
		t.Fatal(err)
	}
	uid := []byte("1234567812345678")
	za, err := ZA(pub, uid)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3"); !bytes.Equal(za, want) {
		t.Fatalf("Z_A = %x, want %x", za, want)
	}
	r := new(big.Int).SetBytes(unhex(t, "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3"))
	s := new(big.Int).SetBytes(unhex(t, "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA"))
	sig, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("message digest")
	if !VerifySM2(pub, uid, msg, sig) {
		t.Fatal("the standard's signature does not verify")
	}
	if VerifySM2(pub, uid, []byte("message digesu"), sig) {
		t.Error("a changed message verified")
	}
	bad, _ := asn1.Marshal(struct{ R, S *big.Int }{r, new(big.Int).Xor(s, big.NewInt(1))})
	if VerifySM2(pub, uid, msg, bad) {
		t.Error("a changed s verified")
	}
	if _, err := SM2Point(x, unhex(t, strings.Repeat("00", 32))); err == nil {
		t.Error("a point off the curve was accepted")
	}
}

func TestBoxOpensOnlyWithItsKey(t *testing.T) {
	k, err := NewBoxKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("110101199003070011")
	a, err := Seal(k.PublicBytes(), msg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Seal(k.PublicBytes(), msg)
	if bytes.Equal(a, b) || bytes.Contains(a, msg) {
		t.Fatal("two boxes of one message are alike, or a box shows its message")
	}
	if len(a) != len(msg)+boxOverhead {
		t.Errorf("box is %d bytes, want %d", len(a), len(msg)+boxOverhead)
	}
	again, err := ParseBoxKey(k.PrivateBytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(a); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := NewBoxKey()
	if _, err := other.Open(a); !errors.Is(err, ErrOpen) {
		t.Errorf("another key opened the box: %v", err)
	}
	for i := range a {
		c := append([]byte{}, a...)
		c[i] ^= 1
		if _, err := k.Open(c); !errors.Is(err, ErrOpen) {
			t.Fatalf("a box with byte %d changed opened: %v", i, err)
		}
	}
	for _, c := range [][]byte{nil, a[:boxOverhead-1], a[:PublicKeySize]} {
		if _, err := k.Open(c); !errors.Is(err, ErrOpen) {
			t.Errorf("a %d-byte box: %v", len(c), err)
		}
	}
	if _, err := Seal(make([]byte, PublicKeySize), msg); err == nil {
		t.Error("sealed to a public key that is no point")
	}
	if _, err := ParseBoxKey(make([]byte, 31)); err == nil {
		t.Error("a 31-byte private key was accepted")
	}
	if err := CheckPublic(k.PublicBytes()); err != nil {
		t.Error(err)
	}
}

func TestSM2Certificates(t *testing.T) {
	caKey, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hall CA"},
		NotBefore: now, NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := CreateCertificate(caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, _ := NewSigningKey()
	leafT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "hall"},
		NotBefore: now, NotAfter: now.Add(time.Hour), DNSNames: []string{"hall.local"}}
	leafDER, err := CreateCertificate(leafT, caT, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	if !info.SM2 || info.Subject != "hall" || info.IsCA || len(info.DNSNames) != 1 {
		t.Errorf("leaf = %+v, want an SM2 certificate for hall", info)
	}
	if err := CheckSignedBy(leafDER, caDER); err != nil {
		t.Errorf("the leaf is not signed by the CA: %v", err)
	}
	otherKey, _ := NewSigningKey()
	otherDER, _ := CreateCertificate(caT, caT, &otherKey.PublicKey, otherKey)
	if err := CheckSignedBy(leafDER, otherDER); err == nil {
		t.Error("the leaf checks against another CA")
	}
	der, err := MarshalSigningKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSigningKey(der)
	if err != nil || !back.Equal(leafKey) {
		t.Errorf("the key does not survive PKCS #8: %v", err)
	}
}
