package portal_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/internal/browsertest"
	"hallq/queue-server/hall"
)

// bkCombos are the languages and viewports every flow runs in.
var bkCombos = []struct{ lang, viewport string }{{"zh", "phone"}, {"en", "desktop"}, {"en", "phone"}, {"zh", "desktop"}}

func pick(lang, zh, en string) string {
	if lang == "zh" {
		return zh
	}
	return en
}

// TestBookAMatter is the booking flow as a citizen goes through it, in
// Chinese and English on a phone and a desktop: the home page's search,
// the guide (printable), the hall choice with live waits and the least
// busy hall recommended by the stated rule, a day and a time, sign-in on
// the stand-in provider's page (back to the same step with the same
// choices), confirm → the booking exists at the central with that slot,
// and the confirmation's QR code reads as the booking id the kiosk scans.
func TestBookAMatter(t *testing.T) {
	w := mustBookWorld(t)
	w.waiting("h1", "B", 1) // 武昌: one waiting for B
	w.waiting("h2", "B", 4) // 洪山: four
	w.waiting("h3", "B", 2) // 江汉: two
	b := mustBkBrowser(t)
	for i, c := range bkCombos {
		t.Run(c.lang+"-"+c.viewport, func(t *testing.T) {
			citizen := 10 + i
			tb := b.tab(t, c.lang, c.viewport)
			L := func(zh, en string) string { return pick(c.lang, zh, en) }
			// home: search in the language of the page
			tb.Open(w.URL + "/?lang=" + c.lang)
			tb.see("h1", L("网上预约办事", "Book a visit online"))
			tb.Axe()
			tb.shot("home")
			tb.Type("#search", L("护照", "passport"))
			tb.WaitFor(3*time.Second, `document.querySelectorAll('#matters a.matter').length === 1`)
			tb.see("#matters", L("普通护照申领", "Applying for a passport"))
			tb.click(`#matters a[data-matter="passport"]`)

			// the guide, printable
			tb.see("#guide", L("居民身份证", "Resident ID card"))
			tb.see("#fees", L("120元", "CNY 120"))
			tb.see("#time-limit", L("7 个工作日", "7 working day(s)"))
			tb.Axe()
			tb.shot("guide")
			browsertest.Eval[bool](tb, `(window.print = () => { window.printed = true; }, true)`)
			tb.click("#print")
			tb.WaitFor(time.Second, `window.printed === true`)
			tb.Media("print")
			if !browsertest.Eval[bool](tb, `getComputedStyle(document.querySelector('#bar')).display === 'none' && getComputedStyle(document.querySelector('#guide')).display !== 'none'`) {
				t.Error("the printed guide still shows the header, or not the guide")
			}
			tb.Media("")
			tb.click("#to-halls")

			// the halls: every hall offering B, live waits, 武昌 recommended (fewest waiting)
			tb.WaitFor(3*time.Second, `document.querySelectorAll('#halls li.hall').length === 3`)
			tb.see("#rule", L("排队人数最少", "fewest people waiting"))
			if got := browsertest.Eval[string](tb, `document.querySelector('#halls li.recommended').dataset.hall`); got != "h1" {
				t.Errorf("recommended %s, want h1 (one waiting)", got)
			}
			tb.see(`li[data-hall="h2"] .waiting`, L("4 人", "4 people"))
			tb.see(`li[data-hall="h1"] h2`, L("武昌区政务服务中心", "Wuchang service hall"))
			tb.Axe()
			tb.shot("halls")
			tb.click(`li[data-hall="h1"] button.choose-hall`)

			// a day and a time: Monday, a different time for each run
			tb.click(`button.day[data-day="2026-11-30"]`)
			at := bkAt(t, 11, 30, 9, 0).Add(time.Duration(i) * 30 * time.Minute)
			sel := fmt.Sprintf(`button.time[data-start=%q]`, at.Format(time.RFC3339))
			tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector(%q) && !document.querySelector(%q).disabled`, sel, sel))
			tb.see(sel, at.Format("15:04")) // the hall's wall time, whatever the browser's zone
			tb.Axe()
			tb.shot("slots")
			tb.click(sel)

			// confirm: not signed in yet → sign in → back here with the choices
			tb.see("#need-signin", L("请先登录", "Please sign in"))
			tb.see("#sum-time", at.Format("15:04"))
			tb.click("#signin-book")
			tb.signIn(citizen)
			tb.see("#sum-time", at.Format("15:04"))
			tb.see("#sum-day", L("11月30日 周一", "Mon 30 Nov"))
			tb.Axe()
			tb.shot("confirm")
			tb.click("#confirm")

			// the confirmation: the booking at the central, its QR code
			tb.see("#done-h", L("预约成功", "Booked"))
			id := tb.Text("#booking-id")
			mine := w.mine(citizen)
			if len(mine) != 1 || mine[0].ID != id || mine[0].Hall != "h1" || mine[0].Service != "B" || mine[0].Matter != "passport" ||
				!mine[0].SlotStart.Equal(at) || mine[0].Status != booking.Booked {
				t.Fatalf("the central has %+v, want %s at h1 B %v", mine, id, at)
			}
			vb := browsertest.Eval[string](tb, `document.querySelector('svg.qr').getAttribute('viewBox')`)
			d := browsertest.Eval[string](tb, `document.querySelector('svg.qr path').getAttribute('d')`)
			if code, err := bkQRDecode(bkQRMatrix(t, vb, d)); err != nil || code != id {
				t.Errorf("the QR code reads %q (%v), want the booking id %s", code, err, id)
			}
			tb.see("#confirmation", L("扫描这个二维码", "scan this QR code"))
			tb.see("#materials", L("近期免冠彩色照片", "A recent colour photo"))
			tb.Axe()
			tb.shot("done")
		})
	}
}

// TestSignInAndOut: the header's sign-in button goes to the provider and
// back to the same page; it then shows the masked number the central
// holds; sign-out ends the session at the central; a session that ran
// out while confirming sends the citizen to sign in and back to the same
// step with the same choices, and the booking is made once.
func TestSignInAndOut(t *testing.T) {
	w := mustBookWorld(t)
	b := mustBkBrowser(t)
	for i, c := range bkCombos[:2] {
		t.Run(c.lang+"-"+c.viewport, func(t *testing.T) {
			citizen := 20 + i
			tb := b.tab(t, c.lang, c.viewport)
			L := func(zh, en string) string { return pick(c.lang, zh, en) }
			tb.Open(w.URL + "/bookings?lang=" + c.lang)
			tb.see("#signin", L("登录", "Sign in"))
			tb.click("#signin")
			tb.signIn(citizen)
			if got := browsertest.Eval[string](tb, `location.pathname`); got != "/bookings" {
				t.Errorf("back on %s, want /bookings", got)
			}
			tb.see("#none", L("还没有预约", "No bookings yet"))
			tb.shot("signed-in")
			tb.click("#signout")
			tb.WaitFor(3*time.Second, `!!document.querySelector('#signin')`)
			if st := browsertest.Eval[int](tb, `fetch('/api/v1/me').then((r) => r.status)`); st != 401 {
				t.Errorf("after sign-out /api/v1/me answers %d, want 401", st)
			}

			// a staff member signed in is named as staff, not as a citizen
			if i == 0 {
				tb.Open(w.URL + "/")
				tb.click("#signin")
				tb.WaitFor(3*time.Second, `!!document.querySelector('select[name=staff]')`)
				tb.Click(`form:last-of-type button[type=submit]`)
				tb.see("#who-staff", L("省级管理员", "Province admin"))
				tb.click("#signout")
				tb.WaitFor(3*time.Second, `!!document.querySelector('#signin')`)
			}

			// the session runs out on the confirm step
			at := bkAt(t, 12, 1, 10, 0).Add(time.Duration(i) * 30 * time.Minute)
			tb.Open(fmt.Sprintf("%s/book?m=passport&h=h3&s=B&d=2026-12-01&at=%s&step=confirm", w.URL, strings.ReplaceAll(at.Format(time.RFC3339), "+", "%2B")))
			tb.click("#signin-book")
			tb.signIn(citizen)
			w.clock.Advance(3 * time.Hour) // the 2 h session is over
			t.Cleanup(func() { w.clock.Advance(-3 * time.Hour) })
			tb.click("#confirm")
			tb.signIn(citizen) // sent to sign in again …
			tb.see("#sum-time", at.Format("15:04"))
			tb.click("#confirm") // … and back on the same step with the same choices
			tb.see("#done-h", L("预约成功", "Booked"))
			if mine := w.mine(citizen); len(mine) != 1 || !mine[0].SlotStart.Equal(at) || mine[0].Hall != "h3" {
				t.Fatalf("the central has %+v", mine)
			}
		})
	}
}

// TestRefusalsSayWhatToDo: each refusal of the central, made to happen for
// real, is shown in plain words with the way on, and nothing is booked.
func TestRefusalsSayWhatToDo(t *testing.T) {
	w := mustBookWorld(t)
	b := mustBkBrowser(t)
	for i, c := range bkCombos[:2] {
		t.Run(c.lang+"-"+c.viewport, func(t *testing.T) {
			base := 100 + 10*i // citizens of this run
			L := func(zh, en string) string { return pick(c.lang, zh, en) }
			signedIn := func(citizen int) *bkTab {
				tb := b.tab(t, c.lang, c.viewport)
				tb.Open(w.URL + "/book?lang=" + c.lang)
				tb.click("#signin")
				tb.signIn(citizen)
				return tb
			}
			confirmAt := func(tb *bkTab, hallID, service, matter string, at time.Time) {
				t.Helper()
				tb.Open(fmt.Sprintf("%s/book?lang=%s&m=%s&h=%s&s=%s&d=%s&at=%s&step=confirm", w.URL, c.lang, matter, hallID, service,
					at.Format("2006-01-02"), strings.ReplaceAll(at.Format(time.RFC3339), "+", "%2B")))

				tb.WaitFor(3*time.Second, `!!document.querySelector('#confirm')`)
			}
			refused := func(tb *bkTab, reason booking.Reason, words string) {
				t.Helper()
				tb.click("#confirm")
				tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector('.refusal[data-reason=%q]')`, reason))
				tb.see(".refusal", words)
			}
			me := base
			off := time.Duration(i) * 30 * time.Minute // capacity A is one seat: each run its own times
			tb := signedIn(me)

			// slot_full: the time is taken by two others while the citizen
			// looks; the next free times are offered, and one books
			full := bkAt(t, 11, 30, 14, 0).Add(time.Duration(i) * 30 * time.Minute)
			confirmAt(tb, "h2", "B", "passport", full)
			w.book(base+1, "h2", "B", "passport", full)
			w.book(base+2, "h2", "B", "passport", full)
			refused(tb, booking.ReasonSlotFull, L("刚刚约满", "just been taken"))
			tb.Axe()
			tb.shot("refused-slot-full")
			next := browsertest.Eval[string](tb, `document.querySelector('.refusal button.slot').dataset.start`)
			tb.click(".refusal button.slot")
			tb.click("#confirm")
			tb.see("#done-h", L("预约成功", "Booked"))
			if mine := w.mine(me); len(mine) != 1 || mine[0].SlotStart.Format(time.RFC3339) != next || mine[0].Hall != "h2" {
				t.Fatalf("after slot_full and the next free time %s: %+v", next, mine)
			}

			// already_booked: an open booking of h2 B already
			confirmAt(tb, "h2", "B", "passport", bkAt(t, 12, 2, 9, 0))
			refused(tb, booking.ReasonAlreadyBooked, L("已经预约", "already have a booking"))
			tb.WaitFor(time.Second, `!!document.querySelector('.refusal a[href="/bookings"]')`)

			// day_cap: two bookings on Tuesday already (made elsewhere)
			w.book(me, "h1", "A", "id-card-renewal", bkAt(t, 12, 1, 9, 0).Add(off))
			w.book(me, "h1", "B", "passport", bkAt(t, 12, 1, 10, 0).Add(off))
			confirmAt(tb, "h3", "B", "passport", bkAt(t, 12, 1, 11, 0))
			refused(tb, booking.ReasonDayCap, L("这一天的预约已达上限", "limit of bookings for that day"))
			tb.click(".refusal button")
			tb.WaitFor(3*time.Second, `new URL(location.href).searchParams.get('step') === 'slot'`)

			// week_cap: four this week (Tue ×2, Wed, Thu), then a fifth
			w.book(me, "h4", "A", "id-card-renewal", bkAt(t, 12, 2, 9, 0).Add(off))
			w.book(me, "h2", "A", "id-card-renewal", bkAt(t, 12, 3, 9, 0).Add(off))
			confirmAt(tb, "h3", "B", "passport", bkAt(t, 12, 4, 9, 0))
			refused(tb, booking.ReasonWeekCap, L("这一周的预约已达上限", "limit of bookings for that week"))
			if n := len(w.mine(me)); n != 5 {
				t.Errorf("%d bookings after the refusals, want 5", n)
			}

			// not_released: a day beyond the booking window (an old link)
			tb = signedIn(base + 3)
			confirmAt(tb, "h1", "B", "passport", bkAt(t, 12, 9, 9, 0))
			refused(tb, booking.ReasonNotReleased, L("还没有开放预约", "not open for booking yet"))
			tb.see(".refusal", "2026-12-08")

			// booking_cutoff: today 09:30 is less than an hour away
			confirmAt(tb, "h1", "B", "passport", bkAt(t, 11, 27, 9, 30))
			refused(tb, booking.ReasonBookingCutoff, L("马上开始", "starts too soon"))
			tb.click(".refusal button")
			tb.WaitFor(3*time.Second, `new URL(location.href).searchParams.get('step') === 'slot'`)

			// hall_closed: the hall closes that day while the citizen looks
			closed := bkAt(t, 12, 3, 15, 0).Add(time.Duration(i) * 30 * time.Minute)
			confirmAt(tb, "h3", "B", "passport", closed)
			if i == 0 {
				var h3 map[string]any
				w.must(200, "GET", "/api/v1/staff/halls/h3", w.admin(), nil, &h3)
				h3["calendar"].(map[string]any)["closures"] = []map[string]any{{"day": "2026-12-03",
					"reason": map[string]string{"zh": "系统升级，暂停办公", "en": "Closed for a system upgrade"}}}
				w.must(200, "PUT", "/api/v1/staff/halls/h3", w.admin(), h3, nil)
			}
			refused(tb, booking.ReasonHallClosed, L("系统升级，暂停办公", "Closed for a system upgrade"))
			tb.Axe()
			tb.shot("refused-closed")
			if n := len(w.mine(base + 3)); n != 0 {
				t.Errorf("%d bookings after refusals, want none", n)
			}

			// banned: three missed bookings; the warning comes first
			banned := base + 4
			tb = signedIn(banned)
			for k, at := range []time.Time{bkAt(t, 11, 30, 14, 0), bkAt(t, 12, 1, 14, 0), bkAt(t, 12, 2, 14, 0)} {
				x := w.book(banned, "h1", "A", "id-card-renewal", at.Add(time.Duration(i)*time.Hour))
				day := x.SlotStart.In(bkShanghai(t)).Format("2006-01-02")
				w.event(x.Hall, hall.Event{Type: hall.EvBooking, Day: day, Booking: &hall.Booking{ID: x.ID, Status: hall.BookingCheckedIn, Ticket: "tk-" + x.ID}})
				w.event(x.Hall, hall.Event{Type: hall.EvTicketNoShow, Day: day, Ticket: &hall.Ticket{ID: "tk-" + x.ID, Day: day, Booking: x.ID}})
				w.missed(banned, x.ID)
				if k == 0 {
					confirmAt(tb, "h3", "B", "passport", bkAt(t, 12, 2, 14, 0))
					tb.see("#warning", L("累计3次将暂停网上预约30天", "After 3, online booking is suspended for 30 days"))
				}
			}
			confirmAt(tb, "h3", "B", "passport", bkAt(t, 12, 4, 14, 0))
			refused(tb, booking.ReasonBanned, L("网上预约暂停到 2027-01-01", "paused until 2027-01-01"))
			tb.see(".refusal", L("3 次预约未到", "missed 3 bookings"))
			tb.Axe()
			tb.shot("refused-banned")
			if n := len(w.mine(banned)); n != 3 {
				t.Errorf("the banned citizen has %d bookings, want the 3 missed", n)
			}
		})
	}
}

