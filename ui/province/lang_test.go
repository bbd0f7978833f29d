package province_test

import (
	"testing"
	"time"
)

// A supervision page opened from a link with ?lang=en is in English; the
// language switch then holds across a reload and the other pages (the
// link's ?lang= no longer wins over it).
func TestLanguageSwitchHoldsAcrossPages(t *testing.T) {
	c := mustCentral(t)
	c.Must(200, "PUT", "/api/v1/staff/halls/h1", c.Admin(), openEveryDay("h1", "一号大厅", "Hall one"), nil)
	b := mustBrowser(t)
	tb := b.tab(t, 1366, 900)
	tb.signInAs(c.URL, "/province/bookings", "en", "ops")
	tb.WaitFor(2*time.Second, `document.querySelector("h1").textContent === "Booking supervision" && document.documentElement.lang === "en"`)
	tb.Click("#lang")
	tb.WaitFor(2*time.Second, `document.querySelector("h1").textContent === "预约监管" && document.documentElement.lang === "zh-CN"`)
	tb.Reload()
	tb.WaitFor(5*time.Second, `!!document.querySelector("#who") && document.querySelector("h1").textContent === "预约监管" && document.documentElement.lang === "zh-CN"`)
	tb.Click(`#top nav a[href="/province/workorders"]`)
	tb.WaitFor(5*time.Second, `location.pathname === "/province/workorders" && !!document.querySelector("#who") && document.querySelector("#lang").textContent === "English"`)
}
