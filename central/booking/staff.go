package booking

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/calendars"
	"hallq/internal/catalog"
)

// ChangedHours is the reason told to citizens whose slot a calendar change
// removed without a special closure.
var ChangedHours = catalog.Text{ZH: "大厅调整了办公时间，此预约已取消，请重新预约。", EN: "The hall changed its opening hours; this booking is cancelled, please book again."}

// PutHall stores a hall's calendar, slot length and capacities (a new
// hall with revision 0, a change with the revision read), then cancels
// every open booking whose slot the new calendar no longer has — a
// special closure's bookings with the closure's reason, which the
// citizen sees on the booking. A lowered capacity keeps the bookings
// already made. It returns the hall as stored and the bookings cancelled.
func (s *Service) PutHall(ctx context.Context, h calendars.Hall) (calendars.Hall, int, error) {
	if err := h.Validate(); err != nil {
		return h, 0, refuse(Invalid, ReasonBadField, "%v", err).with(fieldOf(err.Error()))
	}
	stored, _, err := s.Halls.Put(ctx, h)
	if errors.Is(err, calendars.ErrChanged) {
		return h, 0, refuse(Conflict, ReasonChanged, "hall %s was changed since revision %d; read it again", h.ID, h.Revision)
	}
	if err != nil {
		return h, 0, err
	}
	n, err := s.cancelRemoved(ctx, stored)
	return stored, n, err
}

// cancelRemoved cancels the open bookings of hall h from today on whose
// slot h no longer has. It is idempotent: run again, it finds nothing.
func (s *Service) cancelRemoved(ctx context.Context, h calendars.Hall) (int, error) {
	loc := h.Calendar.Location()
	now := s.cfg.Clock.Now()
	today := now.In(loc).Format("20060102")
	keys, err := s.slotKeys(ctx, h.ID+".>")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		parts := strings.Split(k, ".")
		if len(parts) != 4 || parts[2] < today {
			continue
		}
		start, err := time.ParseInLocation("20060102.1504", parts[2]+"."+parts[3], loc)
		if err != nil {
			continue
		}
		if _, ok := h.SlotAt(parts[1], start); ok {
			continue
		}
		reason := ChangedHours
		if cl, closed := h.Calendar.Closed(start); closed {
			reason = cl.Reason
		}
		v, _, err := get[slotRec](ctx, s.slots, k)
		if err != nil {
			continue
		}
		for _, id := range v.IDs {
			b, err := s.setStatus(ctx, id, func(b *Booking) error {
				if b.Status != Booked {
					return errNoChange
				}
				r := reason
				b.Status, b.Reason, b.UpdatedAt = Cancelled, &r, now
				return nil
			})
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					continue
				}
				return n, err
			}
			if b.Status == Cancelled && b.Reason != nil {
				if err := s.finishCancel(ctx, b); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

func (s *Service) slotKeys(ctx context.Context, filter string) ([]string, error) {
	l, err := s.slots.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range l.Keys() {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// Report is a hall's bookings of one day with their counts by status.
type Report struct {
	Hall     string         `json:"hall"`
	Day      string         `json:"day"`
	Counts   map[string]int `json:"counts"`
	Bookings []Booking      `json:"bookings"`
}

// DayReport lists every booking made for a hall's day (YYYY-MM-DD), in
// slot order, whatever became of it, with the counts by status.
func (s *Service) DayReport(ctx context.Context, hallID, day string) (Report, error) {
	h, err := s.Halls.Get(ctx, hallID)
	if errors.Is(err, calendars.ErrUnknownHall) {
		return Report{}, refuse(NotFound, ReasonUnknownHall, "there is no hall %q", hallID)
	}
	if err != nil {
		return Report{}, err
	}
	d, err := time.ParseInLocation("2006-01-02", day, h.Calendar.Location())
	if err != nil {
		return Report{}, refuse(Invalid, ReasonBadField, "day %q is not a day YYYY-MM-DD", day)
	}
	ids, err := s.dayIndex(ctx, hallID, d)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Hall: hallID, Day: day, Counts: map[string]int{Booked: 0, Cancelled: 0, Arrived: 0, Missed: 0, Served: 0}, Bookings: []Booking{}}
	for _, id := range ids {
		b, _, err := get[Booking](ctx, s.bookings, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return Report{}, err
		}
		if b.Hall != hallID || b.SlotStart.In(h.Calendar.Location()).Format("2006-01-02") != day {
			continue
		}
		rep.Counts[b.Status]++
		b.CitizenKey = ""
		rep.Bookings = append(rep.Bookings, b)
	}
	slices.SortFunc(rep.Bookings, func(a, b Booking) int {
		if c := a.SlotStart.Compare(b.SlotStart); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return rep, nil
}

// dayIndex lists the ids of the bookings ever made for a hall's day (bucket
// BOOKING_DAYS, one key <hall>.<YYYYMMDD>.<id> per booking: written once,
// never contended).
func (s *Service) dayIndex(ctx context.Context, hallID string, day time.Time) ([]string, error) {
	prefix := hallID + "." + day.Format("20060102") + "."
	l, err := s.days.ListKeysFiltered(ctx, prefix+"*")
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range l.Keys() {
		out = append(out, strings.TrimPrefix(k, prefix))
	}
	slices.Sort(out)
	return out, nil
}

func (s *Service) indexDay(ctx context.Context, hallID string, start time.Time, loc *time.Location, id string) error {
	_, err := s.days.Create(ctx, hallID+"."+start.In(loc).Format("20060102")+"."+id, nil)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil
	}
	return err
}
