package app

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/idcard"
	"hallq/internal/catalog"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Screen names what the kiosk shows. It is also the flow's state: each
// input is handled by a switch on the current screen (see the table in
// Flow's doc comment).
type Screen string

// The kiosk's screens.
const (
	ScreenHome       Screen = "home"
	ScreenInsertCard Screen = "insert_card" // a service needing an ID card was chosen
	ScreenBooking    Screen = "booking"     // swipe the card or scan the booking QR
	ScreenWorking    Screen = "working"     // asking the server, printing
	ScreenTicket     Screen = "ticket"
	ScreenRefusal    Screen = "refusal"
	ScreenService    Screen = "service" // staff only, after the admin PIN
	ScreenNotice     Screen = "notice"  // a scanned ticket's one-time notice (一次性告知单), printed
)

// Refusal codes: what the screens explain in plain words (zh/en).
const (
	RefuseQuota            = "quota_exceeded"         // the service's tickets for today are gone
	RefuseCitizenLimit     = "citizen_limit"          // this ID card has its tickets for today (Held: reprint)
	RefuseClosed           = "closed"                 // service closed now (or lunch): Hours
	RefuseIssuingStopped   = "issuing_stopped"        // too close to closing time: Hours
	RefuseCardExpired      = "card_expired"           // and this service does not accept expired cards
	RefuseCardUnreadable   = "card_unreadable"        // lift the card and place it again
	RefuseBlacklisted      = "blacklisted"            // neutral wording: please ask staff
	RefuseNoBooking        = "not_found"              // no booking today for this card / code
	RefuseAlreadyCheckedIn = "already_checked_in"     // the booking's ticket exists (Held: reprint)
	RefuseOutsideWindow    = "outside_checkin_window" // Slot and CheckInFrom; offer a walk-in ticket
	RefuseUnavailable      = "tickets_unavailable"    // offline and out of leased numbers
	RefuseDevice           = "device_error"           // anything else: ask staff
	RefuseBookingOnly      = "booking_only"           // the service takes checked-in bookings only now: offer check-in
	RefuseClosure          = "closure"                // the hall's special closure today: Closure says why
	RefuseHoliday          = "holiday"                // a public holiday in the hall calendar
)

// The outcomes of a helper call (View.Helper).
const (
	HelperCalled = "called"
	HelperFailed = "failed"
)

// NotIssuingUnavailable is the ServiceView.NotIssuing the flow sets on a
// service whose offline numbers are used up while the server is away.
const NotIssuingUnavailable = "tickets_unavailable"

// View is everything a screen needs; the flow sends a new one on every change.
type View struct {
	Screen   Screen
	Services []hall.ServiceView // the tiles' figures (see Flow.Services)
	Service  *hall.ServiceView  // the chosen one (insert card, ticket)
	Ticket   *Ticket
	// Printed is false when the ticket exists only on screen: the printer
	// failed or has no paper. The citizen is asked to photograph it.
	Printed    bool
	Reprint    bool   // the ticket shown was printed again
	Refusal    string // one of the Refuse… codes
	Detail     string // English detail for staff (never shown as the message)
	OfferWalk  bool   // refusal screen offers a walk-in ticket instead
	Online     bool   // false: the figures on the tiles are stale
	ScreenOnly bool   // printer out of paper or cover open: tickets on screen only
	HallName   hall.Text
	// Refusal details: tickets the citizen already holds (offered for
	// reprint), the booking's slot and check-in window, the service's
	// hours. Times are in the hall's zone.
	Held         []Ticket
	SlotStart    time.Time
	CheckInFrom  time.Time
	CheckInUntil time.Time
	Hours        *hall.Hours
	Closure      *hall.Text // RefuseClosure: the reason the hall gives
	// Helper: the citizen pressed "call staff" (帮办) on this screen:
	// HelperCalled when the server took the call, HelperFailed when not.
	Helper string
	// NewVisitor: the last citizen is gone (完成, or idle): the screens
	// reset the language to Language and the large-text mode to off.
	NewVisitor bool
	Language   string // the kiosk's configured language for a new visitor: zh or en
	Elderly    bool   // large-text mode on: chosen, or switched on for an elderly card holder
	Busy       bool   // a tap came while the kiosk was working: "please wait"
	StillThere bool   // idle: ask whether the citizen is still there, with a big Continue
	TakeCard   bool   // the ID card read is still on the reader: remind to take it
	CardReady  bool   // a card lies on the reader, not used yet: the next tile uses it
	Health     Health // ScreenService
	// Checklist is what to bring for the ticket's service (ScreenTicket):
	// its matters with their materials.
	Checklist []catalog.Matter
	// Notice is a scanned ticket's one-time notice (ScreenNotice): its
	// number and incomplete matters (none: the ticket has no notice).
	// Printed says whether it came out of the printer.
	Notice *hall.Notice
	// Rate is what the scanned ticket's holder may rate now (ScreenNotice):
	// a handled matter not rated yet, or a done visit without matters; nil
	// for nothing. Rated says a rating was just sent.
	Rate  *RateAsk
	Rated bool
}

// RateAsk is one 好差评 the kiosk offers for a scanned ticket.
type RateAsk struct {
	Ticket  string                         // ticket id
	Matter  string                         // matter code; "" for the visit
	Name    hall.Text                      // the matter's name
	Options map[int][]hall.IndicatorOption // per score, the options offered
}

