package app

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/idcard"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Screen names what the kiosk shows.
type Screen string

// The kiosk's screens.
const (
	ScreenHome        Screen = "home"
	ScreenInsertCard  Screen = "insert_card" // a service needing an ID card was chosen
	ScreenAppointment Screen = "appointment" // swipe the card or scan the booking QR
	ScreenWorking     Screen = "working"     // asking the server, printing
	ScreenTicket      Screen = "ticket"
	ScreenRefusal     Screen = "refusal"
	ScreenService     Screen = "service" // staff only, after the admin PIN
)

// Refusal codes: what the screens explain in plain words (zh/en).
const (
	RefuseQuota          = "quota_exceeded"         // the service's tickets for today are gone
	RefuseCitizenLimit   = "citizen_limit"          // this ID card has its tickets for today
	RefuseClosed         = "closed"                 // service closed now (or lunch)
	RefuseIssuingStopped = "issuing_stopped"        // too close to closing time
	RefuseCardExpired    = "card_expired"           //
	RefuseCardUnreadable = "card_unreadable"        // try again / ask staff
	RefuseBlacklisted    = "blacklisted"            // neutral wording: please ask staff
	RefuseNoAppointment  = "not_found"              // no appointment today for this card / code
	RefuseOutsideWindow  = "outside_checkin_window" // offer a walk-in ticket
	RefuseUnavailable    = "tickets_unavailable"    // offline and out of leased numbers
	RefuseDevice         = "device_error"           // anything else: ask staff
)

// View is everything a screen needs; the flow sends a new one on every change.
type View struct {
	Screen   Screen
	Services []hall.ServiceView // open services, for the tiles
	Service  *hall.ServiceView  // the chosen one (insert card, ticket)
	Ticket   *Ticket
	// Printed is false when the ticket exists only on screen: the printer
	// failed or has no paper. The citizen is asked to photograph it.
	Printed    bool
	Refusal    string // one of the Refuse… codes
	Detail     string // English detail for staff (never shown as the message)
	OfferWalk  bool   // refusal screen offers a walk-in ticket instead
	Online     bool
	ScreenOnly bool // printer out of paper or cover open: tickets on screen only
	HallName   hall.Text
	// NewVisitor: the idle timeout returned home; the screens reset the
	// language and large-text mode for the next citizen.
	NewVisitor bool
	Health     Health // ScreenService
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
	Status(ctx context.Context) (escpos.Status, error)
}

// CodeScanner is the part of scanner.Scanner the flow uses.
type CodeScanner interface {
	Scan(ctx context.Context) (string, error)
}

// FlowConfig tunes the citizen flow.
type FlowConfig struct {
	ElderlyAge  int           // from the hall's rules (default 70)
	Idle        time.Duration // back home after this without input (default 30 s)
	TicketShown time.Duration // how long a ticket stays on screen (default 20 s)
	Poll        time.Duration // card polling interval (default 300 ms)
	Footer      string        // printed at the bottom of tickets
	Version     string
	AdminPIN    string // opens the service screen; empty disables it
}

// Flow runs the citizen's session: one goroutine owns it, fed by taps,
// card events, scans, printer status and timers.
type Flow struct {
	core    *Core
	reader  CardReader
	printer TicketPrinter
	scanner CodeScanner
	cfg     FlowConfig
	show    func(View)
	now     func() time.Time

	actions chan func()
	// owned by the Run goroutine
	view           View
	pendingService string   // chosen service awaiting a card or the server
	pendingWho     *Citizen // derived from the card; cleared with the session
	lastService    string   // the service of the step that was refused (for Retry)
	lastStep       Screen   // the screen of the step that was refused
	timeout        time.Duration
	health         Health
	elderly        bool
	printerErr     string
	readerOK       bool
	deadline       time.Time
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
	if cfg.TicketShown == 0 {
		cfg.TicketShown = 20 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 300 * time.Millisecond
	}
	return &Flow{core: core, reader: reader, printer: printer, scanner: scanner, cfg: cfg, show: show,
		now: core.now, actions: make(chan func(), 16), view: View{Screen: ScreenHome}, readerOK: reader != nil}
}

