package booking

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/audit"
	"hallq/central/auth"
	"hallq/central/calendars"
	ccat "hallq/central/catalog"
	"hallq/central/platform"
	"hallq/internal/catalog"
	"hallq/queue-server/forward"
)

// KV buckets.
const (
	BookingsBucket = "BOOKINGS"
	SlotsBucket    = "BOOKING_SLOTS"
	CitizensBucket = "BOOKING_CITIZENS"
	DaysBucket     = "BOOKING_DAYS"
)

// Booking statuses.
const (
	Booked    = "booked"
	Cancelled = "cancelled"
	Arrived   = "arrived" // checked in at the hall: a ticket was issued
	Missed    = "missed"  // not checked in, or called and not there (爽约)
	Served    = "served"
)

// Booking is one online booking.
type Booking struct {
	ID        string        `json:"id"`
	Hall      string        `json:"hall"`
	Service   string        `json:"service"`
	Matter    string        `json:"matter,omitempty"`
	SlotStart time.Time     `json:"slot_start"`
	SlotEnd   time.Time     `json:"slot_end"`
	Status    string        `json:"status"`
	Reason    *catalog.Text `json:"reason,omitempty"` // why it was cancelled, when not by the citizen
	MaskedID  string        `json:"masked_id,omitempty"`
	Ticket    string        `json:"ticket,omitempty"` // the hall's ticket id once arrived
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	// CitizenKey is stored, never in a reply (Public clears it).
	CitizenKey string `json:"citizen_key,omitempty"`
}

// Public is b as a reply shows it.
func (b Booking) Public() Booking { b.CitizenKey = ""; return b }

// Policy is the province's booking rules.
type Policy struct {
	WindowDays   int           // working days ahead a citizen may book (default 7)
	ReleaseAt    string        // "HH:MM" each day's new window day is released (default 08:30)
	BookCutoff   time.Duration // booking closes this long before a slot (default 1h)
	CancelCutoff time.Duration // cancelling/moving closes this long before a slot (default 2h)
	MaxPerDay    int           // bookings per citizen per day (default 2)
	MaxPerWeek   int           // bookings per citizen per ISO week (default 4)
	MissedLimit  int           // N misses …                          (default 3)
	MissedDays   int           // … within M days …                    (default 90)
	BanDays      int           // … bar booking for K days (default 30)
}

func (p *Policy) defaults() {
	if p.WindowDays <= 0 {
		p.WindowDays = 7
	}
	if p.ReleaseAt == "" {
		p.ReleaseAt = "08:30"
	}
	if p.BookCutoff == 0 {
		p.BookCutoff = time.Hour
	}
	if p.CancelCutoff == 0 {
		p.CancelCutoff = 2 * time.Hour
	}
	if p.MaxPerDay <= 0 {
		p.MaxPerDay = 2
	}
	if p.MaxPerWeek <= 0 {
		p.MaxPerWeek = 4
	}
	if p.MissedLimit <= 0 {
		p.MissedLimit = 3
	}
	if p.MissedDays <= 0 {
		p.MissedDays = 90
	}
	if p.BanDays <= 0 {
		p.BanDays = 30
	}
}

// Clock is what the service reads the time from.
type Clock interface{ Now() time.Time }

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }

// Config configures a Service.
type Config struct {
	JS          jetstream.JetStream
	Replicas    int // KV and stream replicas: the cluster size (default 1)
	ProvinceKey []byte
	Policy      Policy
	Clock       Clock
	Log         *slog.Logger
}

// Service is one central process's booking service; all its state is in
// JetStream, so any number of them may run side by side.
type Service struct {
	cfg      Config
	pol      Policy
	js       jetstream.JetStream
	bookings jetstream.KeyValue
	slots    jetstream.KeyValue
	citizens jetstream.KeyValue
	days     jetstream.KeyValue
	Halls    *calendars.Store
	Catalog  *ccat.Store
	Audit    *audit.Log // the province's audit trail of staff changes
	log      *slog.Logger
}

