package province_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/calendars"
	"hallq/internal/browsertest"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/internal/idnumber"
)

// number is the i-th valid resident ID number of these tests.
func number(i int) string {
	first := fmt.Sprintf("110105%s%03d", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("20060102"), 100+i)
	c, err := idnumber.CheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

func masked(n string) string { return n[:4] + strings.Repeat("*", 10) + n[14:] }

// openEveryDay is a hall open 09:00–12:00 and 13:30–17:00 every day
// (Asia/Shanghai), 30-minute slots, service B with 20 seats each.
func openEveryDay(id, zh, en string) calendars.Hall {
	day := []calendar.Span{{From: "09:00", To: "12:00"}, {From: "13:30", To: "17:00"}}
	w := map[string][]calendar.Span{}
	for _, d := range calendar.Weekdays {
		w[d] = day
	}
	return calendars.Hall{ID: id, Name: catalog.Text{ZH: zh, EN: en}, Calendar: calendar.Calendar{Zone: "Asia/Shanghai", Weekly: w},
		SlotMinutes: 30, Capacity: map[string]int{"B": 20}}
}

// day is the hall's civil day n days from now, at hh:mm.
func day(n, hh, mm int) time.Time {
	d := time.Now().In(shanghai).AddDate(0, 0, n)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, shanghai)
}

// ban makes the citizen miss three bookings at h1 (no-shows reported by
// the hall) and returns the last missed booking (the ban's ref).
func (c *central) ban(t *testing.T, id string) string {
	t.Helper()
	tok := c.Citizen(id)
	var last string
	for i, at := range []time.Time{day(1, 9, 0), day(1, 9, 30), day(2, 9, 0)} {
		var res booking.Result
		// the booking before shows missed: a new one is taken at once
		// (central/booking brings the citizen's entry up to the record)
		if st, body := c.Do("POST", "/api/v1/bookings", tok, booking.Request{Hall: "h1", Service: "B", SlotStart: at}); st != http.StatusCreated || json.Unmarshal(body, &res) != nil {
			t.Fatalf("book: %d %s", st, body)
		}
		c.HallEvent("h1", "ticket.no_show", at.Format("2006-01-02"), map[string]any{"ticket": map[string]any{"id": fmt.Sprintf("t-%s-%d", id, i), "booking": res.Booking.ID}})
		eventually(t, "missed", func() bool {
			var b booking.Booking
			c.Must(200, "GET", "/api/v1/bookings/"+res.Booking.ID, tok, nil, &b)
			return b.Status == booking.Missed
		})
		last = res.Booking.ID
	}
	if st, body := c.Do("POST", "/api/v1/bookings", tok, booking.Request{Hall: "h1", Service: "B", SlotStart: day(2, 10, 0)}); st != http.StatusForbidden || !strings.Contains(string(body), `"banned"`) {
		t.Fatalf("after three misses: %d %s, want 403 banned at once", st, body)
	}
	return last
}

