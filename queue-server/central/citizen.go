package central

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// NormaliseID returns the 18-character resident ID number in canonical
// form — digits with an uppercase X check character, no spaces — after
// checking its ISO 7064 MOD 11-2 check character.
func NormaliseID(id string) (string, error) {
	id = strings.ToUpper(strings.Join(strings.Fields(id), ""))
	if len(id) != 18 {
		return "", fmt.Errorf("an ID number has 18 characters, got %d", len(id))
	}
	for i := range 17 {
		if id[i] < '0' || id[i] > '9' {
			return "", fmt.Errorf("an ID number has 17 digits then a digit or X")
		}
	}
	if c := id[17]; c != CheckChar(id[:17]) {
		return "", fmt.Errorf("the ID number's check character does not match")
	}
	return id, nil
}

// CheckChar computes the check character of the first 17 digits (GB 11643).
func CheckChar(first17 string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// CitizenKey is the province-wide pseudonymous key of a citizen: lowercase
// hex HMAC-SHA256(provinceKey, normalised ID number). Halls joined to the
// province use the same key, so an appointment booked online matches the ID
// card read at the kiosk.
func CitizenKey(provinceKey []byte, id string) (string, error) {
	n, err := NormaliseID(id)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, provinceKey)
	m.Write([]byte(n))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// MaskID is the display form: the first 4 and last 4 characters, e.g.
// 4201**********1234.
func MaskID(id string) string {
	n, err := NormaliseID(id)
	if err != nil {
		return ""
	}
	return n[:4] + strings.Repeat("*", 10) + n[14:]
}
