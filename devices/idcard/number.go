package idcard

import (
	"errors"
	"fmt"

	"hallq/internal/idnumber"
)

// IDNumber is a card number: an idnumber.Number, which formats, marshals
// and logs only in masked form; the raw number is reachable only as the
// HMAC key. The zero value is "no number".
type IDNumber = idnumber.Number

// CheckDigit returns the GB 11643 (ISO 7064 MOD 11-2) check character for the
// first 17 digits of a resident ID number (idnumber.CheckChar).
func CheckDigit(first17 string) (byte, error) {
	c, err := idnumber.CheckChar(first17)
	if err != nil {
		return 0, fmt.Errorf("idcard: check digit: %w", err)
	}
	return c, nil
}

// ParseIDNumber normalises s (idnumber.Parse). An 18-character number made
// of 17 digits and a digit or 'X' must carry a valid GB 11643 check digit;
// other card numbers (e.g. the 15-character 2017 foreigner card) are
// accepted if they are 6 to 30 letters and digits. Errors wrap
// ErrInvalidNumber and never quote the number.
func ParseIDNumber(s string) (IDNumber, error) {
	return parseNumber(s, true)
}

func parseNumber(s string, strict bool) (IDNumber, error) {
	parse := idnumber.Parse
	if !strict {
		parse = idnumber.ParseUnchecked
	}
	n, err := parse(s)
	var e *idnumber.Error
	if errors.As(err, &e) {
		return IDNumber{}, fmt.Errorf("%w: %s", ErrInvalidNumber, e.Reason)
	}
	return n, err
}

// Mask masks any card number the way IDNumber.Masked does (idnumber.Mask).
func Mask(s string) string { return idnumber.Mask(s) }
