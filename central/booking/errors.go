package booking

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is the stable kind of an error, the hall API's codes.
type Code string

// Codes, with their HTTP status (Status).
const (
	Invalid       Code = "invalid"        // 400
	Unauthorized  Code = "unauthorized"   // 401
	Forbidden     Code = "forbidden"      // 403
	NotFound      Code = "not_found"      // 404
	Conflict      Code = "conflict"       // 409
	QuotaExceeded Code = "quota_exceeded" // 429
	Unavailable   Code = "unavailable"    // 503
	Internal      Code = "internal"       // 500
)

// Reason names a refusal precisely; clients switch on it. Spelled once,
// here, and listed in docs/central.md.
type Reason string

// Reasons.
const (
	ReasonBadJSON        Reason = "bad_json"        // the body is not one JSON object of the documented shape
	ReasonUnknownField   Reason = "unknown_field"   // the body names a field the API does not have
	ReasonBadField       Reason = "bad_field"       // a field's value is not allowed (the message names it)
	ReasonNoToken        Reason = "no_token"        // no bearer token
	ReasonBadToken       Reason = "bad_token"       // signature, audience, expiry or issuer refused
	ReasonNotCitizen     Reason = "not_citizen"     // a staff token on a citizen route
	ReasonNotStaff       Reason = "not_staff"       // a citizen token on a staff route, or a hall not supervised
	ReasonUnknownHall    Reason = "unknown_hall"    // no such hall at the province
	ReasonUnknownService Reason = "unknown_service" // the hall has no bookable service of that letter
	ReasonUnknownMatter  Reason = "unknown_matter"  // no such matter, or it is not served by that service or not bookable
	ReasonUnknownBooking Reason = "unknown_booking" // no such booking of this citizen
	ReasonNotASlot       Reason = "not_a_slot"      // slot_start is not the start of one of the day's slots
	ReasonHallClosed     Reason = "hall_closed"     // the hall is closed that day (closure, holiday)
	ReasonSlotInPast     Reason = "slot_in_past"    // the slot has begun or ended
	ReasonBookingCutoff  Reason = "booking_cutoff"  // too close to the slot to book it
	ReasonCancelCutoff   Reason = "cancel_cutoff"   // too close to the slot to cancel or move it
	ReasonNotReleased    Reason = "not_released"    // the day is beyond the booking window (not yet released)
	ReasonSlotFull       Reason = "slot_full"       // every seat of the slot is taken
	ReasonAlreadyBooked  Reason = "already_booked"  // the citizen holds an open booking for that service
	ReasonDayCap         Reason = "day_cap"         // the citizen's bookings for that day are at the cap
	ReasonWeekCap        Reason = "week_cap"        // the citizen's bookings for that week are at the cap
	ReasonBanned         Reason = "banned"          // the missed-booking rule bars the citizen for now
	ReasonNotOpen        Reason = "not_open"        // the booking is no longer booked (cancelled, arrived, …)
	ReasonChanged        Reason = "changed"         // someone else changed it since the revision given
	ReasonSameSlot       Reason = "same_slot"       // a reschedule to the slot the booking already has
	ReasonNotBanned      Reason = "not_banned"      // lifting a ban that is not in force (ended, or lifted already)
)

// Reasons lists every reason (docs and tests read it).
var Reasons = []Reason{ReasonBadJSON, ReasonUnknownField, ReasonBadField, ReasonNoToken, ReasonBadToken, ReasonNotCitizen,
	ReasonNotStaff, ReasonUnknownHall, ReasonUnknownService, ReasonUnknownMatter, ReasonUnknownBooking, ReasonNotASlot,
	ReasonHallClosed, ReasonSlotInPast, ReasonBookingCutoff, ReasonCancelCutoff, ReasonNotReleased, ReasonSlotFull,
	ReasonAlreadyBooked, ReasonDayCap, ReasonWeekCap, ReasonBanned, ReasonNotOpen, ReasonChanged, ReasonSameSlot, ReasonNotBanned}

// Error is a refusal or failure with its code and reason; Details, on
// some refusals, say more (the closure's reason, the ban's end, …).
type Error struct {
	Code    Code   `json:"code"`
	Reason  Reason `json:"reason,omitempty"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
	cause   error
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }
func (e *Error) Unwrap() error { return e.cause }

func refuse(c Code, r Reason, format string, args ...any) *Error {
	return &Error{Code: c, Reason: r, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) with(d any) *Error { e.Details = d; return e }

// Status maps a code to its HTTP status.
func Status(c Code) int {
	switch c {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case QuotaExceeded:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// asError is err as the client sees it: a refusal as it is, anything else
// as unavailable (JetStream unreachable: retry) keeping its cause for the
// log.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Unavailable, Message: "the booking service cannot reach its store; please retry", cause: err}
}
