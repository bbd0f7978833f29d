package hall

import (
	"crypto/rand"
	"slices"
	"strings"
	"time"
)

// CheckIn is a booking check-in at a kiosk: by the citizen key read
// from an ID card, or by the booking id scanned from the booking's QR code.
type CheckIn struct {
	CitizenKey string   `json:"citizen_key,omitempty"`
	Booking    string   `json:"booking,omitempty"`
	MaskedID   string   `json:"masked_id,omitempty"`
	AgeClass   AgeClass `json:"age_class,omitempty"`
	Kiosk      string   `json:"-"`
	SealedID   string   `json:"sealed_id,omitempty"` // see IssueRequest.SealedID
}

func (st *state) checkIn(r CheckIn, now time.Time, actor string) (*Ticket, error) {
	if st.dayClosed {
		return nil, Refusal(Closed, ReasonDayClosed, "the hall has closed today's service (%s); bookings check in again tomorrow", st.day)
	}
	var found []*Booking
	switch {
	case r.Booking != "":
		if b, ok := st.bookings[r.Booking]; ok {
			found = append(found, b)
		}
	case r.CitizenKey != "":
		for _, id := range sortedKeys(st.bookings) {
			if b := st.bookings[id]; b.CitizenKey == r.CitizenKey && st.dayOf(b.SlotStart) == st.day {
				found = append(found, b)
			}
		}
	default:
		return nil, Errorf(Invalid, "check-in needs a citizen key or a booking id")
	}
	found = slices.DeleteFunc(found, func(b *Booking) bool { return b.Status == BookingCancelled })
	if len(found) == 0 {
		return nil, Refusal(NotFound, ReasonNoBooking, "no booking found for today")
	}
	var b *Booking
	for _, f := range found {
		if f.Status == BookingBooked && st.inCheckInWindow(f, now) {
			b = f
			break
		}
	}
	if b == nil {
		f := found[0]
		if f.Status == BookingCheckedIn {
			var held []string
			for _, id := range sortedKeys(st.tickets) {
				if t := st.tickets[id]; t.Booking == f.ID && t.Status != Cancelled {
					held = append(held, t.ID)
				}
			}
			return nil, Refusal(Conflict, ReasonAlreadyCheckedIn, "booking %s is already checked in", f.ID).With(&Details{Tickets: held})
		}
		d := &Details{SlotStart: f.SlotStart, CheckInFrom: f.SlotStart.Add(-st.cfg.Rules.CheckInBefore.D()),
			CheckInUntil: f.SlotStart.Add(st.cfg.Rules.CheckInAfter.D())}
		if st.dayOf(f.SlotStart) != st.day {
			return nil, Refusal(Conflict, ReasonOutsideCheckinWindow, "booking %s is on %s, not today", f.ID, st.dayOf(f.SlotStart)).With(d)
		}
		return nil, Refusal(Conflict, ReasonOutsideCheckinWindow, "booking %s (slot %s) checks in from %s to %s",
			f.ID, f.SlotStart.In(st.loc).Format("15:04"), d.CheckInFrom.In(st.loc).Format("15:04"), d.CheckInUntil.In(st.loc).Format("15:04")).With(d)
	}
	sc, err := st.service(b.Service)
	if err != nil {
		return nil, err
	}
	if k, ok := st.blacklist[b.CitizenKey]; ok && (k.Until.IsZero() || k.Until.After(now)) {
		return nil, Refusal(Forbidden, ReasonBlacklisted, "this ID cannot take tickets here; please ask staff")
	}
	masked := r.MaskedID
	if masked == "" {
		masked = b.MaskedID
	}
	t, err := st.newTicket(sc, IssueRequest{Channel: BookingChannel, CitizenKey: b.CitizenKey, MaskedID: masked, AgeClass: r.AgeClass, Kiosk: r.Kiosk}, now, actor, b.ID)
	if err != nil {
		return nil, err
	}
	nb := *b
	nb.Status, nb.Ticket = BookingCheckedIn, t.ID
	st.emit(Event{Type: EvBooking, Actor: actor, Booking: &nb}, now)
	return t, nil
}

