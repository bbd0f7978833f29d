package booking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
)

// Consumer is the durable consumer on HALLS that brings the halls'
// check-ins, no-shows, completions and day closes back to the bookings.
const Consumer = "central-bookings"

// ConsumerSubjects are the HALLS subjects it reads: the booking snapshots
// (appointment.upserted in v1 halls, booking.* once renamed), the outcome
// of tickets and the day's close.
var ConsumerSubjects = []string{
	"hall.*.events.appointment.>", "hall.*.events.booking.>",
	"hall.*.events.ticket.completed", "hall.*.events.ticket.no_show",
	"hall.*.events.day.closed",
}

// hallEvent is what the consumer reads of a hall.Event: the booking
// snapshot under either name, the ticket's booking id and the day.
type hallEvent struct {
	Seq         uint64 `json:"seq"`
	Type        string `json:"type"`
	Day         string `json:"day"`
	Appointment *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Ticket string `json:"ticket"`
	} `json:"appointment"`
	Booking *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Ticket string `json:"ticket"`
	} `json:"booking"`
	Ticket *struct {
		ID          string `json:"id"`
		Appointment string `json:"appointment"`
		Booking     string `json:"booking"`
	} `json:"ticket"`
}

// Follow consumes hall events until ctx ends. Every process may run it:
// they share the durable consumer, and applying an event twice changes
// nothing (each is a one-way status change).
// It returns nil when ctx ends; while JetStream cannot be reached it keeps
// trying to bind the consumer, logging each failure.
func (s *Service) Follow(ctx context.Context) error {
	var cons jetstream.Consumer
	for {
		var err error
		cons, err = s.js.CreateOrUpdateConsumer(ctx, platform.HallsStream, jetstream.ConsumerConfig{
			Durable: Consumer, Description: "bookings: check-in, no-show, served and day close from the halls",
			FilterSubjects: ConsumerSubjects, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
			DeliverPolicy: jetstream.DeliverNewPolicy, MaxAckPending: 256,
		})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("booking: cannot bind the hall-events consumer yet; retrying", "consumer", Consumer, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if err := s.apply(ctx, m.Subject(), m.Data()); err != nil {
			s.log.Warn("booking: hall event not applied yet; redelivered", "subject", m.Subject(), "err", err)
			_ = m.NakWithDelay(time.Second)
			return
		}
		_ = m.Ack()
	})
	if err != nil {
		return fmt.Errorf("booking: consuming %s: %w", Consumer, err)
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

func (s *Service) apply(ctx context.Context, subject string, data []byte) error {
	var ev hallEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		s.log.Warn("booking: unreadable hall event dropped", "subject", subject, "err", err)
		return nil
	}
	hall := hallOf(subject)
	bk := ev.Booking
	if bk == nil {
		bk = ev.Appointment
	}
	switch {
	case bk != nil && bk.Status == "checked_in":
		return s.advance(ctx, bk.ID, Arrived, bk.Ticket)
	case ev.Type == "ticket.completed" && ev.Ticket != nil:
		return s.advance(ctx, ticketBooking(ev), Served, ev.Ticket.ID)
	case ev.Type == "ticket.no_show" && ev.Ticket != nil:
		return s.advance(ctx, ticketBooking(ev), Missed, ev.Ticket.ID)
	case ev.Type == "day.closed" && hall != "":
		return s.closeDay(ctx, hall, ev.Day)
	}
	return nil
}

func ticketBooking(ev hallEvent) string {
	if ev.Ticket.Booking != "" {
		return ev.Ticket.Booking
	}
	return ev.Ticket.Appointment
}

func hallOf(subject string) string {
	// hall.<id>.events.<type…>
	const p = "hall."
	if len(subject) <= len(p) {
		return ""
	}
	rest := subject[len(p):]
	for i := range len(rest) {
		if rest[i] == '.' {
			return rest[:i]
		}
	}
	return ""
}

// rank orders the statuses a hall's events lead to: a booking only moves
// up (booked → arrived → missed → served). Applying the events in any
// order, or twice, ends in the same status — the consumer's processes
// may apply a check-in and its completion in either order. Served ranks
// above missed: a citizen called while away (no-show), requeued and then
// served was served, and the miss is struck again.
func rank(status string) int {
	switch status {
	case Booked:
		return 1
	case Arrived:
		return 2
	case Missed:
		return 3
	case Served:
		return 4
	}
	return 0 // cancelled: nothing comes after it
}

func allowed(from, to string) bool { return rank(from) > 0 && rank(to) > rank(from) }

// advance moves a booking to status and, for a miss, counts it.
func (s *Service) advance(ctx context.Context, id, status, ticket string) error {
	if id == "" {
		return nil
	}
	b, err := s.setStatus(ctx, id, func(b *Booking) error {
		if !allowed(b.Status, status) {
			return errNoChange
		}
		b.Status, b.UpdatedAt = status, s.cfg.Clock.Now()
		if ticket != "" {
			b.Ticket = ticket
		}
		return nil
	})
	var e *Error
	if errors.As(err, &e) {
		return nil // not one of ours (a booking made at the hall, or long gone)
	}
	if err != nil {
		return err
	}
	if b.Status != status {
		return nil
	}
	return s.recordOutcome(ctx, b)
}

// recordOutcome writes the booking's status into the citizen's entry and a
// miss into the missed-booking rule (once per booking).
func (s *Service) recordOutcome(ctx context.Context, b Booking) error {
	h, err := s.Halls.Get(ctx, b.Hall)
	if err != nil {
		return err
	}
	day := b.SlotStart.In(h.Calendar.Location()).Format("2006-01-02")
	_, err = update(ctx, s.citizens, b.CitizenKey, func(cr *citizenRec, _ bool) error {
		if !cr.outcome(b.ID, b.Status, day) {
			return errNoChange
		}
		return nil
	})
	return err
}

// outcome writes into the entry booking id's move to status (its slot on
// day): the ref's status, and a miss counted once, or struck again when
// the booking was served after all. It reports whether the entry changed.
func (cr *citizenRec) outcome(id, status, day string) bool {
	changed := false
	if i := slices.IndexFunc(cr.Refs, func(x ref) bool { return x.ID == id }); i >= 0 && cr.Refs[i].Status != status {
		cr.Refs[i].Status = status
		changed = true
	}
	if status == Missed && !slices.ContainsFunc(cr.Misses, func(m miss) bool { return m.ID == id }) {
		cr.Misses = append(cr.Misses, miss{ID: id, Day: day})
		changed = true
	}
	if status == Served && slices.ContainsFunc(cr.Misses, func(m miss) bool { return m.ID == id }) {
		cr.Misses = slices.DeleteFunc(cr.Misses, func(m miss) bool { return m.ID == id })
		changed = true
	}
	return changed
}

// The booking record is the truth of where a booking is, and the citizen
// sees it; the citizen's entry follows it a moment later (a hall's event
// is written to the record first, then to the entry, and when a process
// dies between the two the entry follows only on the event's
// redelivery). Every check and view of the entry (the caps, the
// one-open-booking rule, the missed-booking rule, the warning, the bans)
// therefore first settles the entry on the records: a citizen shown a
// booking as missed may book that service again at once, and the miss
// counts at once.

// moved reads the records behind the entry's refs that may still move
// and returns, by booking id, the status of each record that has moved
// past its ref.
func (s *Service) moved(ctx context.Context, cr citizenRec) (map[string]string, error) {
	var out map[string]string
	for _, r := range cr.Refs {
		if r.Status == Cancelled || r.Status == Served {
			continue
		}
		b, _, err := get[Booking](ctx, s.bookings, r.ID)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // refused, or still being made
		}
		if err != nil {
			return nil, err
		}
		if b.Status != r.Status {
			if out == nil {
				out = map[string]string{}
			}
			out[r.ID] = b.Status
		}
	}
	return out, nil
}

