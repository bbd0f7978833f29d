package hall

import (
	"context"
	"time"
)

// The public operations that change the hall: each hands the loop a function
// of the live state (write) and types the result it gets back. How a
// request is applied, committed and answered is the engine's (engine.go).

// ---- results ----

// TicketView is a ticket with its live position and wait estimate.
type TicketView struct {
	Ticket
	Position       int       `json:"position"`            // people ahead in the same service
	EstimatedWaitS int       `json:"estimated_wait_s"`    // -1 when unknown
	SlotStart      time.Time `json:"slot_start,omitzero"` // a booking ticket's booked slot
}

func (st *state) view(t *Ticket, now time.Time) TicketView {
	v := TicketView{Ticket: *t}
	if b := st.bookings[t.Booking]; b != nil && t.Booking != "" {
		v.SlotStart = b.SlotStart
	}
	if t.Status == Waiting {
		v.Position = st.queues[t.Service].ahead(t)
		v.EstimatedWaitS = int(st.estimate(t, now).Round(time.Second) / time.Second)
	}
	return v
}

// resolve gives what ref names as it is now (nil when it is gone or ref is
// the zero Ref): the answer to a write and to each repeat of it.
func (st *state) resolve(ref Ref, now time.Time) any {
	switch ref.Kind {
	case RefTicket:
		if t := st.tickets[ref.ID]; t != nil {
			return st.view(t, now)
		}
	case RefWindow:
		if w := st.windows[ref.Window]; w != nil {
			return *w
		}
	case RefLease:
		if l := st.leases[ref.ID]; l != nil {
			return *l
		}
	case RefBooking:
		if b := st.bookings[ref.ID]; b != nil {
			return *b
		}
	case RefConfig:
		return st.cfg.Clone()
	case RefHelp:
		if h := st.helps[ref.ID]; h != nil {
			return *h
		}
	}
	return nil
}

// closed reports whether ref names a ticket no longer open today.
func (st *state) closed(ref Ref) bool {
	t := st.tickets[ref.ID]
	return ref.Kind == RefTicket && (t == nil || !t.Status.Open())
}

func ticketRef(t *Ticket, err error) (Ref, error) {
	if err != nil || t == nil {
		return Ref{}, err
	}
	return TicketRef(t.ID), nil
}

// as types a result of the loop, which hands results back as any.
func as[T any](v any, err error) (T, error) {
	t, _ := v.(T)
	return t, err
}

// ---- operations ----

// Issue gives a citizen a new ticket.
func (s *Service) Issue(ctx context.Context, op Op, r IssueRequest) (TicketView, error) {
	return as[TicketView](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		return ticketRef(st.issue(r, now, op.Actor))
	}))
}

// CheckIn turns an online booking into a ticket.
func (s *Service) CheckIn(ctx context.Context, op Op, r CheckIn) (TicketView, error) {
	return as[TicketView](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		return ticketRef(st.checkIn(r, now, op.Actor))
	}))
}

// Call calls the next ticket for window (or the given ticket when id is not
// empty). It returns ok=false when nothing waits for the window.
func (s *Service) Call(ctx context.Context, op Op, window int, id string) (TicketView, bool, error) {
	v, err := s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		return ticketRef(st.call(window, id, now, op.Actor))
	})
	t, ok := v.(TicketView)
	return t, ok, err
}

// Actions on a ticket, as named in the API: POST /tickets/{id}/{action}.
const (
	ActRecall      = "recall"
	ActStart       = "start"
	ActComplete    = "complete"
	ActNoShow      = "no-show"
	ActRequeue     = "requeue"
	ActTransfer    = "transfer"
	ActPark        = "park"
	ActResume      = "resume"
	ActCancel      = "cancel"
	ActRate        = "rate"
	ActPrintFailed = "print-failed"
)

// Actions lists every ticket action.
var Actions = []string{ActRecall, ActStart, ActComplete, ActNoShow, ActRequeue, ActTransfer, ActPark, ActResume, ActCancel, ActRate, ActPrintFailed,
	ActAddMatter, ActRemoveMatter, ActOutcome}

// Action is one of the ticket actions with its arguments.
type Action struct {
	Name    string `json:"-"`
	Ticket  string `json:"-"`
	Service string `json:"service,omitempty"` // transfer
	Window  int    `json:"window,omitempty"`  // transfer to a window
	Score   int    `json:"score,omitempty"`   // rate
	Reason  string `json:"reason,omitempty"`  // rate, cancel, print-failed, outcome refused

	Matter     string      `json:"matter,omitempty"`      // add-matter, remove-matter, outcome, rate
	Outcome    Outcome     `json:"outcome,omitempty"`     // outcome
	CaseNumber string      `json:"case_number,omitempty"` // outcome accepted
	Missing    []int       `json:"missing,omitempty"`     // outcome incomplete: indexes into the matter's materials
	Indicators []Indicator `json:"indicators,omitempty"`  // rate

	// Via is the rating channel, set by the API from the caller's role.
	Via RatingChannel `json:"-"`

	// Guards set by the API from the caller's identity (its authorization
	// table), checked atomically with the action: a clerk acts only on
	// tickets at their window now (called, serving, parked or finished
	// there; a waiting ticket is at no window), a kiosk only on tickets it
	// issued.
	AtWindow int    `json:"-"`
	ByKiosk  string `json:"-"`
}

