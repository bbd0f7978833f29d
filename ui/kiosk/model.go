package kiosk

import "time"

// Model is the kiosk application as the screens see it: the port the kiosk
// app implements. The UI calls it on the Fyne goroutine, once per tap, so
// every method must return quickly (hand slow work, such as issuing a ticket,
// to the app's own goroutine) and must be safe to call from that goroutine.
// The app answers by calling UI.Show with the next View.
type Model interface {
	// Services lists the hall's services for the home screen, in display
	// order. The UI calls it each time it draws the home screen.
	Services() []ServiceTile
	// SelectService reports that the citizen tapped an open service tile.
	SelectService(code string)
	// StartBooking reports a tap on "I have an appointment".
	StartBooking()
	// TakeWalkIn reports that a citizen whose booking could not be
	// checked in wants an ordinary ticket instead.
	TakeWalkIn()
	// Retry asks to repeat the step that failed (read the card again, look
	// the booking up again, …).
	Retry()
	// Done reports that the citizen finished reading the ticket screen.
	Done()
	// Cancel goes back to the home screen, from any screen.
	Cancel()
	// SetLanguage reports the language the citizen chose, e.g. for the
	// printed ticket.
	SetLanguage(Language)
	// SetElderly reports that the citizen switched the large-text mode on or
	// off; the app should lengthen its idle timeouts while it is on.
	SetElderly(on bool)
	// Touched reports a tap that calls no other method (paging, PIN digits,
	// the hidden service gesture), so the app can restart its idle timer.
	Touched()
	// CheckPIN reports whether pin is the admin PIN. On true the app enters
	// service mode and shows ScreenService (and shows it again to refresh
	// the device status).
	CheckPIN(pin string) bool
	// ExitKiosk asks the app to quit, from the service screen.
	ExitKiosk()
	// Continue answers "still there?" (View.StillThere): the citizen stays.
	Continue()
	// Reprint asks to print again a ticket the refusal screen lists as
	// already held (View.Held).
	Reprint(id string)
	// CallHelper reports a tap on "call staff" (帮办): the app alerts the
	// hall's staff and answers with View.HelperCalled or HelperFailed.
	CallHelper()
	// Rate sends the 好差评 the notice screen asks for (View.Rate): the
	// level and the options chosen.
	Rate(score int, indicators []string)
}

// ServiceTile is one service (业务) on the home screen.
type ServiceTile struct {
	Code          string        // ticket prefix, e.g. "A"
	NameZH        string        // 户政
	NameEN        string        // Household registration
	Waiting       int           // tickets waiting now
	EstimatedWait time.Duration // for a ticket taken now; negative when unknown
	RequiresID    bool          // an ID card must be read to take a ticket
	Open          bool          // tickets can be taken now
	ClosedReason  Reason        // why not, when !Open: Closed, IssuingStopped, QuotaExceeded, …
	// ClosureZH and ClosureEN are the reason of the hall's special
	// closure today (ClosedReason Closure); the home screen shows it.
	ClosureZH, ClosureEN string
	// Checklist is what to bring for the service (its matters and their
	// materials); the home screen's "what to bring" guide lists them.
	Checklist []Checklist
}

// Screen is what the kiosk shows; the app decides it and pushes it with
// UI.Show.
type Screen int

// The kiosk's screens.
const (
	ScreenHome         Screen = iota // service tiles and the booking tile
	ScreenInsertCard                 // "place your ID card on the reader"
	ScreenBooking                    // "swipe your ID card or scan the booking QR code"
	ScreenWorking                    // "issuing your ticket…"
	ScreenTicket                     // the issued ticket
	ScreenRefusal                    // no ticket, and why, in plain words
	ScreenOutOfService               // the kiosk cannot serve anyone
	ScreenService                    // staff only, after the admin PIN
	ScreenNotice                     // a scanned ticket's one-time notice (一次性告知单)
)