// ---- inputs from the screens (any goroutine) ----

func (f *Flow) do(fn func()) {
	select {
	case f.actions <- fn:
	default: // a burst of taps while busy: drop, the screen will catch up
	}
}

// SelectService: the citizen tapped a service tile.
func (f *Flow) SelectService(code string) { f.do(func() { f.selectService(code) }) }

// StartAppointment: the citizen tapped "I have an appointment".
func (f *Flow) StartAppointment() {
	f.do(func() { f.set(View{Screen: ScreenAppointment}, f.cfg.Idle) })
}

// Home: back to the start (cancel, done, take a walk-in ticket instead).
func (f *Flow) Home() { f.do(f.home) }

// SetElderly switches elderly mode (longer timeouts).
func (f *Flow) SetElderly(on bool) { f.do(func() { f.elderly = on; f.touch() }) }

// Touched restarts the idle timer (a tap that changes nothing else).
func (f *Flow) Touched() { f.do(f.touch) }

// Retry repeats the step that failed: read the card again, or look the
// appointment up again.
func (f *Flow) Retry() {
	f.do(func() {
		switch {
		case f.lastService != "":
			f.selectService(f.lastService)
		case f.lastStep == ScreenAppointment:
			f.set(View{Screen: ScreenAppointment}, f.cfg.Idle)
		default:
			f.home()
		}
	})
}

// CheckPIN opens the staff service screen when pin is the admin PIN.
func (f *Flow) CheckPIN(pin string) bool {
	if f.cfg.AdminPIN == "" || pin != f.cfg.AdminPIN {
		return false
	}
	f.do(func() { f.set(View{Screen: ScreenService, Health: f.health}, 2*time.Minute) })
	return true
}

func (f *Flow) touch() {
	if !f.deadline.IsZero() {
		f.deadline = f.now().Add(f.scale(f.timeout))
	}
}

// Run drives the flow until ctx ends.
func (f *Flow) Run(ctx context.Context) {
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
	f.home()
	for {
		select {
		case <-ctx.Done():
			return
		case fn := <-f.actions:
			fn()
		case ev, ok := <-cards:
			if !ok {
				cards = nil
				continue
			}
			f.onCard(ctx, ev)
		case code := <-codes:
			f.onCode(ctx, code)
		case <-health.C:
			f.checkDevices(ctx)
		case <-tick.C:
			if !f.deadline.IsZero() && f.now().After(f.deadline) {
				f.elderly = false
				f.home()
				f.view.NewVisitor = true
				f.show(f.view)
			}
		}
		if f.pendingService != "" && f.view.Screen == ScreenWorking {
			f.issue(ctx)
		}
	}
}

// Refresh re-sends the home screen with new service figures (call it when
// the core reports a change).
func (f *Flow) Refresh() {
	f.do(func() {
		if f.view.Screen == ScreenHome {
			f.home()
		}
	})
}

func (f *Flow) scale(d time.Duration) time.Duration {
	if f.elderly {
		return 2 * d
	}
	return d
}

func (f *Flow) set(v View, timeout time.Duration) {
	v.Online = f.core.Online()
	v.ScreenOnly = f.printerErr != ""
	v.HallName = f.core.Hall().Name
	if v.Services == nil {
		v.Services = f.openServices()
	}
	f.view, f.timeout = v, timeout
	f.deadline = time.Time{}
	if timeout > 0 {
		f.deadline = f.now().Add(f.scale(timeout))
	}
	f.show(v)
}

// home clears every trace of the last citizen and shows the tiles.
func (f *Flow) home() {
	f.pendingService, f.pendingWho, f.lastService, f.lastStep = "", nil, "", ""
	f.set(View{Screen: ScreenHome}, 0)
}

