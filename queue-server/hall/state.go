package hall

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"hallq/internal/catalog"
)

// Snapshot is what a Journal loads at start: the current day's tickets (and
// any still-open older ones), windows, counters, leases, bookings, the
// blacklist and today's idempotency keys. A year of history is not part of
// it. The Service turns it into its live state (newState) and never reads
// it again.
type Snapshot struct {
	Day       string
	Seq       uint64
	Tickets   []Ticket
	Windows   []Window
	Counters  []Counter
	Leases    []Lease
	Bookings  []Booking
	Blacklist []BlackEntry
	Helps     []HelpCall            // today's helper calls
	Idem      map[string]IdemRecord // scoped idempotency key → its record (result ref, fingerprint)
	Config    *Config               // the latest config.changed configuration; nil when never changed at runtime
	DayClosed bool                  // Day was closed early by a manager (day.closed for Day is in the log)
	Catalog   *catalog.Catalog      // the latest catalog.received catalogue; nil when none was received
}

// state is the hall's live, in-memory model, built from a Snapshot. Only the
// Service's loop goroutine touches it.
type state struct {
	cfg     Config
	loc     *time.Location
	day     string
	seq     uint64
	tickets map[string]*Ticket
	queues  map[string]*serviceQueue
	windows map[int]*Window

	counters  map[string]int         // service → last number today
	issued    map[string]int         // service → tickets issued today
	perKey    map[citizenService]int // tickets today per citizen key and service
	leases    map[string]*Lease      // id → lease
	bookings  map[string]*Booking
	blacklist map[string]BlackEntry
	idem      map[string]IdemRecord
	stats     map[string]*serviceStats
	helps     map[string]*HelpCall // today's helper calls (helper.go)

	catalog   *catalog.Catalog // the province's catalogue last received (matters.go)
	dayClosed bool             // a manager closed st.day before midnight: no more tickets for it
	cfgBy     string           // who last changed the configuration while this process ran
	cfgAt     time.Time        // and when

	pending []Event // emitted, not yet committed
	version uint64  // bumps on every change; invalidates estimates
	est     estimates
}

func newState(cfg Config, s Snapshot) *state {
	st := &state{
		cfg: cfg, loc: cfg.Location(), day: s.Day, seq: s.Seq, dayClosed: s.DayClosed, catalog: s.Catalog,
		tickets: map[string]*Ticket{}, queues: map[string]*serviceQueue{}, windows: map[int]*Window{},
		counters: map[string]int{}, issued: map[string]int{}, perKey: map[citizenService]int{},
		leases: map[string]*Lease{}, bookings: map[string]*Booking{}, blacklist: map[string]BlackEntry{},
		idem: map[string]IdemRecord{}, stats: map[string]*serviceStats{}, helps: map[string]*HelpCall{},
	}
	for i := range s.Helps {
		if h := s.Helps[i]; h.Day == st.day {
			st.helps[h.ID] = &h
		}
	}
	for _, sc := range cfg.Services {
		st.queues[sc.Code] = &serviceQueue{}
		st.stats[sc.Code] = &serviceStats{prior: sc.MeanService.D()}
	}
	for _, wc := range cfg.Windows {
		st.windows[wc.Number] = &Window{Number: wc.Number, Name: wc.Name, Services: slices.Clone(wc.Services), Status: WindowClosed}
	}
	for _, w := range s.Windows {
		if cur, ok := st.windows[w.Number]; ok {
			w.Name, w.Services = cur.Name, cur.Services // configuration wins over stored copies
			st.windows[w.Number] = &w
		}
	}
	for _, c := range s.Counters {
		if c.Day == st.day {
			st.counters[c.Service] = max(st.counters[c.Service], c.Last)
		}
	}
	for i := range s.Tickets {
		t := s.Tickets[i]
		st.putTicket(&t)
	}
	for i := range s.Leases {
		l := s.Leases[i]
		if l.Day == st.day {
			st.leases[l.ID] = &l
		}
	}
	for i := range s.Bookings {
		b := s.Bookings[i]
		st.bookings[b.ID] = &b
	}
	for _, b := range s.Blacklist {
		st.blacklist[b.CitizenKey] = b
	}
	maps.Copy(st.idem, s.Idem)
	return st
}

