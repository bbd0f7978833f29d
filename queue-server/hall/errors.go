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

// Codes lists every error code, in a stable order.
var Codes = []Code{Invalid, NotFound, Conflict, Unprocessable, QuotaExceeded, Closed, Unauthorized, Forbidden, Unavailable, Internal}

// Reason refines a Code for the UI: the kiosk and the pages choose the
// words a citizen or clerk reads from it. Each reason is spelt once, here;
// a test (TestEveryReasonIsDeclared) fails when the code refuses with a
// reason this list does not have.
type Reason string

// The refusal reasons of the hall API, by the code they refine.
const (
	// invalid
	ReasonIDRequired        Reason = "id_required"
	ReasonInvalidIDNumber   Reason = "invalid_id_number"
	ReasonInvalidConfig     Reason = "invalid_config"
	ReasonBadIdempotencyKey Reason = "bad_idempotency_key"
	ReasonUnsealableID      Reason = "unsealable_id"
	ReasonInvalidCatalog    Reason = "invalid_catalog"
	ReasonRatingNeedsReason Reason = "rating_needs_reason"
	// forbidden
	ReasonNotYourWindow    Reason = "not_your_window"
	ReasonNotYourTicket    Reason = "not_your_ticket"
	ReasonActionNotAllowed Reason = "action_not_allowed"
	ReasonBlacklisted      Reason = "blacklisted"
	ReasonRemoteNotAllowed Reason = "remote_not_allowed"
	ReasonRoleNotManaged   Reason = "role_not_managed"
	ReasonNotAvailable     Reason = "not_available"
	ReasonRealNameRequired Reason = "real_name_required"
	// not_found
	ReasonNoBooking         Reason = "no_booking"
	ReasonUnknownLease      Reason = "unknown_lease"
	ReasonUnknownOp         Reason = "unknown_op"
	ReasonUnknownMatter     Reason = "unknown_matter"
	ReasonMatterNotOnTicket Reason = "matter_not_on_ticket"
	ReasonNoNotice          Reason = "no_notice"
	// conflict
	ReasonIllegalTransition    Reason = "illegal_transition"
	ReasonWindowBusy           Reason = "window_busy"
	ReasonWindowNotOpen        Reason = "window_not_open"
	ReasonNotServedHere        Reason = "not_served_here"
	ReasonGraceExpired         Reason = "grace_expired"
	ReasonAlreadyRated         Reason = "already_rated"
	ReasonOutsideCheckinWindow Reason = "outside_checkin_window"
	ReasonAlreadyCheckedIn     Reason = "already_checked_in"
	ReasonNumberUsed           Reason = "number_used"
	ReasonIDUsed               Reason = "id_used"
	ReasonLeaseReleased        Reason = "lease_released"
	ReasonConfigInUse          Reason = "config_in_use"
	ReasonHallIDFixed          Reason = "hall_id_fixed"
	ReasonCentralRefused       Reason = "central_refused"
	ReasonNotHTTPS             Reason = "not_https"
	ReasonNotForwarding        Reason = "not_forwarding"
	ReasonRemoteOpen           Reason = "remote_open"
	ReasonConfigChanged        Reason = "config_changed"
	ReasonDayAlreadyClosed     Reason = "day_already_closed"
	ReasonAmbiguousRef         Reason = "ambiguous_ref"
	ReasonOwnAccount           Reason = "own_account"
	ReasonNotASession          Reason = "not_a_session"
	ReasonAlreadyPostponed     Reason = "already_postponed"
	ReasonAlreadyAcknowledged  Reason = "already_acknowledged"
	ReasonMatterOnTicket       Reason = "matter_on_ticket"
	ReasonMatterHasOutcome     Reason = "matter_has_outcome"
	ReasonMattersPending       Reason = "matters_pending"
	// closed (also a service's not_issuing)
	ReasonClosed         Reason = "closed"
	ReasonLunch          Reason = "lunch"
	ReasonIssuingStopped Reason = "issuing_stopped"
	ReasonDayClosed      Reason = "day_closed"
	ReasonHoliday        Reason = "holiday"      // the calendar's statutory holiday
	ReasonClosure        Reason = "closure"      // the calendar's special closure (Details.Closure says why)
	ReasonBookingOnly    Reason = "booking_only" // the calendar's booking-only hours: checked-in bookings only
	// unprocessable
	ReasonIdempotencyKeyReused Reason = "idempotency_key_reused"
	// quota_exceeded
	ReasonServiceQuota     Reason = "service_quota"
	ReasonCitizenLimit     Reason = "citizen_limit"
	ReasonNumbersExhausted Reason = "numbers_exhausted"
	ReasonTooManyAttempts  Reason = "too_many_attempts"
	ReasonTooManyRequests  Reason = "too_many_requests"
	ReasonTooManySockets   Reason = "too_many_sockets"
	ReasonLeaseChurn       Reason = "lease_churn"
	ReasonRemoteShare      Reason = "remote_share"
	// unavailable
	ReasonStorage     Reason = "storage"
	ReasonNetwork     Reason = "network"     // the Go client: the request may have arrived, no answer came
	ReasonUnreachable Reason = "unreachable" // the Go client: no connection could be made
)

