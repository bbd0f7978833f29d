package hall

import (
	"slices"
	"time"
)

// CheckIn is an appointment check-in at a kiosk: by the citizen key read
// from an ID card, or by the booking id scanned from the booking's QR code.
type CheckIn struct {
	CitizenKey string   `json:"citizen_key,omitempty"`
	Booking    string   `json:"booking,omitempty"`
	MaskedID   string   `json:"masked_id,omitempty"`
	AgeClass   AgeClass `json:"age_class,omitempty"`
	Kiosk      string   `json:"-"`
}

func (st *state) checkIn(r CheckIn, now time.Time, actor string) (*Ticket, error) {
	if st.dayClosed {
		return nil, Refusal(Closed, "day_closed", "the hall has closed today's service (%s); appointments check in again tomorrow", st.day)
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
		return nil, Refusal(NotFound, "no_appointment", "no appointment found for today")
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
			return nil, Refusal(Conflict, "already_checked_in", "appointment %s is already checked in", f.ID)
		}
		if st.dayOf(f.SlotStart) != st.day {
			return nil, Refusal(Conflict, "outside_checkin_window", "appointment %s is on %s, not today", f.ID, st.dayOf(f.SlotStart))
		}
		return nil, Refusal(Conflict, "outside_checkin_window", "appointment %s (slot %s) checks in from %s to %s",
			f.ID, f.SlotStart.In(st.loc).Format("15:04"),
			f.SlotStart.Add(-st.cfg.Rules.CheckInBefore.D()).In(st.loc).Format("15:04"),
			f.SlotStart.Add(st.cfg.Rules.CheckInAfter.D()).In(st.loc).Format("15:04"))
	}
	sc, err := st.service(b.Service)
	if err != nil {
		return nil, err
	}
	if k, ok := st.blacklist[b.CitizenKey]; ok && (k.Until.IsZero() || k.Until.After(now)) {
		return nil, Refusal(Forbidden, "blacklisted", "this ID cannot take tickets here; please ask staff")
	}
	masked := r.MaskedID
	if masked == "" {
		masked = b.MaskedID
	}
	t, err := st.newTicket(sc, IssueRequest{Channel: Appointment, CitizenKey: b.CitizenKey, MaskedID: masked, AgeClass: r.AgeClass, Kiosk: r.Kiosk}, now, actor, b.ID)
	if err != nil {
		return nil, err
	}
	nb := *b
	nb.Status, nb.Ticket = BookingCheckedIn, t.ID
	st.emit(Event{Type: EvAppointment, Actor: actor, Appointment: &nb}, now)
	return t, nil
}

func (st *state) inCheckInWindow(b *Booking, now time.Time) bool {
	from := b.SlotStart.Add(-st.cfg.Rules.CheckInBefore.D())
	to := b.SlotStart.Add(st.cfg.Rules.CheckInAfter.D())
	return !now.Before(from) && !now.After(to)
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
	st.emit(Event{Type: EvAppointment, Actor: actor, Appointment: &b}, now)
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
}

func (st *state) lease(kiosk, service string, n int, now time.Time, actor string) (*Lease, error) {
	sc, err := st.service(service)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 100 {
		return nil, Errorf(Invalid, "a lease holds 1 to 100 numbers, not %d", n)
	}
	if st.dayClosed {
		return nil, Refusal(Closed, "day_closed", "the hall has closed today's service (%s); no numbers are leased for it", st.day)
	}
	if kiosk == "" {
		return nil, Errorf(Invalid, "leases are for enrolled kiosks")
	}
	for _, l := range st.leases {
		if l.Kiosk == kiosk && l.Service == sc.Code && !l.Released && len(l.Used) < l.To-l.From+1 {
			return l, nil // one live lease per kiosk and service
		}
	}
	from := st.counters[sc.Code] + 1
	to := min(from+n-1, st.maxNumber())
	if from > to {
		return nil, Refusal(QuotaExceeded, "numbers_exhausted", "service %s has used all its numbers today", sc.Code)
	}
	l := &Lease{ID: newID(), Kiosk: kiosk, Service: sc.Code, Day: st.day, From: from, To: to, Digits: st.cfg.Rules.NumberDigits}
	st.emit(Event{Type: EvLeaseGranted, Actor: actor, Lease: l, Counter: &Counter{Day: st.day, Service: sc.Code, Last: to}}, now)
	return st.leases[l.ID], nil
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
		return nil, Refusal(NotFound, "unknown_lease", "no lease %q for this kiosk today", o.Lease)
	case o.Number < l.From || o.Number > l.To:
		return nil, Errorf(Invalid, "number %d is outside lease %s (%d–%d)", o.Number, l.ID, l.From, l.To)
	case slices.Contains(l.Used, o.Number):
		return nil, Refusal(Conflict, "number_used", "number %d of lease %s was already handed over", o.Number, l.ID)
	case l.Released:
		return nil, Refusal(Conflict, "lease_released", "lease %s (service %s) was released, its unused numbers lapsed: number %d cannot be handed over", l.ID, l.Service, o.Number)
	case len(o.ID) < 16 || len(o.ID) > 40:
		return nil, Errorf(Invalid, "offline ticket id must be 16 to 40 characters")
	case st.tickets[o.ID] != nil:
		return nil, Refusal(Conflict, "id_used", "ticket id already exists")
	case st.dayClosed:
		return nil, Refusal(Closed, "day_closed", "the hall has closed today's service (%s); offline ticket %d of lease %s cannot join it", st.day, o.Number, l.ID)
	}
	if o.Channel == "" {
		o.Channel = WalkIn
	}
	if !o.Channel.valid() || o.Channel == Appointment {
		return nil, Errorf(Invalid, "offline tickets are walk_in, priority or remote, not %q", o.Channel)
	}
	if o.Channel == WalkIn && o.AgeClass == AgeElderly {
		o.Channel = Priority // the same rule as for tickets issued online
	}
	issued := o.IssuedAt
	if issued.IsZero() || issued.After(now) || st.dayOf(issued) != st.day {
		issued = now
	}
	t := &Ticket{
		ID: o.ID, Number: FormatNumber(l.Service, o.Number, st.cfg.Rules.NumberDigits), Service: l.Service, Day: st.day,
		Channel: o.Channel, Status: Waiting, CitizenKey: o.CitizenKey, MaskedID: o.MaskedID, AgeClass: o.AgeClass,
		IssuedAt: issued, QueuedAt: issued, Kiosk: kiosk, Offline: true,
	}
	nl := *l
	nl.Used = append(slices.Clone(l.Used), o.Number)
	st.emit(Event{Type: EvTicketIssued, Actor: actor, Ticket: t, Lease: &nl}, now)
	return st.tickets[t.ID], nil
}