func (st *state) inCheckInWindow(b *Booking, now time.Time) bool {
	from := b.SlotStart.Add(-st.cfg.Rules.CheckInBefore.D())
	to := b.SlotStart.Add(st.cfg.Rules.CheckInAfter.D())
	return !now.Before(from) && !now.After(to)
}

// NewBookingID mints a booking id: "bk" and 26 base32 characters of 130
// random bits. A booking id is the credential in a booking's QR code, so
// it must be unguessable; ids minted elsewhere (by the platform, or before
// this rule) keep working as they are.
func NewBookingID() string {
	var b [17]byte
	_, _ = rand.Read(b[:])
	return "bk" + strings.ToLower(idEncoding.EncodeToString(b[:]))[:26]
}

func (st *state) upsertBooking(b Booking, now time.Time, actor string) (*Booking, error) {
	switch {
	case b.ID == "" || len(b.ID) > 64:
		return nil, Errorf(Invalid, "booking id must be 1 to 64 characters")
	case b.CitizenKey == "":
		return nil, Errorf(Invalid, "booking %s has no citizen key", b.ID)
	case b.SlotStart.IsZero() || b.SlotEnd.Before(b.SlotStart):
		return nil, Errorf(Invalid, "booking %s has no valid slot", b.ID)
	}
	sc, err := st.service(b.Service)
	if err != nil {
		return nil, err
	}
	b.Service = sc.Code
	if b.Status == "" {
		b.Status = BookingBooked
	}
	if b.Status != BookingBooked && b.Status != BookingCancelled {
		return nil, Errorf(Invalid, "booking status must be booked or cancelled, got %q", b.Status)
	}
	if old, ok := st.bookings[b.ID]; ok && old.Status == BookingCheckedIn && b.Status == BookingBooked {
		b.Status, b.Ticket = old.Status, old.Ticket // a re-sent booking does not undo a check-in
	}
	st.emit(Event{Type: EvBooking, Actor: actor, Booking: &b}, now)
	return st.bookings[b.ID], nil
}

func (st *state) setBlacklist(e BlackEntry, now time.Time, actor string) (*BlackEntry, error) {
	if len(e.CitizenKey) != 64 {
		return nil, Errorf(Invalid, "blacklist entries take a 64-hex-digit citizen key, never a raw ID number")
	}
	if _, ok := st.blacklist[e.CitizenKey]; e.Removed && !ok {
		return nil, Errorf(NotFound, "that citizen key is not blacklisted")
	}
	e.Since, e.By = now, actor
	st.emit(Event{Type: EvBlacklist, Actor: actor, Blacklist: &e}, now)
	return &e, nil
}

// ---- offline leases ----

// OfflineTicket is a ticket a kiosk issued from a lease while it could not
// reach the server, handed over on reconnect.
type OfflineTicket struct {
	Lease      string    `json:"lease"`
	Number     int       `json:"number"`
	Channel    Channel   `json:"channel,omitempty"`
	CitizenKey string    `json:"citizen_key,omitempty"`
	MaskedID   string    `json:"masked_id,omitempty"`
	AgeClass   AgeClass  `json:"age_class,omitempty"`
	IssuedAt   time.Time `json:"issued_at"`
	ID         string    `json:"id"` // chosen by the kiosk, so its printed QR link stays valid
	// KioskClock is the kiosk's own clock when it sent the hand-over; the
	// difference to the server's clock corrects IssuedAt for a kiosk whose
	// clock drifts. Zero: no correction.
	KioskClock time.Time `json:"kiosk_clock,omitzero"`
	// SealedID: the ID number sealed to the hall server, opened by the API
	// at hand-over (see IssueRequest.SealedID); the kiosk keeps neither key
	// nor masked form.
	SealedID string `json:"sealed_id,omitempty"`
}

