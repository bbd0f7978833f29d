package seal

import (
	"strings"
	"testing"

	"hallq/devices/idcard"
)

func TestSealOpen(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublic(k.PublicText())
	if err != nil {
		t.Fatal(err)
	}
	a, err := Seal(pub, "11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Seal(pub, "11010519491231002X")
	if a == b {
		t.Fatal("two sealings of one number are equal: they would link one citizen's tickets")
	}
	if strings.Contains(a, "1101") || len(a) > MaxSealed {
		t.Fatalf("sealed form %q", a)
	}
	if got, err := k.Open(a); err != nil || got != "11010519491231002X" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	k2, _ := ParseKey(k.Bytes())
	if k2 != k {
		t.Fatal("ParseKey(Bytes()) differs")
	}
	other, _ := NewKey()
	for _, bad := range []string{"", "not base64!", a[:len(a)-4] + "AAAA", strings.Repeat("A", MaxSealed+4)} {
		if _, err := k.Open(bad); err != ErrOpen {
			t.Errorf("Open(%.20q) = %v, want ErrOpen", bad, err)
		}
	}
	if _, err := other.Open(a); err != ErrOpen {
		t.Errorf("another hall's key opened the box: %v", err)
	}
	if _, err := ParseKey([]byte("short")); err == nil {
		t.Error("ParseKey accepted 5 bytes")
	}
	if _, err := ParsePublic("AAAA"); err == nil {
		t.Error("ParsePublic accepted 3 bytes")
	}
}

// TestSealAnIDNumber: the card's number goes into the box normalised, as
// the server derives the citizen key from it; no number, nothing sealed.
func TestSealAnIDNumber(t *testing.T) {
	k, _ := NewKey()
	num, err := idcard.ParseIDNumber(" 11010519491231002x ")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := num.Seal(func(n string) (string, error) { return Seal(k.PublicKey(), n) })
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(sealed); err != nil || got != "11010519491231002X" {
		t.Fatalf("opened %q, %v", got, err)
	}
	if s, err := (idcard.IDNumber{}).Seal(func(string) (string, error) { t.Fatal("sealed no number"); return "", nil }); s != "" || err != nil {
		t.Fatalf("zero number sealed to %q, %v", s, err)
	}
}

// With the 国密 option kiosks get the SM2 key and seal with SM2/SM3/SM4;
// numbers sealed to the NaCl key before the switch still open, and an SM2
// box opens only where the SM2 key is.
func TestSealWithSM2(t *testing.T) {
	k, _ := NewKey()
	pubBefore, _ := ParsePublic(k.PublicText())
	before, _ := Seal(pubBefore, "11010519491231002X")
	priv, err := NewSM2Private()
	if err != nil {
		t.Fatal(err)
	}
	gm, err := k.WithSM2(priv)
	if err != nil {
		t.Fatal(err)
	}
	if gm.Scheme() != "sm2-sm4" || k.Scheme() != "nacl-box" {
		t.Errorf("schemes %q, %q", gm.Scheme(), k.Scheme())
	}
	text := gm.PublicText()
	if !strings.HasPrefix(text, "sm2:") {
		t.Fatalf("the SM2 public key reads %q", text)
	}
	pub, err := ParsePublic(text)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Seal(pub, "11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Seal(pub, "11010519491231002X")
	if a == b || !strings.HasPrefix(a, "sm2:") || strings.Contains(a, "1101") || len(a) > MaxSealed {
		t.Fatalf("SM2 sealed form %q (len %d)", a, len(a))
	}
	for _, s := range []string{a, before} {
		if got, err := gm.Open(s); err != nil || got != "11010519491231002X" {
			t.Errorf("Open(%.12q…) = %q, %v", s, got, err)
		}
	}
	if _, err := k.Open(a); err != ErrOpen {
		t.Errorf("a hall without the SM2 key opened an SM2 box: %v", err)
	}
	other, _ := NewSM2Private()
	o, _ := k.WithSM2(other)
	for _, bad := range []string{a[:len(a)-4] + "AAAA", "sm2:not base64!", "sm2:"} {
		if _, err := gm.Open(bad); err != ErrOpen {
			t.Errorf("Open(%.20q) = %v, want ErrOpen", bad, err)
		}
	}
	if _, err := o.Open(a); err != ErrOpen {
		t.Errorf("another hall's SM2 key opened the box: %v", err)
	}
	for _, bad := range []string{"sm2:AAAA", "sm2:" + strings.Repeat("A", 88)} {
		if _, err := ParsePublic(bad); err == nil {
			t.Errorf("ParsePublic(%.20q) accepted", bad)
		}
	}
	if _, err := k.WithSM2([]byte("short")); err == nil {
		t.Error("WithSM2 accepted 5 bytes")
	}
}