// putTicket installs a ticket snapshot, keeping queues and counts in step.
func (st *state) putTicket(t *Ticket) {
	old := st.tickets[t.ID]
	if old != nil && old.Status == Waiting {
		if q := st.queues[old.Service]; q != nil {
			q.remove(old)
		}
	}
	if old == nil && t.Day == st.day {
		st.issued[t.Service]++
		if s := st.stats[t.Service]; s != nil {
			if s.firstIssue.IsZero() || t.IssuedAt.Before(s.firstIssue) {
				s.firstIssue = t.IssuedAt
			}
			if t.class() < numClasses-1 {
				s.prioCount++
			}
		}
		if t.CitizenKey != "" {
			st.perKey[citizenService{t.CitizenKey, t.Service}]++
		}
		if n, ok := st.parseNumber(t.Number, t.Service); ok && !t.Transferred {
			st.counters[t.Service] = max(st.counters[t.Service], n)
		}
	}
	if t.Status == Done && (old == nil || old.Status != Done) && !t.CalledAt.IsZero() {
		if s := st.stats[t.Service]; s != nil {
			s.add(t.FinishedAt.Sub(t.CalledAt))
		}
	}
	if t.Day != st.day && !t.Status.Open() {
		delete(st.tickets, t.ID) // an old day's ticket closing: not part of today
		return
	}
	st.tickets[t.ID] = t
	if t.Status == Waiting {
		if q := st.queues[t.Service]; q != nil {
			q.insert(t)
		}
	}
}

func (st *state) parseNumber(number, service string) (int, bool) {
	if !strings.HasPrefix(number, service) {
		return 0, false
	}
	rest := number[len(service):]
	if n, err := strconv.Atoi(rest); err == nil && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		return n, true // the usual form, without Sscanf's cost on every issue
	}
	var n int
	if _, err := fmt.Sscanf(rest, "%d", &n); err != nil {
		return 0, false
	}
	return n, true
}

// emit assigns the next sequence number and applies the event's snapshots.
func (st *state) emit(ev Event, now time.Time) {
	st.seq++
	ev.Seq, ev.At = st.seq, now
	if ev.Day == "" {
		ev.Day = st.day
	}
	if ev.Ticket != nil {
		t := *ev.Ticket
		st.putTicket(&t)
	}
	if ev.Window != nil {
		w := *ev.Window
		st.windows[w.Number] = &w
	}
	if ev.Counter != nil && ev.Counter.Day == st.day {
		st.counters[ev.Counter.Service] = max(st.counters[ev.Counter.Service], ev.Counter.Last)
	}
	if ev.Lease != nil {
		l := *ev.Lease
		st.leases[l.ID] = &l
	}
	if ev.Booking != nil {
		b := *ev.Booking
		st.bookings[b.ID] = &b
	}
	if ev.Help != nil {
		h := *ev.Help
		st.helps[h.ID] = &h
	}
	if ev.Catalog != nil {
		st.catalog = ev.Catalog
	}
	if ev.Config != nil {
		st.cfgBy, st.cfgAt = ev.Actor, now
		st.applyConfig(ev.Config.Clone())
	}
	if ev.Blacklist != nil {
		if ev.Blacklist.Removed {
			delete(st.blacklist, ev.Blacklist.CitizenKey)
		} else {
			st.blacklist[ev.Blacklist.CitizenKey] = *ev.Blacklist
		}
	}
	st.version++
	st.pending = append(st.pending, ev)
}

func (st *state) dayOf(t time.Time) string { return t.In(st.loc).Format(time.DateOnly) }

func (st *state) dayStart(day string) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, day, st.loc)
	return t
}

// citizenService keys the per-citizen counts (a struct, not a joined
// string: no allocation on every issue).
type citizenService struct{ citizen, service string }

