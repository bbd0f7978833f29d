package platform

import (
	"fmt"
	"strings"

	"hallq/devices/idcard"
)

// NormaliseID returns the 18-character resident ID number in canonical
// form — digits with an uppercase X check character, no spaces — after
// checking its ISO 7064 MOD 11-2 check character.
func NormaliseID(id string) (string, error) {
	id = strings.ToUpper(strings.Join(strings.Fields(id), ""))
	if len(id) != 18 {
		return "", fmt.Errorf("an ID number has 18 characters, got %d", len(id))
	}
	if _, err := idcard.ParseIDNumber(id); err != nil {
		return "", err
	}
	return id, nil
}

// CheckChar computes the check character of the first 17 digits (GB 11643).
func CheckChar(first17 string) byte {
	c, _ := idcard.CheckDigit(first17)
	return c
}

// CitizenKey is the province-wide pseudonymous key of a citizen: lowercase
// hex HMAC-SHA256(provinceKey, normalised ID number) — the scheme of
// idcard.IDNumber.Key, which kiosks use, so an appointment booked online
// matches the ID card read at the kiosk.
func CitizenKey(provinceKey []byte, id string) (string, error) {
	n, err := NormaliseID(id)
	if err != nil {
		return "", err
	}
	num, err := idcard.ParseIDNumber(n)
	if err != nil {
		return "", err
	}
	return num.Key(provinceKey), nil
}

// MaskID is the display form: the first 4 and last 4 characters, e.g.
// 4201**********1234.
func MaskID(id string) string {
	n, err := NormaliseID(id)
	if err != nil {
		return ""
	}
	return idcard.Mask(n)
}