// New creates or binds the buckets and streams it needs.
func New(ctx context.Context, c Config) (*Service, error) {
	if c.JS == nil || len(c.ProvinceKey) == 0 {
		return nil, errors.New("booking: JetStream and the province key are needed")
	}
	if c.Clock == nil {
		c.Clock = sysClock{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.Policy.defaults()
	if _, err := time.Parse("15:04", c.Policy.ReleaseAt); err != nil {
		return nil, fmt.Errorf("booking: release time %q is not HH:MM", c.Policy.ReleaseAt)
	}
	r := max(c.Replicas, 1)
	if err := platform.EnsureStreams(ctx, c.JS, platform.StreamOptions{Replicas: r}); err != nil {
		return nil, err
	}
	s := &Service{cfg: c, pol: c.Policy, js: c.JS, log: c.Log}
	var err error
	for _, b := range []struct {
		kv   *jetstream.KeyValue
		name string
		desc string
	}{
		{&s.bookings, BookingsBucket, "bookings by id"},
		{&s.slots, SlotsBucket, "seats taken per slot: <hall>.<service>.<YYYYMMDD>.<HHMM> → booking ids"},
		{&s.citizens, CitizensBucket, "per citizen key: recent bookings and misses"},
		{&s.days, DaysBucket, "index: <hall>.<YYYYMMDD>.<booking id> for every booking made for that day"},
	} {
		if *b.kv, err = platform.OpenKV(ctx, c.JS, jetstream.KeyValueConfig{
			Bucket: b.name, Description: b.desc, History: 1, Storage: jetstream.FileStorage, Replicas: r,
		}); err != nil {
			return nil, fmt.Errorf("booking: bucket %s: %w", b.name, err)
		}
	}
	if s.Halls, err = calendars.Open(ctx, c.JS, r); err != nil {
		return nil, err
	}
	if s.Catalog, err = ccat.Open(ctx, c.JS, r); err != nil {
		return nil, err
	}
	if s.Audit, err = audit.Open(ctx, c.JS, r); err != nil {
		return nil, err
	}
	// A version stored by a process that died before publishing it reaches
	// the halls now (a version already published is stored once).
	if cur, err := s.Catalog.Current(ctx); err != nil {
		return nil, err
	} else if cur.Version > 0 {
		if err := s.Catalog.Announce(ctx, cur); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Policy is the service's booking rules (with defaults filled in).
func (s *Service) Policy() Policy { return s.pol }

// ---- keys and ids ----

var idEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// bookingID is "bk" and 26 base32 characters (130 bits): an HMAC of the
// citizen and the request's idempotency key under the province key when
// there is one (a retry names the same booking), random otherwise.
func (s *Service) bookingID(citizen, idem string) string {
	var b []byte
	if idem == "" {
		b = make([]byte, 17)
		_, _ = rand.Read(b)
	} else {
		m := hmac.New(sha256.New, s.cfg.ProvinceKey)
		m.Write([]byte("hallq booking id\x00" + citizen + "\x00" + idem))
		b = m.Sum(nil)[:17]
	}
	return "bk" + strings.ToLower(idEnc.EncodeToString(b))[:26]
}

func slotKey(hall, service string, start time.Time, loc *time.Location) string {
	return hall + "." + service + "." + start.In(loc).Format("20060102.1504")
}

// ---- stored shapes ----

type slotRec struct {
	IDs   []string             `json:"ids"`
	Since map[string]time.Time `json:"since,omitempty"` // when each seat was taken
}

// reclaimGrace is how long a seat stays untouchable after it was taken:
// longer than any booking or reschedule takes between its writes.
const reclaimGrace = time.Minute

type ref struct {
	ID      string    `json:"id"`
	Hall    string    `json:"hall"`
	Service string    `json:"service"`
	Day     string    `json:"day"`  // slot day in the hall's zone
	Week    string    `json:"week"` // ISO week of Day, e.g. 2026-W48
	Start   time.Time `json:"start"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"` // when the ref was written
}

type miss struct {
	ID  string `json:"id"`
	Day string `json:"day"`
	// Forgiven marks a miss a province admin's lifting of a ban forgave:
	// it no longer counts (supervise.go).
	Forgiven bool `json:"forgiven,omitempty"`
}

type citizenRec struct {
	Refs   []ref  `json:"refs"`
	Misses []miss `json:"misses,omitempty"`
}

const keepDays = 120 // refs and misses older than this are dropped on the next write

func (c *citizenRec) prune(now time.Time) {
	cut := now.AddDate(0, 0, -keepDays).Format("2006-01-02")
	c.Refs = slices.DeleteFunc(c.Refs, func(r ref) bool { return r.Day < cut })
	c.Misses = slices.DeleteFunc(c.Misses, func(m miss) bool { return m.Day < cut })
}

func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// Warning tells a citizen with misses where the missed-booking rule
// stands.
type Warning struct {
	Missed     int          `json:"missed"`      // misses within the last WindowDays
	Limit      int          `json:"limit"`       // misses that bar booking
	WindowDays int          `json:"window_days"` // M
	BanDays    int          `json:"ban_days"`    // K
	Message    catalog.Text `json:"message"`
}

// standing counts the misses within the window ending today and the day
// a ban ends ("" when none is in force).
func (s *Service) standing(c citizenRec, today string) (int, string) {
	td, _ := time.Parse("2006-01-02", today)
	days := make([]string, 0, len(c.Misses))
	for _, m := range c.Misses {
		if !m.Forgiven {
			days = append(days, m.Day)
		}
	}
	slices.Sort(days)
	recent, until := 0, ""
	for i, d := range days {
		dd, _ := time.Parse("2006-01-02", d)
		if dd.After(td.AddDate(0, 0, -s.pol.MissedDays)) {
			recent++
		}
		// misses in (d - M, d]
		n := 0
		for _, e := range days[:i+1] {
			ed, _ := time.Parse("2006-01-02", e)
			if ed.After(dd.AddDate(0, 0, -s.pol.MissedDays)) {
				n++
			}
		}
		if n >= s.pol.MissedLimit {
			if u := dd.AddDate(0, 0, s.pol.BanDays).Format("2006-01-02"); u > until {
				until = u
			}
		}
	}
	if until <= today {
		until = ""
	}
	return recent, until
}

func (s *Service) warning(missed int) *Warning {
	if missed == 0 {
		return nil
	}
	return &Warning{Missed: missed, Limit: s.pol.MissedLimit, WindowDays: s.pol.MissedDays, BanDays: s.pol.BanDays,
		Message: catalog.Text{
			ZH: fmt.Sprintf("您近%d天内有%d次预约未到。累计%d次将暂停网上预约%d天。", s.pol.MissedDays, missed, s.pol.MissedLimit, s.pol.BanDays),
			EN: fmt.Sprintf("You missed %d booking(s) in the last %d days. After %d, online booking is suspended for %d days.", missed, s.pol.MissedDays, s.pol.MissedLimit, s.pol.BanDays),
		}}
}

// ---- the slot a request names ----

// Request is a citizen's booking request.
type Request struct {
	Hall      string    `json:"hall"`
	Service   string    `json:"service"`
	SlotStart time.Time `json:"slot_start"`
	Matter    string    `json:"matter,omitempty"`
}

// ClosedDetails say why a hall is closed on a day.
type ClosedDetails struct {
	Day    string        `json:"day"`
	Reason *catalog.Text `json:"reason,omitempty"`
}

// WindowDetails say when a day is released.
type WindowDetails struct {
	LastDay   string `json:"last_day"`   // the last day that can be booked now
	ReleaseAt string `json:"release_at"` // the daily release time, HH:MM in the hall's zone
}

// lastDay is the last bookable day now: the WindowDays-th open day after
// today once today's release time has passed, the one before it until
// then (today itself is always in the window, cut-offs permitting).
func (s *Service) lastDay(h *calendars.Hall, now time.Time) string {
	loc := h.Calendar.Location()
	lt := now.In(loc)
	today := time.Date(lt.Year(), lt.Month(), lt.Day(), 12, 0, 0, 0, loc)
	n := s.pol.WindowDays
	rel, _ := time.Parse("15:04", s.pol.ReleaseAt)
	if lt.Hour()*60+lt.Minute() < rel.Hour()*60+rel.Minute() {
		n--
	}
	last := today
	for d, found := today, 0; found < n && d.Before(today.AddDate(0, 0, 366)); {
		d = d.AddDate(0, 0, 1)
		if len(h.Calendar.Intervals(d)) > 0 {
			found++
			last = d
		}
	}
	return last.Format("2006-01-02")
}

// resolve checks that the request names a bookable slot now and returns
// the hall and the slot.
func (s *Service) resolve(ctx context.Context, hallID, service string, start time.Time, matter string, now time.Time) (calendars.Hall, calendars.Slot, error) {
	h, err := s.Halls.Get(ctx, hallID)
	if errors.Is(err, calendars.ErrUnknownHall) {
		return h, calendars.Slot{}, refuse(NotFound, ReasonUnknownHall, "there is no hall %q", hallID)
	}
	if err != nil {
		return h, calendars.Slot{}, err
	}
	if _, ok := h.Capacity[service]; !ok {
		return h, calendars.Slot{}, refuse(NotFound, ReasonUnknownService, "hall %s has no bookable service %q", hallID, service)
	}
	if matter != "" {
		c, err := s.Catalog.Current(ctx)
		if err != nil {
			return h, calendars.Slot{}, err
		}
		m, ok := c.Matter(matter)
		if !ok || !slices.Contains(m.Services, service) || m.Booking == catalog.BookingNone {
			return h, calendars.Slot{}, refuse(NotFound, ReasonUnknownMatter, "matter %q is not bookable at service %s", matter, service)
		}
	}
	if start.IsZero() {
		return h, calendars.Slot{}, refuse(Invalid, ReasonBadField, "slot_start is required (RFC 3339)")
	}
	loc := h.Calendar.Location()
	day := start.In(loc).Format("2006-01-02")
	if cl, closed := h.Calendar.Closed(start); closed {
		return h, calendars.Slot{}, refuse(Conflict, ReasonHallClosed, "hall %s is closed on %s: %s", hallID, day, cl.Reason.ZH).
			with(ClosedDetails{Day: day, Reason: &cl.Reason})
	}
	if len(h.Calendar.Intervals(start)) == 0 {
		return h, calendars.Slot{}, refuse(Conflict, ReasonHallClosed, "hall %s is closed on %s", hallID, day).with(ClosedDetails{Day: day})
	}
	slot, ok := h.SlotAt(service, start)
	if !ok {
		return h, calendars.Slot{}, refuse(Invalid, ReasonNotASlot, "%s is not the start of a %d-minute slot of service %s on %s",
			start.In(loc).Format("15:04"), h.SlotMinutes, service, day)
	}
	if !now.Before(slot.Start) {
		return h, slot, refuse(Invalid, ReasonSlotInPast, "the slot %s %s has already begun", day, start.In(loc).Format("15:04"))
	}
	if now.After(slot.Start.Add(-s.pol.BookCutoff)) {
		return h, slot, refuse(Conflict, ReasonBookingCutoff, "booking closes %s before the slot", s.pol.BookCutoff)
	}
	if last := s.lastDay(&h, now); day > last {
		return h, slot, refuse(Conflict, ReasonNotReleased, "slots of %s are not released yet: the last day open for booking is %s (a new day is released daily at %s)",
			day, last, s.pol.ReleaseAt).with(WindowDetails{LastDay: last, ReleaseAt: s.pol.ReleaseAt})
	}
	return h, slot, nil
}

// ---- book ----

// Result is a booking with the warning of the missed-booking rule.
type Result struct {
	Booking Booking  `json:"booking"`
	Warning *Warning `json:"warning,omitempty"`
	Replay  bool     `json:"-"` // an earlier request's booking, answered again
}

// BannedDetails say until when the missed-booking rule bars a citizen.
type BannedDetails struct {
	Until  string `json:"until"` // first day booking is possible again
	Missed int    `json:"missed"`
}

// Book books a seat for the citizen. idem is the request's idempotency
// key ("" for none): the same key answers the same booking.
func (s *Service) Book(ctx context.Context, c auth.Citizen, r Request, idem string) (Result, error) {
	now := s.cfg.Clock.Now()
	id := s.bookingID(c.Key, idem)
	if b, _, err := get[Booking](ctx, s.bookings, id); err == nil {
		if b.CitizenKey == c.Key {
			// A retry: the record is the last step but one; the message to
			// the hall may be what the first attempt did not finish (sent
			// again, it is stored once: same content, same message id).
			if err := s.tellHall(ctx, b); err != nil {
				return Result{}, err
			}
			return Result{Booking: b, Replay: true}, nil
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return Result{}, err
	}
	h, slot, err := s.resolve(ctx, r.Hall, r.Service, r.SlotStart, r.Matter, now)
	if err != nil {
		return Result{}, err
	}
	loc := h.Calendar.Location()
	day := slot.Start.In(loc).Format("2006-01-02")
	today := now.In(loc).Format("2006-01-02")
	nr := ref{ID: id, Hall: h.ID, Service: slot.Service, Day: day, Week: isoWeek(slot.Start.In(loc)), Start: slot.Start, Status: Booked, At: now}
	seatKey := slotKey(h.ID, slot.Service, slot.Start, loc)
	// A full slot is refused before anything is written (in a rush most
	// requests find it so); the compare-and-set below is what decides.
	if v, _, err := get[slotRec](ctx, s.slots, seatKey); err == nil && len(v.IDs) >= slot.Capacity && !slices.Contains(v.IDs, id) && !s.reclaim(ctx, seatKey) {
		return Result{}, refuse(Conflict, ReasonSlotFull, "every seat of this slot is taken; please choose another")
	} else if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return Result{}, err
	}
	dead, moved, err := s.recheck(ctx, c.Key, now)
	if err != nil {
		return Result{}, err
	}
	var missed int
	// 1. The citizen's entry, settled on the booking records: ban and
	// caps, then the new booking's ref.
	if _, err := update(ctx, s.citizens, c.Key, func(cr *citizenRec, _ bool) error {
		settled := cr.settle(moved)
		n, until := s.standing(*cr, today)
		missed = n
		if slices.ContainsFunc(cr.Refs, func(x ref) bool { return x.ID == id }) {
			if settled {
				return nil
			}
			return errNoChange // a retry: checked and reserved before
		}
		cr.Refs = slices.DeleteFunc(cr.Refs, func(x ref) bool { return slices.Contains(dead, x.ID) })
		if until != "" {
			return refuse(Forbidden, ReasonBanned, "after %d missed bookings, online booking is suspended until %s", n, until).
				with(BannedDetails{Until: until, Missed: n})
		}
		perDay, perWeek := 0, 0
		for _, x := range cr.Refs {
			if x.Status == Cancelled {
				continue
			}
			if x.Status == Booked && x.Hall == nr.Hall && x.Service == nr.Service {
				return refuse(Conflict, ReasonAlreadyBooked, "you already hold booking %s for service %s at hall %s; cancel or move it instead", x.ID, x.Service, x.Hall)
			}
			if x.Day == nr.Day {
				perDay++
			}
			if x.Week == nr.Week {
				perWeek++
			}
		}
		if perDay >= s.pol.MaxPerDay {
			return refuse(QuotaExceeded, ReasonDayCap, "at most %d bookings per day (%s)", s.pol.MaxPerDay, nr.Day)
		}
		if perWeek >= s.pol.MaxPerWeek {
			return refuse(QuotaExceeded, ReasonWeekCap, "at most %d bookings per week (%s)", s.pol.MaxPerWeek, nr.Week)
		}
		cr.prune(now)
		cr.Refs = append(cr.Refs, nr)
		return nil
	}); err != nil {
		return Result{}, err
	}
	// 2. The seat.
	if err := s.takeSeat(ctx, seatKey, id, slot.Capacity); err != nil {
		s.dropRef(ctx, c.Key, id)
		return Result{}, err
	}
	// 3. The booking, and the hall day's index.
	if err := s.indexDay(ctx, h.ID, slot.Start, loc, id); err != nil {
		return Result{}, err
	}
	b := Booking{ID: id, Hall: h.ID, Service: slot.Service, Matter: r.Matter, SlotStart: slot.Start, SlotEnd: slot.End,
		Status: Booked, MaskedID: c.Masked, CitizenKey: c.Key, CreatedAt: now, UpdatedAt: now}
	if err := s.createBooking(ctx, b); err != nil {
		return Result{}, err
	}
	// 4. The hall.
	if err := s.tellHall(ctx, b); err != nil {
		return Result{}, err
	}
	return Result{Booking: b, Warning: s.warning(missed)}, nil
}

// recheck reads the booking records behind the citizen's refs. dead are
// the refs of bookings never written, older than reclaimGrace: a request
// that died after reserving the citizen's caps and was not retried; they
// are dropped so they no longer count. moved are the statuses records
// have moved on to that the entry does not show yet (settle).
func (s *Service) recheck(ctx context.Context, citizen string, now time.Time) ([]string, map[string]string, error) {
	cr, _, err := get[citizenRec](ctx, s.citizens, citizen)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var dead []string
	for _, r := range cr.Refs {
		if r.Status != Booked || now.Sub(r.At) < reclaimGrace {
			continue
		}
		_, _, err := get[Booking](ctx, s.bookings, r.ID)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			dead = append(dead, r.ID)
		} else if err != nil {
			return nil, nil, err
		}
	}
	moved, err := s.moved(ctx, cr)
	return dead, moved, err
}

func (s *Service) createBooking(ctx context.Context, b Booking) error {
	_, err := update(ctx, s.bookings, b.ID, func(v *Booking, exists bool) error {
		if exists {
			return errNoChange
		}
		*v = b
		return nil
	})
	return err
}

// takeSeat adds id to the slot's seats unless they are all taken.
func (s *Service) takeSeat(ctx context.Context, key, id string, capacity int) error {
	reclaimed := false
	for {
		full := false
		_, err := update(ctx, s.slots, key, func(v *slotRec, _ bool) error {
			full = false
			if slices.Contains(v.IDs, id) {
				return errNoChange
			}
			if len(v.IDs) >= capacity {
				full = true
				return errNoChange
			}
			v.IDs = append(v.IDs, id)
			if v.Since == nil {
				v.Since = map[string]time.Time{}
			}
			v.Since[id] = s.cfg.Clock.Now()
			return nil
		})
		if err != nil {
			return err
		}
		if !full {
			return nil
		}
		if reclaimed || !s.reclaim(ctx, key) {
			return refuse(Conflict, ReasonSlotFull, "every seat of this slot is taken; please choose another")
		}
		reclaimed = true
	}
}

// reclaim frees the seats of a slot taken more than reclaimGrace ago by
// bookings that say they are elsewhere or cancelled, or that were never
// written (a process died between two writes). It reports whether it
// freed any.
func (s *Service) reclaim(ctx context.Context, key string) bool {
	v, _, err := get[slotRec](ctx, s.slots, key)
	if err != nil {
		return false
	}
	var stale []string
	now := s.cfg.Clock.Now()
	for _, id := range v.IDs {
		if now.Sub(v.Since[id]) < reclaimGrace {
			continue // a booking or reschedule may be between its writes
		}
		b, _, err := get[Booking](ctx, s.bookings, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			stale = append(stale, id) // its request died; a retry takes a seat again
			continue
		}
		if err != nil {
			continue
		}
		h, err := s.Halls.Get(ctx, b.Hall)
		if err != nil {
			continue
		}
		if b.Status == Cancelled || slotKey(b.Hall, b.Service, b.SlotStart, h.Calendar.Location()) != key {
			stale = append(stale, id)
		}
	}
	if len(stale) == 0 {
		return false
	}
	_, err = update(ctx, s.slots, key, func(v *slotRec, _ bool) error {
		v.IDs = slices.DeleteFunc(v.IDs, func(id string) bool { return slices.Contains(stale, id) })
		for _, id := range stale {
			delete(v.Since, id)
		}
		return nil
	})
	return err == nil
}

func (s *Service) freeSeat(ctx context.Context, key, id string) error {
	_, err := update(ctx, s.slots, key, func(v *slotRec, exists bool) error {
		if !slices.Contains(v.IDs, id) {
			return errNoChange
		}
		v.IDs = slices.DeleteFunc(v.IDs, func(x string) bool { return x == id })
		delete(v.Since, id)
		return nil
	})
	return err
}

// dropRef undoes step 1 of a booking that found its slot full.
func (s *Service) dropRef(ctx context.Context, citizen, id string) {
	if _, err := update(ctx, s.citizens, citizen, func(cr *citizenRec, _ bool) error {
		if !slices.ContainsFunc(cr.Refs, func(x ref) bool { return x.ID == id }) {
			return errNoChange
		}
		cr.Refs = slices.DeleteFunc(cr.Refs, func(x ref) bool { return x.ID == id })
		return nil
	}); err != nil {
		s.log.Warn("booking: could not drop the reservation of a refused booking; it lapses unused", "booking", id, "err", err)
	}
}

func (s *Service) setRef(ctx context.Context, citizen string, r ref) error {
	_, err := update(ctx, s.citizens, citizen, func(cr *citizenRec, _ bool) error {
		i := slices.IndexFunc(cr.Refs, func(x ref) bool { return x.ID == r.ID })
		if i < 0 {
			cr.Refs = append(cr.Refs, r)
		} else if cr.Refs[i] == r {
			return errNoChange
		} else {
			cr.Refs[i] = r
		}
		return nil
	})
	return err
}

func (s *Service) tellHall(ctx context.Context, b Booking) error {
	_, err := platform.PublishAppointment(ctx, s.js, b.Hall, forward.Appointment{
		BookingID: b.ID, CitizenKey: b.CitizenKey, MaskedID: b.MaskedID, Service: b.Service,
		SlotStart: b.SlotStart, SlotEnd: b.SlotEnd, Status: hallStatus(b.Status),
	})
	if err != nil {
		return fmt.Errorf("booking: telling hall %s of booking %s: %w", b.Hall, b.ID, err)
	}
	return nil
}

func hallStatus(st string) string {
	if st == Cancelled {
		return "cancelled"
	}
	return "booked"
}

// ---- read ----

// Mine lists the citizen's recent bookings, newest slot first.
func (s *Service) Mine(ctx context.Context, c auth.Citizen) ([]Booking, *Warning, error) {
	cr, _, err := get[citizenRec](ctx, s.citizens, c.Key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return []Booking{}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	out := []Booking{}
	moved := map[string]string{}
	for _, r := range cr.Refs {
		b, _, err := get[Booking](ctx, s.bookings, r.ID)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // refused, or still being made
		}
		if err != nil {
			return nil, nil, err
		}
		if b.Status != r.Status {
			moved[r.ID] = b.Status
		}
		out = append(out, b.Public())
	}
	cr.settle(moved) // the warning counts the misses the list shows
	slices.SortFunc(out, func(a, b Booking) int { return b.SlotStart.Compare(a.SlotStart) })
	now := s.cfg.Clock.Now()
	if len(out) > 0 {
		now = now.In(out[0].SlotStart.Location()) // the day as the citizen's halls count it
	}
	n, _ := s.standing(cr, now.Format("2006-01-02"))
	return out, s.warning(n), nil
}

// Get reads a booking of the citizen.
func (s *Service) Get(ctx context.Context, c auth.Citizen, id string) (Booking, uint64, error) {
	b, rev, err := get[Booking](ctx, s.bookings, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) || (err == nil && b.CitizenKey != c.Key) {
		return Booking{}, 0, refuse(NotFound, ReasonUnknownBooking, "you have no booking %q", id)
	}
	return b, rev, err
}

// ---- cancel ----

// Cancel cancels a booking of the citizen.
func (s *Service) Cancel(ctx context.Context, c auth.Citizen, id string) (Booking, error) {
	now := s.cfg.Clock.Now()
	b, _, err := s.Get(ctx, c, id)
	if err != nil {
		return Booking{}, err
	}
	if b.Status == Cancelled && b.Reason == nil {
		return b.Public(), s.finishCancel(ctx, b) // a retry: finish what may be missing
	}
	if b.Status != Booked {
		return Booking{}, refuse(Conflict, ReasonNotOpen, "booking %s is %s, not booked", id, b.Status)
	}
	if now.After(b.SlotStart.Add(-s.pol.CancelCutoff)) {
		return Booking{}, refuse(Conflict, ReasonCancelCutoff, "cancelling closes %s before the slot", s.pol.CancelCutoff)
	}
	nb, err := s.setStatus(ctx, id, func(b *Booking) error {
		if b.Status != Booked {
			return refuse(Conflict, ReasonNotOpen, "booking %s is %s, not booked", id, b.Status)
		}
		b.Status, b.UpdatedAt = Cancelled, now
		return nil
	})
	if err != nil {
		return Booking{}, err
	}
	return nb.Public(), s.finishCancel(ctx, nb)
}

// finishCancel frees the seat, marks the ref and tells the hall.
func (s *Service) finishCancel(ctx context.Context, b Booking) error {
	h, err := s.Halls.Get(ctx, b.Hall)
	if err != nil {
		return err
	}
	if err := s.freeSeat(ctx, slotKey(b.Hall, b.Service, b.SlotStart, h.Calendar.Location()), b.ID); err != nil {
		return err
	}
	if err := s.markRef(ctx, b.CitizenKey, b.ID, Cancelled); err != nil {
		return err
	}
	return s.tellHall(ctx, b)
}

func (s *Service) markRef(ctx context.Context, citizen, id, status string) error {
	_, err := update(ctx, s.citizens, citizen, func(cr *citizenRec, _ bool) error {
		i := slices.IndexFunc(cr.Refs, func(x ref) bool { return x.ID == id })
		if i < 0 || cr.Refs[i].Status == status {
			return errNoChange
		}
		cr.Refs[i].Status = status
		return nil
	})
	return err
}

// setStatus changes a booking record by compare-and-set.
func (s *Service) setStatus(ctx context.Context, id string, fn func(*Booking) error) (Booking, error) {
	return update(ctx, s.bookings, id, func(b *Booking, exists bool) error {
		if !exists {
			return refuse(NotFound, ReasonUnknownBooking, "no booking %q", id)
		}
		return fn(b)
	})
}

// ---- reschedule ----

// Reschedule moves a booking of the citizen to another slot of the same
// hall and service. The new seat is taken first; only then is the old one
// freed. A full new slot leaves the booking as it was.
func (s *Service) Reschedule(ctx context.Context, c auth.Citizen, id string, start time.Time) (Booking, error) {
	now := s.cfg.Clock.Now()
	b, _, err := s.Get(ctx, c, id)
	if err != nil {
		return Booking{}, err
	}
	if b.Status != Booked {
		return Booking{}, refuse(Conflict, ReasonNotOpen, "booking %s is %s, not booked", id, b.Status)
	}
	if b.SlotStart.Equal(start) {
		return Booking{}, refuse(Conflict, ReasonSameSlot, "booking %s already has that slot", id)
	}
	if now.After(b.SlotStart.Add(-s.pol.CancelCutoff)) {
		return Booking{}, refuse(Conflict, ReasonCancelCutoff, "moving a booking closes %s before its slot", s.pol.CancelCutoff)
	}
	h, slot, err := s.resolve(ctx, b.Hall, b.Service, start, "", now)
	if err != nil {
		return Booking{}, err
	}
	loc := h.Calendar.Location()
	nr := ref{ID: id, Hall: h.ID, Service: slot.Service, Day: slot.Start.In(loc).Format("2006-01-02"),
		Week: isoWeek(slot.Start.In(loc)), Start: slot.Start, Status: Booked, At: now}
	var oldRef ref
	if _, err := update(ctx, s.citizens, c.Key, func(cr *citizenRec, _ bool) error {
		perDay, perWeek := 0, 0
		for _, x := range cr.Refs {
			if x.ID == id {
				oldRef = x
				continue
			}
			if x.Status == Cancelled {
				continue
			}
			if x.Day == nr.Day {
				perDay++
			}
			if x.Week == nr.Week {
				perWeek++
			}
		}
		if perDay >= s.pol.MaxPerDay {
			return refuse(QuotaExceeded, ReasonDayCap, "at most %d bookings per day (%s)", s.pol.MaxPerDay, nr.Day)
		}
		if perWeek >= s.pol.MaxPerWeek {
			return refuse(QuotaExceeded, ReasonWeekCap, "at most %d bookings per week (%s)", s.pol.MaxPerWeek, nr.Week)
		}
		i := slices.IndexFunc(cr.Refs, func(x ref) bool { return x.ID == id })
		if i < 0 {
			cr.Refs = append(cr.Refs, nr)
		} else {
			cr.Refs[i] = nr
		}
		return nil
	}); err != nil {
		return Booking{}, err
	}
	restore := func() {
		if oldRef.ID != "" {
			if err := s.setRef(ctx, c.Key, oldRef); err != nil {
				s.log.Warn("booking: could not restore a citizen's entry after a refused reschedule", "booking", id, "err", err)
			}
		}
	}
	newKey := slotKey(h.ID, slot.Service, slot.Start, loc)
	if err := s.takeSeat(ctx, newKey, id, slot.Capacity); err != nil {
		restore()
		return Booking{}, err
	}
	if err := s.indexDay(ctx, h.ID, slot.Start, loc, id); err != nil {
		_ = s.freeSeat(ctx, newKey, id)
		restore()
		return Booking{}, err
	}
	oldStart := b.SlotStart
	nb, err := s.setStatus(ctx, id, func(b *Booking) error {
		if b.Status != Booked || !b.SlotStart.Equal(oldStart) {
			return refuse(Conflict, ReasonChanged, "booking %s changed meanwhile; please look again", id)
		}
		b.SlotStart, b.SlotEnd, b.UpdatedAt = slot.Start, slot.End, now
		return nil
	})
	if err != nil {
		_ = s.freeSeat(ctx, newKey, id)
		restore()
		return Booking{}, err
	}
	if err := s.freeSeat(ctx, slotKey(h.ID, b.Service, oldStart, loc), id); err != nil {
		s.log.Warn("booking: the old seat of a moved booking stays taken until reclaimed", "booking", id, "err", err)
	}
	return nb.Public(), s.tellHall(ctx, nb)
}

// ---- slots ----

// SlotView is a slot with its free seats.
type SlotView struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Capacity int       `json:"capacity"`
	Free     int       `json:"free"`
	Bookable bool      `json:"bookable"` // released, not past the cut-off, a seat free
}

// Slots lists the slots of a hall's service on a day (YYYY-MM-DD in the
// hall's zone).
func (s *Service) Slots(ctx context.Context, hallID, service, day string) ([]SlotView, error) {
	h, err := s.Halls.Get(ctx, hallID)
	if errors.Is(err, calendars.ErrUnknownHall) {
		return nil, refuse(NotFound, ReasonUnknownHall, "there is no hall %q", hallID)
	}
	if err != nil {
		return nil, err
	}
	if _, ok := h.Capacity[service]; !ok {
		return nil, refuse(NotFound, ReasonUnknownService, "hall %s has no bookable service %q", hallID, service)
	}
	loc := h.Calendar.Location()
	d, err := time.ParseInLocation("2006-01-02", day, loc)
	if err != nil {
		return nil, refuse(Invalid, ReasonBadField, "day %q is not a day YYYY-MM-DD", day)
	}
	now := s.cfg.Clock.Now()
	last := s.lastDay(&h, now)
	out := []SlotView{}
	for _, sl := range h.Slots(service, d.Add(12*time.Hour)) {
		v, _, err := get[slotRec](ctx, s.slots, slotKey(h.ID, service, sl.Start, loc))
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, err
		}
		free := max(sl.Capacity-len(v.IDs), 0)
		out = append(out, SlotView{Start: sl.Start, End: sl.End, Capacity: sl.Capacity, Free: free,
			Bookable: free > 0 && day <= last && !now.After(sl.Start.Add(-s.pol.BookCutoff))})
	}
	return out, nil
}

// NextFree lists up to n bookable slots of a hall's service, soonest
// first, within the booking window.
func (s *Service) NextFree(ctx context.Context, hallID, service string, n int) ([]SlotView, error) {
	h, err := s.Halls.Get(ctx, hallID)
	if errors.Is(err, calendars.ErrUnknownHall) {
		return nil, refuse(NotFound, ReasonUnknownHall, "there is no hall %q", hallID)
	}
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	loc := h.Calendar.Location()
	last := s.lastDay(&h, now)
	out := []SlotView{}
	for d := now.In(loc); d.Format("2006-01-02") <= last && len(out) < n; d = d.AddDate(0, 0, 1) {
		vs, err := s.Slots(ctx, hallID, service, d.Format("2006-01-02"))
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.Bookable && len(out) < n {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// FreeSlot is a free slot of a hall's service, for the province's hall
// list (the fields of the views' platform.Slot).
type FreeSlot struct {
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Free    int       `json:"free"`
}

// NextFreeAll gives, per hall, the first bookable slot of each of its
// bookable services, soonest first; halls unknown here have none.
func (s *Service) NextFreeAll(ctx context.Context, halls []string) (map[string][]FreeSlot, error) {
	out := map[string][]FreeSlot{}
	for _, id := range halls {
		h, err := s.Halls.Get(ctx, id)
		if errors.Is(err, calendars.ErrUnknownHall) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var services []string
		for sv := range h.Capacity {
			services = append(services, sv)
		}
		slices.Sort(services)
		for _, sv := range services {
			vs, err := s.NextFree(ctx, id, sv, 1)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				out[id] = append(out[id], FreeSlot{Service: sv, Start: v.Start, End: v.End, Free: v.Free})
			}
		}
		slices.SortFunc(out[id], func(a, b FreeSlot) int { return a.Start.Compare(b.Start) })
	}
	return out, nil
}