// settle brings the entry up to the statuses moved read from the
// records, as recordOutcome and markRef would; a status only moves
// forward, so a stale reading changes nothing. It reports whether the
// entry changed.
func (cr *citizenRec) settle(moved map[string]string) bool {
	changed := false
	for i := range cr.Refs {
		r := cr.Refs[i]
		st, ok := moved[r.ID]
		switch {
		case !ok:
		case st == Cancelled && r.Status == Booked:
			cr.Refs[i].Status = Cancelled
			changed = true
		case allowed(r.Status, st):
			if cr.outcome(r.ID, st, r.Day) {
				changed = true
			}
		}
	}
	return changed
}

// closeDay marks missed every booking of the hall's day still booked: the
// hall closed its day and the citizen never checked in.
func (s *Service) closeDay(ctx context.Context, hall, day string) error {
	h, err := s.Halls.Get(ctx, hall)
	if err != nil {
		return nil // a hall without bookings here
	}
	d, err := time.ParseInLocation("2006-01-02", day, h.Calendar.Location())
	if err != nil {
		return nil
	}
	ids, err := s.dayIndex(ctx, hall, d)
	if err != nil {
		return err
	}
	for _, id := range ids {
		b, _, err := get[Booking](ctx, s.bookings, id)
		// A booking already missed is advanced again: the event may be a
		// redelivery after a process died between the record and the
		// citizen's entry, and the entry is written then.
		if err != nil || (b.Status != Booked && b.Status != Missed) || b.SlotStart.In(h.Calendar.Location()).Format("2006-01-02") != day {
			continue
		}
		if err := s.advance(ctx, id, Missed, ""); err != nil {
			return err
		}
	}
	return nil
}