// idEncoding keeps the byte order in the text order (base32hex, in lower
// case).
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// newID returns an unguessable id that sorts by creation time: 5 bytes of
// milliseconds (so the store appends instead of scattering its writes)
// and 10 random bytes (80 bits nobody can guess), 24 characters.
func newID() string {
	var b [15]byte
	ms := uint64(time.Now().UnixMilli())
	for i := range 5 {
		b[i] = byte(ms >> (8 * (4 - i)))
	}
	_, _ = rand.Read(b[5:])
	return idEncoding.EncodeToString(b[:])
}

func (st *state) ticket(id string) (*Ticket, error) {
	t, ok := st.tickets[id]
	if !ok {
		return nil, Errorf(NotFound, "no ticket %q today", id)
	}
	return t, nil
}

func (st *state) window(n int) (*Window, error) {
	w, ok := st.windows[n]
	if !ok {
		return nil, Errorf(NotFound, "no window %d", n)
	}
	return w, nil
}

func (st *state) service(code string) (*ServiceConfig, error) {
	sc, ok := st.cfg.service(normalizeCode(code))
	if !ok {
		return nil, Errorf(NotFound, "no service %q", code)
	}
	return sc, nil
}

func wrongStatus(t *Ticket, op string) *Error {
	return Refusal(Conflict, ReasonIllegalTransition, "cannot %s ticket %s: it is %s", op, t.Number, t.Status)
}

// ---- issuing ----

// IssueRequest asks for a new ticket.
type IssueRequest struct {
	Service    string   `json:"service"`
	Channel    Channel  `json:"channel,omitempty"`
	CitizenKey string   `json:"citizen_key,omitempty"`
	MaskedID   string   `json:"masked_id,omitempty"`
	AgeClass   AgeClass `json:"age_class,omitempty"`
	Kiosk      string   `json:"-"`
	// SealedID is the ID number sealed by a kiosk to the hall server (it
	// holds no key that derives citizen keys). The API opens it into
	// CitizenKey and MaskedID and clears it; the domain never sees one.
	SealedID string `json:"sealed_id,omitempty"`
}

func (st *state) issue(r IssueRequest, now time.Time, actor string) (*Ticket, error) {
	sc, err := st.service(r.Service)
	if err != nil {
		return nil, err
	}
	if r.Channel == "" {
		r.Channel = WalkIn
	}
	switch {
	case !r.Channel.valid():
		return nil, Errorf(Invalid, "unknown channel %q", r.Channel)
	case r.Channel == BookingChannel:
		return nil, Errorf(Invalid, "booking tickets come from check-in, not from issue")
	case r.Channel == Remote && !sc.Remote:
		return nil, Refusal(Forbidden, ReasonRemoteNotAllowed, "service %s cannot be taken remotely", sc.Code)
	}
	if err := st.issuing(sc, now); err != nil {
		return nil, err
	}
	if err := st.admit(sc, r.CitizenKey); err != nil {
		return nil, err
	}
	if r.Channel == Remote {
		if err := st.admitRemote(sc, r.CitizenKey); err != nil {
			return nil, err
		}
	}
	r.Channel = ChannelFor(r.Channel, r.AgeClass)
	return st.newTicket(sc, r, now, actor, "")
}

// issuing refuses a ticket for a service outside its hours or for a day
// the manager has closed.
func (st *state) issuing(sc *ServiceConfig, now time.Time) error {
	if st.dayClosed {
		return Refusal(Closed, ReasonDayClosed, "the hall has closed today's service (%s); tickets are issued again tomorrow", st.day)
	}
	if why, closure := st.issueState(sc, now); why != "" {
		return Refusal(Closed, why, "service %s is not issuing tickets now (%s)", sc.Code, why).With(&Details{Hours: st.hoursToday(sc, now), Closure: closure})
	}
	return nil
}