// Health is the kiosk's state on the staff service screen.
type Health struct {
	Reader, Printer, Scanner string // ok, absent, error / paper_out, cover_open, offline, paper_low
	Online                   bool
	LeasesLeft               int
	PendingOffline           int
	SetAsideOffline          int // offline tickets the server refused for good
	Version                  string
}

// CardReader is the part of idcard.Reader the flow uses.
type CardReader interface {
	Watch(ctx context.Context, interval time.Duration) <-chan idcard.Event
}

// TicketPrinter is the part of escpos.Printer the flow uses.
type TicketPrinter interface {
	Print(ctx context.Context, t escpos.Ticket) error
	PrintNotice(ctx context.Context, n escpos.Notice) error
	Status(ctx context.Context) (escpos.Status, error)
}

// CodeScanner is the part of scanner.Scanner the flow uses.
type CodeScanner interface {
	Scan(ctx context.Context) (string, error)
}

// Prompt is a short spoken prompt (or the read chime).
type Prompt string

// The kiosk's prompts. PromptChime is the tone the insert-card screen
// promises ("听到提示音后取走").
const (
	PromptInsertCard Prompt = "请刷身份证"
	PromptTakeTicket Prompt = "请取走号票"
	PromptTakeCard   Prompt = "请取回身份证"
	PromptChime      Prompt = "chime"
)

// Voice speaks prompts. Say must return at once (queue the sound); a
// kiosk without sound has no Voice.
type Voice interface {
	Say(p Prompt)
}

// FlowConfig tunes the citizen flow.
type FlowConfig struct {
	ElderlyAge  int           // until the server's rule is known (default 70)
	Idle        time.Duration // a screen waits this long for input, then asks "still there?" (default 30 s)
	Warn        time.Duration // "still there?" waits this long before the next visitor (default 15 s)
	TicketShown time.Duration // how long a printed ticket stays on screen (default 20 s)
	Remind      time.Duration // repeat "take your ID card" this often while it lies there (default 8 s)
	Poll        time.Duration // card polling interval (default 300 ms)
	Footer      string        // printed at the bottom of tickets
	Version     string
	AdminPIN    string // opens the service screen; empty disables it
	Language    string // zh (default) or en: each new visitor starts in it
	Voice       Voice  // nil: silent
}

// Flow runs the citizen's session: one goroutine (Run) owns it, fed by
// taps, card events, scans, printer status, timers and the results of the
// work it starts (asking the server and printing run on their own
// goroutine, so the screen answers taps meanwhile).
//
// The screen is the state. Inputs and where they lead:
//
//	home         tile → working (no ID needed, or the card already on the reader) | insert card | refusal (closed, unavailable)
//	             booking → booking; scan → working; card → remembered for the next tile
//	insert card  card → working | refusal (expired at a service that refuses them, unreadable); cancel → home
//	booking  card, scan → working; cancel → home
//	working      result → ticket | refusal; any tap → working with Busy
//	ticket       done → home (new visitor); timeout → home (new visitor; a ticket only on screen stays until done)
//	refusal      retry → the failed step again (a card on the reader is used); reprint → working; walk-in, home → home
//	any          idle → the same screen asking "still there?" → continue, or home for a new visitor;
//	             idle on home after the citizen changed language or large text → home for a new visitor
type Flow struct {
	core    *Core
	reader  CardReader
	printer TicketPrinter
	scanner CodeScanner
	cfg     FlowConfig
	show    func(View)
	now     func() time.Time

	actions chan func()
	results chan func()
	// owned by the Run goroutine
	ctx         context.Context
	view        View
	lastService string // the service of the step that was refused (for Retry)
	lastStep    Screen // the screen of the step that was refused
	timeout     time.Duration
	resume      time.Duration // the timeout before "still there?"
	deadline    time.Time
	health      Health
	elderly     bool
	changed     bool          // the visitor switched language or large text
	card        *idcard.Event // the card on the reader, if any (reported once per placement)
	cardUsed    bool          // that card was read for this visitor: remind to take it back
	reminded    time.Time
	busy        bool
	session     int // counts visitors; a late result of an earlier visitor is dropped
	printerErr  string
	readerOK    bool
}

// NewFlow builds the flow; show receives every new View (from the flow's
// goroutine: the screens must hand it to their UI thread). Any device may
// be nil when the kiosk has none.
func NewFlow(core *Core, reader CardReader, printer TicketPrinter, scanner CodeScanner, cfg FlowConfig, show func(View)) *Flow {
	if cfg.ElderlyAge == 0 {
		cfg.ElderlyAge = 70
	}
	if cfg.Idle == 0 {
		cfg.Idle = 30 * time.Second
	}
	if cfg.Warn == 0 {
		cfg.Warn = 15 * time.Second
	}
	if cfg.TicketShown == 0 {
		cfg.TicketShown = 20 * time.Second
	}
	if cfg.Remind == 0 {
		cfg.Remind = 8 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 300 * time.Millisecond
	}
	if cfg.Language == "" {
		cfg.Language = "zh"
	}
	return &Flow{core: core, reader: reader, printer: printer, scanner: scanner, cfg: cfg, show: show,
		now: core.now, actions: make(chan func(), 16), results: make(chan func()),
		view: View{Screen: ScreenHome}, readerOK: reader != nil}
}

// ---- inputs from the screens (any goroutine) ----

func (f *Flow) do(fn func()) {
	select {
	case f.actions <- fn:
	default: // a burst of taps faster than the flow: the screen shows the latest view anyway
	}
}

