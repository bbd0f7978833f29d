package idcard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// IDNumber is a card number. It is a comparable value that formats, marshals
// and logs only in masked form; the raw number is reachable only as the HMAC
// key. The zero value is "no number".
type IDNumber struct {
	n string // normalised
}

var (
	weights    = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	checkChars = "10X98765432"
)

// CheckDigit returns the GB 11643 (ISO 7064 MOD 11-2) check character for the
// first 17 digits of a resident ID number.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("idcard: check digit needs 17 digits, got %d characters", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("idcard: check digit: character %d is not a digit", i+1)
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11], nil
}

// ParseIDNumber trims s and upper-cases it. An 18-character number made of 17
// digits and a digit or 'X' must carry a valid GB 11643 check digit; other
// card numbers (e.g. the 15-character 2017 foreigner card) are accepted if
// they are 6 to 30 letters and digits. Errors wrap ErrInvalidNumber and never
// quote the number.
func ParseIDNumber(s string) (IDNumber, error) {
	return parseNumber(s, true)
}

func parseNumber(s string, strict bool) (IDNumber, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	if len(n) < 6 || len(n) > 30 {
		return IDNumber{}, fmt.Errorf("%w: length %d", ErrInvalidNumber, len(n))
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return IDNumber{}, fmt.Errorf("%w: character %d is not a letter or digit", ErrInvalidNumber, i+1)
		}
	}
	if strict && len(n) == 18 && allDigits(n[:17]) {
		want, _ := CheckDigit(n[:17])
		if n[17] != want {
			return IDNumber{}, fmt.Errorf("%w: check digit does not match (GB 11643)", ErrInvalidNumber)
		}
	}
	return IDNumber{n: n}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsZero reports whether there is no number.
func (id IDNumber) IsZero() bool { return id.n == "" }

// Key returns the citizen key: lowercase hex of HMAC-SHA256(secret, normalised
// number). It returns "" for the zero IDNumber.
func (id IDNumber) Key(secret []byte) string {
	if id.IsZero() {
		return ""
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id.n))
	return hex.EncodeToString(m.Sum(nil))
}

// Seal hands the normalised number to seal, which must encrypt it (a kiosk
// seals it to the hall server's public key), and returns seal's result.
// Besides Key, it is the only way the raw number leaves the type.
func (id IDNumber) Seal(seal func(normalised string) (string, error)) (string, error) {
	if id.IsZero() {
		return "", nil
	}
	return seal(id.n)
}

// Masked returns the first 4 and last 4 characters with asterisks between,
// e.g. 4201**********1234; numbers shorter than 10 are masked entirely but
// for the last 2.
func (id IDNumber) Masked() string { return Mask(id.n) }

// Mask masks any card number the way IDNumber.Masked does.
func Mask(s string) string {
	r := []rune(s)
	switch {
	case len(r) == 0:
		return ""
	case len(r) < 10:
		keep := max(len(r)-2, 0)
		return strings.Repeat("*", keep) + string(r[keep:])
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// String returns the masked form.
func (id IDNumber) String() string { return id.Masked() }

// GoString returns Go syntax with the masked form.
func (id IDNumber) GoString() string { return "idcard.IDNumber(" + strconv.Quote(id.Masked()) + ")" }

// Format prints the masked form for every verb (%v, %+v, %#v, %s, %q, %x …).
func (id IDNumber) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, id.GoString())
			return
		}
	case 'q':
		fmt.Fprint(f, strconv.Quote(id.Masked()))
		return
	}
	fmt.Fprint(f, id.Masked())
}

// MarshalJSON encodes the masked form as a JSON string.
func (id IDNumber) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(id.Masked())), nil }

// MarshalText encodes the masked form.
func (id IDNumber) MarshalText() ([]byte, error) { return []byte(id.Masked()), nil }

// LogValue logs the masked form.
func (id IDNumber) LogValue() slog.Value { return slog.StringValue(id.Masked()) }
