package kiosk

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
)

// Service tiles per home page: all of a hall's usual services in normal
// mode, fewer and larger in the large-text mode.
const (
	tilesPerPage        = 8
	tilesPerPageElderly = 3
)

// action is a button a refusal offers.
type action int

const (
	actRetry action = iota
	actWalkIn
	actHome
	actCheckIn // 预约签到: the booking-only hours of a service
)

// reasonActions lists, for every refusal, the buttons that make sense.
var reasonActions = map[Reason][]action{
	QuotaExceeded:        {actHome},
	CitizenLimit:         {actHome},
	Closed:               {actHome},
	IssuingStopped:       {actHome},
	CardExpired:          {actHome},
	CardUnreadable:       {actRetry, actHome},
	Blacklisted:          {actHome},
	NotFound:             {actRetry, actWalkIn, actHome},
	OutsideCheckinWindow: {actWalkIn, actHome},
	TicketsUnavailable:   {actHome},
	AlreadyCheckedIn:     {actHome},
	DeviceError:          {actRetry, actHome},
	BookingOnly:          {actCheckIn, actHome},
	Closure:              {actHome},
	Holiday:              {actHome},
}

func (u *UI) name(zh, en string) string {
	if u.lang == English && en != "" {
		return en
	}
	return zh
}