// View is everything the current screen shows. Fields that a screen does not
// use are ignored.
type View struct {
	Screen     Screen
	HallName   string // shown in the header on every screen
	HallNameEN string // the hall's English name, shown in English mode

	// NewVisitor resets the citizen's choices (language back to Language,
	// large text off): set it after 完成 and when the idle timeout returns home.
	NewVisitor bool
	// Language is the kiosk's configured language for each new visitor
	// ("" is Chinese).
	Language Language
	// Elderly switches large text on (for an elderly card holder); off
	// comes only from the citizen or NewVisitor.
	Elderly bool
	// Offline: the kiosk cannot reach the hall server; the home screen says
	// the figures may be out of date.
	Offline bool
	// Busy: the citizen tapped while the kiosk was working: "please wait".
	Busy bool
	// StillThere: nobody touched the screen for a while; ask, with a big
	// Continue, before the kiosk goes back to the start.
	StillThere bool
	// TakeCard: the citizen's ID card is still on the reader.
	TakeCard bool
	// CardReady: a card lies on the reader and will be used for the service
	// the citizen picks (home screen).
	CardReady bool
	// ScreenOnly says the printer has no paper, so tickets are shown on
	// screen only; the home screen warns before a citizen starts.
	ScreenOnly bool

	// ServiceZH and ServiceEN name the chosen service on ScreenInsertCard,
	// ScreenWorking and ScreenTicket.
	ServiceZH, ServiceEN string

	Ticket Ticket // ScreenTicket
	// Checklist is what to bring for the ticket's service (ScreenTicket):
	// its matters (办事指南) with their materials.
	Checklist []Checklist
	// Notice is a scanned ticket's one-time notice (ScreenNotice); no
	// matters: the ticket has none.
	Notice Notice
	// Rate is the rating the notice screen offers (nil: none); Rated says
	// one was just sent (thank the citizen).
	Rate    *RateAsk
	Rated   bool
	Refusal Reason // ScreenRefusal
	Status  Status // ScreenService

	// Refusal details, when the server gave them: the tickets the citizen
	// already holds (each with a reprint button), the booking's slot
	// and check-in window, the service's hours. Times in hall time.
	Held         []HeldTicket
	SlotStart    time.Time
	CheckInFrom  time.Time
	CheckInUntil time.Time
	Hours        *Hours
	// ClosureZH and ClosureEN: the reason the hall gives for today's
	// closure (Refusal Closure).
	ClosureZH, ClosureEN string
	// HelperCalled: staff were told that someone at this kiosk needs help;
	// HelperFailed: they could not be (the kiosk is offline).
	HelperCalled, HelperFailed bool
}

// Checklist is one matter with the materials to bring.
type Checklist struct {
	NameZH, NameEN string
	Items          []ChecklistItem
}

// ChecklistItem is one material of a checklist.
type ChecklistItem struct {
	ZH, EN   string
	Original bool // the original must be shown
	Copies   int  // photocopies to hand in
}

// Notice is a one-time notice (一次性告知单) as the kiosk shows it.
type Notice struct {
	Number  string      // the ticket's number
	Matters []Checklist // each incomplete matter with the materials still missing
	Printed bool        // false: not printed (no printer, no paper): photograph the screen
}

// RateAsk is one 好差评 on offer: for a matter (its name) or for the visit
// (no name), with the options of each level.
type RateAsk struct {
	NameZH, NameEN string
	Options        map[int][]RateOption // score → options
}

// RateOption is one indicator option of a level.
type RateOption struct {
	Indicator string
	ZH, EN    string
}

// HeldTicket is a ticket the citizen already holds today.
type HeldTicket struct {
	ID, Number string
}

// Hours are a service's hours today, "HH:MM" in hall time; lunch may be
// empty, IssueUntil is when issuing stops.
type Hours struct {
	Open, LunchStart, LunchEnd, Close, IssueUntil string
}

// Ticket is an issued ticket as the citizen sees it.
type Ticket struct {
	Number        string        // A023
	Ahead         int           // people waiting before this ticket
	EstimatedWait time.Duration // negative when unknown
	StatusURL     string        // the phone status page, shown as a QR code
	MaskedID      string        // 4201**********1234, empty when no card was read
	Printed       bool          // false: the citizen must photograph the screen
	Offline       bool          // issued from a leased number while the server was unreachable: the count ahead is unknown
	Booking       bool          // a booking was checked in
	SlotStart     time.Time     // its slot, in hall time (zero: not shown)
	Priority      bool          // the priority channel (绿色通道)
	Reprint       bool          // printed again
}

// Reason is why a ticket was refused, or why a service is closed, as a
// stable code; the UI turns it into plain words and never shows the code.
type Reason string

// The reasons the kiosk knows.
const (
	QuotaExceeded        Reason = "quota_exceeded"         // the service's tickets for today are gone
	CitizenLimit         Reason = "citizen_limit"          // this ID card took its tickets for today
	Closed               Reason = "closed"                 // outside opening hours
	IssuingStopped       Reason = "issuing_stopped"        // issuing stopped before closing time
	CardExpired          Reason = "card_expired"           // the ID card is past its validity
	CardUnreadable       Reason = "card_unreadable"        // the reader could not read the card
	Blacklisted          Reason = "blacklisted"            // worded neutrally: "please ask at the desk"
	NotFound             Reason = "not_found"              // no booking for this card or code
	OutsideCheckinWindow Reason = "outside_checkin_window" // too early or too late: offer a walk-in ticket
	TicketsUnavailable   Reason = "tickets_unavailable"    // offline and the leased numbers are used up
	AlreadyCheckedIn     Reason = "already_checked_in"     // the booking has its ticket: offer a reprint
	DeviceError          Reason = "device_error"           // anything else that broke
	BookingOnly          Reason = "booking_only"           // the service takes checked-in bookings only now: offer check-in
	Closure              Reason = "closure"                // the hall is closed today (the reason: ClosureZH/EN)
	Holiday              Reason = "holiday"                // a public holiday
)

// Status is the kiosk's health on the service screen.
type Status struct {
	ReaderPresent   bool
	PrinterPresent  bool
	PaperOut        bool
	PaperLow        bool
	CoverOpen       bool
	ScannerPresent  bool
	ServerConnected bool
	LeasesLeft      int // offline numbers still leased to this kiosk
	PendingOffline  int // offline tickets not yet handed to the server
	SetAsideOffline int // offline tickets the server refused for good (staff must look)
	Version         string
}