// SelectService: the citizen tapped a service tile.
func (f *Flow) SelectService(code string) { f.do(func() { f.selectService(code) }) }

// StartBooking: the citizen tapped "I have an appointment".
func (f *Flow) StartBooking() {
	f.do(func() {
		if f.busyTap() {
			return
		}
		f.lastService, f.lastStep = "", ScreenBooking
		f.set(View{Screen: ScreenBooking}, f.cfg.Idle)
	})
}

// CallHelper: the citizen pressed "call staff" (帮办): the server puts an
// alert on the managers' dashboards naming this kiosk, and the screen says
// whether staff were told (offline: go to the information desk).
func (f *Flow) CallHelper() {
	f.do(func() {
		if f.busyTap() {
			return
		}
		f.start(func(ctx context.Context) func() {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := f.core.cl.CallHelper(cctx)
			cancel()
			return func() {
				v := f.view
				v.Helper = HelperCalled
				if err != nil {
					f.core.log.Warn("helper call", "err", err)
					v.Helper = HelperFailed
				}
				f.set(v, f.cfg.Idle)
			}
		})
	})
}

// Home: back to the start, for the same citizen (cancel, take a walk-in
// ticket instead).
func (f *Flow) Home() {
	f.do(func() {
		if !f.busyTap() {
			f.home()
		}
	})
}

// Done: the citizen has the ticket; the next one starts fresh.
func (f *Flow) Done() {
	f.do(func() {
		if !f.busyTap() {
			f.newVisitor()
		}
	})
}

// Continue: the citizen answered "still there?".
func (f *Flow) Continue() { f.do(f.touch) }

// SetElderly switches large-text mode (longer timeouts).
func (f *Flow) SetElderly(on bool) {
	f.do(func() { f.elderly, f.changed = on, true; f.touch() })
}

// SetLanguage: the citizen switched the screens' language (zh or en).
func (f *Flow) SetLanguage(lang string) {
	f.do(func() { f.changed = f.changed || lang != f.cfg.Language; f.touch() })
}

// Touched restarts the idle timer (a tap that changes nothing else).
func (f *Flow) Touched() { f.do(f.touch) }

// Retry repeats the step that failed: read the card again (the one on the
// reader if the citizen placed it again), or look the booking up again.
func (f *Flow) Retry() {
	f.do(func() {
		if f.busyTap() {
			return
		}
		switch {
		case f.lastService != "":
			f.selectService(f.lastService)
		case f.lastStep == ScreenBooking:
			f.set(View{Screen: ScreenBooking}, f.cfg.Idle)
		default:
			f.home()
		}
	})
}

// Reprint prints again a ticket the refusal screen listed as held.
func (f *Flow) Reprint(id string) {
	f.do(func() {
		if f.busyTap() || f.view.Screen != ScreenRefusal {
			return
		}
		for _, t := range f.view.Held {
			if t.ID == id {
				f.printTicket(t, true)
				return
			}
		}
	})
}

// CheckPIN opens the staff service screen when pin is the admin PIN.
func (f *Flow) CheckPIN(pin string) bool {
	if f.cfg.AdminPIN == "" || pin != f.cfg.AdminPIN {
		return false
	}
	f.do(func() {
		if !f.busyTap() {
			f.set(View{Screen: ScreenService, Health: f.health}, 2*time.Minute)
		}
	})
	return true
}

// Refresh re-sends the home screen with new service figures (call it when
// the core reports a change).
func (f *Flow) Refresh() {
	f.do(func() {
		if f.view.Screen == ScreenHome {
			f.reshow()
		}
	})
}

// Services returns the tiles' figures: the server's, except that while
// the server is away a service whose leased numbers are used up is not
// issuing (NotIssuingUnavailable). Safe for any goroutine.
func (f *Flow) Services() []hall.ServiceView {
	svcs := f.core.Services()
	if f.core.Online() {
		return svcs
	}
	free := f.core.LeasedFree()
	for i, s := range svcs {
		if s.Issuing && free[s.Code] == 0 {
			svcs[i].Issuing, svcs[i].NotIssuing = false, NotIssuingUnavailable
		}
	}
	return svcs
}

// ---- the loop ----

// Run drives the flow until ctx ends.
func (f *Flow) Run(ctx context.Context) {
	f.ctx = ctx
	var cards <-chan idcard.Event
	if f.reader != nil {
		cards = f.reader.Watch(ctx, f.cfg.Poll)
	}
	codes := make(chan string)
	if f.scanner != nil {
		go func() {
			for ctx.Err() == nil {
				code, err := f.scanner.Scan(ctx)
				if err != nil {
					if ctx.Err() == nil {
						time.Sleep(200 * time.Millisecond) // a dropped or partial code
					}
					continue
				}
				select {
				case codes <- code:
				case <-ctx.Done():
				}
			}
		}()
	}
	health := time.NewTicker(10 * time.Second)
	defer health.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	f.checkDevices(ctx)
	f.newVisitor()
	for {
		select {
		case <-ctx.Done():
			return
		case fn := <-f.actions:
			fn()
		case fn := <-f.results:
			fn()
		case ev, ok := <-cards:
			if !ok {
				cards = nil
				continue
			}
			f.onCard(ev)
		case code := <-codes:
			f.onCode(code)
		case <-health.C:
			f.checkDevices(ctx)
		case <-tick.C:
			f.onTick()
		}
	}
}

