package hall

import (
	"fmt"
	"strconv"
	"strings"
)

// Ref names what a write produced — a ticket, a window, a lease, a booking
// or the configuration — so that a repeat of the request under the same
// idempotency key is answered with that thing as it is now. It is stored
// with the idempotency record (IdemRecord.Ref) in its text form, which
// String writes and ParseRef reads, here and nowhere else:
//
//	t:<ticket id>  w:<window number>  l:<lease id>  b:<booking id>  c:
//
// The zero Ref is a write with no result to give back (a day close, a
// blacklist change); its text is "".
type Ref struct {
	Kind   RefKind
	ID     string // the ticket's, lease's or booking's id
	Window int    // the window's number (RefWindow)
}

// RefKind is what a Ref names; its value is the letter the stored form
// starts with.
type RefKind string

// The kinds of results a write refers to.
const (
	RefTicket  RefKind = "t"
	RefWindow  RefKind = "w"
	RefLease   RefKind = "l"
	RefBooking RefKind = "b"
	RefConfig  RefKind = "c"
	RefHelp    RefKind = "h" // a helper call (helper.go)
)

// TicketRef refers to the ticket with this id.
func TicketRef(id string) Ref { return Ref{Kind: RefTicket, ID: id} }

// WindowRef refers to the window with this number.
func WindowRef(n int) Ref { return Ref{Kind: RefWindow, Window: n} }

// LeaseRef refers to the lease with this id.
func LeaseRef(id string) Ref { return Ref{Kind: RefLease, ID: id} }

// BookingRef refers to the booking with this id.
func BookingRef(id string) Ref { return Ref{Kind: RefBooking, ID: id} }

// ConfigRef refers to the hall's configuration.
func ConfigRef() Ref { return Ref{Kind: RefConfig} }

// HelpRef names a helper call.
func HelpRef(id string) Ref { return Ref{Kind: RefHelp, ID: id} }

// String is the stored form: "t:<id>", "w:<n>", "l:<id>", "b:<id>", "c:",
// or "" for the zero Ref.
func (r Ref) String() string {
	switch r.Kind {
	case "":
		return ""
	case RefWindow:
		return string(r.Kind) + ":" + strconv.Itoa(r.Window)
	case RefConfig:
		return string(r.Kind) + ":"
	}
	return string(r.Kind) + ":" + r.ID
}

// AppendTo appends the Ref's stored form (String) to b, without the
// string String makes: the store writes one for every issue.
func (r Ref) AppendTo(b []byte) []byte {
	switch r.Kind {
	case "":
		return b
	case RefWindow:
		return strconv.AppendInt(append(append(b, r.Kind...), ':'), int64(r.Window), 10)
	case RefConfig:
		return append(append(b, r.Kind...), ':')
	}
	return append(append(append(b, r.Kind...), ':'), r.ID...)
}

// ParseRef reads a Ref's stored form, as String writes it and as every
// record written before Ref existed holds it. "" is the zero Ref; anything
// else that is not one of the forms is an error that says why.
func ParseRef(s string) (Ref, error) {
	if s == "" {
		return Ref{}, nil
	}
	kind, key, ok := strings.Cut(s, ":")
	if !ok {
		return Ref{}, fmt.Errorf("result ref %q has no kind (want t:, w:, l:, b: or c:)", s)
	}
	switch k := RefKind(kind); k {
	case RefTicket, RefLease, RefBooking, RefHelp:
		if key == "" {
			return Ref{}, fmt.Errorf("result ref %q names no id", s)
		}
		return Ref{Kind: k, ID: key}, nil
	case RefWindow:
		n, err := strconv.Atoi(key)
		if err != nil || n < 1 || strconv.Itoa(n) != key {
			return Ref{}, fmt.Errorf("result ref %q: the window is not a number from 1", s)
		}
		return WindowRef(n), nil
	case RefConfig:
		if key != "" {
			return Ref{}, fmt.Errorf("result ref %q: the configuration has no id", s)
		}
		return ConfigRef(), nil
	}
	return Ref{}, fmt.Errorf("result ref %q: unknown kind %q (want t, w, l, b or c)", s, kind)
}

// MarshalText writes the stored form, so a Ref is the same string in JSON.
func (r Ref) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads the stored form.
func (r *Ref) UnmarshalText(b []byte) error {
	v, err := ParseRef(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
