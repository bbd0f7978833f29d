package notify

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/booking"
	"hallq/central/platform"
)

// BookingsConsumer is the durable consumer, on the stream of the booking
// service's BOOKINGS bucket, through which the processes share the
// booking changes to judge.
const BookingsConsumer = "central-notify-bookings"

const bookingsStream = "KV_" + booking.BookingsBucket

func (s *Service) runBookings(ctx context.Context) {
	retry(ctx, s.log, "booking consumer", s.consumeBookings)
}

// awaitStream waits for stream to exist, looking once a second and
// saying so once: a central without bookings (no province key) never makes
// the BOOKINGS bucket, and one whose booking side starts later or on
// another process makes it then. It returns nil once the stream is
// there, ctx's error when ctx ends first, and any other error at once.
func (s *Service) awaitStream(ctx context.Context, stream string) error {
	waited := false
	for {
		_, err := s.js.Stream(ctx, stream)
		switch {
		case err == nil:
			if waited {
				s.log.Info("notify: stream found; judging booking changes", "stream", stream)
			}
			return nil
		case !errors.Is(err, jetstream.ErrStreamNotFound):
			return err
		case !waited:
			s.log.Info("notify: no bookings here yet; waiting for their stream", "stream", stream)
			waited = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (s *Service) consumeBookings(ctx context.Context) error {
	if err := s.awaitStream(ctx, bookingsStream); err != nil {
		return err
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, bookingsStream, jetstream.ConsumerConfig{
		Durable: BookingsConsumer, Description: "notify: every booking change, to tell the citizen",
		FilterSubject: "$KV." + booking.BookingsBucket + ".>", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 30 * time.Second, DeliverPolicy: jetstream.DeliverNewPolicy, MaxAckPending: 64,
	})
	if err != nil {
		return err // the stream went again, or JetStream is unreachable: tried again
	}
	errc := make(chan error, 1)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if op := m.Headers().Get("KV-Operation"); op != "" {
			_ = m.Ack() // a delete or purge
			return
		}
		md, err := m.Metadata()
		if err != nil {
			_ = m.Term()
			return
		}
		var b booking.Booking
		if err := json.Unmarshal(m.Data(), &b); err != nil || b.ID == "" {
			_ = m.Term()
			return
		}
		if err := s.judgeBooking(ctx, b, md.Sequence.Stream); err != nil {
			s.log.Warn("notify: booking change not judged yet; redelivered", "booking", b.ID, "err", err)
			_ = m.NakWithDelay(time.Second)
			return
		}
		_ = m.Ack()
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if errors.Is(err, jetstream.ErrConsumerDeleted) {
			select {
			case errc <- err:
			default:
			}
		}
	}))
	if err != nil {
		return err
	}
	defer cc.Stop()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

func (s *Service) booking(ctx context.Context, id string) (booking.Booking, error) {
	kv, err := platform.BindKV(ctx, s.js, booking.BookingsBucket)
	if err != nil {
		return booking.Booking{}, err
	}
	b, _, err := get[booking.Booking](ctx, kv, id)
	return b, err
}

// judgeBooking compares a booking as written with how it was last judged
// and decides what the citizen is told. Each decision is idempotent, so
// a change judged twice (redelivered) tells nothing twice.
func (s *Service) judgeBooking(ctx context.Context, b booking.Booking, seq uint64) error {
	prev, _, err := get[bookingSeen](ctx, s.subs, "b."+b.ID)
	seen := err == nil
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	if seen && prev.Seq >= seq {
		return nil // judged already (a redelivery)
	}
	f := facts{Hall: b.Hall, Service: b.Service, Booking: b.ID, HallName: b.Hall, Slot: b.SlotStart}
	if h, err := s.halls.Get(ctx, b.Hall); err == nil {
		f.HallName = cmpOr(h.Name.ZH, b.Hall)
		f.Slot = b.SlotStart.In(h.Calendar.Location())
		if b.Reason != nil {
			f.Closure = b.Reason.ZH
		}
	}
	c := b.CitizenKey
	slot := b.SlotStart.UTC().Format("20060102T1504")
	var over bool
	switch {
	case b.Status == booking.Booked && !seen:
		err = s.tell(ctx, c, Confirmed, b.ID, f, false)
		if err == nil {
			err = s.remind(ctx, c, b, f)
		}
		s.keepOpen(ctx, c, b.ID, true)
	case b.Status == booking.Booked && prev.Status == booking.Booked && !prev.Slot.Equal(b.SlotStart):
		err = s.tell(ctx, c, Changed, b.ID+"-"+slot, f, false)
		if err == nil {
			err = s.remind(ctx, c, b, f)
		}
	case b.Status == booking.Cancelled && prev.Status != booking.Cancelled:
		err, over = s.tell(ctx, c, Cancelled, b.ID, f, true), true
	case b.Status == booking.Arrived && b.Ticket != "" && prev.Ticket != b.Ticket:
		err = s.follow(ctx, b)
	case b.Status == booking.Missed && prev.Status != booking.Missed:
		if b.Ticket == "" { // never checked in; a ticket's no-show is told by the ticket watcher
			err = s.tell(ctx, c, Missed, b.ID, f, true)
		}
		over = true
	case b.Status == booking.Served:
		over = true
	}
	if err != nil {
		return err
	}
	if over {
		s.keepOpen(ctx, c, b.ID, false)
	}
	_, err = update(ctx, s.subs, "b."+b.ID, func(v *bookingSeen, _ bool) (bool, error) {
		if v.Seq >= seq {
			return false, errNoChange
		}
		*v = bookingSeen{Status: b.Status, Slot: b.SlotStart, Ticket: cmpOr(b.Ticket, v.Ticket), Seq: seq}
		return false, nil
	})
	return err
}

func (s *Service) tell(ctx context.Context, citizen string, k Kind, ref string, f facts, final bool) error {
	ts, err := s.citizenTargets(ctx, citizen, k)
	if err != nil || len(ts) == 0 {
		return err
	}
	var fill func(*Entry)
	if final {
		fill = func(e *Entry) {
			if e.Channel == SMS {
				e.Phone = "-" // decide puts the number in
			}
		}
	}
	return s.decide(ctx, k, ref, f, time.Time{}, ts, fill)
}

// remind decides the booking's reminders: the evening before the slot at
// RemindEvening (hall time) and RemindBefore before it, each only while
// still ahead. They are sent only if the booking still holds that slot.
func (s *Service) remind(ctx context.Context, citizen string, b booking.Booking, f facts) error {
	ts, err := s.citizenTargets(ctx, citizen, Reminder)
	if err != nil || len(ts) == 0 {
		return err
	}
	now := s.cfg.Clock.Now()
	slot := f.Slot
	var dues []struct {
		at  time.Time
		tag string
	}
	if s.cfg.RemindEvening != "off" {
		hm, _ := time.Parse("15:04", s.cfg.RemindEvening)
		d := slot.AddDate(0, 0, -1)
		eve := time.Date(d.Year(), d.Month(), d.Day(), hm.Hour(), hm.Minute(), 0, 0, slot.Location())
		dues = append(dues, struct {
			at  time.Time
			tag string
		}{eve, "eve"})
	}
	if s.cfg.RemindBefore > 0 {
		dues = append(dues, struct {
			at  time.Time
			tag string
		}{slot.Add(-s.cfg.RemindBefore), "pre"})
	}
	for _, d := range dues {
		if !d.at.After(now) || !d.at.Before(slot) {
			continue
		}
		ref := b.ID + "-" + b.SlotStart.UTC().Format("20060102T1504") + "-" + d.tag
		if err := s.decide(ctx, Reminder, ref, f, d.at, ts, func(e *Entry) { e.Booking, e.Slot = b.ID, b.SlotStart }); err != nil {
			return err
		}
	}
	return nil
}

// follow makes the citizen of a checked-in booking follow its ticket.
func (s *Service) follow(ctx context.Context, b booking.Booking) error {
	key := "f." + b.Hall + "." + b.Ticket + "." + shortHash(b.CitizenKey)
	s.keepOpen(ctx, b.CitizenKey, b.Ticket, true)
	_, err := update(ctx, s.subs, key, func(f *Follow, exists bool) (bool, error) {
		if exists {
			return false, errNoChange
		}
		*f = Follow{Hall: b.Hall, Ticket: b.Ticket, Booking: b.ID, Citizen: b.CitizenKey}
		return false, nil
	})
	return err
}

// keepOpen adds (or, with open false, removes) a booking or ticket not
// yet over; when none is left, the citizen's phone number is deleted.
func (s *Service) keepOpen(ctx context.Context, citizen, ref string, open bool) {
	p, err := update(ctx, s.subs, "c."+citizen, func(p *Prefs, exists bool) (bool, error) {
		has := slices.Contains(p.Open, ref)
		switch {
		case open && has, !open && !has:
			return false, errNoChange
		case open:
			p.Open = append(p.Open, ref)
			if len(p.Open) > 50 {
				p.Open = p.Open[len(p.Open)-50:]
			}
		default:
			p.Open = slices.DeleteFunc(p.Open, func(x string) bool { return x == ref })
		}
		return false, nil
	})
	if err != nil {
		s.log.Warn("notify: the citizen's open bookings were not updated", "err", err)
		return
	}
	if !open && len(p.Open) == 0 {
		if err := s.subs.Delete(ctx, "p."+citizen); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("notify: a phone number no longer needed was not deleted yet", "err", err)
		}
	}
}

// sweepPhones deletes the phone numbers given longer than PhoneRetention
// ago by citizens with no booking or followed ticket open.
func (s *Service) sweepPhones(ctx context.Context) {
	l, err := s.subs.ListKeysFiltered(ctx, "p.>")
	if err != nil {
		return
	}
	for k := range l.Keys() {
		ph, rev, err := get[Phone](ctx, s.subs, k)
		if err != nil || time.Since(ph.At) < s.cfg.PhoneRetention {
			continue
		}
		p, _, err := get[Prefs](ctx, s.subs, "c."+strings.TrimPrefix(k, "p."))
		switch {
		case err == nil && len(p.Open) > 0:
			continue
		case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
			// not known now (a read that timed out on a busy cluster):
			// the number may serve an open booking, so the next sweep decides
			s.log.Warn("notify: a phone number's bookings could not be read; it is kept until the next sweep", "err", err)
			continue
		}
		_ = s.subs.Delete(ctx, k, jetstream.LastRevision(rev))
	}
}
