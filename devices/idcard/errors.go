package idcard

import (
	"fmt"

	"hallq/devices/devicecode"
)

// Error is a reader or card error with a stable code (shared by the
// drivers: devicecode.Error).
type Error = devicecode.Error

// Link and card errors. Returned errors wrap these (test with errors.Is) and
// add context.
var (
	ErrTimeout       = devicecode.New("timeout", "no reply from the reader before the deadline")
	ErrBadChecksum   = devicecode.New("checksum", "reply checksum mismatch")
	ErrFrame         = devicecode.New("frame", "malformed or truncated reply frame")
	ErrDeviceGone    = devicecode.New("device_gone", "reader disconnected")
	ErrExpired       = devicecode.New("expired", "card has expired")
	ErrInvalidNumber = devicecode.New("invalid_number", "invalid ID number")
	ErrText          = devicecode.New("bad_text", "unreadable card text block")
)

// StatusError is a failure status (SW3) reported by the SAM module.
type StatusError struct {
	Cmd Command // the request that failed
	SW3 byte
}

type statusInfo struct{ code, msg string }

// statuses maps every documented failure SW3 to its code and message.
var statuses = map[byte]statusInfo{
	0x91: {"no_item", "no such item on the card (e.g. no fingerprint)"},
	0x10: {"request_checksum", "the reader got a request with a bad checksum"},
	0x11: {"request_length", "the reader got a request with a bad length"},
	0x21: {"bad_command", "the reader does not know the command"},
	0x23: {"unauthorised", "unauthorised operation"},
	0x24: {"unrecognised_error", "unrecognised error"},
	0x31: {"card_auth_sam", "the card failed to authenticate the SAM"},
	0x32: {"sam_auth_card", "the SAM failed to authenticate the card"},
	0x33: {"verify_failed", "card data verification failed"},
	0x37: {"fingerprint_error", "fingerprint verification error"},
	0x3F: {"data_length", "data length error"},
	0x40: {"unknown_card_type", "unrecognised card type"},
	0x41: {"read_failed", "reading the card failed"},
	0x47: {"random_failed", "random number generation failed"},
	0x60: {"sam_self_test", "SAM self-test failed"},
	0x66: {"sam_unauthorised", "SAM not authorised"},
	0x80: {"no_card", "no card on the reader"},
	0x81: {"select_failed", "selecting the card failed"},
}

// StatusCodes lists every SW3 failure status the package knows.
func StatusCodes() []byte {
	out := make([]byte, 0, len(statuses))
	for sw := range statuses {
		out = append(out, sw)
	}
	return out
}

// Code returns the stable code for the status, "unknown_status" if the SW3 is
// undocumented.
func (e *StatusError) Code() string {
	if s, ok := statuses[e.SW3]; ok {
		return s.code
	}
	return "unknown_status"
}

func (e *StatusError) Error() string {
	msg := "undocumented status"
	if s, ok := statuses[e.SW3]; ok {
		msg = s.msg
	}
	return fmt.Sprintf("idcard: %v: SW3=%02X: %s", e.Cmd, e.SW3, msg)
}

// ExpiredError reports a card past its validity date.
type ExpiredError struct {
	ValidTo string // YYYY-MM-DD
}

func (e *ExpiredError) Error() string { return "idcard: card expired on " + e.ValidTo }

// Code returns "expired".
func (e *ExpiredError) Code() string { return ErrExpired.Code() }

// Unwrap makes errors.Is(err, ErrExpired) true.
func (e *ExpiredError) Unwrap() error { return ErrExpired }

// Code returns the stable code of the first coded error in err's chain
// ("" for nil, "unknown" for an error without a code).
func Code(err error) string { return devicecode.Code(err) }
