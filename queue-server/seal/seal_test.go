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
	sealed, err := num.Seal(func(n string) (string, error) { return Seal(k.Public, n) })
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
