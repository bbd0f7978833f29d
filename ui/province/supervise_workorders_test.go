package province_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hallq/central/workorders"
	"hallq/internal/browsertest"
	"hallq/queue-server/hall"
)

// rated feeds a hall's ticket.rated event as its forwarder does.
func (c *central) rated(hallID, ticket, number string, score int, at time.Time) string {
	c.t.Helper()
	tk := hall.Ticket{ID: ticket, Number: number, Service: "B", Day: at.Format("2006-01-02"), Status: hall.Done, MaskedID: "1101**********002X",
		Window: 5, Clerk: "zhang", FinishedAt: at,
		Rating: &hall.Rating{Score: score, Reason: "等候太久", Indicators: []hall.Indicator{hall.IndEfficiency}, Channel: hall.ViaOnline, At: at}}
	c.HallEvent(hallID, hall.EvTicketRated, tk.Day, map[string]any{"ticket": tk})
	return workorders.ID(hallID, ticket, "")
}

func (c *central) order(id string) workorders.Order {
	c.t.Helper()
	var o workorders.Order
	c.Must(200, "GET", "/api/v1/staff/workorders/"+id, c.Admin(), nil, &o)
	return o
}

// A hall supervisor signed in through the stand-in provider sees their
// hall's work orders from poor ratings fed as hall events (an old one
// overdue, as an alert), is refused closing before a follow-up, records a
// 回访 (an empty one refused at the field), closes the order, and is
// refused another hall's order.
func TestWorkOrdersPage(t *testing.T) {
	c := mustCentral(t)
	b := mustBrowser(t)
	for _, lang := range []string{"zh", "en"} {
		for _, vp := range viewports {
			t.Run(lang+"-"+vp.name, func(t *testing.T) {
				parent := c.t
				c.t = t
				defer func() { c.t = parent }()
				run := lang + vp.name
				now := time.Now().In(shanghai)
				old := c.rated("h1", "old-"+run, "A0"+fmt.Sprint(len(run)), 1, now.AddDate(0, 0, -40))
				fresh := c.rated("h1", "new-"+run, "B1"+fmt.Sprint(len(run)), 2, now.Add(-time.Hour))
				c.rated("h1", "ok-"+run, "C1", 4, now) // a good rating makes none
				other := c.rated("h2", "h2-"+run, "D1", 1, now)
				eventually(t, "orders made", func() bool {
					st, _ := c.Do("GET", "/api/v1/staff/workorders/"+other, c.Admin(), nil)
					return st == 200
				})
				if st, _ := c.Do("GET", "/api/v1/staff/workorders/"+workorders.ID("h1", "ok-"+run, ""), c.Admin(), nil); st != 404 {
					t.Fatalf("a good rating made an order: %d", st)
				}
				tb := b.tab(t, vp.width, vp.height)
				tb.signInAs(c.URL, "/province/workorders", lang, "wu")
				card := func(id string) string { return fmt.Sprintf(`#o-%s`, id) }
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!!document.querySelector(%q) && !!document.querySelector(%q)`, card(old), card(fresh)))
				if browsertest.Eval[bool](tb, fmt.Sprintf(`!!document.querySelector(%q)`, card(other))) {
					t.Fatal("h1's supervisor sees h2's order")
				}
				if !browsertest.Eval[bool](tb, fmt.Sprintf(`document.querySelector(%q).classList.contains("overdue") && !document.querySelector(%q).classList.contains("overdue")`, card(old), card(fresh))) {
					t.Fatal("the old order is not shown overdue, or the fresh one is")
				}
				tb.WaitFor(time.Second, `!document.querySelector("#alerts").hidden && document.querySelector("#alerts").textContent.includes("h1")`)
				if lang == "en" && !strings.Contains(tb.Text(card(fresh)), "Dissatisfied") || lang == "zh" && !strings.Contains(tb.Text(card(fresh)), "不满意") {
					t.Fatalf("the card does not name the level: %s", tb.Text(card(fresh)))
				}
				tb.Axe()
				if lang == "zh" && vp.name == "desktop" || lang == "en" && vp.name == "phone" {
					tb.Shot("workorders-" + lang + "-" + vp.name)
				}
				// Close before a follow-up: refused, shown, nothing changes.
				tb.Click(card(fresh) + " button.close")
				tb.WaitFor(time.Second, `document.querySelector("#cl").open`)
				tb.Type("#cl-note", "done")
				tb.Click("#cl-ok")
				tb.WaitFor(2*time.Second, `document.querySelector("#cl-form [role=alert]").textContent.length > 0`)
				if o := c.order(fresh); o.Status != workorders.Open {
					t.Fatalf("closed without a follow-up: %+v", o)
				}
				tb.Click("#cl-cancel")
				// An empty follow-up is refused at the field the server names.
				tb.Click(card(fresh) + " button.follow")
				tb.WaitFor(time.Second, `document.querySelector("#fu").open`)
				tb.Click("#fu-ok")
				tb.WaitFor(2*time.Second, `document.querySelector("#fu-said").getAttribute("aria-invalid") === "true"`)
				tb.Axe()
				browsertest.Eval[bool](tb, `(document.querySelector("#fu-how").value = "visit", true)`)
				tb.setValue("#fu-at", now.Add(-10*time.Minute).Format("2006-01-02T15:04"))
				tb.Type("#fu-said", "等了一个小时 "+run)
				tb.Type("#fu-result", "已致歉，增开窗口")
				tb.Click("#fu-ok")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`document.querySelector(%q).dataset.status === "followed_up"`, card(fresh)))
				o := c.order(fresh)
				if o.Status != workorders.FollowedUp || len(o.FollowUps) != 1 || o.FollowUps[0].How != "visit" || o.FollowUps[0].Said != "等了一个小时 "+run ||
					o.FollowUps[0].At.In(shanghai).Format("15:04") != now.Add(-10*time.Minute).Format("15:04") {
					t.Fatalf("followed up %+v", o)
				}
				tb.Click(card(fresh) + " button.close")
				tb.WaitFor(time.Second, `document.querySelector("#cl").open`)
				tb.Type("#cl-note", "市民表示满意")
				tb.Click("#cl-ok")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`document.querySelector(%q).dataset.status === "closed"`, card(fresh)))
				if o := c.order(fresh); o.Status != workorders.Closed || o.Closed == nil || o.Closed.Note != "市民表示满意" {
					t.Fatalf("closed %+v", o)
				}
				// The filter shows the overdue ones only.
				browsertest.Eval[bool](tb, `(document.querySelector("#f-status").value = "overdue", true)`)
				tb.Click("#f-show")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!document.querySelector(%q) && !!document.querySelector(%q)`, card(fresh), card(old)))
				// Another hall's order is refused to this supervisor.
				if st := browsertest.Eval[float64](tb, fmt.Sprintf(`fetch("/api/v1/staff/workorders/%s").then(r => r.status)`, other)); st != 403 {
					t.Fatalf("h1's supervisor reads h2's order: %v", st)
				}
				if st := browsertest.Eval[float64](tb, fmt.Sprintf(`fetch("/api/v1/staff/workorders/%s/followup", {method: "POST", headers: {"X-Hallq-CSRF": "1", "Content-Type": "application/json"}, body: JSON.stringify({how: "phone", said: "x", result: "y"})}).then(r => r.status)`, other)); st != 403 {
					t.Fatalf("h1's supervisor follows up h2's order: %v", st)
				}
				tb.signOut()
			})
		}
	}
}
