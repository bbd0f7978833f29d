package hall

import (
	"context"
	"slices"
	"time"
)

// Helper calls (帮办): a citizen stuck at a kiosk, or waiting with a
// question, presses "call a helper" on the kiosk or on the phone status
// page; the call is an alert on every manager's dashboard, naming the
// kiosk or the ticket, until a member of staff acknowledges it (who and
// when are recorded). Against presses in a loop: one open call per kiosk
// or ticket (pressing again while it is open is the same call, no new
// event), a new call from the same place only HelpCooldown after the last
// was acknowledged, and at most MaxOpenHelpCalls open in the hall.

// Limits of helper calls.
const (
	HelpCooldown     = 2 * time.Minute
	MaxOpenHelpCalls = 50
)

// HelpCall is one call for a floor helper.
type HelpCall struct {
	ID     string    `json:"id"`
	Day    string    `json:"day"`
	At     time.Time `json:"at"`
	Kiosk  string    `json:"kiosk,omitempty"`  // pressed on this kiosk
	Ticket string    `json:"ticket,omitempty"` // pressed on this ticket's phone page (its id)
	Number string    `json:"number,omitempty"` // that ticket's number, for staff to find the citizen
	AckBy  string    `json:"ack_by,omitempty"` // who acknowledged it
	AckAt  time.Time `json:"ack_at,omitzero"`
}

// Open reports whether nobody has acknowledged the call yet.
func (h HelpCall) Open() bool { return h.AckAt.IsZero() }

// HelpRequest says where a helper is needed: exactly one of a kiosk (set
// by the API from the kiosk's token) or a ticket id (the phone page).
type HelpRequest struct {
	Kiosk  string `json:"-"`
	Ticket string `json:"ticket,omitempty"`
}

// CallHelper records a call for a floor helper, or returns the call still
// open from the same kiosk or ticket.
func (s *Service) CallHelper(ctx context.Context, op Op, r HelpRequest) (HelpCall, error) {
	return as[HelpCall](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		h, err := st.callHelper(r, now, op.Actor)
		if err != nil {
			return Ref{}, err
		}
		return HelpRef(h.ID), nil
	}))
}

// AckHelp records that a member of staff took up call id.
func (s *Service) AckHelp(ctx context.Context, op Op, id string) (HelpCall, error) {
	return as[HelpCall](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		h := st.helps[id]
		if h == nil {
			return Ref{}, Errorf(NotFound, "no helper call %q today", id)
		}
		if !h.Open() {
			return Ref{}, Refusal(Conflict, ReasonAlreadyAcknowledged, "helper call %s was acknowledged by %s at %s", id, h.AckBy, h.AckAt.In(st.loc).Format("15:04"))
		}
		nh := *h
		nh.AckBy, nh.AckAt = op.Actor, now
		st.emit(Event{Type: EvHelpAcked, Actor: op.Actor, Help: &nh}, now)
		return HelpRef(id), nil
	}))
}

// HelpCalls returns today's helper calls, open ones first, each group
// oldest first.
func (s *Service) HelpCalls(ctx context.Context) ([]HelpCall, error) {
	return as[[]HelpCall](s.read(ctx, func(st *state, now time.Time) (any, error) {
		out := []HelpCall{}
		for _, h := range st.helps {
			out = append(out, *h)
		}
		slices.SortFunc(out, func(a, b HelpCall) int {
			if a.Open() != b.Open() {
				if a.Open() {
					return -1
				}
				return 1
			}
			return a.At.Compare(b.At)
		})
		return out, nil
	}))
}

func (st *state) callHelper(r HelpRequest, now time.Time, actor string) (*HelpCall, error) {
	if (r.Kiosk == "") == (r.Ticket == "") {
		return nil, Errorf(Invalid, "a helper call comes from a kiosk or from a ticket's page")
	}
	h := HelpCall{Kiosk: r.Kiosk, Ticket: r.Ticket, Day: st.day, At: now}
	if r.Ticket != "" {
		t, err := st.ticket(r.Ticket)
		if err != nil {
			return nil, err
		}
		if !t.Status.Open() {
			return nil, Refusal(Conflict, ReasonIllegalTransition, "ticket %s is %s: its visit is over", t.Number, t.Status)
		}
		h.Number = t.Number
	}
	open := 0
	var last *HelpCall
	for _, o := range st.helps {
		if o.Open() {
			open++
		}
		if o.Kiosk == h.Kiosk && o.Ticket == h.Ticket && (last == nil || o.At.After(last.At)) {
			last = o
		}
	}
	switch {
	case last != nil && last.Open():
		return last, nil // pressed again: the same call
	case last != nil && now.Sub(last.AckAt) < HelpCooldown:
		return nil, Refusal(QuotaExceeded, ReasonTooManyRequests, "a helper answered this %s's call %s ago; a new call is possible after %v",
			map[bool]string{true: "kiosk", false: "ticket"}[h.Kiosk != ""], now.Sub(last.AckAt).Round(time.Second), HelpCooldown)
	case open >= MaxOpenHelpCalls:
		return nil, Refusal(QuotaExceeded, ReasonTooManyRequests, "%d helper calls are open; staff are on their way", open)
	}
	h.ID = newID()
	st.emit(Event{Type: EvHelpCalled, Actor: actor, Help: &h}, now)
	return st.helps[h.ID], nil
}