// MaxBurnedNumbers bounds the numbers one kiosk may let lapse per service
// and day by releasing leases: a lease holds at most 100, so a kiosk that
// is restarted or re-synced a few times is fine, while a stolen kiosk
// token cannot use up a service's numbers with lease/release requests.
const MaxBurnedNumbers = 200

// Offline tickets whose claimed issue time is not believable (see
// Ticket.ClockFlag).
const (
	OffTimeBeforeLease = "issued_before_lease" // before the server granted its lease: backdated
	OffTimeFuture      = "issued_in_future"    // after its hand-over, by the server's clock
	OffTimeOtherDay    = "issued_other_day"    // not on the hall day the lease is for
)

func (st *state) lease(kiosk, service string, n int, now time.Time, actor string) (*Lease, error) {
	sc, err := st.service(service)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 100 {
		return nil, Errorf(Invalid, "a lease holds 1 to 100 numbers, not %d", n)
	}
	if st.dayClosed {
		return nil, Refusal(Closed, ReasonDayClosed, "the hall has closed today's service (%s); no numbers are leased for it", st.day)
	}
	if kiosk == "" {
		return nil, Errorf(Invalid, "leases are for enrolled kiosks")
	}
	for _, l := range st.leases {
		if l.Kiosk == kiosk && l.Service == sc.Code && !l.Released && len(l.Used) < l.To-l.From+1 {
			return l, nil // one live lease per kiosk and service
		}
	}
	burned := 0
	for _, l := range st.leases {
		if l.Kiosk == kiosk && l.Service == sc.Code && l.Released {
			burned += l.To - l.From + 1 - len(l.Used)
		}
	}
	if burned >= MaxBurnedNumbers {
		return nil, Refusal(QuotaExceeded, ReasonLeaseChurn,
			"this kiosk has released %d unused numbers of service %s today; it gets no more leases for it until tomorrow", burned, sc.Code)
	}
	// Leases are carved from the top of the day's numbers downwards, while
	// online tickets count up from 001: the first citizen gets 001 however
	// many numbers the kiosks hold, and an offline number (e.g. A981) is
	// told apart by its range. Offline tickets queue by the time they were
	// issued, so their numbers do not change the call order.
	to := st.leaseFloor(sc.Code) - 1
	from := max(to-n+1, st.counters[sc.Code]+1)
	if from > to {
		return nil, Refusal(QuotaExceeded, ReasonNumbersExhausted, "service %s has used all its numbers today", sc.Code)
	}
	l := &Lease{ID: newID(), Kiosk: kiosk, Service: sc.Code, Day: st.day, From: from, To: to, Digits: st.cfg.Rules.NumberDigits, Granted: now}
	st.emit(Event{Type: EvLeaseGranted, Actor: actor, Lease: l}, now)
	return st.leases[l.ID], nil
}

// leaseFloor is the lowest number leased today for a service, above the
// online numbers (maxNumber+1 when none is): online numbers stop below it.
// Leases of the old scheme, taken from the bottom (From at or below the
// online counter), do not count.
func (st *state) leaseFloor(service string) int {
	floor := st.maxNumber() + 1
	for _, l := range st.leases {
		if l.Service == service && l.Day == st.day && l.From > st.counters[service] {
			floor = min(floor, l.From)
		}
	}
	return floor
}

func (st *state) releaseLease(kiosk, id string, now time.Time, actor string) (*Lease, error) {
	l, ok := st.leases[id]
	if !ok || l.Kiosk != kiosk {
		return nil, Errorf(NotFound, "no lease %q for this kiosk today", id)
	}
	if l.Released {
		return l, nil
	}
	nl := *l
	nl.Released = true
	st.emit(Event{Type: EvLeaseReleased, Actor: actor, Lease: &nl}, now)
	return st.leases[id], nil
}