func (f *Flow) openServices() []hall.ServiceView {
	var out []hall.ServiceView
	for _, s := range f.core.Services() {
		if s.Issuing {
			out = append(out, s)
		}
	}
	return out
}

func (f *Flow) service(code string) *hall.ServiceView {
	for _, s := range f.core.Services() {
		if s.Code == code {
			return &s
		}
	}
	return nil
}

func (f *Flow) selectService(code string) {
	s := f.service(code)
	if s == nil || !s.Issuing {
		f.refuse(RefuseClosed, "service not issuing", false)
		return
	}
	if s.RequiresID {
		f.pendingService, f.lastService = code, code
		f.set(View{Screen: ScreenInsertCard, Service: s}, f.cfg.Idle)
		return
	}
	f.pendingService, f.lastService = code, code
	f.set(View{Screen: ScreenWorking, Service: s}, 0)
}

func (f *Flow) onCard(ctx context.Context, ev idcard.Event) {
	switch ev.Kind {
	case idcard.ReaderError:
		f.readerOK = false
		if f.view.Screen == ScreenInsertCard || f.view.Screen == ScreenAppointment {
			f.refuse(RefuseCardUnreadable, idcard.Code(ev.Err), false)
		}
		return
	case idcard.CardRemoved:
		return
	}
	f.readerOK = true
	if f.view.Screen != ScreenInsertCard && f.view.Screen != ScreenAppointment {
		return // a card on the reader at the home screen means nothing yet
	}
	if ev.Err != nil {
		if errors.Is(ev.Err, idcard.ErrExpired) {
			f.refuse(RefuseCardExpired, "card expired", false)
		} else {
			f.refuse(RefuseCardUnreadable, idcard.Code(ev.Err), false)
		}
		return
	}
	who, err := f.citizen(ev.Card)
	if err != nil {
		f.refuse(RefuseDevice, err.Error(), false)
		return
	}
	// From here on only the key, the masked number and the age class exist.
	if f.view.Screen == ScreenAppointment {
		f.checkIn(ctx, hall.CheckIn{CitizenKey: who.Key, MaskedID: who.Masked, AgeClass: who.AgeClass})
		return
	}
	f.pendingWho = who
	f.set(View{Screen: ScreenWorking, Service: f.view.Service}, 0)
}

// citizen derives what the queue needs from a card: the HMAC key (with the
// hall's secret), the masked number and the age class.
func (f *Flow) citizen(c idcard.Card) (*Citizen, error) {
	secret := f.core.Secret()
	if secret == nil {
		return nil, errors.New("no citizen-key secret yet: the kiosk has never reached the server")
	}
	return &Citizen{Key: c.Number.Key(secret), Masked: c.Number.Masked(),
		AgeClass: hall.AgeClassOf(c.BirthDate, f.now(), f.cfg.ElderlyAge)}, nil
}