// admit checks ID requirement, blacklist and quotas.
func (st *state) admit(sc *ServiceConfig, key string) error {
	if sc.RequiresID && key == "" {
		return Refusal(Invalid, ReasonIDRequired, "service %s needs an ID card", sc.Code)
	}
	if b, ok := st.blacklist[key]; ok && key != "" {
		if b.Until.IsZero() || b.Until.After(st.dayStart(st.day)) {
			return Refusal(Forbidden, ReasonBlacklisted, "this ID cannot take tickets here; please ask staff")
		}
	}
	if sc.DailyQuota > 0 && st.issued[sc.Code] >= sc.DailyQuota {
		return Refusal(QuotaExceeded, ReasonServiceQuota, "service %s has issued its %d tickets for today", sc.Code, sc.DailyQuota)
	}
	if sc.PerCitizenLimit > 0 && key != "" && st.perKey[citizenService{key, sc.Code}] >= sc.PerCitizenLimit {
		return Refusal(QuotaExceeded, ReasonCitizenLimit, "this ID has taken %d ticket(s) for service %s today", sc.PerCitizenLimit, sc.Code).
			With(&Details{Tickets: st.ticketsHeld(sc.Code, key)})
	}
	return nil
}

// admitRemote applies the rules of remote tickets (线上取号): the
// service's remote share of the day (ServiceConfig.RemoteCap) and one open
// remote ticket per citizen and service — a second request for the same
// ID number is not handed the first ticket (whoever typed the number is not
// necessarily its holder; the API's claim secret gives the holder theirs).
func (st *state) admitRemote(sc *ServiceConfig, key string) error {
	remote := 0
	for _, t := range st.tickets {
		if t.Day != st.day || t.Service != sc.Code || t.Channel != Remote {
			continue
		}
		remote++
		if key != "" && t.CitizenKey == key && t.Status.Open() {
			return Refusal(Conflict, ReasonRemoteOpen, "this ID already holds an open remote ticket for service %s", sc.Code)
		}
	}
	if n := sc.RemoteCap(st.maxNumber()); remote >= n {
		return Refusal(QuotaExceeded, ReasonRemoteShare, "service %s has issued its %d remote tickets for today; the rest are for the hall", sc.Code, n)
	}
	return nil
}

// admitCitizen is admit's per-citizen part (blacklist, per-citizen limit),
// applied to offline tickets at hand-over.
func (st *state) admitCitizen(sc *ServiceConfig, key string) error {
	c := *sc
	c.RequiresID, c.DailyQuota = false, 0
	return st.admit(&c, key)
}

func (st *state) maxNumber() int {
	n := 1
	for range st.cfg.Rules.NumberDigits {
		n *= 10
	}
	return n - 1
}

func (st *state) newTicket(sc *ServiceConfig, r IssueRequest, now time.Time, actor, booking string) (*Ticket, error) {
	n := st.counters[sc.Code] + 1
	if n >= st.leaseFloor(sc.Code) { // the numbers above are leased to kiosks
		return nil, Refusal(QuotaExceeded, ReasonNumbersExhausted, "service %s has used all its numbers today", sc.Code)
	}
	if n > st.maxNumber() {
		return nil, Refusal(QuotaExceeded, ReasonNumbersExhausted, "service %s has used all its numbers today", sc.Code)
	}
	t := &Ticket{
		ID: newID(), Number: FormatNumber(sc.Code, n, st.cfg.Rules.NumberDigits), Service: sc.Code, Day: st.day,
		Channel: r.Channel, Status: Waiting, CitizenKey: r.CitizenKey, MaskedID: r.MaskedID, AgeClass: r.AgeClass,
		IssuedAt: now, QueuedAt: now, Kiosk: r.Kiosk, Booking: booking,
	}
	st.emit(Event{Type: EvTicketIssued, Actor: actor, Ticket: t, Counter: &Counter{Day: st.day, Service: sc.Code, Last: n}}, now)
	return st.tickets[t.ID], nil
}

// ---- calling and serving ----

