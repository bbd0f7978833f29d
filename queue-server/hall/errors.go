package hall

import (
	"errors"
	"fmt"
)

// Code is a stable error class. It maps to an HTTP status at the API edge and
// is what clients switch on; the words a citizen reads are chosen at the edge.
type Code string

// The error codes of the hall API.
const (
	Invalid  Code = "invalid"
	NotFound Code = "not_found"
	Conflict Code = "conflict"
	// Unprocessable: the request is well-formed but cannot be taken as it
	// is; today only an idempotency key reused for a different request
	// (reason idempotency_key_reused).
	Unprocessable Code = "unprocessable"
	QuotaExceeded Code = "quota_exceeded"
	Closed        Code = "closed"
	Unauthorized  Code = "unauthorized"
	Forbidden     Code = "forbidden"
	Unavailable   Code = "unavailable"
	Internal      Code = "internal"
)

// Error is a domain error: a stable Code, an optional machine-readable Reason
// that refines it (e.g. "citizen_limit", "issuing_stopped", "blacklisted")
// and an English message for operators and logs.
type Error struct {
	Code    Code
	Reason  string
	Message string
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Reason, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Refusal returns an *Error with a reason.
func Refusal(code Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Code of err, Internal for foreign errors and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorReason returns the Reason of a domain error, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
