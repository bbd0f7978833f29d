package province_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/calendars"
	ccat "hallq/central/catalog"
	"hallq/internal/browsertest"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
)

func (c *central) catalog() catalog.Catalog {
	c.t.Helper()
	var cat catalog.Catalog
	c.Must(200, "GET", "/api/v1/catalog", "", nil, &cat)
	return cat
}

// published is the last catalogue version the halls were sent on central.catalog.
func (c *central) published() uint64 {
	c.t.Helper()
	st, err := c.JS.Stream(context.Background(), ccat.Stream)
	if err != nil {
		c.t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(context.Background(), ccat.Subject)
	if err != nil {
		c.t.Fatal(err)
	}
	var cat catalog.Catalog
	_ = json.Unmarshal(m.Data, &cat)
	return cat.Version
}

func (c *central) publish(base uint64, ms []catalog.Matter) {
	c.t.Helper()
	c.Must(200, "PUT", "/api/v1/staff/catalog", c.Admin(), booking.CatalogRequest{BaseVersion: &base, Matters: ms}, nil)
}

// A province admin edits a matter (an empty name refused at the field),
// publishes it to the halls, meets someone else's newer version as a
// conflict and reloads, adds a matter, and sees the versions.
func TestCatalogEditingPage(t *testing.T) {
	c := mustCentral(t)
	c.publish(0, []catalog.Matter{{Code: "M1", Name: catalog.Text{ZH: "身份证换领", EN: "ID card renewal"}, Services: []string{"B"}, Booking: catalog.BookingAllowed,
		Materials: []catalog.Material{{Name: catalog.Text{ZH: "旧身份证", EN: "Old ID card"}, Original: true}}, TimeLimitDays: 20}})
	b := mustBrowser(t)
	for _, lang := range []string{"zh", "en"} {
		for _, vp := range viewports {
			t.Run(lang+"-"+vp.name, func(t *testing.T) {
				parent := c.t
				c.t = t
				defer func() { c.t = parent }()
				run := lang + "-" + vp.name
				tb := b.tab(t, vp.width, vp.height)
				tb.signInAs(c.URL, "/province/catalog", lang, "ops")
				tb.WaitFor(2*time.Second, `!!document.querySelector('#matters tr[data-code="M1"]')`)
				before := c.catalog().Version
				tb.Click(`button.edit[data-code="M1"]`)
				tb.WaitFor(time.Second, `!document.querySelector("#editor").hidden`)
				// An empty Chinese name: refused at the field, nothing published.
				tb.setValue("#m-name-zh", "")
				tb.Click("#save")
				tb.WaitFor(2*time.Second, `document.querySelector("#m-name-zh").getAttribute("aria-invalid") === "true"`)
				if v := c.catalog().Version; v != before {
					t.Fatalf("an invalid matter was published: version %d", v)
				}
				tb.Axe()
				tb.setValue("#m-name-zh", "居民身份证换领 "+run)
				tb.setValue("#m-limit", "15")
				tb.Click("#save")
				tb.WaitFor(2*time.Second, `!document.querySelector("#saved").hidden`)
				cat := c.catalog()
				m, _ := cat.Matter("M1")
				if cat.Version != before+1 || m.Name.ZH != "居民身份证换领 "+run || m.TimeLimitDays != 15 || len(m.Materials) != 1 || !m.Materials[0].Original {
					t.Fatalf("published %d %+v", cat.Version, m)
				}
				eventually(t, "sent to the halls", func() bool { return c.published() == cat.Version })
				if !strings.HasSuffix(cat.PublishedAt, "+08:00") {
					t.Fatalf("published at %s, not in the hall's zone", cat.PublishedAt)
				}
				if lang == "zh" && vp.name == "desktop" || lang == "en" && vp.name == "phone" {
					tb.Shot("catalog-" + lang + "-" + vp.name)
				}
				// Someone else publishes meanwhile: the page's save is a conflict; reload shows theirs.
				other := cat.Matters
				other[0].Name.EN = "Renewal by someone else " + run
				c.publish(cat.Version, other)
				tb.Click(`button.edit[data-code="M1"]`)
				tb.setValue("#m-name-en", "mine")
				tb.Click("#save")
				tb.WaitFor(2*time.Second, `!document.querySelector("#conflict").hidden`)
				if m, _ := c.catalog().Matter("M1"); m.Name.EN != "Renewal by someone else "+run {
					t.Fatalf("the conflicting save overwrote: %+v", m)
				}
				tb.Click("#reload")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`document.querySelector("#conflict").hidden && document.querySelector("#version").dataset.version === "%d" && document.querySelector("#editor").hidden`, cat.Version+1))
				// A new matter.
				code := "N-" + run
				tb.Click("#new")
				tb.WaitFor(time.Second, `!document.querySelector("#editor").hidden && document.querySelector("#delete").hidden`)
				tb.setValue("#m-code", code)
				tb.setValue("#m-name-zh", "新事项")
				tb.setValue("#m-services", "b")
				tb.setValue("#m-materials", "户口簿 | Household register | 1 | 原件")
				tb.Click("#save")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!!document.querySelector('#matters tr[data-code=%q]')`, code))
				if m, ok := c.catalog().Matter(code); !ok || m.Services[0] != "B" || m.Materials[0].Copies != 1 || m.Materials[0].Name.EN != "Household register" {
					t.Fatalf("new matter %+v %v", m, ok)
				}
				// And deleted again.
				tb.Click(fmt.Sprintf(`button.edit[data-code=%q]`, code))
				tb.Click("#delete")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`!document.querySelector('#matters tr[data-code=%q]')`, code))
				if _, ok := c.catalog().Matter(code); ok {
					t.Fatal("the matter was not deleted")
				}
				v := c.catalog().Version
				tb.WaitFor(time.Second, fmt.Sprintf(`!!document.querySelector('#versions li[data-version="%d"]') && !!document.querySelector('#versions li[data-version="%d"]')`, v, v-1))
				tb.Axe()
				tb.signOut()
			})
		}
	}
}

// A hall supervisor edits their hall's calendar: an impossible slot length
// is refused at the field; a closure with its reason cancels the day's
// booking (the citizen sees the reason); a change made meanwhile is a
// conflict, and reload shows it; the revisions are listed. Another hall's
// supervisor is refused the page.
func TestCalendarEditingPage(t *testing.T) {
	c := mustCentral(t)
	c.Must(200, "PUT", "/api/v1/staff/halls/h1", c.Admin(), openEveryDay("h1", "一号大厅", "Hall one"), nil)
	b := mustBrowser(t)
	i := 0
	for _, lang := range []string{"zh", "en"} {
		for _, vp := range viewports {
			t.Run(lang+"-"+vp.name, func(t *testing.T) {
				parent := c.t
				c.t = t
				defer func() { c.t = parent }()
				i++
				closed := day(2+i, 9, 0)
				citizen := c.Citizen(number(200 + i))
				var res booking.Result
				c.Must(http.StatusCreated, "POST", "/api/v1/bookings", citizen, booking.Request{Hall: "h1", Service: "B", SlotStart: closed}, &res)
				tb := b.tab(t, vp.width, vp.height)
				tb.signInAs(c.URL, "/province/calendars/h1", lang, "wu")
				tb.WaitFor(2*time.Second, `document.querySelector("#c-slot").value === "30"`)
				var h calendars.Hall
				c.Must(200, "GET", "/api/v1/staff/halls/h1", c.Admin(), nil, &h)
				// An impossible slot length: refused at the field, nothing stored.
				tb.setValue("#c-slot", "1")
				tb.Click("#save")
				tb.WaitFor(2*time.Second, `document.querySelector("#c-slot").getAttribute("aria-invalid") === "true" && !!document.querySelector("#c-slot-err")`)
				var now calendars.Hall
				c.Must(200, "GET", "/api/v1/staff/halls/h1", c.Admin(), nil, &now)
				if now.Revision != h.Revision {
					t.Fatal("an invalid calendar was stored")
				}
				tb.Axe()
				if lang == "zh" && vp.name == "desktop" || lang == "en" && vp.name == "phone" {
					tb.Shot("calendar-" + lang + "-" + vp.name)
				}
				tb.setValue("#c-slot", "30")
				reason := "停电检修 " + lang + " | Power maintenance"
				tb.setValue("#c-closures", strings.TrimSpace(browsertest.Eval[string](tb, `document.querySelector("#c-closures").value`)+"\n"+closed.Format("2006-01-02")+" "+reason))
				tb.Click("#save")
				tb.WaitFor(2*time.Second, `!document.querySelector("#saved").hidden && document.querySelector("#saved").textContent.includes("1")`)
				var bk booking.Booking
				c.Must(200, "GET", "/api/v1/bookings/"+res.Booking.ID, citizen, nil, &bk)
				if bk.Status != booking.Cancelled || bk.Reason == nil || bk.Reason.ZH != "停电检修 "+lang || bk.Reason.EN != "Power maintenance" {
					t.Fatalf("the closed day's booking %+v", bk)
				}
				// Someone changes the hall meanwhile.
				c.Must(200, "GET", "/api/v1/staff/halls/h1", c.Admin(), nil, &now)
				hol := day(20+i, 0, 0).Format("2006-01-02")
				now.Calendar.Holidays = append(now.Calendar.Holidays, hol)
				c.Must(200, "PUT", "/api/v1/staff/halls/h1", c.Admin(), now, nil)
				tb.setValue("#w-sun", "")
				tb.Click("#save")
				tb.WaitFor(2*time.Second, `!document.querySelector("#conflict").hidden`)
				c.Must(200, "GET", "/api/v1/staff/halls/h1", c.Admin(), nil, &h)
				if len(h.Calendar.Weekly["sun"]) == 0 {
					t.Fatal("the conflicting save was stored")
				}
				tb.Click("#reload")
				tb.WaitFor(2*time.Second, fmt.Sprintf(`document.querySelector("#conflict").hidden && document.querySelector("#c-holidays").value.includes(%q) && document.querySelector("#w-sun").value !== ""`, hol))
				tb.WaitFor(time.Second, fmt.Sprintf(`!!document.querySelector('#history li[data-revision="%d"]')`, h.Revision))
				tb.signOut()
				// Another hall's supervisor is refused.
				tb.signInAs(c.URL, "/province/calendars/h1", lang, "li")
				tb.WaitFor(2*time.Second, `!document.querySelector("#gate").hidden && document.querySelector("#page").hidden && document.querySelector("#gate").textContent.length > 0`)
				tb.Axe()
				tb.signOut()
			})
		}
	}
}

var _ = calendar.Weekdays