func (f *Flow) scale(d time.Duration) time.Duration {
	if f.elderly {
		return 2 * d
	}
	return d
}

// set shows v and (re)starts its timeout (0: none).
func (f *Flow) set(v View, timeout time.Duration) {
	f.view, f.timeout = v, timeout
	f.deadline = time.Time{}
	if timeout > 0 {
		f.deadline = f.now().Add(f.scale(timeout))
	}
	f.reshow()
}

// reshow sends the current view again with the kiosk's live state.
func (f *Flow) reshow() {
	v := &f.view
	v.Online = f.core.Online()
	v.ScreenOnly = f.printerErr != ""
	v.HallName = f.core.Hall().Name
	v.Services = f.Services()
	v.Language, v.Elderly = f.cfg.Language, f.elderly
	v.TakeCard = f.card != nil && f.cardUsed
	v.CardReady = f.card != nil && !f.cardUsed
	f.show(*v)
	v.NewVisitor, v.Busy = false, false
}

func (f *Flow) touch() {
	switch {
	case f.view.StillThere:
		f.view.StillThere = false
		f.set(f.view, f.resume)
	case f.view.Screen == ScreenHome && f.changed:
		f.deadline = f.now().Add(f.scale(f.cfg.Idle)) // a visitor is choosing: reset when they leave
	case !f.deadline.IsZero():
		f.deadline = f.now().Add(f.scale(f.timeout))
	}
}

// busyTap answers a tap while the kiosk is asking the server or printing:
// the working screen says "please wait" instead of ignoring the citizen.
func (f *Flow) busyTap() bool {
	if !f.busy {
		return false
	}
	if f.view.Screen == ScreenWorking {
		f.view.Busy = true
		f.reshow()
	}
	return true
}

func (f *Flow) onTick() {
	if f.view.TakeCard && f.now().Sub(f.reminded) >= f.cfg.Remind {
		f.say(PromptTakeCard)
		f.reminded = f.now()
	}
	if f.deadline.IsZero() || !f.now().After(f.deadline) {
		return
	}
	switch f.view.Screen {
	case ScreenInsertCard, ScreenBooking, ScreenRefusal:
		if !f.view.StillThere {
			f.resume = f.timeout
			f.view.StillThere = true
			f.set(f.view, f.cfg.Warn)
			return
		}
	}
	f.newVisitor()
}

// home shows the tiles for the same visitor; the session's traces go.
func (f *Flow) home() {
	f.lastService, f.lastStep = "", ""
	timeout := time.Duration(0)
	if f.changed {
		timeout = f.cfg.Idle
	}
	f.set(View{Screen: ScreenHome}, timeout)
}

// newVisitor forgets the last citizen: language and large text back to
// the defaults, the home screen.
func (f *Flow) newVisitor() {
	f.elderly, f.changed = false, false
	f.session++
	f.lastService, f.lastStep = "", ""
	f.view = View{Screen: ScreenHome, NewVisitor: true}
	f.set(f.view, 0)
}

func (f *Flow) say(p Prompt) {
	if f.cfg.Voice != nil {
		f.cfg.Voice.Say(p)
	}
}

func (f *Flow) service(code string) *hall.ServiceView {
	for _, s := range f.Services() {
		if s.Code == code {
			return &s
		}
	}
	return nil
}

// ---- transitions ----

func (f *Flow) selectService(code string) {
	if f.busyTap() || f.view.Screen == ScreenService {
		return
	}
	s := f.service(code)
	switch {
	case s == nil:
		f.refuse(RefuseClosed, "unknown service "+code, nil)
		return
	case s.NotIssuing == NotIssuingUnavailable:
		f.refuse(RefuseUnavailable, "offline and no leased numbers left", nil)
		return
	case !s.Issuing:
		reason := RefuseClosed
		switch s.NotIssuing {
		case "issuing_stopped":
			reason = RefuseIssuingStopped
		case "quota":
			reason = RefuseQuota
		case string(hall.ReasonBookingOnly), string(hall.ReasonClosure), string(hall.ReasonHoliday):
			reason = s.NotIssuing // the same words as the server's refusal
		}
		f.refuse(reason, "service not issuing: "+s.NotIssuing, &refusalInfo{hours: s.Hours, closure: s.Closure})
		return
	}
	f.lastService, f.lastStep = code, ScreenInsertCard
	switch {
	case !s.RequiresID:
		f.issue(*s, nil)
	case f.card != nil: // placed before the tile, or left after a refusal
		f.useCard(*s, *f.card)
	default:
		f.say(PromptInsertCard) // asked as the screen appears: before it is shown
		f.set(View{Screen: ScreenInsertCard, Service: s}, f.cfg.Idle)
	}
}

func (f *Flow) onCard(ev idcard.Event) {
	switch ev.Kind {
	case idcard.ReaderReady: // the fault is over: the next health report says so
		f.readerOK = true
		return
	case idcard.ReaderError:
		f.readerOK, f.card = false, nil
		if f.view.Screen == ScreenInsertCard || f.view.Screen == ScreenBooking {
			f.refuse(RefuseCardUnreadable, idcard.Code(ev.Err), nil)
		}
		return
	case idcard.CardRemoved:
		f.card, f.cardUsed = nil, false
		if f.view.TakeCard || f.view.CardReady {
			f.reshow()
		}
		return
	}
	f.readerOK = true
	f.card, f.cardUsed = &ev, false
	switch f.view.Screen {
	case ScreenInsertCard:
		f.useCard(*f.view.Service, ev)
	case ScreenBooking:
		f.checkInCard(ev)
	case ScreenRefusal:
		// the citizen lifted the card and placed it again: go on with the
		// service that failed
		if s := f.service(f.lastService); s != nil && (f.view.Refusal == RefuseCardUnreadable || f.view.Refusal == RefuseCardExpired) {
			f.useCard(*s, ev)
		}
	default: // home, ticket: kept for the tile the citizen picks next
		f.touch()
		f.reshow()
	}
}

