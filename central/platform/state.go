package platform

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// HallState is one hall's entry in KV bucket central_halls: the (hall,
// epoch, seq) bookkeeping of the dedupe and epoch rules, the hall's live
// status and today's aggregates — everything one event changes in the
// hall's picture, so that one compare-and-set of this entry applies the
// event exactly once (docs/central.md, "Durable views").
type HallState struct {
	Hall    string `json:"hall"`
	Epoch   string `json:"epoch,omitempty"`
	LastSeq uint64 `json:"last_seq"`
	// LastStream is the HALLS stream sequence of the last message judged
	// for this hall (applied, or counted as duplicate, gap-bad or
	// superseded): messages at or before it were judged already.
	LastStream uint64   `json:"last_stream"`
	OldEpochs  []string `json:"old_epochs,omitempty"`

	// The oracle: with exactly-once, in-order delivery all stay 0.
	Duplicates uint64   `json:"duplicates"`
	Gaps       uint64   `json:"gaps"`
	GapRanges  []string `json:"gap_ranges,omitempty"` // the first 20
	BadIDs     uint64   `json:"bad_msg_ids"`
	Restores   int      `json:"restores"`
	Superseded uint64   `json:"superseded"`
	Unreadable uint64   `json:"unreadable"`
	// KeySchemeRefused counts events refused because the hall keys
	// citizens another way than the province; KeySchemeError says so.
	KeySchemeRefused uint64 `json:"key_scheme_refused,omitempty"`
	KeySchemeError   string `json:"key_scheme_error,omitempty"`

	Events    uint64    `json:"events"`
	LastAt    time.Time `json:"last_event_at,omitzero"` // hall time of the last applied event
	AppliedAt time.Time `json:"applied_at,omitzero"`    // when the central applied it
	// ApplyLagS is AppliedAt − LastAt: how far the central was behind
	// the hall when it applied the last event (forwarding lag).
	ApplyLagS float64 `json:"apply_lag_s"`

	Day      string                   `json:"day,omitempty"` // the latest hall day seen
	Waiting  map[string][]WaitingItem `json:"waiting,omitempty"`
	Windows  map[string]WindowState   `json:"windows,omitempty"` // by window number
	Services map[string]*ServiceAgg   `json:"services,omitempty"`
	Bookings map[string]string        `json:"bookings,omitempty"` // today's booking id → booked, arrived, cancelled

	where map[string]string // ticket id → the service whose waiting list holds it
}

// WaitingItem is one waiting ticket in a service's queue, in the hall's
// order (its class — booked, priority, transferred, walk-in: hall.QueueClass
// — then queued time, then number).
type WaitingItem struct {
	ID          string    `json:"id"`
	Number      string    `json:"number"`
	QueuedAt    time.Time `json:"queued_at"`
	Priority    bool      `json:"priority,omitempty"`
	Booked      bool      `json:"booked,omitempty"`
	Transferred bool      `json:"transferred,omitempty"`
}

// class is the item's class in the hall's order. An entry written before
// booked and transferred were kept reads as priority or walk-in, as it
// was ordered then.
func (w WaitingItem) class() int {
	ch := hall.WalkIn
	switch {
	case w.Booked:
		ch = hall.BookingChannel
	case w.Priority:
		ch = hall.Priority
	}
	return hall.QueueClass(ch, w.Transferred)
}

// WindowState is a window as the central last saw it.
type WindowState struct {
	Number   int       `json:"number"`
	Status   string    `json:"status"`
	Services []string  `json:"services,omitempty"`
	Current  string    `json:"current,omitempty"` // number of the ticket called or served
	Since    time.Time `json:"since,omitzero"`
}

// ServiceAgg is one service's figures for one hall day.
type ServiceAgg struct {
	Issued         int     `json:"issued"`
	Served         int     `json:"served"`
	NoShow         int     `json:"no_show"`
	Cancelled      int     `json:"cancelled"`
	Remote         int     `json:"remote"`
	WaitSumS       float64 `json:"wait_sum_s"`
	WaitN          int     `json:"wait_n"`
	ServiceSumS    float64 `json:"service_sum_s"`
	ServiceN       int     `json:"service_n"`
	Ratings        [6]int  `json:"ratings"` // count per score 1..5
	BookingsBooked int     `json:"bookings_booked"`
	BookingsArrive int     `json:"bookings_arrived"`
	BookingsMissed int     `json:"bookings_missed"`
	// Arrivals, HourWaitS and HourWaitN are by hour of the hall's day
	// (index 0..23, only as long as the last hour used): tickets issued
	// in that hour, and the sum and count of first-call waits by the hour
	// of the call (dash.go).
	Arrivals  []int     `json:"arrivals,omitempty"`
	HourWaitS []float64 `json:"hour_wait_s,omitempty"`
	HourWaitN []int     `json:"hour_wait_n,omitempty"`
	// Matters are the figures of the service's visits per matter (事项
	// code): handled, outcomes and ratings (dash.go).
	Matters map[string]*MatterAgg `json:"matters,omitempty"`
}