func (st *state) call(wn int, id string, now time.Time, actor string) (*Ticket, error) {
	w, err := st.window(wn)
	if err != nil {
		return nil, err
	}
	if w.Status != WindowOpen {
		return nil, Refusal(Conflict, ReasonWindowNotOpen, "window %d is %s", wn, w.Status)
	}
	if cur := st.tickets[w.Current]; cur != nil && (cur.Status == Called || cur.Status == Serving) {
		return nil, Refusal(Conflict, ReasonWindowBusy, "window %d still has %s (%s): finish it first", wn, cur.Number, cur.Status)
	}
	var t *Ticket
	if id != "" {
		if t, err = st.ticket(id); err != nil {
			return nil, err
		}
		if t.Status != Waiting {
			return nil, wrongStatus(t, "call")
		}
		if !slices.Contains(w.Services, t.Service) {
			return nil, Refusal(Conflict, ReasonNotServedHere, "window %d does not serve service %s", wn, t.Service)
		}
		if t.TargetWindow != 0 && t.TargetWindow != wn {
			return nil, Refusal(Conflict, ReasonNotServedHere, "ticket %s was transferred to window %d", t.Number, t.TargetWindow)
		}
	} else if t = st.next(w, now); t == nil {
		return nil, nil
	}
	nt := *t
	nt.Status, nt.CalledAt, nt.Window, nt.Recalls, nt.Clerk, nt.TargetWindow = Called, now, wn, 0, w.Clerk, 0
	nw := *w
	nw.Current = nt.ID
	st.emit(Event{Type: EvTicketCalled, Actor: actor, Ticket: &nt, Window: &nw}, now)
	return st.tickets[nt.ID], nil
}

// freeWindow returns the window a ticket occupied, with Current cleared.
func (st *state) freeWindow(t *Ticket) *Window {
	w := st.windows[t.Window]
	if w == nil || w.Current != t.ID {
		return nil
	}
	nw := *w
	nw.Current = ""
	return &nw
}

func (st *state) recall(id string, now time.Time, actor string) (*Ticket, error) {
	t, err := st.ticket(id)
	if err != nil {
		return nil, err
	}
	if t.Status != Called {
		return nil, wrongStatus(t, "recall")
	}
	nt := *t
	if t.Recalls >= st.cfg.Rules.RecallsBeforeNoShow {
		nt.Status, nt.FinishedAt = NoShow, now
		st.emit(Event{Type: EvTicketNoShow, Actor: actor, Reason: "recalls_exhausted", Ticket: &nt, Window: st.freeWindow(t)}, now)
		return st.tickets[id], nil
	}
	nt.Recalls++
	nt.CalledAt = now
	w := *st.windows[t.Window]
	st.emit(Event{Type: EvTicketRecalled, Actor: actor, Ticket: &nt, Window: &w}, now)
	return st.tickets[id], nil
}

// step moves a ticket from one of the allowed statuses to a new one.
func (st *state) step(id, op, evType string, from []Status, now time.Time, actor string, change func(nt *Ticket) (*Window, error)) (*Ticket, error) {
	t, err := st.ticket(id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(from, t.Status) {
		return nil, wrongStatus(t, op)
	}
	nt := *t
	w, err := change(&nt)
	if err != nil {
		return nil, err
	}
	st.emit(Event{Type: evType, Actor: actor, Ticket: &nt, Window: w}, now)
	return st.tickets[id], nil
}

func (st *state) start(id string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "start", EvTicketStarted, []Status{Called}, now, actor, func(nt *Ticket) (*Window, error) {
		nt.Status, nt.StartedAt = Serving, now
		return nil, nil
	})
}

// complete ends a visit. A called ticket may be completed straight away
// (the start implied, at the same moment) where the hall's rules allow it:
// a short matter handled at the counter needs no separate "start".
func (st *state) complete(id string, now time.Time, actor string) (*Ticket, error) {
	from := []Status{Serving}
	if st.cfg.Rules.CompleteFromCalled {
		from = append(from, Called)
	}
	return st.step(id, "complete", EvTicketCompleted, from, now, actor, func(nt *Ticket) (*Window, error) {
		if code := nt.pendingHere(); code != "" {
			return nil, Refusal(Conflict, ReasonMattersPending, "matter %s of ticket %s has no outcome yet: record it, remove the matter or transfer the ticket", code, nt.Number)
		}
		w := st.freeWindow(nt)
		if nt.StartedAt.IsZero() {
			nt.StartedAt = now
		}
		nt.Status, nt.FinishedAt = Done, now
		return w, nil
	})
}