// useCard issues a ticket for service s with the card on the reader.
func (f *Flow) useCard(s hall.ServiceView, ev idcard.Event) {
	f.lastService, f.lastStep = s.Code, ScreenInsertCard
	if who, ok := f.cardHolder(ev, s.AcceptExpired); ok {
		f.issue(s, who)
	}
}

func (f *Flow) checkInCard(ev idcard.Event) {
	if who, ok := f.cardHolder(ev, true); ok { // a booking needs no valid card, only its holder
		f.checkIn(hall.CheckIn{SealedID: who.Sealed, MaskedID: who.Masked, AgeClass: who.AgeClass}) // the masked form stays here, for the ticket
	}
}

// cardHolder takes the holder of the card just read, for a ticket or a
// check-in, or refuses: a card that cannot be read, an expired card where
// expired cards are not accepted, a number the kiosk cannot seal. The
// chime says the card was taken.
func (f *Flow) cardHolder(ev idcard.Event, acceptExpired bool) (*Citizen, bool) {
	f.cardUsed = true // from now on, remind the citizen to take it back
	expired := errors.Is(ev.Err, idcard.ErrExpired)
	switch {
	case ev.Err != nil && expired && !acceptExpired:
		f.refuse(RefuseCardExpired, "card expired", nil)
		return nil, false
	case ev.Err != nil && !expired:
		f.refuse(RefuseCardUnreadable, idcard.Code(ev.Err), nil)
		return nil, false
	}
	who, err := f.citizen(ev.Card)
	if err != nil {
		f.refuse(RefuseDevice, err.Error(), nil)
		return nil, false
	}
	f.say(PromptChime)
	return who, true
}

// citizen takes what the queue needs from a card: the number sealed to the
// hall server (Core.Citizen), the masked number and the age class by the
// hall's rule. An elderly card holder gets large text without asking.
func (f *Flow) citizen(c idcard.Card) (*Citizen, error) {
	age := hall.AgeClassOf(c.BirthDate, f.now().In(f.core.Location()), f.core.ElderlyAge(f.cfg.ElderlyAge))
	who, err := f.core.Citizen(c.Number, age)
	if err != nil {
		return nil, err
	}
	if who.AgeClass == hall.AgeElderly {
		f.elderly = true
	}
	return who, nil
}

func (f *Flow) onCode(code string) {
	switch f.view.Screen {
	case ScreenHome, ScreenBooking:
	default:
		return
	}
	if f.busy {
		return
	}
	if id := ticketID(code, f.core.statusURL); id != "" {
		f.lastService, f.lastStep = "", ""
		f.notice(id)
		return
	}
	f.lastService, f.lastStep = "", ScreenBooking
	booking := bookingID(code)
	if booking == "" {
		f.refuse(RefuseNoBooking, "unreadable booking code", nil)
		return
	}
	f.checkIn(hall.CheckIn{Booking: booking})
}

// ticketID takes the ticket id from a scanned ticket QR code: this hall's
// status page URL (the kiosk's status URL and the id), or "".
func ticketID(code, statusURL string) string {
	code = strings.TrimSpace(code)
	if statusURL == "" || !strings.HasPrefix(code, statusURL) {
		return ""
	}
	id := code[len(statusURL):]
	if len(id) < 16 || len(id) > 40 || strings.ContainsAny(id, "/?#& ") {
		return ""
	}
	return id
}

// notice prints the one-time notice (一次性告知单) of a scanned ticket: the
// materials still missing for each of its incomplete matters.
func (f *Flow) notice(id string) {
	f.set(View{Screen: ScreenWorking}, 0)
	job := f.printJob()
	f.start(func(ctx context.Context) func() {
		tv, err := f.core.cl.Ticket(ctx, id)
		if hall.ErrorCode(err) == hall.NotFound { // not a ticket of today here: it has no notice to print
			return func() { f.set(View{Screen: ScreenNotice, Notice: &hall.Notice{}}, f.cfg.TicketShown) }
		}
		if err != nil {
			f.core.sawServer(err)
			info := f.refusalInfo(ctx, err)
			return func() { f.refused(err, info) }
		}
		n, _ := hall.NoticeOf(&tv.Ticket)
		printed := false
		if len(n.Matters) > 0 && f.printer != nil {
			pn := escpos.Notice{HallName: job.hallName, Number: n.Ticket, Day: n.Day, At: f.core.now().In(job.loc), Footer: f.cfg.Footer}
			for _, m := range n.Matters {
				nm := escpos.NoticeMatter{NameZH: m.Name.ZH, NameEN: m.Name.EN}
				for _, x := range m.Missing {
					nm.Missing = append(nm.Missing, strings.TrimSpace(x.ZH+" "+x.EN))
				}
				pn.Matters = append(pn.Matters, nm)
			}
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := f.printer.PrintNotice(pctx, pn)
			cancel()
			if err != nil {
				f.core.log.Warn("notice not printed", "number", n.Ticket, "why", escpos.Code(err), "err", err)
			}
			printed = err == nil
		}
		rate := f.rateAsk(tv.Ticket)
		return func() { f.set(View{Screen: ScreenNotice, Notice: &n, Printed: printed, Rate: rate}, f.cfg.TicketShown) }
	})
}