// TestConfirmRetriedAfterALostAnswer: the booking is made at the central
// but its answer never reaches the phone (the connection drops); the page
// says so and asks to press again, and pressing again sends the same
// Idempotency-Key: the central answers the same booking and holds one.
func TestConfirmRetriedAfterALostAnswer(t *testing.T) {
	w := mustBookWorld(t)
	b := mustBkBrowser(t)
	for i, c := range bkCombos[:2] {
		t.Run(c.lang+"-"+c.viewport, func(t *testing.T) {
			me := 400 + i
			L := func(zh, en string) string { return pick(c.lang, zh, en) }
			tb := b.tab(t, c.lang, c.viewport)
			at := bkAt(t, 12, 2, 13, 30).Add(time.Duration(i) * 30 * time.Minute)
			tb.Open(fmt.Sprintf("%s/book?lang=%s&m=passport&h=h1&s=B&d=2026-12-02&at=%s&step=confirm", w.URL, c.lang, strings.ReplaceAll(at.Format(time.RFC3339), "+", "%2B")))
			tb.click("#signin-book")
			tb.signIn(me)
			// the next booking request reaches the central, its answer is lost
			browsertest.Eval[bool](tb, `(() => {
				const real = window.fetch;
				window.fetch = async (url, opts) => {
					const res = await real(url, opts);
					if (opts && opts.method === 'POST' && String(url).endsWith('/api/v1/bookings') && !window.lost) {
						window.lost = opts.headers['Idempotency-Key'];
						throw new TypeError('Failed to fetch');
					}
					if (opts && opts.method === 'POST') window.again = opts.headers['Idempotency-Key'];
					return res;
				};
				return true;
			})()`)
			tb.click("#confirm")
			tb.see(".refusal", L("暂时连不上服务器", "cannot be reached"))
			if n := len(w.mine(me)); n != 1 {
				t.Fatalf("the central holds %d bookings after the lost answer, want 1", n)
			}
			tb.click("#confirm")
			tb.see("#done-h", L("预约成功", "Booked"))
			if lost, again := browsertest.Eval[string](tb, `window.lost`), browsertest.Eval[string](tb, `window.again`); lost == "" || lost != again {
				t.Errorf("the retry sent key %q, the lost request %q", again, lost)
			}
			mine := w.mine(me)
			if len(mine) != 1 || tb.Text("#booking-id") != mine[0].ID || !mine[0].SlotStart.Equal(at) {
				t.Fatalf("after the retry the central holds %+v, the page shows %s", mine, tb.Text("#booking-id"))
			}
		})
	}
}
