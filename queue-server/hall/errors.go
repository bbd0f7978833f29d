package hall

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable error class. It maps to an HTTP status at the API edge and
// is what clients switch on; the words a citizen reads are chosen at the edge.
type Code string

// The error codes of the hall API.
const (
	Invalid       Code = "invalid"
	NotFound      Code = "not_found"
	Conflict      Code = "conflict"
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
	Details *Details // what the citizen needs after some refusals; nil for most errors
}

// Details help a citizen after a refusal, so the kiosk can say more than
// "no": the tickets already held (already_checked_in, citizen_limit — the
// kiosk offers to reprint them), the appointment's slot and check-in window
// (outside_checkin_window), the service's hours (closed, lunch,
// issuing_stopped).
type Details struct {
	Tickets      []string  `json:"tickets,omitempty"` // ids of today's tickets the citizen holds
	SlotStart    time.Time `json:"slot_start,omitzero"`
	CheckInFrom  time.Time `json:"check_in_from,omitzero"`
	CheckInUntil time.Time `json:"check_in_until,omitzero"`
	Hours        *Hours    `json:"hours,omitempty"`
}

// With returns e with details attached.
func (e *Error) With(d *Details) *Error { e.Details = d; return e }

// ErrorDetails returns the Details of a domain error, or nil.
func ErrorDetails(err error) *Details {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
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