// rateAsk is the next rating a ticket's holder may give at the kiosk.
func (f *Flow) rateAsk(t hall.Ticket) *RateAsk {
	opts := f.core.RatingOptions()
	if len(t.Matters) == 0 {
		if t.Status == hall.Done && t.Rating == nil {
			return &RateAsk{Ticket: t.ID, Options: opts}
		}
		return nil
	}
	for _, m := range t.Matters {
		if m.Outcome != "" && m.Rating == nil {
			return &RateAsk{Ticket: t.ID, Matter: m.Code, Name: hall.Text{ZH: m.Name.ZH, EN: m.Name.EN}, Options: opts}
		}
	}
	return nil
}

// Rate sends the scanned ticket's holder's 好差评 (channel kiosk) for what
// the notice screen asks, then shows the next one to rate, or thanks.
func (f *Flow) Rate(score int, indicators []string) {
	f.do(func() {
		if f.busyTap() || f.view.Screen != ScreenNotice || f.view.Rate == nil {
			return
		}
		ask, was := *f.view.Rate, f.view
		inds := make([]hall.Indicator, len(indicators))
		for i, x := range indicators {
			inds[i] = hall.Indicator(x)
		}
		f.start(func(ctx context.Context) func() {
			body := map[string]any{"score": score, "indicators": inds}
			if ask.Matter != "" {
				body["matter"] = ask.Matter
			}
			var tv hall.TicketView
			_, err := f.core.cl.Do(ctx, "POST", "/api/v1/tickets/"+url.PathEscape(ask.Ticket)+"/evaluation", "", body, &tv)
			if err != nil && hall.ErrorReason(err) != string(hall.ReasonAlreadyRated) {
				f.core.sawServer(err)
				info := f.refusalInfo(ctx, err)
				return func() { f.refused(err, info) }
			}
			if err != nil { // rated elsewhere meanwhile: read what is left
				tv, _ = f.core.cl.Ticket(ctx, ask.Ticket)
			}
			next := f.rateAsk(tv.Ticket)
			return func() {
				was.Rate, was.Rated = next, true
				f.set(was, f.cfg.TicketShown)
			}
		})
	})
}

// bookingID takes the booking id from a scanned code: a bare id, or a URL
// with a booking (or id) query parameter.
func bookingID(code string) string {
	code = strings.TrimSpace(code)
	if u, err := url.Parse(code); err == nil && u.Scheme != "" {
		for _, k := range []string{"booking", "id"} {
			if v := u.Query().Get(k); v != "" {
				return v
			}
		}
		return ""
	}
	if len(code) == 0 || len(code) > 64 || strings.ContainsAny(code, " \t/") {
		return ""
	}
	return code
}

// ---- work off the flow's goroutine ----

// start runs work on its own goroutine and applies what it returns on the
// flow's goroutine, unless the visitor has changed meanwhile.
func (f *Flow) start(work func(ctx context.Context) func()) {
	f.busy = true
	session := f.session
	go func() {
		apply := work(f.ctx)
		select {
		case f.results <- func() {
			f.busy = false
			if session == f.session {
				apply()
			}
		}:
		case <-f.ctx.Done():
		}
	}()
}

// issue asks for a ticket (who is nil for services without ID) and prints it.
func (f *Flow) issue(s hall.ServiceView, who *Citizen) {
	f.serveAndPrint(View{Screen: ScreenWorking, Service: &s}, func(ctx context.Context) (Ticket, error) {
		return f.core.Issue(ctx, s.Code, who, hall.WalkIn)
	})
}

// checkIn checks a booking in and prints its ticket.
func (f *Flow) checkIn(r hall.CheckIn) {
	f.serveAndPrint(View{Screen: ScreenWorking}, func(ctx context.Context) (Ticket, error) {
		return f.core.CheckIn(ctx, r)
	})
}

// serveAndPrint shows working, gets a ticket from the server (at most 10 s)
// and prints it, or shows the server's refusal.
func (f *Flow) serveAndPrint(working View, get func(context.Context) (Ticket, error)) {
	f.set(working, 0)
	job := f.printJob()
	f.start(func(ctx context.Context) func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		t, err := get(cctx)
		cancel()
		if err != nil {
			info := f.refusalInfo(ctx, err)
			return func() { f.refused(err, info) }
		}
		res := job.run(ctx, t, false)
		return func() { f.printed(t, res) }
	})
}

// printTicket prints a ticket the citizen already holds, again.
func (f *Flow) printTicket(t Ticket, reprint bool) {
	f.set(View{Screen: ScreenWorking, Service: f.service(t.Service)}, 0)
	job := f.printJob()
	f.start(func(ctx context.Context) func() {
		res := job.run(ctx, t, reprint)
		return func() { f.printed(t, res) }
	})
}

// printJob is what a print needs, taken on the flow's goroutine.
type printJob struct {
	f          *Flow
	printerErr string
	hallName   string
	loc        *time.Location
}

type printResult struct {
	printed    bool
	reprint    bool
	printerErr string // the printer's fault after the job ("" fine)
}