// Reasons lists every refusal reason, in a stable order.
var Reasons = []Reason{
	ReasonIDRequired, ReasonInvalidIDNumber, ReasonInvalidConfig, ReasonBadIdempotencyKey, ReasonUnsealableID, ReasonInvalidCatalog, ReasonRatingNeedsReason,
	ReasonNotYourWindow, ReasonNotYourTicket, ReasonActionNotAllowed, ReasonBlacklisted, ReasonRemoteNotAllowed, ReasonRoleNotManaged, ReasonNotAvailable, ReasonRealNameRequired,
	ReasonNoBooking, ReasonUnknownLease, ReasonUnknownOp, ReasonUnknownMatter, ReasonMatterNotOnTicket, ReasonNoNotice,
	ReasonIllegalTransition, ReasonWindowBusy, ReasonWindowNotOpen, ReasonNotServedHere, ReasonGraceExpired,
	ReasonAlreadyRated, ReasonOutsideCheckinWindow, ReasonAlreadyCheckedIn, ReasonNumberUsed, ReasonIDUsed,
	ReasonLeaseReleased, ReasonConfigInUse, ReasonHallIDFixed, ReasonCentralRefused, ReasonNotHTTPS, ReasonNotForwarding, ReasonRemoteOpen, ReasonConfigChanged, ReasonDayAlreadyClosed, ReasonAmbiguousRef, ReasonOwnAccount, ReasonNotASession,
	ReasonMatterOnTicket, ReasonMatterHasOutcome, ReasonMattersPending,
	ReasonClosed, ReasonLunch, ReasonIssuingStopped, ReasonDayClosed,
	ReasonIdempotencyKeyReused,
	ReasonServiceQuota, ReasonCitizenLimit, ReasonNumbersExhausted, ReasonTooManyAttempts, ReasonTooManyRequests, ReasonTooManySockets, ReasonLeaseChurn, ReasonRemoteShare,
	ReasonStorage, ReasonNetwork, ReasonUnreachable,
	ReasonHoliday, ReasonClosure, ReasonBookingOnly,
	ReasonAlreadyPostponed, ReasonAlreadyAcknowledged,
}

// EventReasons are the reasons an event may carry (Event.Reason) besides
// the free text of a pause or cancellation.
const (
	EventReasonServiceRemoved   Reason = "service_removed"   // lease.released
	EventReasonRecallsExhausted Reason = "recalls_exhausted" // ticket.no_show
	EventReasonDayClosed        Reason = "day_closed"        // window.closed
	EventReasonNumbersExhausted Reason = "numbers_exhausted" // ticket.expired at a carry-over
	// ticket.cancelled by a kiosk: the citizen was given an offline ticket instead
	EventReasonSupersededByOffline Reason = "superseded_by_offline_ticket"
)

// EventReasonList lists the reasons of events.
var EventReasonList = []Reason{EventReasonServiceRemoved, EventReasonRecallsExhausted, EventReasonDayClosed, EventReasonNumbersExhausted, EventReasonSupersededByOffline}

// Error is a domain error: a stable Code, an optional machine-readable Reason
// that refines it (e.g. "citizen_limit", "issuing_stopped", "blacklisted")
// and an English message for operators and logs.
type Error struct {
	Code    Code
	Reason  string
	Message string
	Details *Details // what the citizen needs after some refusals; nil for most errors
	cause   error    // what failed underneath (a %w of Errorf or Refusal), for logs; never sent
}

// Unwrap returns what failed underneath e, or nil: errors.Is and errors.As
// reach it.
func (e *Error) Unwrap() error { return e.cause }

// Details help a citizen after a refusal, so the kiosk can say more than
// "no": the tickets already held (already_checked_in, citizen_limit — the
// kiosk offers to reprint them), the booking's slot and check-in window
// (outside_checkin_window), the service's hours (closed, lunch,
// issuing_stopped).
type Details struct {
	Tickets      []string  `json:"tickets,omitempty"` // ids of today's tickets the citizen holds
	SlotStart    time.Time `json:"slot_start,omitzero"`
	CheckInFrom  time.Time `json:"check_in_from,omitzero"`
	CheckInUntil time.Time `json:"check_in_until,omitzero"`
	Hours        *Hours    `json:"hours,omitempty"`
	Closure      *Text     `json:"closure,omitempty"` // closure: the reason the hall gives
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

// Errorf returns an *Error with the given code and formatted message; an
// error formatted with %w is kept as its cause (Unwrap).
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), cause: errors.Unwrap(err)}
}

// Refusal returns an *Error with a reason (one of Reasons); an error
// formatted with %w is kept as its cause (Unwrap).
func Refusal[R ~string](code Code, reason R, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Reason: string(reason), Message: err.Error(), cause: errors.Unwrap(err)}
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

// ReasonOf returns the reason of a domain error as a Reason, or "".
func ReasonOf(err error) Reason { return Reason(ErrorReason(err)) }

// ErrorReason returns the Reason of a domain error, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
