package hall

import (
	"encoding/base32"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The hours, a ticket's number and its parse run on every issue, so they
// no longer go through fmt; these tests hold them to the fmt forms they
// replaced, for every input those accepted or refused.

func TestParseClockAsSscanf(t *testing.T) {
	old := func(s string) (time.Duration, bool) {
		var h, m int
		if len(s) != 5 || s[2] != ':' {
			return 0, false
		}
		if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
			return 0, false
		}
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
	}
	chars := []byte("0123456789: +-x")
	n := 0
	for _, a := range chars {
		for _, b := range chars {
			for _, c := range chars {
				for _, d := range chars {
					s := string([]byte{a, b, ':', c, d})
					want, wok := old(s)
					got, err := parseClock(s)
					if (err == nil) != wok || got != want {
						t.Fatalf("parseClock(%q) = %v, %v; Sscanf gave %v, %v", s, got, err, want, wok)
					}
					n++
				}
			}
		}
	}
	for _, s := range []string{"", "9:00", "09:000", "0900", "24:00", "23:59"} {
		want, wok := old(s)
		if got, err := parseClock(s); (err == nil) != wok || got != want {
			t.Errorf("parseClock(%q) = %v, %v; Sscanf gave %v, %v", s, got, err, want, wok)
		}
	}
}

func TestFormatNumberAsSprintf(t *testing.T) {
	for _, prefix := range []string{"", "A", "VIP", "签注"} {
		for _, digits := range []int{-2, 0, 1, 3, 6, 40} {
			for _, n := range []int{-1234, -1, 0, 1, 9, 10, 99, 100, 999, 1000, 123456, 1 << 40} {
				if got, want := FormatNumber(prefix, n, digits), fmt.Sprintf("%s%0*d", prefix, digits, n); got != want {
					t.Errorf("FormatNumber(%q, %d, %d) = %q, Sprintf gives %q", prefix, n, digits, got, want)
				}
			}
		}
	}
}

func TestParseNumberAsSscanf(t *testing.T) {
	st := &state{}
	for _, number := range []string{"A001", "A000", "A", "A+5", "A-5", "A 7", "A12x", "A0x10", "A1_000", "B001", "A99999999999999999999999", "A٣"} {
		var want int
		wok := false
		if len(number) >= 1 && number[0] == 'A' {
			_, err := fmt.Sscanf(number[1:], "%d", &want)
			wok = err == nil
		}
		if !wok {
			want = 0
		}
		if got, ok := st.parseNumber(number, "A"); ok != wok || got != want {
			t.Errorf("parseNumber(%q) = %d, %v; Sscanf gave %d, %v", number, got, ok, want, wok)
		}
	}
}

// Ticket ids are base32hex in lower case, written directly: the same
// text as the upper-case alphabet lowered, which they were before.
func TestIDEncodingIsLowerBase32Hex(t *testing.T) {
	old := base32.HexEncoding.WithPadding(base32.NoPadding)
	var b [15]byte
	for i := range 2000 {
		for j := range b {
			b[j] = byte(i*31 + j*j*7 + i*j)
		}
		if got, want := idEncoding.EncodeToString(b[:]), strings.ToLower(old.EncodeToString(b[:])); got != want {
			t.Fatalf("%x: %s, was %s", b, got, want)
		}
	}
	if id := newID(); len(id) != 24 || strings.ToLower(id) != id {
		t.Fatalf("newID() = %q", id)
	}
}
