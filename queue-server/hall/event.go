package hall

import (
	"bytes"
	"encoding/json"
	"time"

	"hallq/internal/catalog"
)

// Event types. Every change in the hall is one event with a hall-wide,
// gap-free, increasing sequence number.
const (
	EvTicketIssued      = "ticket.issued"
	EvTicketCalled      = "ticket.called"
	EvTicketRecalled    = "ticket.recalled"
	EvTicketStarted     = "ticket.started"
	EvTicketCompleted   = "ticket.completed"
	EvTicketNoShow      = "ticket.no_show"
	EvTicketRequeued    = "ticket.requeued"
	EvTicketTransferred = "ticket.transferred"
	EvTicketParked      = "ticket.parked"
	EvTicketResumed     = "ticket.resumed"
	EvTicketCancelled   = "ticket.cancelled"
	EvTicketRated       = "ticket.rated"
	EvTicketPrintFailed = "ticket.print_failed"
	EvTicketExpired     = "ticket.expired"
	EvTicketCarried     = "ticket.carried_over"
	EvTicketPostponed   = "ticket.postponed"  // 暂离: moved back, once (postpone.go)
	EvHelpCalled        = "help.called"       // 帮办: a helper is asked for (helper.go)
	EvHelpAcked         = "help.acknowledged" // and staff took it up
	EvWindowOpened      = "window.opened"
	EvWindowPaused      = "window.paused"
	EvWindowClosed      = "window.closed"
	EvDayClosed         = "day.closed"
	EvLeaseGranted      = "lease.granted"
	EvLeaseReleased     = "lease.released"
	EvBooking           = "booking.upserted"
	EvBlacklist         = "blacklist.changed"
	EvConfigChanged     = "config.changed"
)

// evBookingV1 is what halls before the booking rename wrote for
// EvBooking. Events of that type (in an old store's log, or forwarded by
// a hall in the field) decode as EvBooking; nothing writes it any more.
const evBookingV1 = "appointment.upserted"

// Event is one committed change. It carries the snapshots of everything it
// changed, so a store can write the new state from the event alone and a
// subscriber can apply it without asking again.
type Event struct {
	Seq    uint64    `json:"seq"`
	Type   string    `json:"type"`
	At     time.Time `json:"at"`
	Day    string    `json:"day"`
	Actor  string    `json:"actor,omitempty"`
	Reason string    `json:"reason,omitempty"`

	Ticket    *Ticket     `json:"ticket,omitempty"`
	Window    *Window     `json:"window,omitempty"`
	Counter   *Counter    `json:"counter,omitempty"`
	Lease     *Lease      `json:"lease,omitempty"`
	Booking   *Booking    `json:"booking,omitempty"`
	Blacklist *BlackEntry `json:"blacklist,omitempty"`
	Summary   *DaySummary `json:"summary,omitempty"`
	Config    *Config     `json:"config,omitempty"` // config.changed: the whole new configuration
	Help      *HelpCall   `json:"help,omitempty"`   // help.called, help.acknowledged
	// Catalog is the province's catalogue as received (catalog.received).
	Catalog *catalog.Catalog `json:"catalog,omitempty"`

	// Idem records the scoped idempotency key of the request that caused
	// the event and its result, so a retry finds the first result. Stores
	// keep it beside the event; it is not part of the event's JSON.
	Idem *IdemRecord `json:"-"`
}

// UnmarshalJSON reads an event, also as halls before the booking rename
// wrote it: type appointment.upserted (evBookingV1), the booking under
// "appointment", a ticket's booking id under "appointment" and its channel
// "appointment" (Channel.UnmarshalText). Old stores replay and old halls'
// forwarded events read through here, so the rest of the code knows one
// spelling.
func (e *Event) UnmarshalJSON(data []byte) error {
	type plain Event // no methods: no recursion
	var v struct {
		plain
		V1 *Booking `json:"appointment"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*e = Event(v.plain)
	if e.Booking == nil {
		e.Booking = v.V1
	}
	if e.Type == evBookingV1 {
		e.Type = EvBooking
	}
	if e.Ticket != nil && e.Ticket.Booking == "" && bytes.Contains(data, []byte(`"appointment":"`)) {
		var t struct {
			Ticket struct {
				V1 string `json:"appointment"`
			} `json:"ticket"`
		}
		if err := json.Unmarshal(data, &t); err != nil {
			return err
		}
		e.Ticket.Booking = t.Ticket.V1
	}
	return nil
}

// Counter is the last ticket number handed out (issued or leased) for a
// service on a day.
type Counter struct {
	Day     string `json:"day"`
	Service string `json:"service"`
	Last    int    `json:"last"`
}

// Lease is a block of numbers reserved for a kiosk to issue while offline.
type Lease struct {
	ID       string `json:"id"`
	Kiosk    string `json:"kiosk"`
	Service  string `json:"service"`
	Day      string `json:"day"`
	From     int    `json:"from"`   // first number
	To       int    `json:"to"`     // last number, inclusive
	Digits   int    `json:"digits"` // digits after the prefix, for formatting
	Used     []int  `json:"used,omitempty"`
	Released bool   `json:"released,omitempty"`
	// Granted is when the server granted the lease: no ticket from it can
	// have been issued earlier (zero in leases stored before it existed).
	Granted time.Time `json:"granted,omitzero"`
}

// Booking is an online booking (网上预约) published by the central platform
// or made at the hall by staff.
type Booking struct {
	ID         string    `json:"id"`
	CitizenKey string    `json:"citizen_key,omitempty"` // HMAC of the ID number with the platform key; never in an API reply
	MaskedID   string    `json:"masked_id,omitempty"`
	Service    string    `json:"service"`
	SlotStart  time.Time `json:"slot_start"`
	SlotEnd    time.Time `json:"slot_end"`
	Status     string    `json:"status"` // booked, checked_in, cancelled
	Ticket     string    `json:"ticket,omitempty"`
}

// Booking statuses.
const (
	BookingBooked    = "booked"
	BookingCheckedIn = "checked_in"
	BookingCancelled = "cancelled"
)

// BlackEntry adds (or, with Removed, lifts) a blacklist entry.
type BlackEntry struct {
	CitizenKey string    `json:"citizen_key"`
	Note       string    `json:"note,omitempty"`
	Until      time.Time `json:"until,omitzero"` // zero: until lifted
	Removed    bool      `json:"removed,omitempty"`
	Since      time.Time `json:"since,omitzero"` // when it was added (set by the hall)
	By         string    `json:"by,omitempty"`   // who added it
}

// DaySummary is what a closed day sends to the central platform.
type DaySummary struct {
	Day      string                `json:"day"`
	Services map[string]ServiceDay `json:"services"`
}

// ServiceDay sums one service's day.
type ServiceDay struct {
	Issued    int     `json:"issued"`
	Served    int     `json:"served"`
	NoShow    int     `json:"no_show"`
	Cancelled int     `json:"cancelled"`
	Expired   int     `json:"expired"`
	Carried   int     `json:"carried_over"`
	MeanWaitS float64 `json:"mean_wait_s"`
	Ratings   [6]int  `json:"ratings"` // count per score, index 1..5
}

// IdemRecord ties an idempotency key to the result it produced (Ref).
// Fingerprint (empty in records written before it existed) identifies the
// request the key was first used for: its operation, target and body.
type IdemRecord struct {
	Key         string `json:"key"`
	Ref         Ref    `json:"ref"`
	Fingerprint string `json:"fingerprint,omitempty"`
}