// TicketState is one ticket's entry in KV bucket central_tickets (key:
// the ticket id), the public status a citizen follows from anywhere. It
// carries no citizen data.
type TicketState struct {
	ID       string    `json:"id"`
	Hall     string    `json:"hall"`
	Day      string    `json:"day"`
	Number   string    `json:"number"`
	Service  string    `json:"service"`
	Status   string    `json:"status"`
	Window   int       `json:"window,omitempty"`
	IssuedAt time.Time `json:"issued_at"`
	CalledAt time.Time `json:"called_at,omitzero"`
	Seq      uint64    `json:"seq"` // the hall event that wrote it
	Epoch    string    `json:"epoch,omitempty"`
}

// DayAgg is a closed hall day's figures, KV bucket central_days, key
// "<hall>.<day>".
type DayAgg struct {
	Hall     string                 `json:"hall"`
	Day      string                 `json:"day"`
	Services map[string]*ServiceAgg `json:"services"`
	Through  uint64                 `json:"through_seq"` // last hall seq counted in
	Epoch    string                 `json:"epoch,omitempty"`
}

// effects are the writes an applied batch needs besides the hall entry:
// they are idempotent (whole values, keyed by ticket id or hall day), so
// writing them before the hall entry's compare-and-set and again after a
// crash changes nothing.
type effects struct {
	tickets map[string]TicketState
	days    []DayAgg     // days closed by a day rollover
	late    []hall.Event // events of this hall for a day already closed
}

func (h *HallState) index() {
	h.where = map[string]string{}
	for svc, l := range h.Waiting {
		for _, w := range l {
			h.where[w.ID] = svc
		}
	}
}

// judged says whether the message at stream sequence sseq was judged.
func (h *HallState) judged(sseq uint64) bool { return sseq != 0 && sseq <= h.LastStream }

// apply judges one message of this hall by the epoch and dedupe rules and,
// when it is the next event, applies it. It reports whether it changed
// the entry.
func (h *HallState) apply(msgID string, data []byte, sseq uint64, now time.Time, fx *effects) {
	h.LastStream = max(h.LastStream, sseq)
	var ev hall.Event
	if err := json.Unmarshal(data, &ev); err != nil || ev.Seq == 0 {
		h.Unreadable++
		return
	}
	var refs bookingRefs
	if bytes.Contains(data, []byte(`"booking`)) || bytes.Contains(data, []byte(`"appointment`)) {
		_ = json.Unmarshal(data, &refs) // it parsed as an event above
	}
	mHall, epoch, mSeq, valid := forward.ParseMsgID(msgID)
	if !valid || mHall != h.Hall || mSeq != ev.Seq {
		h.BadIDs++
		epoch = h.Epoch // judged by seq alone
	}
	switch {
	case epoch == h.Epoch:
	case slices.Contains(h.OldEpochs, epoch):
		h.Superseded++
		return
	default:
		if h.Events > 0 || h.LastSeq > 0 {
			h.OldEpochs = append(h.OldEpochs, h.Epoch)
			h.Restores++
			h.LastSeq = ev.Seq - 1
		}
		h.Epoch = epoch
	}
	switch {
	case ev.Seq <= h.LastSeq:
		h.Duplicates++
		return
	case ev.Seq > h.LastSeq+1:
		h.Gaps += ev.Seq - h.LastSeq - 1
		if len(h.GapRanges) < 20 {
			h.GapRanges = append(h.GapRanges, fmt.Sprintf("%d-%d", h.LastSeq+1, ev.Seq-1))
		}
	}
	h.LastSeq, h.Events = ev.Seq, h.Events+1
	h.LastAt, h.AppliedAt = ev.At, now
	h.ApplyLagS = max(0, now.Sub(ev.At).Seconds())
	h.event(&ev, &refs, fx)
}

func (h *HallState) agg(svc string) *ServiceAgg {
	if h.Services == nil {
		h.Services = map[string]*ServiceAgg{}
	}
	a := h.Services[svc]
	if a == nil {
		a = &ServiceAgg{}
		h.Services[svc] = a
	}
	return a
}

// rollover closes the current day: its figures go to central_days and
// today's figures start from zero; the day's queues are over (a ticket
// carried over comes back with its own event for the new day). Bookings
// still only booked are missed.
func (h *HallState) rollover(day string, fx *effects) {
	if h.Day != "" && len(h.Services)+len(h.Bookings) > 0 {
		h.closeBookings()
		fx.days = append(fx.days, DayAgg{Hall: h.Hall, Day: h.Day, Services: h.Services, Through: h.LastSeq - 1, Epoch: h.Epoch})
	}
	h.Day, h.Services, h.Bookings, h.Waiting = day, nil, nil, nil
	h.index()
}