func (f *Flow) onCode(ctx context.Context, code string) {
	if f.view.Screen != ScreenHome && f.view.Screen != ScreenAppointment {
		return
	}
	booking := bookingID(code)
	if booking == "" {
		f.refuse(RefuseNoAppointment, "unreadable booking code", false)
		return
	}
	f.checkIn(ctx, hall.CheckIn{Booking: booking})
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

func (f *Flow) checkIn(ctx context.Context, r hall.CheckIn) {
	f.lastService, f.lastStep = "", ScreenAppointment
	f.set(View{Screen: ScreenWorking}, 0)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t, err := f.core.CheckIn(cctx, r)
	if err != nil {
		code, walk := refusalOf(err)
		f.refuse(code, err.Error(), walk)
		return
	}
	f.printAndShow(ctx, t)
}

// issue asks for the pending ticket (the service chosen, the card read).
func (f *Flow) issue(ctx context.Context) {
	code, who := f.pendingService, f.pendingWho
	f.pendingService, f.pendingWho = "", nil
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t, err := f.core.Issue(cctx, code, who, hall.WalkIn)
	if err != nil {
		c, _ := refusalOf(err)
		f.refuse(c, err.Error(), false)
		return
	}
	f.printAndShow(ctx, t)
}

// printAndShow prints the ticket, or — when the printer cannot — keeps it
// on screen with its QR code and tells the server it was not printed, so
// no ticket waits in the queue that nobody holds.
func (f *Flow) printAndShow(ctx context.Context, t Ticket) {
	s := f.service(t.Service)
	printed := false
	if f.printer != nil && f.printerErr == "" {
		hallName := f.core.Hall().Name
		pt := escpos.Ticket{HallName: hallName.ZH, Number: t.Number, Ahead: t.Ahead, EstimatedWait: t.EstimatedWait,
			IssuedAt: t.IssuedAt, StatusURL: t.StatusURL, MaskedID: t.MaskedID, Footer: f.cfg.Footer, Offline: t.Offline}
		if s != nil {
			pt.ServiceZH, pt.ServiceEN = s.Name.ZH, s.Name.EN
		}
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := f.printer.Print(pctx, pt)
		cancel()
		if err == nil {
			printed = true
		} else {
			code := escpos.Code(err)
			if errors.Is(err, escpos.ErrPaperOut) || errors.Is(err, escpos.ErrCoverOpen) {
				f.printerErr = code
			}
			f.core.log.Warn("ticket not printed", "number", t.Number, "err", err)
		}
	}
	if !printed {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := f.core.PrintFailed(rctx, t, "not_printed"); err != nil {
			f.core.log.Warn("report print failure", "number", t.Number, "err", err)
		}
		cancel()
	}
	f.lastService, f.lastStep = "", ""
	f.set(View{Screen: ScreenTicket, Ticket: &t, Service: s, Printed: printed}, f.cfg.TicketShown)
}

func (f *Flow) refuse(code, detail string, offerWalk bool) {
	f.pendingService, f.pendingWho = "", nil
	f.set(View{Screen: ScreenRefusal, Refusal: code, Detail: detail, OfferWalk: offerWalk}, f.cfg.Idle/2)
}

// refusalOf maps an error from the server or the core to what the citizen
// is told, and whether a walk-in ticket should be offered instead.
func refusalOf(err error) (string, bool) {
	if errors.Is(err, ErrTicketsUnavailable) {
		return RefuseUnavailable, false
	}
	switch reason := hall.ErrorReason(err); reason {
	case "citizen_limit":
		return RefuseCitizenLimit, false
	case "service_quota", "numbers_exhausted":
		return RefuseQuota, false
	case "closed", "lunch", "day_closed":
		return RefuseClosed, false
	case "issuing_stopped":
		return RefuseIssuingStopped, false
	case "blacklisted":
		return RefuseBlacklisted, false
	case "no_appointment", "already_checked_in":
		return RefuseNoAppointment, false
	case "outside_checkin_window":
		return RefuseOutsideWindow, true
	case client.ReasonUnreachable, client.ReasonNetwork:
		return RefuseUnavailable, false
	}
	return RefuseDevice, false
}

// checkDevices polls the printer between jobs and reports health.
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
	if f.printer != nil {
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
	}
	leases := 0
	for _, n := range f.core.LeasedFree() {
		leases += n
	}
	d = f.core.DeviceReport(d)
	f.health = Health{Reader: d.Reader, Printer: d.Printer, Scanner: d.Scanner, Online: d.Online,
		LeasesLeft: leases, PendingOffline: d.Pending, SetAsideOffline: d.SetAside, Version: f.cfg.Version}
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		f.core.ReportDevices(rctx, d)
	}()
	if f.view.Screen == ScreenHome {
		f.home()
	}
}
