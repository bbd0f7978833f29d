// Package bridge joins the kiosk's application (kiosk/app) to its screens
// (ui/kiosk): it implements the screens' Model with the citizen flow and
// turns the flow's views into the screens' views. It holds no state of its
// own beyond the references it joins.
package bridge

import (
	"time"

	"hallq/internal/catalog"
	"hallq/kiosk/app"
	"hallq/queue-server/hall"
	ui "hallq/ui/kiosk"
)

// Bridge is the screens' Model.
type Bridge struct {
	flow *app.Flow
	core *app.Core
	exit func()
}

// New joins flow and core to the screens; exit quits the kiosk (from the
// staff service screen).
func New(flow *app.Flow, core *app.Core, exit func()) *Bridge {
	return &Bridge{flow: flow, core: core, exit: exit}
}

// Services lists the service tiles.
func (b *Bridge) Services() []ui.ServiceTile {
	tiles := Tiles(b.flow.Services())
	for i := range tiles {
		tiles[i].Checklist = Checklists(b.core.Checklist(tiles[i].Code))
	}
	return tiles
}

// Rate sends the 好差评 the notice screen asked for.
func (b *Bridge) Rate(score int, indicators []string) { b.flow.Rate(score, indicators) }

// Checklists turns matters into the screens' checklists.
func Checklists(ms []catalog.Matter) []ui.Checklist {
	var out []ui.Checklist
	for _, m := range ms {
		c := ui.Checklist{NameZH: m.Name.ZH, NameEN: m.Name.EN}
		for _, mat := range m.Materials {
			c.Items = append(c.Items, ui.ChecklistItem{ZH: mat.Name.ZH, EN: mat.Name.EN, Original: mat.Original, Copies: mat.Copies})
		}
		out = append(out, c)
	}
	return out
}

// SelectService starts a ticket for a service.
func (b *Bridge) SelectService(code string) { b.flow.SelectService(code) }

// StartBooking starts a check-in.
func (b *Bridge) StartBooking() { b.flow.StartBooking() }

// CallHelper: the citizen asks for a floor helper (帮办).
func (b *Bridge) CallHelper() { b.flow.CallHelper() }

// TakeWalkIn: back to the tiles, to take an ordinary ticket.
func (b *Bridge) TakeWalkIn() { b.flow.Home() }

// Retry repeats the failed step.
func (b *Bridge) Retry() { b.flow.Retry() }

// Done: the citizen has the ticket; the next visitor starts fresh.
func (b *Bridge) Done() { b.flow.Done() }

// Cancel: back home.
func (b *Bridge) Cancel() { b.flow.Home() }

// SetLanguage: the screens keep the language (tickets print in both); the
// flow learns that the visitor changed it, to reset it when they leave.
func (b *Bridge) SetLanguage(l ui.Language) { b.flow.SetLanguage(language(l)) }

// Continue answers "still there?".
func (b *Bridge) Continue() { b.flow.Continue() }

// Reprint prints a held ticket again.
func (b *Bridge) Reprint(id string) { b.flow.Reprint(id) }

// SetElderly lengthens the timeouts.
func (b *Bridge) SetElderly(on bool) { b.flow.SetElderly(on) }

// Touched restarts the idle timer.
func (b *Bridge) Touched() { b.flow.Touched() }

// CheckPIN opens the service screen for the admin PIN.
func (b *Bridge) CheckPIN(pin string) bool { return b.flow.CheckPIN(pin) }

// ExitKiosk quits.
func (b *Bridge) ExitKiosk() {
	if b.exit != nil {
		b.exit()
	}
}

// Tiles turns service figures into home-screen tiles.
func Tiles(svcs []hall.ServiceView) []ui.ServiceTile {
	out := make([]ui.ServiceTile, 0, len(svcs))
	for _, s := range svcs {
		t := ui.ServiceTile{Code: s.Code, NameZH: s.Name.ZH, NameEN: s.Name.EN, Waiting: s.Waiting,
			EstimatedWait: seconds(s.EstimatedWaitS), RequiresID: s.RequiresID, Open: s.Issuing}
		switch s.NotIssuing {
		case "":
		case "issuing_stopped":
			t.ClosedReason = ui.IssuingStopped
		case "quota":
			t.ClosedReason = ui.QuotaExceeded
		case app.NotIssuingUnavailable:
			t.ClosedReason = ui.TicketsUnavailable
		case string(hall.ReasonBookingOnly):
			t.ClosedReason = ui.BookingOnly
		case string(hall.ReasonHoliday):
			t.ClosedReason = ui.Holiday
		case string(hall.ReasonClosure):
			t.ClosedReason = ui.Closure
			if s.Closure != nil {
				t.ClosureZH, t.ClosureEN = s.Closure.ZH, s.Closure.EN
			}
		default:
			t.ClosedReason = ui.Closed
		}
		out = append(out, t)
	}
	return out
}

