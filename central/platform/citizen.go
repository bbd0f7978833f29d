package platform

import (
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