func (st *state) noShow(id string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "mark no-show", EvTicketNoShow, []Status{Called}, now, actor, func(nt *Ticket) (*Window, error) {
		w := st.freeWindow(nt)
		nt.Status, nt.FinishedAt = NoShow, now
		return w, nil
	})
}

func (st *state) requeue(id string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "requeue", EvTicketRequeued, []Status{NoShow}, now, actor, func(nt *Ticket) (*Window, error) {
		if grace := st.cfg.Rules.NoShowGrace.D(); now.Sub(nt.FinishedAt) > grace {
			return nil, Refusal(Conflict, ReasonGraceExpired, "ticket %s missed its call more than %v ago", nt.Number, grace)
		}
		nt.Status, nt.FinishedAt, nt.CalledAt, nt.Recalls = Waiting, time.Time{}, time.Time{}, 0
		return nil, nil
	})
}

func (st *state) transfer(id, service string, window int, now time.Time, actor string) (*Ticket, error) {
	sc, err := st.service(service)
	if err != nil {
		return nil, err
	}
	if window != 0 {
		w, err := st.window(window)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(w.Services, sc.Code) {
			return nil, Refusal(Invalid, ReasonNotServedHere, "window %d does not serve service %s", window, sc.Code)
		}
	}
	return st.step(id, "transfer", EvTicketTransferred, []Status{Waiting, Called, Serving}, now, actor, func(nt *Ticket) (*Window, error) {
		w := st.freeWindow(nt)
		if nt.Service != sc.Code {
			nt.FromService = nt.Service
		}
		nt.Service, nt.Status, nt.Transferred, nt.TargetWindow = sc.Code, Waiting, true, window
		nt.CalledAt, nt.StartedAt, nt.Recalls = time.Time{}, time.Time{}, 0
		nt.QueuedAt = nt.IssuedAt
		if st.cfg.Rules.TransferToHead {
			nt.QueuedAt = st.dayStart(st.day)
		}
		return w, nil
	})
}

func (st *state) park(id string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "park", EvTicketParked, []Status{Called, Serving}, now, actor, func(nt *Ticket) (*Window, error) {
		w := st.freeWindow(nt)
		nt.Status, nt.ParkedAt = Parked, now
		return w, nil
	})
}

func (st *state) resume(id string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "resume", EvTicketResumed, []Status{Parked}, now, actor, func(nt *Ticket) (*Window, error) {
		w := st.windows[nt.Window]
		if w == nil || w.Status != WindowOpen {
			return nil, Refusal(Conflict, ReasonWindowNotOpen, "ticket %s resumes at window %d, which is not open", nt.Number, nt.Window)
		}
		if cur := st.tickets[w.Current]; cur != nil && (cur.Status == Called || cur.Status == Serving) {
			return nil, Refusal(Conflict, ReasonWindowBusy, "window %d is busy with %s", w.Number, cur.Number)
		}
		nw := *w
		nw.Current = nt.ID
		nt.Status = Serving
		if nt.StartedAt.IsZero() {
			nt.StartedAt = now
		}
		return &nw, nil
	})
}

func (st *state) cancel(id string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "cancel", EvTicketCancelled, []Status{Waiting, Called, Parked}, now, actor, func(nt *Ticket) (*Window, error) {
		w := st.freeWindow(nt)
		nt.Status, nt.FinishedAt = Cancelled, now
		return w, nil
	})
}

func (st *state) printFailed(id string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "report print failure of", EvTicketPrintFailed, []Status{Waiting, Called, Serving, Parked}, now, actor, func(nt *Ticket) (*Window, error) {
		nt.PrintFailed = true
		return nil, nil
	})
}

