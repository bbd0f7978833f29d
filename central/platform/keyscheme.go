package platform

import (
	"fmt"

	"hallq/queue-server/forward"
)

// Citizen-key schemes (docs/central.md, "Citizen keys"): how a citizen's ID
// number becomes the key bookings and tickets are matched by. A hall and
// its province must use the same one; a hall's events say which it uses
// (header forward.HeaderKeyScheme; none: a hall before the option,
// hmac-sha256).
const (
	KeySchemeSHA256 = forward.KeySchemeSHA256 // HMAC-SHA256, the default
	KeySchemeSM3    = forward.KeySchemeSM3    // HMAC-SM3, the 国密 option (-crypto gm)
)

// SchemeOfCrypto is the citizen-key scheme of a -crypto setting
// ("standard" or "gm", as the hall server's).
func SchemeOfCrypto(crypto string) (string, error) {
	switch crypto {
	case "", "standard":
		return KeySchemeSHA256, nil
	case "gm":
		return KeySchemeSM3, nil
	}
	return "", fmt.Errorf("-crypto must be standard or gm, got %q", crypto)
}

// schemeMismatch is the refusal of a hall event keyed another way than
// the province's, or "" when the schemes agree.
func schemeMismatch(hallID, hallScheme, province string) string {
	if hallScheme == "" {
		hallScheme = KeySchemeSHA256
	}
	if province == "" {
		province = KeySchemeSHA256
	}
	if hallScheme == province {
		return ""
	}
	return fmt.Sprintf("hall %s keys citizens with %s, this province with %s: its events are refused (bookings would never match its cards); set the same -crypto on the hall server and the central", hallID, hallScheme, province)
}

// refuseScheme records and reports whether the event on subject, whose
// hall says scheme, is refused for a scheme other than the view's.
func (v *View) refuseScheme(subject, scheme string, streamSeq uint64) bool {
	id, ok := hallOf(subject)
	if !ok {
		return false
	}
	msg := schemeMismatch(id, scheme, v.KeyScheme)
	if msg == "" {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.total = max(v.total, streamSeq)
	h := v.halls[id]
	if h == nil {
		h = &HallView{Hall: id}
		v.halls[id] = h
	}
	if h.KeySchemeRefused == 0 {
		v.log.Error("refusing a hall's events: citizen-key schemes differ", "hall", id, "why", msg)
	}
	h.KeySchemeRefused++
	h.KeySchemeError = msg
	return true
}