func (f *Flow) printJob() printJob {
	return printJob{f: f, printerErr: f.printerErr, hallName: f.core.Hall().Name.ZH, loc: f.core.Location()}
}

// run prints t, or — when the printer cannot — reports it to the server
// (online tickets), so no ticket waits in the queue that nobody holds: the
// screen then keeps the ticket with its QR code.
func (j printJob) run(ctx context.Context, t Ticket, reprint bool) printResult {
	f := j.f
	res := printResult{printerErr: j.printerErr, reprint: reprint}
	log := f.core.log
	switch {
	case f.printer == nil:
		log.Warn("print skipped", "number", t.Number, "why", "no printer configured")
	case j.printerErr == escpos.Code(escpos.ErrPaperOut) || j.printerErr == escpos.Code(escpos.ErrCoverOpen):
		// what the printer itself said: a person must come; "offline" (no
		// answer to the last status check, which a busy moment can cause) is
		// tried again — the printer's own status check first fails fast
		log.Warn("print skipped", "number", t.Number, "why", j.printerErr)
	default:
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := f.printer.Print(pctx, j.ticket(t, reprint))
		cancel()
		if err == nil {
			res.printed, res.printerErr = true, "" // it printed: whatever the last check said is over
			break
		}
		if errors.Is(err, escpos.ErrPaperOut) || errors.Is(err, escpos.ErrCoverOpen) {
			res.printerErr = escpos.Code(err)
		}
		log.Warn("ticket not printed", "number", t.Number, "why", escpos.Code(err), "err", err)
	}
	if !res.printed && !reprint {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := f.core.PrintFailed(rctx, t, "not_printed"); err != nil {
			log.Warn("report print failure", "number", t.Number, "err", err)
		}
		cancel()
	}
	return res
}

// ticket lays out t for paper, with every time in the hall's zone.
func (j printJob) ticket(t Ticket, reprint bool) escpos.Ticket {
	pt := escpos.Ticket{HallName: j.hallName, Number: t.Number, Ahead: t.Ahead, EstimatedWait: t.EstimatedWait,
		IssuedAt: t.IssuedAt.In(j.loc), StatusURL: t.StatusURL, MaskedID: t.MaskedID, Footer: j.f.cfg.Footer,
		Offline: t.Offline, Priority: t.Priority, Booking: t.Booking, Reprint: reprint}
	if !t.SlotStart.IsZero() {
		pt.SlotStart = t.SlotStart.In(j.loc)
	}
	if t.Offline {
		pt.Ahead = -1
	}
	if s := j.f.service(t.Service); s != nil {
		pt.ServiceZH, pt.ServiceEN, pt.Windows = s.Name.ZH, s.Name.EN, s.Windows
	}
	pt.Bring = bringList(j.f.core.Checklist(t.Service))
	return pt
}

// bringList names the materials of matters once each, in order: the
// printed ticket's short reminder.
func bringList(ms []catalog.Matter) []string {
	var out []string
	for _, m := range ms {
		for _, mat := range m.Materials {
			if !slices.Contains(out, mat.Name.ZH) {
				out = append(out, mat.Name.ZH)
			}
		}
	}
	return out
}

func (f *Flow) printed(t Ticket, res printResult) {
	f.printerErr = res.printerErr
	f.lastService, f.lastStep = "", ""
	timeout := f.cfg.TicketShown
	if !res.printed {
		timeout = 0 // only on screen: it stays until the citizen taps done
	}
	// the prompts are asked as the screen appears: before it is shown, so
	// what the citizen sees has already been said (reshow's TakeCard rule)
	if res.printed {
		f.say(PromptTakeTicket)
	}
	if f.card != nil && f.cardUsed {
		f.say(PromptTakeCard)
		f.reminded = f.now()
	}
	f.set(View{Screen: ScreenTicket, Ticket: &t, Service: f.service(t.Service), Printed: res.printed, Reprint: res.reprint,
		Checklist: f.core.Checklist(t.Service)}, timeout)
}

// refusalInfo is what a refusal screen shows beyond its reason.
type refusalInfo struct {
	held       []Ticket
	slot, from time.Time
	until      time.Time
	hours      *hall.Hours
	closure    *hall.Text
}

// refusalInfo gathers a refusal's details; the tickets held are fetched
// from the server (off the flow's goroutine) so the screen can offer
// their reprint.
func (f *Flow) refusalInfo(ctx context.Context, err error) *refusalInfo {
	d := hall.ErrorDetails(err)
	if d == nil {
		return nil
	}
	loc := f.core.Location()
	info := &refusalInfo{hours: d.Hours, closure: d.Closure}
	if !d.SlotStart.IsZero() {
		info.slot, info.from, info.until = d.SlotStart.In(loc), d.CheckInFrom.In(loc), d.CheckInUntil.In(loc)
	}
	for _, id := range d.Tickets {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		tv, err := f.core.cl.Ticket(cctx, id)
		cancel()
		if err != nil {
			f.core.log.Warn("ticket held for reprint", "err", err)
			continue
		}
		info.held = append(info.held, f.core.fromView(tv, ""))
	}
	return info
}

func (f *Flow) refused(err error, info *refusalInfo) {
	code, walk := refusalOf(err)
	if code == RefuseClosed || code == RefuseIssuingStopped {
		if s := f.service(f.lastService); s != nil && (info == nil || info.hours == nil) {
			info = &refusalInfo{hours: s.Hours}
		}
	}
	v := View{Screen: ScreenRefusal, Refusal: code, Detail: err.Error(), OfferWalk: walk}
	f.refuseView(v, info)
}