// A province admin signed in through the stand-in provider sees the
// capacity use and the banned list, lifts a ban with a reason (an empty
// one is refused at the field), and the citizen books at once; the
// lifting is in the audit trail on the page. A supervisor sees no lift
// button, and another hall's supervisor no ban and no usage of h1.
func TestBookingSupervisionPage(t *testing.T) {
	c := mustCentral(t)
	c.Must(200, "PUT", "/api/v1/staff/halls/h1", c.Admin(), openEveryDay("h1", "一号大厅", "Hall one"), nil)
	c.Must(200, "PUT", "/api/v1/staff/halls/h2", c.Admin(), openEveryDay("h2", "二号大厅", "Hall two"), nil)
	b := mustBrowser(t)
	i := 0
	for _, lang := range []string{"zh", "en"} {
		for _, vp := range viewports {
			t.Run(lang+"-"+vp.name, func(t *testing.T) {
				parent := c.t
				c.t = t
				defer func() { c.t = parent }()
				i++
				id := number(i)
				ref := c.ban(t, id)
				tb := b.tab(t, vp.width, vp.height)
				who := tb.signInAs(c.URL, "/province/bookings", lang, "ops")
				if lang == "en" {
					tb.WaitFor(time.Second, `document.querySelector("h1").textContent === "Booking supervision" && document.documentElement.lang === "en"`)
				} else {
					tb.WaitFor(time.Second, `document.querySelector("h1").textContent === "预约监管"`)
				}
				row := fmt.Sprintf(`#ban-table tr[data-ref=%q]`, ref)
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, row))
				if got := tb.Text(row + " .masked"); got != masked(id) {
					t.Fatalf("masked %q, want %q", got, masked(id))
				}
				if got := tb.Text(row); !strings.Contains(got, day(2, 0, 0).Format("2006-01-02")) || !strings.Contains(got, day(2, 0, 0).AddDate(0, 0, 30).Format("2006-01-02")) {
					t.Fatalf("ban row %q: since/until", got)
				}
				if strings.Contains(browsertest.Eval[string](tb, `document.body.innerHTML`), id) {
					t.Fatal("the page holds the raw ID number")
				}
				// Capacity use: tomorrow's B row counts this run's misses too.
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!!document.querySelector('#use-table tr[data-day=%q][data-service="B"]')`, day(1, 0, 0).Format("2006-01-02")))
				cells := browsertest.Eval[[]string](tb, fmt.Sprintf(`[...document.querySelectorAll('#use-table tr[data-day=%q][data-service="B"] td')].map(td => td.textContent)`, day(1, 0, 0).Format("2006-01-02")))
				var u booking.Usage
				tomorrow := day(1, 0, 0).Format("2006-01-02")
				c.Must(200, "GET", "/api/v1/staff/halls/h1/usage?from="+tomorrow+"&to="+tomorrow, c.Admin(), nil, &u)
				if r := u.Rows[0]; cells[2] != "260" || cells[3] != fmt.Sprint(r.Booked) || cells[5] != fmt.Sprint(r.Missed) || r.Missed < 2 || cells[7] != "100%" {
					t.Fatalf("tomorrow's use %q, the server's %+v", cells, r)
				}
				if lang == "zh" && vp.name == "desktop" || lang == "en" && vp.name == "phone" {
					tb.Shot("bookings-" + lang + "-" + vp.name)
				}
				// Show the usage of another span (the button is pressed; the server answers).
				tb.setValue("#use-from", day(2, 0, 0).Format("2006-01-02"))
				tb.setValue("#use-to", day(2, 0, 0).Format("2006-01-02"))
				tb.Click("#use-show")
				tb.WaitFor(2*time.Second, `document.querySelectorAll("#use-table tbody tr").length === 1`)
				// From after to: the server's refusal is shown.
				tb.setValue("#use-from", day(3, 0, 0).Format("2006-01-02"))
				tb.Click("#use-show")
				tb.WaitFor(2*time.Second, `document.querySelector("#use-form [role=alert]").textContent.includes("before")`)

				tb.Axe()
				// Lift: an empty reason is refused at the field; nothing changes.
				tb.Click(fmt.Sprintf(`button.lift[data-ref=%q]`, ref))
				tb.WaitFor(time.Second, `document.querySelector("#lift").open`)
				tb.Click("#lift-ok")
				tb.WaitFor(2*time.Second, `document.querySelector("#lift-reason").getAttribute("aria-invalid") === "true" && !!document.querySelector("#lift-reason-err")`)
				if st, _ := c.Do("POST", "/api/v1/bookings", c.Citizen(id), booking.Request{Hall: "h1", Service: "B", SlotStart: day(2, 10, 0)}); st != http.StatusForbidden {
					t.Fatalf("the ban went with an empty reason: %d", st)
				}
				tb.Axe()
				// Cancel closes the dialog without a change.
				tb.Click("#lift-cancel")
				tb.WaitFor(time.Second, `!document.querySelector("#lift").open`)
				tb.Click(fmt.Sprintf(`button.lift[data-ref=%q]`, ref))
				tb.WaitFor(time.Second, `document.querySelector("#lift").open`)
				tb.Type("#lift-reason", "住院证明 hospital stay "+lang)
				tb.Click("#lift-ok")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!document.querySelector("#ban-done").hidden && !document.querySelector(%q)`, row))
				// The citizen books at once.
				c.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Citizen(id), booking.Request{Hall: "h1", Service: "B", SlotStart: day(2, 10, 0)}, nil)
				// The audit trail on the page names the lifting, who and why.
				tb.WaitFor(time.Second, fmt.Sprintf(`[...document.querySelectorAll('#audit-table tr[data-action="ban.lifted"]')].some(tr => tr.textContent.includes(%q) && tr.textContent.includes(%q))`, "hospital stay "+lang, who))

				// A supervisor of h1 sees the list without the lift button; h2's sees no ban and no h1.
				tb.signOut()
				other := c.ban(t, number(100+i))
				tb.signInAs(c.URL, "/province/bookings", lang, "wu")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!!document.querySelector('#ban-table tr[data-ref=%q]')`, other))
				if browsertest.Eval[bool](tb, `!!document.querySelector("button.lift")`) {
					t.Fatal("a supervisor is offered to lift a ban")
				}
				tb.signOut()
				tb.signInAs(c.URL, "/province/bookings", lang, "li")
				tb.WaitFor(2*time.Second, `!document.querySelector("#ban-none").hidden`)
				if got := browsertest.Eval[[]string](tb, `[...document.querySelectorAll("#use-hall option")].map(o => o.value)`); len(got) != 1 || got[0] != "h2" {
					t.Fatalf("h2's supervisor chooses among %q", got)
				}
				if st := browsertest.Eval[float64](tb, `fetch("/api/v1/staff/halls/h1/usage?from=2026-01-01&to=2026-01-02").then(r => r.status)`); st != 403 {
					t.Fatalf("h2's supervisor reads h1's usage: %v", st)
				}
				tb.signOut()
				// The other ban is lifted through the API so the next run starts clean.
				c.Must(200, "POST", "/api/v1/staff/bans/"+other+"/lift", c.Admin(), booking.LiftRequest{Reason: "test cleanup"}, nil)
			})
		}
	}
}