func (u *UI) home() fyne.CanvasObject {
	services := u.model.Services()
	per := tilesPerPage
	if u.elderly {
		per = tilesPerPageElderly
		if len(services) > per && u.fitsOnePage(services) {
			per = len(services)
		}
	}
	pages := max(1, (len(services)+per-1)/per)
	u.page = min(u.page, pages-1)
	shown := services[u.page*per : min(len(services), (u.page+1)*per)]

	tiles := make([]fyne.CanvasObject, len(shown))
	for i, s := range shown {
		tiles[i] = u.serviceTile(s)
	}
	sc := u.theme().scale()
	grid := container.New(tileGrid{minWidth: 440 * sc, maxHeight: 400 * sc, gap: gap}, tiles...)

	top := container.NewVBox(u.title("home_title"))
	if b := u.helperBanner(); b != nil {
		top.Add(b)
	}
	if zh, en := closureOf(services); zh != "" {
		top.Add(newTile(styleWarn, u.touch(), nil, u.words(u.t("closure_banner", "Reason", u.name(zh, en)), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)))
	}
	for _, b := range u.homeBanners() {
		top.Add(newTile(styleWarn, u.touch(), nil, u.words(u.t(b), onLight, theme.SizeNameText, fyne.TextAlignCenter)))
	}
	top.Add(layout.NewSpacer())

	appt := newTile(styleBooking, fyne.NewSize(0, 150*sc), u.model.StartBooking, container.NewVBox(
		u.words(u.t("booking_title"), onDark, sizeNameTileTitle, fyne.TextAlignCenter),
		u.words(u.t("booking_hint"), onDarkSoft, theme.SizeNameText, fyne.TextAlignCenter),
	))
	bottom := container.NewVBox()
	if pages > 1 {
		prev := u.button(u.t("page_prev"), styleSecondary, func() { u.turn(-1) })
		next := u.button(u.t("page_next"), styleSecondary, func() { u.turn(+1) })
		at := u.text(u.t("page", "Page", u.page+1, "Pages", pages), onLight, theme.SizeNameText, fyne.TextAlignCenter)
		bottom.Add(container.NewGridWithColumns(3, prev, container.NewCenter(at), next))
	}
	bottom.Add(u.helperButton())
	if hasChecklist(services) {
		bottom.Add(newTile(styleCard, u.touch(), u.openGuide, u.words(u.t("guide_tile"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)))
	}
	bottom.Add(appt)
	return container.NewBorder(top, bottom, nil, nil, grid)
}

// helperButton calls a floor helper (帮办); once staff were told it says so
// instead of offering it again.
func (u *UI) helperButton() fyne.CanvasObject {
	if u.view.HelperCalled {
		return u.button(u.t("helper_again"), styleSecondary, u.model.CallHelper)
	}
	return u.button(u.t("helper_call"), styleSecondary, u.model.CallHelper)
}

// helperBanner says what became of a helper call, or is nil.
func (u *UI) helperBanner() fyne.CanvasObject {
	key := ""
	switch {
	case u.view.HelperCalled:
		key = "helper_called"
	case u.view.HelperFailed:
		key = "helper_failed"
	default:
		return nil
	}
	return newTile(styleWarn, u.touch(), nil, u.words(u.t(key), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
}

// closureOf is the reason of the hall's special closure today, from the
// first tile closed by it.
func closureOf(tiles []ServiceTile) (zh, en string) {
	for _, t := range tiles {
		if t.ClosedReason == Closure && t.ClosureZH != "" {
			return t.ClosureZH, t.ClosureEN
		}
	}
	return "", ""
}

func hasChecklist(services []ServiceTile) bool {
	for _, s := range services {
		if len(s.Checklist) > 0 {
			return true
		}
	}
	return false
}

func (u *UI) openGuide() {
	u.guide = true
	u.render()
	u.model.Touched()
}

// guideScreen is the hall's 办事指南 for every service: what to bring for
// each matter. It reads as the citizen scrolls; 返回 goes back to the tiles.
func (u *UI) guideScreen() (fyne.CanvasObject, []fyne.CanvasObject) {
	list := container.New(layout.NewCustomPaddedVBoxLayout(gap), u.title("guide_title"))
	open, shut, sep, colon := "（", "）", "、", "："
	if u.lang == English {
		open, shut, sep, colon = " (", ")", ", ", ": "
	}
	for _, s := range u.model.Services() {
		if len(s.Checklist) == 0 {
			continue
		}
		box := container.NewVBox(u.words(s.Code+" "+u.name(s.NameZH, s.NameEN), onLight, theme.SizeNameHeadingText, fyne.TextAlignLeading))
		for _, c := range s.Checklist {
			items := make([]string, 0, len(c.Items))
			for _, it := range c.Items {
				x := u.name(it.ZH, it.EN)
				switch {
				case it.Original:
					x += open + u.t("bring_original") + shut
				case it.Copies > 0:
					x += open + u.t("bring_copies", "N", it.Copies) + shut
				}
				items = append(items, x)
			}
			box.Add(u.words(u.name(c.NameZH, c.NameEN)+colon+strings.Join(items, sep), onLight, theme.SizeNameText, fyne.TextAlignLeading))
		}
		list.Add(newTile(styleCard, u.touch(), nil, box))
	}
	back := u.button(u.t("guide_back"), stylePrimary, func() {
		u.guide = false
		u.render()
		u.model.Touched()
	})
	return container.NewVScroll(list), []fyne.CanvasObject{back}
}

// homeBanners are the warnings above the tiles, most urgent first.
func (u *UI) homeBanners() []string {
	var out []string
	if u.view.TakeCard {
		out = append(out, "take_card_banner")
	}
	if u.view.CardReady {
		out = append(out, "card_ready_banner")
	}
	if u.view.Offline {
		out = append(out, "offline_banner")
	}
	if u.view.ScreenOnly {
		out = append(out, "screen_only_banner")
	}
	return out
}

// fitsOnePage tells whether, in large text, every tile fits one page: the
// tiles at their natural height in the columns the width allows, under
// the header, title and banners and above the booking tile.
func (u *UI) fitsOnePage(services []ServiceTile) bool {
	size := u.win.Canvas().Size()
	if size.Height <= 0 {
		return false
	}
	sc := u.theme().scale()
	cols := tileGrid{minWidth: 440 * sc, gap: gap}.columns(size.Width-80, len(services))
	rows := (len(services) + cols - 1) / cols
	var tileH float32
	for _, s := range services {
		tileH = max(tileH, u.serviceTile(s).MinSize().Height)
	}
	fixed := u.header().MinSize().Height + 32 + 24 + u.title("home_title").MinSize().Height + 150*sc + 2*gap
	for range u.homeBanners() {
		fixed += u.touch().Height + gap
	}
	return fixed+float32(rows)*tileH+float32(rows-1)*gap <= size.Height
}

func (u *UI) turn(by int) {
	u.page += by
	u.page = max(0, u.page)
	u.render()
	u.model.Touched()
}

func (u *UI) serviceTile(s ServiceTile) fyne.CanvasObject {
	st, onTap := stylePrimary, func() { u.model.SelectService(s.Code) }
	var status string
	switch {
	case !s.Open && s.ClosedReason == BookingOnly: // tappable: the app says why and offers check-in
		status = u.t("tile_closed_booking_only")
	case !s.Open:
		st, onTap = styleClosed, nil
		status = u.t("tile_closed")
		if k := "tile_closed_" + string(s.ClosedReason); catalog[u.lang][k] != "" {
			status = u.t(k)
		}
	case s.EstimatedWait >= 0:
		status = u.t("tile_waiting", "N", s.Waiting) + " · " + u.t("tile_wait", "Min", minutes(s.EstimatedWait))
	default:
		status = u.t("tile_waiting", "N", s.Waiting)
	}
	idKey := "tile_no_id"
	if s.RequiresID {
		idKey = "tile_needs_id"
	}
	other := s.NameEN
	if u.lang == English {
		other = s.NameZH
	}

	sc := u.theme().scale()
	badgeBg := canvas.NewRectangle(u.color(st.text))
	badgeBg.CornerRadius = 12
	letter := u.text(s.Code, st.text, theme.SizeNameHeadingText, fyne.TextAlignCenter)
	letter.Color = st.fill // the badge inverts the tile's colours
	badge := container.NewStack(badgeBg, container.NewCenter(letter))
	badgeBox := container.NewVBox(container.NewGridWrap(fyne.NewSquareSize(76*sc), badge))

	lines := container.NewVBox(
		u.words(u.name(s.NameZH, s.NameEN), st.text, sizeNameTileTitle, fyne.TextAlignLeading),
		u.words(other, st.soft, theme.SizeNameCaptionText, fyne.TextAlignLeading),
		u.words(status, st.text, theme.SizeNameText, fyne.TextAlignLeading),
		u.words(u.t(idKey), st.soft, theme.SizeNameCaptionText, fyne.TextAlignLeading),
	)
	return newTile(st, fyne.NewSize(0, 200*sc), onTap, container.NewBorder(nil, nil, badgeBox, nil, middle(lines)))
}

func (u *UI) chosenService() fyne.CanvasObject {
	return u.words(u.t("chosen_service", "Name", u.name(u.view.ServiceZH, u.view.ServiceEN)),
		theme.ColorNamePrimary, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)
}

func (u *UI) cancelButton() fyne.CanvasObject {
	return u.button(u.t("cancel"), styleSecondary, u.model.Cancel)
}

func (u *UI) insertCard() (fyne.CanvasObject, []fyne.CanvasObject) {
	return middle(
		u.title("insert_title"),
		u.chosenService(),
		cardOnReader(),
		u.words(u.t("insert_hint"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter),
	), []fyne.CanvasObject{u.cancelButton()}
}

func (u *UI) booking() (fyne.CanvasObject, []fyne.CanvasObject) {
	return middle(
		u.title("appt_title"),
		cardOrCode(u.t("or_between")),
		u.words(u.t("appt_hint"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter),
	), []fyne.CanvasObject{u.cancelButton()}
}

func (u *UI) working() fyne.CanvasObject {
	hint := u.words(u.t("working_hint"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)
	if u.view.Busy { // the citizen tapped: answer, in a box that stands out
		hint = u.words(u.t("working_busy"), onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter)
	}
	return middle(
		printing(),
		u.title("working_title"),
		u.chosenService(),
		hint,
	)
}

// stillThere asks, after a while without a touch, whether the citizen is
// still there: one big Continue, and the way back to the start.
func (u *UI) stillThere() (fyne.CanvasObject, []fyne.CanvasObject) {
	sc := u.theme().scale()
	cont := newTile(stylePrimary, fyne.NewSize(0, 220*sc), u.model.Continue,
		container.NewCenter(u.text(u.t("continue"), stylePrimary.text, theme.SizeNameHeadingText, fyne.TextAlignCenter)))
	return middle(
			notice(colWarn, "?"),
			u.title("still_there_title"),
			u.words(u.t("still_there_hint"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter),
			cont,
		), []fyne.CanvasObject{
			u.button(u.t("back_home"), styleSecondary, u.model.Cancel),
		}
}

// fact is a small card: what (small) and how much (large).
func (u *UI) fact(label, value string) fyne.CanvasObject {
	return newTile(styleCard, u.touch(), nil, container.NewVBox(
		u.text(label, colorNameMuted, theme.SizeNameText, fyne.TextAlignCenter),
		u.text(value, onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter),
	))
}

func (u *UI) ticket() (fyne.CanvasObject, []fyne.CanvasObject) {
	tk := u.view.Ticket
	card := container.NewVBox()
	mark := func(key string, kv ...any) {
		card.Add(container.NewCenter(newTile(styleBooking, u.touch(), nil,
			u.text(u.t(key, kv...), onDark, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))))
	}
	switch {
	case tk.Booking && !tk.SlotStart.IsZero():
		mark("ticket_booking_slot", "Slot", tk.SlotStart.Format("15:04"))
	case tk.Booking:
		mark("ticket_booking")
	case tk.Priority:
		mark("ticket_priority")
	}
	if tk.Reprint {
		card.Add(u.text(u.t("ticket_reprint"), colorNameMuted, theme.SizeNameText, fyne.TextAlignCenter))
	}
	card.Add(u.text(u.t("ticket_your_number"), colorNameMuted, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
	card.Add(u.text(tk.Number, theme.ColorNamePrimary, sizeNameNumber, fyne.TextAlignCenter))
	card.Add(u.words(u.name(u.view.ServiceZH, u.view.ServiceEN), onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter))
	top := container.New(layout.NewCustomPaddedVBoxLayout(gap), newTile(styleCard, u.touch(), nil, card))

	ahead := u.t("ticket_ahead_none")
	switch {
	case tk.Offline || tk.Ahead < 0:
		ahead = u.t("ticket_ahead_unknown")
	case tk.Ahead == 1:
		ahead = u.t("ticket_ahead_one", "N", 1)
	case tk.Ahead > 1:
		ahead = u.t("ticket_ahead_many", "N", tk.Ahead)
	}
	wait := u.t("ticket_wait_unknown")
	if tk.EstimatedWait >= 0 {
		wait = u.t("ticket_wait", "Min", minutes(tk.EstimatedWait))
	}
	top.Add(container.New(layout.NewGridLayoutWithColumns(2),
		u.fact(u.t("ticket_ahead_label"), ahead),
		u.fact(u.t("ticket_wait_label"), wait)))

	if u.view.TakeCard {
		top.Add(newTile(styleWarn, u.touch(), nil,
			u.words(u.t("take_card"), onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter)))
	}
	if tk.Printed {
		top.Add(u.words(u.t("ticket_take"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
	} else {
		why := "ticket_not_printed"
		if u.view.ScreenOnly {
			why = "ticket_screen_only"
		}
		top.Add(newTile(styleWarn, u.touch(), nil, container.NewVBox(
			u.words(u.t(why), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter),
			u.words(u.t("ticket_photograph"), onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter),
		)))
	}

	if list := u.checklist(); list != nil {
		top.Add(list)
	}

	about := container.NewVBox(layout.NewSpacer())
	if tk.StatusURL != "" {
		about.Add(u.words(u.t("ticket_scan"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignLeading))
	}
	if tk.MaskedID != "" {
		about.Add(u.words(u.t("ticket_id", "ID", tk.MaskedID), colorNameMuted, theme.SizeNameText, fyne.TextAlignLeading))
	}
	if tk.Offline {
		about.Add(u.words(u.t("ticket_offline"), colorNameMuted, theme.SizeNameText, fyne.TextAlignLeading))
	}
	about.Add(layout.NewSpacer())
	var qr fyne.CanvasObject = layout.NewSpacer()
	if tk.StatusURL != "" {
		qr = qrImage(tk.StatusURL, 280)
	}
	top.Add(container.NewBorder(nil, nil, qr, nil, about))
	return middle(top), []fyne.CanvasObject{u.button(u.t("done"), stylePrimary, u.model.Done)}
}

// checklist is what to bring for the ticket's service (办事指南), on the
// ticket screen: no tap more on the way to the ticket. Nil when the hall
// has no matters for the service.
func (u *UI) checklist() fyne.CanvasObject {
	if len(u.view.Checklist) == 0 {
		return nil
	}
	box := container.NewVBox(u.words(u.t("ticket_bring"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignLeading))
	open, shut, sep, colon := "（", "）", "、", "："
	if u.lang == English {
		open, shut, sep, colon = " (", ")", ", ", ": "
	}
	for _, c := range u.view.Checklist {
		items := make([]string, 0, len(c.Items))
		for _, it := range c.Items {
			s := u.name(it.ZH, it.EN)
			switch {
			case it.Original:
				s += open + u.t("bring_original") + shut
			case it.Copies > 0:
				s += open + u.t("bring_copies", "N", it.Copies) + shut
			}
			items = append(items, s)
		}
		box.Add(u.words(u.name(c.NameZH, c.NameEN)+colon+strings.Join(items, sep), onLight, theme.SizeNameText, fyne.TextAlignLeading))
	}
	return newTile(styleCard, u.touch(), nil, box)
}

// noticeScreen shows a scanned ticket's one-time notice (一次性告知单): what
// is still missing for each matter, and whether it was printed.
func (u *UI) noticeScreen() (fyne.CanvasObject, []fyne.CanvasObject) {
	n := u.view.Notice
	box := container.New(layout.NewCustomPaddedVBoxLayout(gap), u.title("notice_title"))
	done := []fyne.CanvasObject{u.button(u.t("done"), stylePrimary, u.model.Done)}
	if len(n.Matters) == 0 {
		if u.view.Rate == nil && !u.view.Rated {
			box.Add(u.words(u.t("notice_none"), onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter))
		}
		u.addRating(box)
		return u.noticeBody(box), done
	}
	box.Add(u.text(u.t("notice_number", "Number", n.Number), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
	list := container.NewVBox(u.words(u.t("notice_missing"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignLeading))
	sep, colon := "、", "："
	if u.lang == English {
		sep, colon = ", ", ": "
	}
	for _, m := range n.Matters {
		items := make([]string, len(m.Items))
		for i, it := range m.Items {
			items[i] = u.name(it.ZH, it.EN)
		}
		list.Add(u.words(u.name(m.NameZH, m.NameEN)+colon+strings.Join(items, sep), onLight, theme.SizeNameText, fyne.TextAlignLeading))
	}
	box.Add(newTile(styleCard, u.touch(), nil, list))
	if n.Printed {
		box.Add(u.words(u.t("notice_printed"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
	} else {
		box.Add(newTile(styleWarn, u.touch(), nil, u.words(u.t("notice_not_printed"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)))
	}
	u.addRating(box)
	return u.noticeBody(box), done
}

// noticeBody centres the notice; with a rating on offer it scrolls, as
// large text makes the levels and their options taller than the screen.
func (u *UI) noticeBody(box fyne.CanvasObject) fyne.CanvasObject {
	if u.view.Rate != nil {
		return container.NewVScroll(box)
	}
	return middle(box)
}

// rateLevels are the five levels of 政务服务"好差评", best first.
var rateLevels = []struct {
	score  int
	zh, en string
}{{5, "非常满意", "Very satisfied"}, {4, "满意", "Satisfied"}, {3, "基本满意", "Basically satisfied"}, {2, "不满意", "Dissatisfied"}, {1, "非常不满意", "Very dissatisfied"}}

// addRating adds the 好差评 the screen offers: the five levels, then the
// options of the level chosen (a poor one needs one) and 提交.
func (u *UI) addRating(box *fyne.Container) {
	if u.view.Rated && u.view.Rate == nil {
		box.Add(u.words(u.t("rate_thanks"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
	}
	ask := u.view.Rate
	if ask == nil {
		return
	}
	what := u.t("rate_visit")
	if ask.NameZH != "" {
		what = u.name(ask.NameZH, ask.NameEN)
	}
	box.Add(u.words(u.t("rate_ask", "What", what), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
	levels := container.NewGridWithColumns(2)
	if u.elderly {
		levels = container.NewGridWithColumns(1)
	}
	for _, l := range rateLevels {
		st := styleSecondary
		if u.rating != nil && u.rating.score == l.score {
			st = stylePrimary
		}
		levels.Add(u.button(u.name(l.zh, l.en), st, func() {
			u.rating = &rating{score: l.score}
			u.render()
			u.model.Touched()
		}))
	}
	box.Add(levels)
	if u.rating == nil {
		return
	}
	r := u.rating
	opts := container.NewGridWithColumns(2)
	if u.elderly {
		opts = container.NewGridWithColumns(1)
	}
	for _, o := range ask.Options[r.score] {
		st := styleSecondary
		if slices.Contains(r.chosen, o.Indicator) {
			st = stylePrimary
		}
		opts.Add(u.button(u.name(o.ZH, o.EN), st, func() {
			if i := slices.Index(r.chosen, o.Indicator); i >= 0 {
				r.chosen = slices.Delete(r.chosen, i, i+1)
			} else {
				r.chosen = append(r.chosen, o.Indicator)
			}
			u.render()
			u.model.Touched()
		}))
	}
	key := "rate_good"
	if r.score <= 2 {
		key = "rate_poor"
	}
	box.Add(u.words(u.t(key), onLight, theme.SizeNameText, fyne.TextAlignCenter))
	box.Add(opts)
	if r.score <= 2 && len(r.chosen) == 0 { // a poor rating needs its reason: no send yet
		box.Add(u.button(u.t("rate_send"), styleSecondary, nil))
		return
	}
	box.Add(u.button(u.t("rate_send"), stylePrimary, func() {
		u.model.Rate(r.score, slices.Clone(r.chosen))
	}))
}

func (u *UI) refusal() (fyne.CanvasObject, []fyne.CanvasObject) {
	why := u.view.Refusal
	acts, known := reasonActions[why]
	if !known {
		why, acts = DeviceError, reasonActions[DeviceError]
	}
	var buttons []fyne.CanvasObject
	for _, h := range u.view.Held { // the tickets already held: print them again
		buttons = append(buttons, u.button(u.t("reprint", "Number", h.Number), stylePrimary, func() { u.model.Reprint(h.ID) }))
	}
	for _, a := range acts {
		switch a {
		case actRetry:
			buttons = append(buttons, u.button(u.t("try_again"), stylePrimary, u.model.Retry))
		case actWalkIn:
			buttons = append(buttons, u.button(u.t("walk_in"), stylePrimary, u.model.TakeWalkIn))
		case actHome:
			buttons = append(buttons, u.button(u.t("back_home"), styleSecondary, u.model.Cancel))
		case actCheckIn:
			buttons = append(buttons, u.button(u.t("check_in_booking"), stylePrimary, u.model.StartBooking))
		}
	}
	body := []fyne.CanvasObject{
		notice(colWarn, "!"),
		u.title("refusal_title"),
		u.words(u.t("reason_"+string(why)), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter),
	}
	for _, d := range u.refusalDetails() {
		body = append(body, u.words(d, theme.ColorNamePrimary, theme.SizeNameSubHeadingText, fyne.TextAlignCenter))
	}
	if u.view.TakeCard {
		body = append(body, newTile(styleWarn, u.touch(), nil,
			u.words(u.t("take_card"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)))
	}
	if b := u.helperBanner(); b != nil {
		body = append(body, b)
	}
	buttons = append(buttons, u.helperButton())
	return middle(body...), buttons
}

// refusalDetails are the lines under a refusal's reason: the slot and
// when check-in opens, today's hours, the tickets held.
func (u *UI) refusalDetails() []string {
	v := u.view
	var out []string
	if v.ClosureZH != "" {
		out = append(out, u.t("detail_closure", "Reason", u.name(v.ClosureZH, v.ClosureEN)))
	}
	if !v.SlotStart.IsZero() {
		out = append(out, u.t("detail_slot", "Slot", v.SlotStart.Format("15:04"),
			"From", v.CheckInFrom.Format("15:04"), "Until", v.CheckInUntil.Format("15:04")))
	}
	if h := v.Hours; h != nil {
		key := "detail_hours"
		if h.LunchStart != "" {
			key = "detail_hours_lunch"
		}
		out = append(out, u.t(key, "Open", h.Open, "LunchStart", h.LunchStart, "LunchEnd", h.LunchEnd, "Close", h.Close, "Until", h.IssueUntil))
	}
	if len(v.Held) > 0 {
		numbers := make([]string, len(v.Held))
		for i, h := range v.Held {
			numbers[i] = h.Number
		}
		out = append(out, u.t("detail_held", "Numbers", strings.Join(numbers, "、")))
	}
	return out
}

func (u *UI) outOfService() fyne.CanvasObject {
	return middle(
		notice(colClosed, "!"),
		u.title("oos_title"),
		u.words(u.t("oos_hint"), onLight, theme.SizeNameSubHeadingText, fyne.TextAlignCenter),
	)
}

func (u *UI) pinScreen() (fyne.CanvasObject, []fyne.CanvasObject) {
	shown := strings.Repeat("•", len(u.pin.digits))
	if shown == "" {
		shown = "—"
	}
	status := u.words("", onLight, theme.SizeNameText, fyne.TextAlignCenter)
	if u.pin.wrong {
		status = u.words(u.t("pin_wrong"), theme.ColorNameError, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)
	}
	key := func(label string, st style, onTap func()) fyne.CanvasObject {
		t := u.text(label, st.text, theme.SizeNameHeadingText, fyne.TextAlignCenter)
		return newTile(st, fyne.NewSize(180, 120).Max(u.touch()), onTap, container.NewCenter(t))
	}
	var keys []fyne.CanvasObject
	for _, d := range "123456789" {
		keys = append(keys, key(string(d), styleSecondary, func() { u.typePIN(d) }))
	}
	keys = append(keys,
		key(u.t("pin_clear"), styleSecondary, u.clearPIN),
		key("0", styleSecondary, func() { u.typePIN('0') }),
		key(u.t("pin_ok"), stylePrimary, u.submitPIN))
	return middle(
		u.title("pin_title"),
		u.text(shown, onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter),
		status,
		container.NewCenter(container.NewGridWithColumns(3, keys...)),
	), []fyne.CanvasObject{u.button(u.t("back"), styleSecondary, u.closePIN)}
}

func (u *UI) typePIN(d rune) {
	if len(u.pin.digits) < maxPIN {
		u.pin.digits += string(d)
	}
	u.pin.wrong = false
	u.render()
	u.model.Touched()
}

func (u *UI) clearPIN() {
	u.pin.digits, u.pin.wrong = "", false
	u.render()
	u.model.Touched()
}

func (u *UI) closePIN() {
	u.pin = nil
	u.render()
	u.model.Touched()
}

// submitPIN asks the model; on success the app shows ScreenService.
func (u *UI) submitPIN() {
	ok := u.model.CheckPIN(u.pin.digits)
	switch {
	case u.pin == nil: // the app already showed another screen
	case ok:
		u.pin = nil
	default:
		u.pin.digits, u.pin.wrong = "", true
	}
	u.render()
}

func (u *UI) serviceScreen() (fyne.CanvasObject, []fyne.CanvasObject) {
	s := u.view.Status
	state := func(ok bool, okKey, badKey string) (string, bool) {
		if ok {
			return u.t(okKey), true
		}
		return u.t(badKey), false
	}
	printer, printerOK := u.t("state_ok"), true
	if !s.PrinterPresent {
		printer, printerOK = u.t("state_missing"), false
	} else {
		var faults []string
		for _, f := range []struct {
			on  bool
			key string
		}{{s.PaperOut, "state_paper_out"}, {s.CoverOpen, "state_cover_open"}, {s.PaperLow, "state_paper_low"}} {
			if f.on {
				faults = append(faults, u.t(f.key))
			}
		}
		if len(faults) > 0 {
			printer, printerOK = strings.Join(faults, " · "), false
		}
	}
	reader, readerOK := state(s.ReaderPresent, "state_ok", "state_missing")
	scanner, scannerOK := state(s.ScannerPresent, "state_ok", "state_missing")
	server, serverOK := state(s.ServerConnected, "state_connected", "state_offline")

	form := container.New(layout.NewFormLayout())
	row := func(labelKey, value string, ok bool) {
		c := theme.ColorNameSuccess
		if !ok {
			c = theme.ColorNameError
		}
		form.Add(u.text(u.t(labelKey), colorNameMuted, theme.SizeNameSubHeadingText, fyne.TextAlignLeading))
		form.Add(u.text(value, c, theme.SizeNameSubHeadingText, fyne.TextAlignLeading))
	}
	row("status_reader", reader, readerOK)
	row("status_printer", printer, printerOK)
	row("status_scanner", scanner, scannerOK)
	row("status_server", server, serverOK)
	row("status_leases", fmt.Sprint(s.LeasesLeft), s.LeasesLeft > 0)
	row("status_pending", fmt.Sprint(s.PendingOffline), true)
	if s.SetAsideOffline > 0 {
		row("status_set_aside", fmt.Sprint(s.SetAsideOffline), false)
	}
	form.Add(u.text(u.t("status_version"), colorNameMuted, theme.SizeNameSubHeadingText, fyne.TextAlignLeading))
	form.Add(u.text(s.Version, onLight, theme.SizeNameSubHeadingText, fyne.TextAlignLeading))

	return container.NewVBox(
			u.title("service_title"),
			newTile(styleCard, u.touch(), nil, form),
		), []fyne.CanvasObject{
			u.button(u.t("exit_kiosk"), styleDanger, u.model.ExitKiosk),
			u.button(u.t("back"), styleSecondary, u.model.Cancel),
		}
}
