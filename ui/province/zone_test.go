package province_test

import (
	"fmt"
	"testing"
	"time"

	"hallq/internal/browsertest"
)

// A day or a time typed for a hall on the supervision pages is that
// hall's, not the browser's (New York, browsertest.BrowserZone) nor the
// province's: for a hall in Xinjiang on Ürümqi time (+06:00), a 回访 typed
// as 09:30 is recorded at 09:30 there, and the booking page's dates are
// the days around that hall's today.
func TestTimesInEachHallsZone(t *testing.T) {
	urumqi, err := time.LoadLocation("Asia/Urumqi")
	if err != nil {
		t.Fatal(err)
	}
	c := mustCentral(t)
	h1 := openEveryDay("h1", "喀什大厅", "Kashgar hall")
	h1.Calendar.Zone = "Asia/Urumqi"
	c.Must(200, "PUT", "/api/v1/staff/halls/h1", c.Admin(), h1, nil)
	b := mustBrowser(t)

	now := time.Now().In(urumqi)
	order := c.rated("h1", "zone-1", "B101", 1, now.AddDate(0, 0, -3))
	eventually(t, "the order made", func() bool {
		st, _ := c.Do("GET", "/api/v1/staff/workorders/"+order, c.Admin(), nil)
		return st == 200
	})
	tb := b.tab(t, 1366, 900)
	tb.signInAs(c.URL, "/province/workorders", "zh", "wu")
	card := "#o-" + order
	tb.WaitFor(2*time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, card))
	tb.Click(card + " button.follow")
	tb.WaitFor(time.Second, `document.querySelector("#fu").open`)
	y := now.AddDate(0, 0, -1)
	at := time.Date(y.Year(), y.Month(), y.Day(), 9, 30, 0, 0, urumqi)
	browsertest.Eval[bool](tb, `(document.querySelector("#fu-how").value = "phone", true)`)
	tb.setValue("#fu-at", at.Format("2006-01-02T15:04"))
	tb.Type("#fu-said", "等候太久")
	tb.Type("#fu-result", "已致歉")
	tb.Click("#fu-ok")
	tb.WaitFor(2*time.Second, fmt.Sprintf(`document.querySelector(%q).dataset.status === "followed_up"`, card))
	if o := c.order(order); len(o.FollowUps) != 1 || !o.FollowUps[0].At.Equal(at) {
		t.Errorf("the 回访 typed as %s in the hall is recorded %+v, want %s", at.Format("15:04"), o.FollowUps, at)
	}
	tb.signOut()

	tb.signInAs(c.URL, "/province/bookings", "zh", "ops")
	tb.WaitFor(2*time.Second, `document.querySelector("#use-hall").value === "h1"`)
	day := func(n int) string { return time.Now().In(urumqi).AddDate(0, 0, n).Format("2006-01-02") }
	if got := browsertest.Eval[string](tb, `document.querySelector("#use-from").value + " " + document.querySelector("#use-to").value`); got != day(-7)+" "+day(7) {
		t.Errorf("the booking use is shown from–to %q, want the days around the hall's today: %s %s", got, day(-7), day(7))
	}
}
