// Package wire holds the JSON messages of the hall API — REST bodies and
// websocket frames — shared by the server, its Go client, the kiosk and the
// tests. docs/protocol.md shows each with an exact example; the OpenAPI
// document (queue-server/api/openapi.json) is their contract. codes.go
// gathers every code the server and its clients share (CodeGroups), from
// which the pages' codes.js and the Codes table of docs/protocol.md are
// generated.
package wire

import (
	"encoding/json"
	"time"

	"hallq/queue-server/hall"
)

// Roles a token can carry.
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleClerk   = "clerk"
	RoleKiosk   = "kiosk"
	RoleDisplay = "display"
)

// Roles lists every role.
var Roles = []string{RoleAdmin, RoleManager, RoleClerk, RoleKiosk, RoleDisplay}

// Error is the body of every error reply: {"error":{"code":…,"message":…}}.
type Error struct {
	Code    hall.Code `json:"code"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message"`
	// Details, on some refusals, say what the citizen needs (tickets
	// already held, the check-in window, the service's hours).
	Details *hall.Details `json:"details,omitempty"`
}

// ErrorBody wraps Error.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Err turns a wire error back into a domain error.
func (e Error) Err() error {
	return &hall.Error{Code: e.Code, Reason: e.Reason, Message: e.Message, Details: e.Details}
}

// CallRequest is the optional body of POST /api/v1/windows/{window}/call.
type CallRequest struct {
	Ticket string `json:"ticket,omitempty"`
}

// WindowRequest is the optional body of POST /api/v1/windows/{window}/{open|pause|close}.
type WindowRequest struct {
	Clerk  string `json:"clerk,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// LeaseRequest asks for offline numbers.
type LeaseRequest struct {
	Service string `json:"service"`
	Count   int    `json:"count"`
}

// TokenRequest creates a token.
type TokenRequest struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Window int    `json:"window,omitempty"`
	TTL    string `json:"ttl,omitempty"` // e.g. "720h"; empty = no expiry
}

// TokenCreated is the reply: the value is shown once and never stored.
type TokenCreated struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// UserRequest creates (or replaces) a password account.
type UserRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Window   int    `json:"window,omitempty"`
}

// LoginRequest exchanges a name and password for a session token.
type LoginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// BlacklistRequest adds or lifts a blacklist entry. An ID number typed by a
// manager is turned into the citizen key at once and never stored.
type BlacklistRequest struct {
	IDNumber   string    `json:"id_number,omitempty"`
	CitizenKey string    `json:"citizen_key,omitempty"`
	Note       string    `json:"note,omitempty"`
	Until      time.Time `json:"until,omitzero"`
	Remove     bool      `json:"remove,omitempty"`
}

// BookingRequest is the body of POST /api/v1/bookings (and of its
// deprecated alias POST /api/v1/appointments): the same shape as the
// central platform's booking message (docs/central.md). ID is the older
// spelling of BookingID, still accepted; giving both is refused.
type BookingRequest struct {
	BookingID  string    `json:"booking_id,omitempty"`
	ID         string    `json:"id,omitempty"` // deprecated: booking_id
	CitizenKey string    `json:"citizen_key"`
	MaskedID   string    `json:"masked_id,omitempty"`
	Service    string    `json:"service"`
	SlotStart  time.Time `json:"slot_start"`
	SlotEnd    time.Time `json:"slot_end"`
	Status     string    `json:"status,omitempty"` // booked (default) or cancelled
}

// Deprecated: AppointmentRequest is the old name of BookingRequest.
type AppointmentRequest = BookingRequest

// RemoteTicketRequest is a citizen taking a ticket on their phone (线上取号).
// The ID number is turned into the citizen key and masked form at once and
// never stored, logged or echoed.
type RemoteTicketRequest struct {
	Service  string `json:"service"`
	IDNumber string `json:"id_number"`
	// Claim is the browser's own secret (32 lowercase hex digits from a
	// secure random source), kept to get the same ticket back on a retry;
	// empty: the server makes one and returns it.
	Claim string `json:"claim,omitempty"`
}

// RemoteTicket is the answer to a remote ticket: the public ticket view and
// the claim that alone gets it back on a retry (keep it in the browser).
type RemoteTicket struct {
	hall.TicketView
	Claim string `json:"claim"`
}

// SealKey is the hall server's public key for sealed ID numbers (standard
// base64 of 32 bytes; see package seal).
type SealKey struct {
	PublicKey string `json:"public_key"`
}

// DeviceHealth is what a kiosk reports of its devices.
type DeviceHealth struct {
	Kiosk      string    `json:"kiosk"`
	Reader     string    `json:"reader"`  // ok, absent, error
	Printer    string    `json:"printer"` // ok, paper_low, paper_out, cover_open, offline, absent
	Scanner    string    `json:"scanner"` // ok, absent
	Online     bool      `json:"online"`
	Pending    int       `json:"pending_offline"`             // offline tickets not yet handed over
	SetAside   int       `json:"set_aside_offline,omitempty"` // offline tickets the server refused for good
	Version    string    `json:"version,omitempty"`
	ReportedAt time.Time `json:"reported_at"`
}

// ---- websocket frames ----

// Frame types.
const (
	FrameHello    = "hello"    // client → server, first frame
	FrameWelcome  = "welcome"  // server → client, after hello
	FrameEvent    = "event"    // server → client, one committed event
	FrameServices = "services" // server → client, live service figures
	FrameResync   = "resync"   // server → client: too far behind, here is the overview
	FrameRequest  = "request"  // client → server, an operation
	FrameReply    = "reply"    // server → client, the operation's result
	FrameError    = "error"    // server → client, a frame it could not take
)

// Welcome is the welcome frame as the server writes it: the same fields
// as in Frame, but seq is always present (0 on a hall with no events yet).
type Welcome struct {
	Type   string `json:"type"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	Window int    `json:"window,omitempty"`
	Seq    uint64 `json:"seq"`
	Epoch  string `json:"epoch,omitempty"`
}

// Frame is one websocket message in either direction.
type Frame struct {
	Type string `json:"type"`

	// hello
	Token   string `json:"token,omitempty"`
	LastSeq uint64 `json:"last_seq,omitempty"`
	// hello: the epoch of the welcome last_seq was counted in; welcome: the
	// server store's epoch. A resume from another epoch (the store was
	// restored from a backup) gets a resync, never events by number.
	Epoch string `json:"epoch,omitempty"`

	// welcome
	Role   string `json:"role,omitempty"`
	Name   string `json:"name,omitempty"`
	Window int    `json:"window,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`

	// event / services / resync
	Event    *hall.Event        `json:"event,omitempty"`
	Services []hall.ServiceView `json:"services,omitempty"`
	Overview *hall.Overview     `json:"overview,omitempty"`

	// request / reply
	ID     string            `json:"id,omitempty"`
	Op     string            `json:"op,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Idem   string            `json:"idempotency_key,omitempty"`
	Body   json.RawMessage   `json:"body,omitempty"`
	Status int               `json:"status,omitempty"`
	Result json.RawMessage   `json:"result,omitempty"`
	Error  *Error            `json:"error,omitempty"`
}