func (f *Flow) refuse(code, detail string, info *refusalInfo) {
	f.refuseView(View{Screen: ScreenRefusal, Refusal: code, Detail: detail}, info)
}

func (f *Flow) refuseView(v View, info *refusalInfo) {
	if info != nil {
		v.Held, v.SlotStart, v.CheckInFrom, v.CheckInUntil, v.Hours = info.held, info.slot, info.from, info.until, info.hours
		v.Closure = info.closure
	}
	f.set(v, f.cfg.Idle)
}

// refusalOf maps an error from the server or the core to what the citizen
// is told, and whether a walk-in ticket should be offered instead.
func refusalOf(err error) (string, bool) {
	if errors.Is(err, ErrTicketsUnavailable) {
		return RefuseUnavailable, false
	}
	switch hall.ReasonOf(err) {
	case hall.ReasonCitizenLimit:
		return RefuseCitizenLimit, false
	case hall.ReasonServiceQuota, hall.ReasonNumbersExhausted:
		return RefuseQuota, false
	case hall.ReasonClosed, hall.ReasonLunch, hall.ReasonDayClosed:
		return RefuseClosed, false
	case hall.ReasonIssuingStopped:
		return RefuseIssuingStopped, false
	case hall.ReasonBookingOnly:
		return RefuseBookingOnly, false
	case hall.ReasonClosure:
		return RefuseClosure, false
	case hall.ReasonHoliday:
		return RefuseHoliday, false
	case hall.ReasonBlacklisted:
		return RefuseBlacklisted, false
	case hall.ReasonNoBooking:
		return RefuseNoBooking, true
	case hall.ReasonAlreadyCheckedIn:
		return RefuseAlreadyCheckedIn, false
	case hall.ReasonOutsideCheckinWindow:
		return RefuseOutsideWindow, true
	case hall.ReasonUnreachable, hall.ReasonNetwork:
		return RefuseUnavailable, false
	}
	return RefuseDevice, false
}

// checkDevices polls the printer between jobs and reports health; it logs
// each change a technician needs (device lost/back, server lost/back,
// leases low/out).
func (f *Flow) checkDevices(ctx context.Context) {
	d := wire.DeviceHealth{Reader: "absent", Printer: "absent", Scanner: "absent", Version: f.cfg.Version}
	if f.reader != nil {
		d.Reader = "ok"
		if !f.readerOK {
			d.Reader = "error"
		}
	}
	if f.scanner != nil {
		d.Scanner = "ok"
	}
	if f.printer != nil && !f.busy { // between jobs only
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := f.printer.Status(sctx)
		cancel()
		switch {
		case err != nil:
			d.Printer, f.printerErr = "offline", "offline"
		case st.PaperOut:
			d.Printer, f.printerErr = "paper_out", "paper_out"
		case st.CoverOpen:
			d.Printer, f.printerErr = "cover_open", "cover_open"
		case !st.Online || st.Error:
			d.Printer, f.printerErr = "offline", "offline"
		default:
			d.Printer, f.printerErr = "ok", ""
			if st.PaperLow {
				d.Printer = "paper_low"
			}
		}
	} else if f.printer != nil {
		d.Printer = f.health.Printer
	}
	leases := 0
	for _, n := range f.core.LeasedFree() {
		leases += n
	}
	d = f.core.DeviceReport(d)
	h := Health{Reader: d.Reader, Printer: d.Printer, Scanner: d.Scanner, Online: d.Online,
		LeasesLeft: leases, PendingOffline: d.Pending, SetAsideOffline: d.SetAside, Version: f.cfg.Version}
	f.logChanges(f.health, h)
	f.health = h
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		f.core.ReportDevices(rctx, d)
	}()
	if f.view.Screen == ScreenHome {
		f.reshow()
	}
}

// logChanges writes one structured line per change a technician acts on.
func (f *Flow) logChanges(was, is Health) {
	log := f.core.log
	if was.Version == "" { // the first check: the state at start
		log.Info("kiosk devices", "reader", is.Reader, "printer", is.Printer, "scanner", is.Scanner,
			"server", online(is.Online), "leases_left", is.LeasesLeft)
		return
	}
	for _, d := range []struct{ name, was, is string }{
		{"reader", was.Reader, is.Reader}, {"printer", was.Printer, is.Printer}, {"scanner", was.Scanner, is.Scanner}} {
		switch {
		case d.was == d.is:
		case d.is == "ok":
			log.Info("device back", "device", d.name, "was", d.was)
		default:
			log.Warn("device lost", "device", d.name, "state", d.is, "was", d.was)
		}
	}
	if was.Online != is.Online {
		if is.Online {
			log.Info("server back", "pending_offline", is.PendingOffline)
		} else {
			log.Warn("server lost", "leases_left", is.LeasesLeft)
		}
	}
	low := 5
	switch {
	case is.LeasesLeft == 0 && was.LeasesLeft > 0:
		log.Warn("leases out", "online", is.Online)
	case is.LeasesLeft <= low && was.LeasesLeft > low:
		log.Warn("leases low", "leases_left", is.LeasesLeft, "online", is.Online)
	}
}

func online(b bool) string {
	if b {
		return "online"
	}
	return "offline"
}