func (st *state) handOver(kiosk string, o OfflineTicket, now time.Time, actor string) (*Ticket, error) {
	l, ok := st.leases[o.Lease]
	switch {
	case !ok || l.Kiosk != kiosk:
		return nil, Refusal(NotFound, ReasonUnknownLease, "no lease %q for this kiosk today", o.Lease)
	case o.Number < l.From || o.Number > l.To:
		return nil, Errorf(Invalid, "number %d is outside lease %s (%d–%d)", o.Number, l.ID, l.From, l.To)
	case slices.Contains(l.Used, o.Number):
		return nil, Refusal(Conflict, ReasonNumberUsed, "number %d of lease %s was already handed over", o.Number, l.ID)
	case l.Released:
		return nil, Refusal(Conflict, ReasonLeaseReleased, "lease %s (service %s) was released, its unused numbers lapsed: number %d cannot be handed over", l.ID, l.Service, o.Number)
	case len(o.ID) < 16 || len(o.ID) > 40:
		return nil, Errorf(Invalid, "offline ticket id must be 16 to 40 characters")
	case st.tickets[o.ID] != nil:
		return nil, Refusal(Conflict, ReasonIDUsed, "ticket id already exists")
	case st.dayClosed:
		return nil, Refusal(Closed, ReasonDayClosed, "the hall has closed today's service (%s); offline ticket %d of lease %s cannot join it", st.day, o.Number, l.ID)
	}
	if o.Channel == "" {
		o.Channel = WalkIn
	}
	if !o.Channel.valid() || o.Channel == BookingChannel {
		return nil, Errorf(Invalid, "offline tickets are walk_in, priority or remote, not %q", o.Channel)
	}
	o.Channel = ChannelFor(o.Channel, o.AgeClass) // the same rule as for tickets issued online
	// The citizen holds a printed ticket, but a blacklisted card or one over
	// the service's per-citizen limit is refused here as it would have been
	// online (the kiosk sets it aside; staff see it). The daily quota and the
	// hours are not applied again: the lease reserved those numbers while the
	// service was issuing.
	if sc, ok := st.cfg.service(l.Service); ok && o.CitizenKey != "" {
		if err := st.admitCitizen(sc, o.CitizenKey); err != nil {
			return nil, err
		}
	}
	issued, flag := offlineTime(o, l, now, st.dayOf)
	t := &Ticket{
		ID: o.ID, Number: FormatNumber(l.Service, o.Number, st.cfg.Rules.NumberDigits), Service: l.Service, Day: st.day,
		Channel: o.Channel, Status: Waiting, CitizenKey: o.CitizenKey, MaskedID: o.MaskedID, AgeClass: o.AgeClass,
		IssuedAt: issued, QueuedAt: issued, Kiosk: kiosk, Offline: true, ClockFlag: flag,
	}
	nl := *l
	nl.Used = append(slices.Clone(l.Used), o.Number)
	st.emit(Event{Type: EvTicketIssued, Actor: actor, Ticket: t, Lease: &nl}, now)
	return st.tickets[t.ID], nil
}

// offlineTime is the issue time an offline ticket is queued by: the time
// the kiosk claims, corrected by how far the kiosk's clock is from the
// server's at hand-over, and believed only between the lease's grant and
// the hand-over. Outside that window the ticket is queued at its hand-over
// and flagged, so a kiosk cannot backdate tickets to jump the queue.
func offlineTime(o OfflineTicket, l *Lease, now time.Time, dayOf func(time.Time) string) (time.Time, string) {
	issued := o.IssuedAt
	if issued.IsZero() {
		return now, ""
	}
	if !o.KioskClock.IsZero() {
		issued = issued.Add(now.Sub(o.KioskClock))
	}
	switch {
	case issued.After(now):
		return now, OffTimeFuture
	case !l.Granted.IsZero() && issued.Before(l.Granted):
		return now, OffTimeBeforeLease
	case dayOf(issued) != l.Day:
		return now, OffTimeOtherDay
	}
	return issued, ""
}