// screens names each flow screen's counterpart among the screens.
var screens = map[app.Screen]ui.Screen{
	app.ScreenHome: ui.ScreenHome, app.ScreenInsertCard: ui.ScreenInsertCard, app.ScreenBooking: ui.ScreenBooking,
	app.ScreenWorking: ui.ScreenWorking, app.ScreenTicket: ui.ScreenTicket, app.ScreenRefusal: ui.ScreenRefusal,
	app.ScreenService: ui.ScreenService, app.ScreenNotice: ui.ScreenNotice,
}

// View turns a flow view into a screen view.
func View(v app.View) ui.View {
	out := ui.View{HallName: v.HallName.ZH, HallNameEN: v.HallName.EN, NewVisitor: v.NewVisitor, ScreenOnly: v.ScreenOnly,
		Refusal: ui.Reason(v.Refusal), Language: uiLanguage(v.Language), Elderly: v.Elderly, Offline: !v.Online,
		Busy: v.Busy, StillThere: v.StillThere, TakeCard: v.TakeCard, CardReady: v.CardReady,
		SlotStart: v.SlotStart, CheckInFrom: v.CheckInFrom, CheckInUntil: v.CheckInUntil}
	if v.Service != nil {
		out.ServiceZH, out.ServiceEN = v.Service.Name.ZH, v.Service.Name.EN
	}
	out.Screen = screens[v.Screen]
	if v.Screen == app.ScreenService {
		h := v.Health
		out.Status = ui.Status{ReaderPresent: h.Reader == "ok", PrinterPresent: h.Printer != "absent",
			PaperOut: h.Printer == "paper_out", PaperLow: h.Printer == "paper_low", CoverOpen: h.Printer == "cover_open",
			ScannerPresent: h.Scanner == "ok", ServerConnected: h.Online, LeasesLeft: h.LeasesLeft,
			PendingOffline: h.PendingOffline, SetAsideOffline: h.SetAsideOffline, Version: h.Version}
	}
	if t := v.Ticket; t != nil {
		out.Ticket = ui.Ticket{Number: t.Number, Ahead: t.Ahead, EstimatedWait: t.EstimatedWait, StatusURL: t.StatusURL,
			MaskedID: t.MaskedID, Printed: v.Printed, Offline: t.Offline, Booking: t.Booking,
			SlotStart: t.SlotStart, Priority: t.Priority, Reprint: v.Reprint}
	}
	out.HelperCalled, out.HelperFailed = v.Helper == app.HelperCalled, v.Helper == app.HelperFailed
	if c := v.Closure; c != nil {
		out.ClosureZH, out.ClosureEN = c.ZH, c.EN
	}
	out.Checklist = Checklists(v.Checklist)
	if n := v.Notice; n != nil {
		out.Notice = ui.Notice{Number: n.Ticket, Printed: v.Printed}
		for _, m := range n.Matters {
			c := ui.Checklist{NameZH: m.Name.ZH, NameEN: m.Name.EN}
			for _, x := range m.Missing {
				c.Items = append(c.Items, ui.ChecklistItem{ZH: x.ZH, EN: x.EN})
			}
			out.Notice.Matters = append(out.Notice.Matters, c)
		}
	}
	if r := v.Rate; r != nil {
		ask := &ui.RateAsk{NameZH: r.Name.ZH, NameEN: r.Name.EN, Options: map[int][]ui.RateOption{}}
		for score, opts := range r.Options {
			for _, o := range opts {
				ask.Options[score] = append(ask.Options[score], ui.RateOption{Indicator: string(o.Indicator), ZH: o.Label.ZH, EN: o.Label.EN})
			}
		}
		out.Rate = ask
	}
	out.Rated = v.Rated
	for _, t := range v.Held {
		out.Held = append(out.Held, ui.HeldTicket{ID: t.ID, Number: t.Number})
	}
	if h := v.Hours; h != nil {
		out.Hours = &ui.Hours{Open: h.Open, LunchStart: h.LunchStart, LunchEnd: h.LunchEnd, Close: h.Close, IssueUntil: issueUntil(*h)}
	}
	return out
}

// issueUntil is when issuing stops: the close less stop_before.
func issueUntil(h hall.Hours) string {
	t, err := time.Parse("15:04", h.Close)
	if h.Close == "24:00" {
		t, err = time.Date(0, 1, 2, 0, 0, 0, 0, time.UTC), nil
	}
	if err != nil {
		return h.Close
	}
	return t.Add(-h.StopBefore.D()).Format("15:04")
}

// The kiosk's configured languages and the screens' languages.
func uiLanguage(l string) ui.Language {
	if l == "en" {
		return ui.English
	}
	return ui.Chinese
}

func language(l ui.Language) string {
	if l == ui.English {
		return "en"
	}
	return "zh"
}