// Act applies a ticket action.
func (s *Service) Act(ctx context.Context, op Op, a Action) (TicketView, error) {
	if len(a.Reason) > 200 {
		return TicketView{}, Errorf(Invalid, "reason is longer than 200 bytes")
	}
	return as[TicketView](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		var t *Ticket
		var err error
		if g := st.tickets[a.Ticket]; g != nil {
			// a waiting ticket is at no window, even the one that
			// transferred or requeued it
			if a.AtWindow != 0 && (g.Window != a.AtWindow || g.Status == Waiting) {
				return Ref{}, Refusal(Forbidden, ReasonNotYourWindow, "ticket %s is not at window %d", g.Number, a.AtWindow)
			}
			if a.ByKiosk != "" && g.Kiosk != a.ByKiosk {
				return Ref{}, Refusal(Forbidden, ReasonNotYourTicket, "ticket %s was not issued by this kiosk", g.Number)
			}
		}
		switch a.Name {
		case ActRecall:
			t, err = st.recall(a.Ticket, now, op.Actor)
		case ActStart:
			t, err = st.start(a.Ticket, now, op.Actor)
		case ActComplete:
			t, err = st.complete(a.Ticket, now, op.Actor)
		case ActNoShow:
			t, err = st.noShow(a.Ticket, now, op.Actor)
		case ActRequeue:
			t, err = st.requeue(a.Ticket, now, op.Actor)
		case ActTransfer:
			if a.Service == "" {
				return Ref{}, Errorf(Invalid, "transfer needs a target service")
			}
			t, err = st.transfer(a.Ticket, a.Service, a.Window, now, op.Actor)
		case ActPark:
			t, err = st.park(a.Ticket, now, op.Actor)
		case ActResume:
			t, err = st.resume(a.Ticket, now, op.Actor)
		case ActCancel:
			t, err = st.cancel(a.Ticket, now, op.Actor)
		case ActRate:
			t, err = st.rate(a.Ticket, RateRequest{Matter: a.Matter, Score: a.Score, Indicators: a.Indicators, Reason: a.Reason, Via: a.Via}, now, op.Actor)
		case ActAddMatter:
			t, err = st.addMatter(a.Ticket, a.Matter, now, op.Actor)
		case ActRemoveMatter:
			t, err = st.removeMatter(a.Ticket, a.Matter, now, op.Actor)
		case ActOutcome:
			t, err = st.outcome(a.Ticket, OutcomeRequest{Matter: a.Matter, Outcome: a.Outcome, CaseNumber: a.CaseNumber, Missing: a.Missing, Reason: a.Reason}, now, op.Actor)
		case ActPrintFailed:
			t, err = st.printFailed(a.Ticket, now, op.Actor)
		default:
			return Ref{}, Errorf(Invalid, "unknown ticket action %q", a.Name)
		}
		if err == nil && a.Reason != "" && len(st.pending) > 0 {
			st.pending[len(st.pending)-1].Reason = a.Reason // why it was cancelled, not printed, rated low
		}
		return ticketRef(t, err)
	}))
}

// SetWindow opens (for a clerk), pauses (with a reason) or closes a window.
func (s *Service) SetWindow(ctx context.Context, op Op, window int, to WindowStatus, clerk, reason string) (Window, error) {
	if to != WindowOpen && to != WindowPaused && to != WindowClosed {
		return Window{}, Errorf(Invalid, "unknown window state %q", to)
	}
	if len(reason) > 200 {
		return Window{}, Errorf(Invalid, "reason is longer than 200 bytes")
	}
	return as[Window](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		w, err := st.setWindow(window, to, clerk, reason, now, op.Actor)
		if err != nil {
			return Ref{}, err
		}
		return WindowRef(w.Number), nil
	}))
}

// CloseDay ends today's service: open tickets expire (waiting ones carry
// over at midnight when configured), windows close, and the day summary
// event is emitted. Until midnight no tickets are issued, checked in,
// leased or handed over into the closed day. Closing a closed day is
// refused (day_already_closed).
func (s *Service) CloseDay(ctx context.Context, op Op) error {
	_, err := s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		if st.dayClosed {
			return Ref{}, Refusal(Conflict, ReasonDayAlreadyClosed, "today (%s) is already closed", st.day)
		}
		st.closeDay("", now, op.Actor)
		return Ref{}, nil
	})
	return err
}

// UpsertBooking stores (or cancels) an online booking.
func (s *Service) UpsertBooking(ctx context.Context, op Op, b Booking) (Booking, error) {
	return as[Booking](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		nb, err := st.upsertBooking(b, now, op.Actor)
		if err != nil {
			return Ref{}, err
		}
		return BookingRef(nb.ID), nil
	}))
}

// SetBlacklist adds or lifts a blacklist entry (by citizen key only).
func (s *Service) SetBlacklist(ctx context.Context, op Op, e BlackEntry) error {
	_, err := s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		_, err := st.setBlacklist(e, now, op.Actor)
		return Ref{}, err
	})
	return err
}

// Lease reserves a block of numbers for kiosk to issue offline. A kiosk
// holding a live lease for the service gets that lease back.
func (s *Service) Lease(ctx context.Context, op Op, kiosk, service string, n int) (Lease, error) {
	return as[Lease](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		l, err := st.lease(kiosk, service, n, now, op.Actor)
		if err != nil {
			return Ref{}, err
		}
		return LeaseRef(l.ID), nil
	}))
}

// ReleaseLease gives up the unused numbers of a lease (they are skipped).
func (s *Service) ReleaseLease(ctx context.Context, op Op, kiosk, id string) (Lease, error) {
	return as[Lease](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		l, err := st.releaseLease(kiosk, id, now, op.Actor)
		if err != nil {
			return Ref{}, err
		}
		return LeaseRef(l.ID), nil
	}))
}

// HandOver merges a ticket that kiosk issued offline into the queue by its
// issue time.
func (s *Service) HandOver(ctx context.Context, op Op, kiosk string, o OfflineTicket) (TicketView, error) {
	return as[TicketView](s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		return ticketRef(st.handOver(kiosk, o, now, op.Actor))
	}))
}
