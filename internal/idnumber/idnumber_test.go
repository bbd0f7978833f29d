package idnumber

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCheckChar(t *testing.T) {
	for in, want := range map[string]byte{
		"11010519491231002": 'X',
		"44052418800101001": '4',
		"42010219800101001": 'X',
	} {
		if got, err := CheckChar(in); err != nil || got != want {
			t.Errorf("CheckChar(%s) = %c, %v; want %c", in, got, err, want)
		}
	}
	for _, bad := range []string{"1101051949123100A", "1101051949123100", ""} {
		if _, err := CheckChar(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckChar(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// ParseResident takes what a citizen types (spaces, a small x) and refuses,
// with a precise reason and without quoting it, anything else.
func TestParseResident(t *testing.T) {
	want := "1101**********002X"
	for _, in := range []string{"11010519491231002X", " 11010519491231002x ", "110105 19491231 002X", "110105\t1949123100 2x"} {
		n, err := ParseResident(in)
		if err != nil || n.Masked() != want || Digits(n) != "11010519491231002X" {
			t.Errorf("ParseResident(%q) = %v, %v", in, n, err)
		}
	}
	for in, reason := range map[string]string{
		"":                    "has 18 characters, got 0",
		"110105194912310021":  "check character does not match",
		"1101051949123100AX":  "character 17 is not a digit",
		"GBR420188080801":     "has 18 characters, got 15",
		"11010519491231002X1": "has 18 characters, got 19",
	} {
		_, err := ParseResident(in)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), reason) {
			t.Errorf("ParseResident(%q) = %v, want a refusal saying %q", in, err, reason)
		}
		if in != "" && strings.Contains(fmt.Sprint(err), in[:10]) {
			t.Errorf("the refusal quotes the number: %v", err)
		}
	}
}

// Parse also takes other card numbers; an 18-character resident number
// must still carry its check character, unless read unchecked.
func TestParse(t *testing.T) {
	if _, err := Parse("GBR420188080801"); err != nil {
		t.Errorf("2017 foreigner number: %v", err)
	}
	if _, err := Parse("110105194912310021"); !errors.Is(err, ErrInvalid) {
		t.Errorf("wrong check character accepted: %v", err)
	}
	if _, err := ParseUnchecked("110105194912310021"); err != nil {
		t.Errorf("unchecked: %v", err)
	}
	for _, bad := range []string{"12345", "1101051949-1231002X", "这是中文的身份证号码"} {
		if _, err := Parse(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v", bad, err)
		}
	}
}

func TestBirthDate(t *testing.T) {
	n, _ := ParseResident("11010519491231002X")
	if d, ok := n.BirthDate(); !ok || d != time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC) {
		t.Errorf("BirthDate = %v, %v", d, ok)
	}
	other, _ := Parse("GBR420188080801")
	if _, ok := other.BirthDate(); ok {
		t.Error("a foreigner card number has no birth date in it")
	}
	c, _ := CheckChar("11010519491331002") // month 13
	bad, _ := ParseResident("11010519491331002" + string(c))
	if _, ok := bad.BirthDate(); ok {
		t.Error("month 13 accepted as a birth date")
	}
}

// Age counts whole years on the hall's calendar day: older on the birthday
// itself (also after 29 February in a leap year), a 29 February child a
// year older on 1 March, and the hall's date, not UTC's, decides.
func TestAge(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	at := func(y int, m time.Month, day, h int) time.Time { return time.Date(y, m, day, h, 0, 0, 0, cst) }
	for _, c := range []struct {
		birth, now time.Time
		want       int
	}{
		{d(1966, 3, 1), at(2026, 3, 1, 9), 60},
		{d(1966, 3, 1), at(2026, 2, 28, 23), 59},
		{d(2000, 3, 1), at(2026, 3, 1, 9), 26}, // born in a leap year, after 29 Feb
		{d(2000, 12, 31), at(2026, 12, 31, 9), 26},
		{d(2000, 2, 29), at(2026, 2, 28, 9), 25},
		{d(2000, 2, 29), at(2026, 3, 1, 9), 26},
		{d(1966, 3, 1), at(2026, 3, 1, 1), 60}, // 1:00 in the hall is still 28 Feb in UTC
		{d(2030, 1, 1), at(2026, 3, 1, 9), 0},
		{time.Time{}, at(2026, 3, 1, 9), 0},
	} {
		if got := Age(c.birth, c.now); got != c.want {
			t.Errorf("Age(%s, %s) = %d, want %d", c.birth.Format(time.DateOnly), c.now, got, c.want)
		}
	}
}

// The full number never appears in any formatted, JSON or text output.
func TestNumberNeverLeaks(t *testing.T) {
	const raw = "11010519491231002X"
	n, _ := ParseResident(raw)
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, n), fmt.Sprintf(verb, &n))
	}
	j, _ := n.MarshalJSON()
	txt, _ := n.MarshalText()
	outs = append(outs, string(j), string(txt), n.String(), n.GoString(), n.LogValue().String())
	for _, o := range outs {
		if strings.Contains(o, raw) || strings.Contains(o, "1231002") {
			t.Errorf("full number leaked: %s", o)
		}
	}
	if Mask("GBR420188080801") != "GBR4*******0801" || Mask("12345678") != "******78" || Mask("") != "" {
		t.Error("Mask")
	}
	if (Number{}).Key([]byte("s")) != "" || !(Number{}).IsZero() {
		t.Error("the zero number has a key")
	}
}