// ---- windows ----

func (st *state) setWindow(wn int, to WindowStatus, clerk, reason string, now time.Time, actor string) (*Window, error) {
	w, err := st.window(wn)
	if err != nil {
		return nil, err
	}
	if to != WindowOpen {
		if cur := st.tickets[w.Current]; cur != nil && (cur.Status == Called || cur.Status == Serving) {
			return nil, Refusal(Conflict, ReasonWindowBusy, "window %d still has %s (%s)", wn, cur.Number, cur.Status)
		}
	}
	if to == WindowPaused && w.Status != WindowOpen {
		return nil, Refusal(Conflict, ReasonIllegalTransition, "only an open window can pause; window %d is %s", wn, w.Status)
	}
	if to == WindowOpen && w.Status == WindowOpen && (clerk == "" || clerk == w.Clerk) {
		return w, nil // already open, by the same clerk: nothing changes, no event
	}
	nw := *w
	if to != w.Status {
		nw.Since = now // an open window taken over by another clerk stays open since then
	}
	nw.Status, nw.PauseReason = to, ""
	evType := map[WindowStatus]string{WindowOpen: EvWindowOpened, WindowPaused: EvWindowPaused, WindowClosed: EvWindowClosed}[to]
	switch to {
	case WindowOpen:
		if clerk != "" {
			nw.Clerk = clerk
		}
	case WindowPaused:
		nw.PauseReason = reason
	case WindowClosed:
		nw.Clerk, nw.Current = "", ""
	}
	st.emit(Event{Type: evType, Actor: actor, Reason: reason, Window: &nw}, now)
	return st.windows[wn], nil
}

// ---- day close ----

// DayClosePreview says what closing the day now would do.
type DayClosePreview struct {
	Day        string         `json:"day"`
	Closed     bool           `json:"closed"`       // the day is already closed
	CarryOver  bool           `json:"carry_over"`   // rules.carry_over: waiting tickets carry over to tomorrow
	Expire     int            `json:"expire"`       // open tickets that will expire
	Carry      int            `json:"carry"`        // waiting tickets that will carry over
	ByStatus   map[Status]int `json:"by_status"`    // the tickets that expire, by their status now
	OpenWindow int            `json:"open_windows"` // windows open or paused, which will close
}

// closePlan splits the open tickets into those that expire and those that
// carry over (waiting ones, when the hall carries over), in queue order.
func (st *state) closePlan() (expire, carry []*Ticket) {
	open := make([]*Ticket, 0)
	for _, t := range st.tickets {
		if t.Status.Open() {
			open = append(open, t)
		}
	}
	slices.SortFunc(open, func(a, b *Ticket) int { return cmpTicket(a, b) })
	for _, t := range open {
		if st.cfg.Rules.CarryOver && t.Status == Waiting {
			carry = append(carry, t)
		} else {
			expire = append(expire, t)
		}
	}
	return expire, carry
}

func (st *state) closePreview() DayClosePreview {
	expire, carry := st.closePlan()
	p := DayClosePreview{Day: st.day, Closed: st.dayClosed, CarryOver: st.cfg.Rules.CarryOver,
		Expire: len(expire), Carry: len(carry), ByStatus: map[Status]int{}}
	for _, t := range expire {
		p.ByStatus[t.Status]++
	}
	for _, w := range st.windows {
		if w.Status != WindowClosed {
			p.OpenWindow++
		}
	}
	return p
}

