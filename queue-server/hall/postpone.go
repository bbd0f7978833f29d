package hall

import (
	"context"
	"time"
)

// Postpone (暂离): a citizen who needs a few minutes — to fetch a copy, to
// see to a child — moves back rules.postpone_places places in their
// service's queue, once per ticket. The citizen does it from the phone
// status page while waiting; a clerk does it for a called citizen who is not
// ready, which puts the ticket back among the waiting and frees the window.
// The ticket keeps its number; its queue time moves to just behind the
// ticket it now follows (so the ordering rule, queue time within the class,
// stays the one rule), and every estimate follows from the new place.

// DefaultPostponePlaces is rules.postpone_places when the configuration
// leaves it out.
const DefaultPostponePlaces = 5

// Postpone moves ticket id back in its queue. onlyWaiting refuses a
// ticket that is not waiting (the phone page: the link's holder postpones
// their wait, never a call in progress); atWindow, when not 0, is a clerk's
// window, where a called ticket must be.
func (s *Service) Postpone(ctx context.Context, op Op, id string, onlyWaiting bool, atWindow int) (TicketView, error) {
	return as[TicketView](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		t, err := st.ticket(id)
		if err != nil {
			return Ref{}, err
		}
		if atWindow != 0 && (t.Window != atWindow || t.Status != Called) {
			return Ref{}, Refusal(Forbidden, ReasonNotYourWindow, "ticket %s is not called to window %d", t.Number, atWindow)
		}
		if onlyWaiting && t.Status != Waiting {
			return Ref{}, wrongStatus(t, "postpone")
		}
		return ticketRef(st.postpone(t, now, op.Actor))
	}))
}

func (st *state) postpone(t *Ticket, now time.Time, actor string) (*Ticket, error) {
	if t.Status != Waiting && t.Status != Called {
		return nil, wrongStatus(t, "postpone")
	}
	if t.Postponed {
		return nil, Refusal(Conflict, ReasonAlreadyPostponed, "ticket %s was already postponed once", t.Number)
	}
	// behind: the waiting tickets of its class that come after it now
	var behind []*Ticket
	for _, o := range st.queues[t.Service].classes[t.class()] {
		if o != t && ticketBefore(t, o) {
			behind = append(behind, o)
		}
	}
	nt := *t
	nt.Postponed = true
	if k := min(st.cfg.Rules.PostponePlaces, len(behind)); k > 0 {
		after := behind[k-1].QueuedAt
		nt.QueuedAt = after.Add(time.Nanosecond)
		if k < len(behind) {
			if gap := behind[k].QueuedAt.Sub(after); gap > time.Nanosecond {
				nt.QueuedAt = after.Add(gap / 2)
			}
		}
	}
	var w *Window
	if t.Status == Called {
		w = st.freeWindow(t)
		nt.Status, nt.CalledAt, nt.Recalls = Waiting, time.Time{}, 0
	}
	st.emit(Event{Type: EvTicketPostponed, Actor: actor, Ticket: &nt, Window: w}, now)
	return st.tickets[t.ID], nil
}
