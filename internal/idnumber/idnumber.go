// Package idnumber is the one home of the rules about Chinese identity-card
// numbers, shared by the ID-card driver (devices/idcard), the hall server
// (queue-server/api, queue-server/hall) and the central platform:
//
//   - the GB 11643 (ISO 7064 MOD 11-2) check character of a resident ID
//     number (CheckChar);
//   - normalisation: white space dropped, the check character 'x' in upper
//     case (Parse for any card number, ParseResident for the 18-character
//     resident ID number the platform and remote tickets require);
//   - the birth date a resident ID number carries, and a holder's age in
//     whole years on a calendar day (Number.BirthDate, Age);
//   - the masked display form, 4201**********1234 (Mask, Number.Masked).
//
// A Number formats, marshals and logs only in its masked form; the raw
// number is reachable only through the citizen key, HMAC-SHA256(secret,
// normalised number) (Number.Key). Errors never quote the number.
//
// It imports only the standard library, so the domain may use it.
package idnumber

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Number is a card number. It is a comparable value that formats, marshals
// and logs only in masked form; the raw number is reachable only as the
// HMAC key. The zero value is "no number".
type Number struct {
	n string // normalised
}

// ErrInvalid is what every parse error wraps (test with errors.Is).
var ErrInvalid = errors.New("invalid ID number")

// Error says why a string is not a valid number. It never quotes the number.
type Error struct {
	Reason string // e.g. "check character does not match (GB 11643)"
}

func (e *Error) Error() string { return ErrInvalid.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

var (
	weights    = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	checkChars = "10X98765432"
)

// CheckChar returns the GB 11643 (ISO 7064 MOD 11-2) check character for
// the first 17 digits of a resident ID number.
func CheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, invalid("the check character needs 17 digits, got %d characters", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, invalid("character %d is not a digit", i+1)
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11], nil
}

// normalise drops white space anywhere and upper-cases the rest.
func normalise(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
}

// Parse normalises s. An 18-character number made of 17 digits and a digit
// or 'X' must carry a valid check character; other card numbers (e.g. the
// 15-character 2017 foreigner card) are accepted if they are 6 to 30 letters
// and digits.
func Parse(s string) (Number, error) { return parse(s, true) }

// ParseUnchecked is Parse without the check-character test, for numbers
// read from a card layout that is only partly verified (the 2023 foreigner
// card): the number is taken as the chip holds it.
func ParseUnchecked(s string) (Number, error) { return parse(s, false) }

func parse(s string, strict bool) (Number, error) {
	n := normalise(s)
	if len(n) < 6 || len(n) > 30 {
		return Number{}, invalid("length %d", len(n))
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return Number{}, invalid("character %d is not a letter or digit", i+1)
		}
	}
	if strict && len(n) == 18 && allDigits(n[:17]) {
		want, _ := CheckChar(n[:17])
		if n[17] != want {
			return Number{}, invalid("check character does not match (GB 11643)")
		}
	}
	return Number{n: n}, nil
}

// ParseResident accepts only an 18-character resident ID number (white
// space anywhere is dropped, 'x' is upper-cased): 17 digits and a matching
// GB 11643 check character.
func ParseResident(s string) (Number, error) {
	n := normalise(s)
	if len(n) != 18 {
		return Number{}, invalid("a resident ID number has 18 characters, got %d", len(n))
	}
	want, err := CheckChar(n[:17])
	if err != nil {
		return Number{}, err
	}
	if n[17] != want {
		return Number{}, invalid("check character does not match (GB 11643)")
	}
	return Number{n: n}, nil
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
func (id Number) IsZero() bool { return id.n == "" }

// IsResident reports whether id is an 18-character resident ID number
// (17 digits and a check character).
func (id Number) IsResident() bool { return len(id.n) == 18 && allDigits(id.n[:17]) }

// BirthDate returns the date of birth a resident ID number carries
// (characters 7–14, YYYYMMDD), as midnight UTC of that calendar day; ok is
// false for other numbers and impossible dates.
func (id Number) BirthDate() (date time.Time, ok bool) {
	if !id.IsResident() {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", id.n[6:14])
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// Age returns the whole years from the calendar date birth (read in its
// own location) to now's calendar date (read in now's location, e.g. the
// hall's time zone): a citizen is a year older on their birthday, and one
// born on 29 February on 1 March in other years. It is 0 for a zero birth
// date or one after now.
func Age(birth, now time.Time) int {
	if birth.IsZero() {
		return 0
	}
	by, bm, bd := birth.Date()
	ny, nm, nd := now.Date()
	age := ny - by
	if nm < bm || nm == bm && nd < bd {
		age--
	}
	return max(age, 0)
}

// Key returns the citizen key: lowercase hex of HMAC-SHA256(secret,
// normalised number). It returns "" for the zero Number.
func (id Number) Key(secret []byte) string { return id.KeyWith(sha256.New, secret) }

// KeyWith is Key with another hash under the HMAC (the 国密 option's SM3,
// internal/gm.NewSM3); the key is lowercase hex of its output.
func (id Number) KeyWith(h func() hash.Hash, secret []byte) string {
	if id.IsZero() {
		return ""
	}
	m := hmac.New(h, secret)
	m.Write([]byte(id.n))
	return hex.EncodeToString(m.Sum(nil))
}

// Seal hands the normalised number to seal, which must encrypt it (a kiosk
// seals it to the hall server's public key), and returns seal's result.
// Besides Key, it is the only way the raw number leaves the type.
func (id Number) Seal(seal func(normalised string) (string, error)) (string, error) {
	if id.IsZero() {
		return "", nil
	}
	return seal(id.n)
}

// Masked returns the first 4 and last 4 characters with asterisks between,
// e.g. 4201**********1234; numbers shorter than 10 are masked entirely but
// for the last 2.
func (id Number) Masked() string { return Mask(id.n) }

// Mask masks any card number the way Number.Masked does.
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
func (id Number) String() string { return id.Masked() }

// GoString returns Go syntax with the masked form.
func (id Number) GoString() string { return "idnumber.Number(" + strconv.Quote(id.Masked()) + ")" }

// Format prints the masked form for every verb (%v, %+v, %#v, %s, %q, %x …).
func (id Number) Format(f fmt.State, verb rune) {
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
func (id Number) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(id.Masked())), nil }

// MarshalText encodes the masked form.
func (id Number) MarshalText() ([]byte, error) { return []byte(id.Masked()), nil }

// LogValue logs the masked form.
func (id Number) LogValue() slog.Value { return slog.StringValue(id.Masked()) }

// Digits returns the normalised number itself. It exists for one caller:
// encoding a number back into a card's text block (devices/idcard's
// EncodeText, which the reader simulator uses); the dependency test fails
// when any other package calls it. Everything else uses Key or Masked.
func Digits(id Number) string { return id.n }