// closeDay ends st.day: open tickets expire except waiting ones when the
// hall carries over, a summary event is emitted and windows close. With
// next == "" (a manager closing early) the day stays but is closed: no more
// tickets are issued into it, and waiting tickets that carry over wait for
// midnight. With next set, the state moves to day next, taking the
// carried tickets along with new numbers.
func (st *state) closeDay(next string, now time.Time, actor string) {
	expire, carried := st.closePlan()
	for _, t := range expire {
		nt := *t
		nt.Status, nt.FinishedAt = Expired, now
		st.emit(Event{Type: EvTicketExpired, Actor: actor, Ticket: &nt, Window: st.freeWindow(t)}, now)
	}
	if !st.dayClosed {
		st.emit(Event{Type: EvDayClosed, Actor: actor, Summary: st.summary()}, now)
	}
	for _, w := range st.windows {
		if w.Status != WindowClosed {
			nw := *w
			nw.Status, nw.Clerk, nw.Current, nw.PauseReason, nw.Since = WindowClosed, "", "", "", now
			st.emit(Event{Type: EvWindowClosed, Actor: actor, Reason: "day_closed", Window: &nw}, now)
		}
	}
	if next == "" {
		st.dayClosed = true
		return
	}
	st.day, st.dayClosed = next, false
	clear(st.counters)
	clear(st.issued)
	clear(st.perKey)
	clear(st.leases)
	clear(st.idem)
	clear(st.helps)
	for _, s := range st.stats {
		s.n, s.sum, s.firstIssue, s.prioCount = 0, 0, time.Time{}, 0
	}
	for id, t := range st.tickets {
		if !slices.Contains(carried, t) {
			delete(st.tickets, id)
		}
	}
	for _, t := range carried {
		nt := *t
		n := st.counters[t.Service] + 1
		if n > st.maxNumber() {
			nt.Status, nt.FinishedAt = Expired, now
			st.emit(Event{Type: EvTicketExpired, Actor: actor, Reason: "numbers_exhausted", Ticket: &nt}, now)
			continue
		}
		nt.PreviousNumber, nt.Number, nt.Day = t.Number, FormatNumber(t.Service, n, st.cfg.Rules.NumberDigits), next
		st.emit(Event{Type: EvTicketCarried, Actor: actor, Ticket: &nt, Counter: &Counter{Day: next, Service: t.Service, Last: n}}, now)
	}
	for id, b := range st.bookings {
		if st.dayOf(b.SlotStart) < next {
			delete(st.bookings, id)
		}
	}
}

func (st *state) summary() *DaySummary {
	s := &DaySummary{Day: st.day, Services: map[string]ServiceDay{}}
	waits := map[string][]time.Duration{}
	for _, t := range st.tickets {
		code := t.IssuedFor() // by issuing service, as every figure (kpi.go)
		d := s.Services[code]
		if t.Day == st.day {
			d.Issued++
		}
		switch t.Status {
		case Done:
			d.Served++
		case NoShow:
			d.NoShow++
		case Cancelled:
			d.Cancelled++
		case Expired:
			d.Expired++
		case Waiting:
			d.Carried++
		}
		if w, ok := t.Wait(); ok { // the one definition of wait (kpi.go)
			waits[code] = append(waits[code], w)
		}
		if t.Rating != nil {
			d.Ratings[t.Rating.Score]++
		}
		for _, m := range t.Matters { // 一事一评: each matter's rating
			if m.Rating != nil {
				d.Ratings[m.Rating.Score]++
			}
		}
		s.Services[code] = d
	}
	for code, ws := range waits {
		var sum time.Duration
		for _, w := range ws {
			sum += w
		}
		d := s.Services[code]
		d.MeanWaitS = (sum / time.Duration(len(ws))).Seconds()
		s.Services[code] = d
	}
	return s
}

// ticketsHeld lists the ids of today's tickets of a service taken with a
// citizen key, oldest first, for the kiosk to offer a reprint.
func (st *state) ticketsHeld(service, key string) []string {
	var held []*Ticket
	for _, t := range st.tickets {
		if t.Service == service && t.CitizenKey == key && t.Day == st.day && t.Status != Cancelled {
			held = append(held, t)
		}
	}
	slices.SortFunc(held, func(a, b *Ticket) int {
		if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Number, b.Number) // same instant: the day's numbers count up
	})
	ids := make([]string, len(held))
	for i, t := range held {
		ids[i] = t.ID
	}
	return ids
}
