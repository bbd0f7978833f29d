package platform

import (
	"crypto/sha256"
	"fmt"
	"hash"

	"hallq/internal/gm"
	"hallq/internal/idnumber"
)

// CitizenKey is the province-wide pseudonymous key of a citizen: lowercase
// hex HMAC-SHA256(provinceKey, normalised ID number) — the scheme of
// idnumber.Number.Key, which kiosks and halls use, so an appointment booked
// online matches the ID card read at the kiosk.
func CitizenKey(provinceKey []byte, id string) (string, error) {
	n, err := idnumber.ParseResident(id)
	if err != nil {
		return "", err
	}
	return n.Key(provinceKey), nil
}

// MaskID is the display form: the first 4 and last 4 characters, e.g.
// 4201**********1234; "" for an invalid number.
func MaskID(id string) string {
	n, err := idnumber.ParseResident(id)
	if err != nil {
		return ""
	}
	return n.Masked()
}

// CitizenKeyWith is CitizenKey in the province's scheme: KeySchemeSHA256
// (CitizenKey) or KeySchemeSM3, lowercase hex HMAC-SM3 — the hall's key
// with -crypto gm.
func CitizenKeyWith(scheme string, provinceKey []byte, id string) (string, error) {
	var h func() hash.Hash
	switch scheme {
	case "", KeySchemeSHA256:
		h = sha256.New
	case KeySchemeSM3:
		h = gm.NewSM3
	default:
		return "", fmt.Errorf("unknown citizen-key scheme %q", scheme)
	}
	n, err := idnumber.ParseResident(id)
	if err != nil {
		return "", err
	}
	return n.KeyWith(h, provinceKey), nil
}