func (h *HallState) closeBookings() {
	for id, st := range h.Bookings {
		if st == hall.BookingBooked {
			svc, _, _ := cutLast(id)
			h.agg(svc).BookingsMissed++
			h.Bookings[id] = "missed"
		}
	}
}

// Booking ids are kept as "<service>/<booking id>" so that a missed one
// is counted for its service.
func cutLast(s string) (svc, id string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

// bookingRefs are an event's booking fields under both spellings: the
// hall's v1 "appointment" and "booking" (the hall side's rename), for
// the booking object of a booking event and for a ticket's booking id.
type bookingRefs struct {
	Booking     *hall.Booking `json:"booking"`
	Appointment *hall.Booking `json:"appointment"`
	Ticket      *struct {
		Booking     string `json:"booking"`
		Appointment string `json:"appointment"`
	} `json:"ticket"`
}

func (r *bookingRefs) booking() *hall.Booking { return cmp.Or(r.Booking, r.Appointment) }

func (r *bookingRefs) ticketBooking() string {
	if r.Ticket == nil {
		return ""
	}
	return cmp.Or(r.Ticket.Booking, r.Ticket.Appointment)
}

// Booking event types: v1's and the renamed one.
const (
	evBookingV1 = "appointment.upserted"
	evBooking   = "booking.upserted"
)

func (h *HallState) event(ev *hall.Event, refs *bookingRefs, fx *effects) {
	if ev.Day != "" && ev.Day > h.Day {
		h.rollover(ev.Day, fx)
	}
	if ev.Day != "" && ev.Day < h.Day {
		// A late event for a closed day: its figures go to that day's entry.
		if isFigure(ev.Type) {
			fx.late = append(fx.late, *ev)
		}
		h.ticket(ev, refs, fx, false)
		return
	}
	h.ticket(ev, refs, fx, true)
	if w := ev.Window; w != nil {
		if h.Windows == nil {
			h.Windows = map[string]WindowState{}
		}
		ws := WindowState{Number: w.Number, Status: string(w.Status), Services: w.Services, Since: w.Since}
		if w.Current != "" {
			ws.Current = h.Windows[fmt.Sprint(w.Number)].Current
		}
		h.Windows[fmt.Sprint(w.Number)] = ws
	}
	switch b := refs.booking(); {
	case (ev.Type == evBookingV1 || ev.Type == evBooking) && b != nil:
		if h.Bookings == nil {
			h.Bookings = map[string]string{}
		}
		key := b.Service + "/" + b.ID
		prev, seen := h.Bookings[key]
		switch b.Status {
		case hall.BookingCancelled:
			if seen && prev == hall.BookingBooked {
				h.agg(b.Service).BookingsBooked--
			}
			h.Bookings[key] = hall.BookingCancelled
		case hall.BookingCheckedIn:
			if !seen || prev == hall.BookingCancelled {
				h.agg(b.Service).BookingsBooked++
			}
			if prev != "arrived" {
				h.agg(b.Service).BookingsArrive++
			}
			h.Bookings[key] = "arrived"
		default:
			if !seen || prev == hall.BookingCancelled {
				h.agg(b.Service).BookingsBooked++
				h.Bookings[key] = hall.BookingBooked
			}
		}
	case ev.Type == hall.EvDayClosed:
		h.closeBookings()
	}
}

func isFigure(typ string) bool {
	switch typ {
	case hall.EvTicketIssued, hall.EvTicketCalled, hall.EvTicketCompleted, hall.EvTicketNoShow, hall.EvTicketCancelled, hall.EvTicketRated:
		return true
	}
	return false
}

// figures adds one event to a day's per-service figures.
func figures(a func(string) *ServiceAgg, ev *hall.Event) {
	t := ev.Ticket
	if t == nil {
		return
	}
	switch ev.Type {
	case hall.EvTicketIssued:
		s := a(t.Service)
		s.Issued++
		if t.Channel == hall.Remote {
			s.Remote++
		}
		s.arrived(t.IssuedAt)
	case hall.EvTicketCalled:
		if t.Recalls == 0 && !t.CalledAt.IsZero() && !t.IssuedAt.IsZero() {
			s := a(t.Service)
			s.WaitSumS += max(0, t.CalledAt.Sub(t.IssuedAt).Seconds())
			s.WaitN++
			s.waited(t.CalledAt, max(0, t.CalledAt.Sub(t.IssuedAt).Seconds()))
		}
	case hall.EvTicketCompleted:
		s := a(t.Service)
		s.Served++
		from := t.StartedAt
		if from.IsZero() {
			from = t.CalledAt
		}
		if !from.IsZero() && !t.FinishedAt.IsZero() {
			s.ServiceSumS += max(0, t.FinishedAt.Sub(from).Seconds())
			s.ServiceN++
		}
		s.handled(t)
	case hall.EvTicketNoShow:
		a(t.Service).NoShow++
	case hall.EvTicketCancelled:
		a(t.Service).Cancelled++
	case hall.EvTicketRated:
		if t.Rating != nil && t.Rating.Score >= 1 && t.Rating.Score <= 5 {
			a(t.Service).Ratings[t.Rating.Score]++
		}
		a(t.Service).matterRated(t)
	}
}

// ticket applies a ticket event: the waiting lists, the window's current
// ticket, the day's figures and the ticket's public entry.
func (h *HallState) ticket(ev *hall.Event, refs *bookingRefs, fx *effects, today bool) {
	t := ev.Ticket
	if t == nil || t.ID == "" {
		return
	}
	if today {
		figures(h.agg, ev)
		if bk := refs.ticketBooking(); ev.Type == hall.EvTicketIssued && bk != "" {
			if h.Bookings == nil {
				h.Bookings = map[string]string{}
			}
			key := t.Service + "/" + bk
			if prev := h.Bookings[key]; prev != "arrived" {
				if prev == "" || prev == hall.BookingCancelled {
					h.agg(t.Service).BookingsBooked++
				}
				h.agg(t.Service).BookingsArrive++
				h.Bookings[key] = "arrived"
			}
		}
	}
	if h.where == nil {
		h.index()
	}
	if svc, ok := h.where[t.ID]; ok {
		h.Waiting[svc] = slices.DeleteFunc(h.Waiting[svc], func(w WaitingItem) bool { return w.ID == t.ID })
		if len(h.Waiting[svc]) == 0 {
			delete(h.Waiting, svc)
		}
		delete(h.where, t.ID)
	}
	if t.Status == hall.Waiting && today {
		if h.Waiting == nil {
			h.Waiting = map[string][]WaitingItem{}
		}
		w := WaitingItem{ID: t.ID, Number: t.Number, QueuedAt: t.QueuedAt, Priority: t.Channel == hall.Priority,
			Booked: t.Channel == hall.BookingChannel, Transferred: t.Transferred}
		l := h.Waiting[t.Service]
		i, _ := slices.BinarySearchFunc(l, w, cmpWaiting)
		h.Waiting[t.Service] = slices.Insert(l, i, w)
		h.where[t.ID] = t.Service
	}
	if t.Window > 0 && (t.Status == hall.Called || t.Status == hall.Serving) && h.Windows != nil {
		k := fmt.Sprint(t.Window)
		if ws, ok := h.Windows[k]; ok {
			ws.Current = t.Number
			h.Windows[k] = ws
		}
	}
	if t.Window > 0 && !t.Status.Open() && h.Windows != nil {
		k := fmt.Sprint(t.Window)
		if ws, ok := h.Windows[k]; ok && ws.Current == t.Number {
			ws.Current = ""
			h.Windows[k] = ws
		}
	}
	if fx.tickets == nil {
		fx.tickets = map[string]TicketState{}
	}
	ts := TicketState{ID: t.ID, Hall: h.Hall, Day: t.Day, Number: t.Number, Service: t.Service, Status: string(t.Status),
		IssuedAt: t.IssuedAt, CalledAt: t.CalledAt, Seq: ev.Seq, Epoch: h.Epoch}
	if t.Status == hall.Called || t.Status == hall.Serving || !t.CalledAt.IsZero() {
		ts.Window = t.Window
	}
	fx.tickets[t.ID] = ts
}

func cmpWaiting(a, b WaitingItem) int {
	if c := cmp.Compare(a.class(), b.class()); c != 0 {
		return c
	}
	if c := a.QueuedAt.Compare(b.QueuedAt); c != 0 {
		return c
	}
	if c := cmp.Compare(len(a.Number), len(b.Number)); c != 0 {
		return c
	}
	return cmp.Compare(a.Number, b.Number)
}

// addLate counts a late event into a closed day's figures unless that day
// already counted it (Through, within the same epoch).
func (d *DayAgg) addLate(ev *hall.Event, epoch string) bool {
	if d.Epoch == epoch && ev.Seq <= d.Through {
		return false
	}
	if d.Services == nil {
		d.Services = map[string]*ServiceAgg{}
	}
	figures(func(svc string) *ServiceAgg {
		a := d.Services[svc]
		if a == nil {
			a = &ServiceAgg{}
			d.Services[svc] = a
		}
		return a
	}, ev)
	d.Through, d.Epoch = ev.Seq, epoch
	return true
}
