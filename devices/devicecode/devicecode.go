// Package devicecode is what the device drivers share for their errors: an
// error with a stable code (what a kiosk reports as a device's state and
// logs) and Code, which finds that code in an error's chain. Each driver
// declares its own errors with New (escpos.ErrPaperOut, idcard.ErrExpired);
// callers test them with errors.Is. Standard library only.
package devicecode

import "errors"

// Error is a device error with a stable code.
type Error struct{ code, msg string }

// New returns an error with a stable code and an English message.
func New(code, msg string) *Error { return &Error{code: code, msg: msg} }

func (e *Error) Error() string { return e.msg }

// Code returns the stable code, e.g. "timeout".
func (e *Error) Code() string { return e.code }

// Code returns the stable code of the first coded error in err's chain
// ("" for nil, "unknown" for an error without a code).
func Code(err error) string {
	if err == nil {
		return ""
	}
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	return "unknown"
}
