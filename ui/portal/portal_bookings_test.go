package portal_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/internal/browsertest"
)

// TestMyBookings: the list shows each booking with its status in words and
// the hall's wall time; the QR code shows again and reads as the booking
// id; cancel asks first ("keep it" keeps it at the central, "yes" cancels
// it there); reschedule moves it to the chosen time at the central; a
// booking too close to its time refuses to be cancelled, in words, and
// stays booked; the calendar link gives an RFC 5545 event in the hall's
// zone; the missed-booking warning is shown.
func TestMyBookings(t *testing.T) {
	w := mustBookWorld(t)
	b := mustBkBrowser(t)
	for i, c := range bkCombos[:2] {
		t.Run(c.lang+"-"+c.viewport, func(t *testing.T) {
			me := 200 + i
			L := func(zh, en string) string { return pick(c.lang, zh, en) }
			off := time.Duration(i) * 30 * time.Minute
			keep := w.book(me, "h1", "B", "passport", bkAt(t, 12, 1, 9, 0).Add(off))
			moving := w.book(me, "h2", "A", "id-card-renewal", bkAt(t, 12, 2, 9, 0).Add(off))
			soon := w.book(me, "h3", "B", "passport", bkAt(t, 11, 27, 10, 0).Add(off)) // within the 2 h cancel cut-off
			missed := w.book(me, "h4", "A", "id-card-renewal", bkAt(t, 11, 30, 9, 0).Add(off))
			w.miss(missed)
			w.missed(me, missed.ID)

			tb := b.tab(t, c.lang, c.viewport)
			tb.Open(w.URL + "/bookings?lang=" + c.lang)
			tb.click("#signin-mine")
			tb.signIn(me)
			tb.WaitFor(3*time.Second, `document.querySelectorAll('#bookings li.booking').length === 4`)
			card := func(id string) string { return fmt.Sprintf(`li.booking[data-booking=%q]`, id) }
			tb.see(card(keep.ID)+" .pill", L("已预约", "Booked"))
			tb.see(card(missed.ID)+" .pill", L("未到", "Missed"))
			tb.see(card(keep.ID)+" .when", "09:"+fmt.Sprintf("%02d", 30*i)) // the hall's wall time
			tb.see("#warning", L("近90天内有1次预约未到", "You missed 1 booking(s)"))
			if browsertest.Eval[bool](tb, fmt.Sprintf(`!!document.querySelector('%s .act-cancel')`, card(missed.ID))) {
				t.Error("a missed booking offers to cancel")
			}
			tb.Axe()
			tb.shot("bookings")

			// the QR code again
			tb.click(card(keep.ID) + " .act-qr")
			tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector('%s svg.qr')`, card(keep.ID)))
			vb := browsertest.Eval[string](tb, fmt.Sprintf(`document.querySelector('%s svg.qr').getAttribute('viewBox')`, card(keep.ID)))
			d := browsertest.Eval[string](tb, fmt.Sprintf(`document.querySelector('%s svg.qr path').getAttribute('d')`, card(keep.ID)))
			if code, err := bkQRDecode(bkQRMatrix(t, vb, d)); err != nil || code != keep.ID {
				t.Errorf("the QR code reads %q (%v), want %s", code, err, keep.ID)
			}

			// add to calendar: the link's .ics, parsed
			href := browsertest.Eval[string](tb, fmt.Sprintf(`document.querySelector('%s a.act-ics').href`, card(keep.ID)))
			ics := browsertest.Eval[string](tb, fmt.Sprintf(`fetch(%q).then((r) => r.text())`, href))
			lines := bkUnfold(t, ics)
			if p, v := bkProp(lines, "VEVENT", "DTSTART"); p != "TZID=Asia/Shanghai" || v != keep.SlotStart.In(bkShanghai(t)).Format("20060102T150405") {
				t.Errorf("DTSTART;%s:%s, want the hall's wall time %v", p, v, keep.SlotStart)
			}
			if _, v := bkProp(lines, "VTIMEZONE", "TZID"); v != "Asia/Shanghai" {
				t.Errorf("VTIMEZONE TZID %q", v)
			}
			if _, v := bkProp(lines, "VEVENT", "UID"); v != keep.ID+"@hallq" {
				t.Errorf("UID %q", v)
			}
			tb.click(card(keep.ID) + " a.act-ics") // pressing it downloads, and the page stays
			tb.see("h1", L("我的预约", "My bookings"))

			// cancel: "keep it" keeps it
			tb.click(card(keep.ID) + " .act-cancel")
			tb.see(card(keep.ID)+" .confirm-box", L("确定要取消", "Cancel this booking?"))
			tb.Axe()
			tb.click("#cancel-no")
			tb.WaitFor(3*time.Second, `!document.querySelector('.confirm-box')`)
			if got := w.status(me, keep.ID); got != booking.Booked {
				t.Fatalf("after keep it: %s", got)
			}
			tb.click(card(keep.ID) + " .act-cancel")
			tb.click("#cancel-yes")
			tb.see("#note", L("预约已取消", "The booking is cancelled"))
			tb.see(card(keep.ID)+" .pill", L("已取消", "Cancelled"))
			if got := w.status(me, keep.ID); got != booking.Cancelled {
				t.Fatalf("after cancel: %s", got)
			}

			// reschedule to Thursday at 10:00 (+ this run's half hour)
			to := bkAt(t, 12, 3, 10, 0).Add(off)
			tb.click(card(moving.ID) + " .act-move")
			tb.click(card(moving.ID) + ` button.day[data-day="2026-12-03"]`)
			sel := fmt.Sprintf(`%s button.time[data-start=%q]`, card(moving.ID), to.Format(time.RFC3339))
			tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector(%q) && !document.querySelector(%q).disabled`, sel, sel))
			tb.click(sel)
			tb.Axe()
			tb.shot("reschedule")
			tb.click("#move-yes")
			tb.see("#note", L("已改到", "Moved to"))
			var got booking.Booking
			w.must(200, "GET", "/api/v1/bookings/"+moving.ID, w.citizen(me), nil, &got)
			if !got.SlotStart.Equal(to) || got.Status != booking.Booked {
				t.Fatalf("after reschedule: %+v, want %v", got, to)
			}
			tb.see(card(moving.ID)+" .when", "10:"+fmt.Sprintf("%02d", 30*i))

			// too late to cancel: refused in words, still booked
			tb.click(card(soon.ID) + " .act-cancel")
			tb.click("#cancel-yes")
			tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector('%s .refusal[data-reason="cancel_cutoff"]')`, card(soon.ID)))
			tb.see(card(soon.ID)+" .refusal", L("离开始时间太近", "too close to the time"))
			tb.Axe()
			if got := w.status(me, soon.ID); got != booking.Booked {
				t.Fatalf("after a refused cancel: %s", got)
			}
			// the same for moving it
			tb.click(card(soon.ID) + " .act-move")
			sel = fmt.Sprintf(`%s button.time:not([disabled])`, card(soon.ID))
			tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
			tb.click(sel)
			tb.click("#move-yes")
			tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector('%s .refusal[data-reason="cancel_cutoff"]')`, card(soon.ID)))
			if got := w.status(me, soon.ID); got != booking.Booked {
				t.Fatalf("after a refused move: %s", got)
			}
		})
	}
}

// status is a booking's status at the central.
func (w *bkWorld) status(i int, id string) string {
	w.t.Helper()
	var got booking.Booking
	w.must(200, "GET", "/api/v1/bookings/"+id, w.citizen(i), nil, &got)
	return got.Status
}

// bkUnfold parses an iCalendar object into content lines (RFC 5545 3.1).
func bkUnfold(t *testing.T, s string) []string {
	t.Helper()
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("not CRLF lines: %q", s)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if strings.HasPrefix(l, " ") && len(out) > 0 {
			out[len(out)-1] += l[1:]
			continue
		}
		out = append(out, l)
	}
	if len(out) == 0 || out[0] != "BEGIN:VCALENDAR" || out[len(out)-1] != "END:VCALENDAR" {
		t.Fatalf("not one VCALENDAR: %q", out)
	}
	return out
}

func bkProp(lines []string, comp, name string) (params, value string) {
	in := false
	for _, l := range lines {
		if l == "BEGIN:"+comp {
			in = true
			continue
		}
		if l == "END:"+comp {
			in = false
		}
		k, v, _ := strings.Cut(l, ":")
		n, p, _ := strings.Cut(k, ";")
		if in && n == name {
			return p, v
		}
	}
	return "", ""
}
