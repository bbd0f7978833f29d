package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hallq/internal/browsertest"
)

// clockText is the first "15:04" or "15:04:05" in s after prefix, or "".
func clockText(s, prefix string, seconds bool) string {
	i := strings.Index(s, prefix)
	if i < 0 {
		return ""
	}
	n := 5
	if seconds {
		n = 8
	}
	s = strings.TrimSpace(s[i+len(prefix):])
	if len(s) < n {
		return ""
	}
	return s[:n]
}

// Every time a hall page shows or takes is the hall's (Asia/Shanghai),
// though the browser runs in New York (browsertest.BrowserZone): a token's
// creation day, a notice's start typed on the dashboard and shown in its
// list, the time a helper call was taken up, the phone page's "updated",
// the report's day.
func TestTimesInTheHallsZone(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	hall := h.clock.base.Location()
	if got := browsertest.Eval[string](b.MustTab(t, 800, 600), `Intl.DateTimeFormat().resolvedOptions().timeZone`); got != browsertest.BrowserZone {
		t.Fatalf("the browser runs in %q, not %q", got, browsertest.BrowserZone)
	}

	dash := b.MustTab(t, 1920, 1080)
	dash.Open(h.Server.URL + "/dashboard")
	dash.login(h.admin)
	dash.WaitFor(5*time.Second, `!document.querySelector("#dash").hidden && document.querySelector("#notice-list").textContent.includes("None")`)

	// The tokens' creation days.
	var toks []struct {
		ID      string    `json:"id"`
		Created time.Time `json:"created"`
	}
	h.api("GET", "tokens", h.admin, nil, &toks)
	row := fmt.Sprintf(`#tokens tr[data-token=%q] td:nth-child(4)`, toks[0].ID)
	dash.WaitFor(5*time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, row))
	if got, want := dash.Text(row), toks[0].Created.In(hall).Format("2006/1/2"); got != want {
		t.Errorf("the token was created on %q, want the hall's day %q", got, want)
	}

	// A notice from tomorrow 09:30, typed in the hall's time.
	tomorrow := h.clock.Now().AddDate(0, 0, 1)
	from := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 9, 30, 0, 0, hall)
	dash.set("#notice-zh", "明天九点半起系统维护")
	browsertest.Eval[bool](dash, fmt.Sprintf(`(document.querySelector("#notice-from").value = %q, true)`, from.Format("2006-01-02T15:04")))
	dash.Click("#notice-post")
	dash.WaitText(5*time.Second, "#board-msg", "已发布到叫号屏 · Posted to the boards")
	var o struct {
		Board struct {
			Notices []struct {
				From time.Time `json:"from"`
			} `json:"notices"`
		} `json:"board"`
	}
	h.api("GET", "overview", h.admin, nil, &o)
	if len(o.Board.Notices) != 1 {
		t.Fatalf("the server's notices: %+v", o.Board.Notices)
	}
	if !o.Board.Notices[0].From.Equal(from) {
		t.Errorf("the notice starts %v, want %v (09:30 in the hall)", o.Board.Notices[0].From, from)
	}
	dash.WaitFor(5*time.Second, `document.querySelectorAll("#notice-list tr[data-notice]").length === 1`)
	if got, want := dash.Text("#notice-list tr[data-notice] td:nth-child(3)"), from.Format("2006/01/02 15:04"); got != want {
		t.Errorf("the notice list shows its start as %q, want %q", got, want)
	}

	// A helper call, taken up from the dashboard: when, in the hall's time.
	mine := h.issue("E")
	if st, body := h.try("POST", "help", "", map[string]string{"ticket": mine.ID}); st != 201 {
		t.Fatalf("help call: %d %s", st, body)
	}
	dash.WaitText(5*time.Second, "#help-count", "(1)")
	dash.Click(`#help-calls button[aria-label="前往处理 On my way: 号码 Ticket ` + mine.Number + `"]`)
	dash.WaitFor(5*time.Second, `document.querySelector("#help-done").textContent.includes("号码 Ticket `+mine.Number+`")`)
	var calls []struct {
		Number string    `json:"number"`
		AckBy  string    `json:"ack_by"`
		AckAt  time.Time `json:"ack_at"`
	}
	h.api("GET", "help", h.admin, nil, &calls)
	if len(calls) != 1 || calls[0].AckAt.IsZero() {
		t.Fatalf("the server's calls: %+v", calls)
	}
	done := dash.Text("#help-done")
	if got, want := clockText(done, calls[0].AckBy, false), calls[0].AckAt.In(hall).Format("15:04"); got != want {
		t.Errorf("taken up shown at %q (%q), want %q", got, done, want)
	}

	// The phone page: "updated" is the hall's wall time now.
	phone := b.MustTab(t, 390, 844)
	phone.Open(h.Server.URL + "/t/" + mine.ID)
	phone.WaitFor(5*time.Second, `document.querySelector("#updated").textContent.startsWith("更新于 ")`)
	shown := clockText(phone.Text("#updated"), "更新于", true)
	now := time.Now().In(hall)
	at, err := time.ParseInLocation("2006-01-02 15:04:05", now.Format("2006-01-02 ")+shown, hall)
	if err != nil {
		t.Fatalf("updated %q: %v", phone.Text("#updated"), err)
	}
	if d := now.Sub(at); d > 12*time.Hour {
		at = at.AddDate(0, 0, 1) // shown before midnight, read after
	} else if d < -12*time.Hour {
		at = at.AddDate(0, 0, -1)
	}
	if d := now.Sub(at); d < -time.Minute || d > 10*time.Minute { // the page polled a moment ago; New York is 12 or 13 hours away
		t.Errorf("the phone page says %q at %s in the hall", phone.Text("#updated"), now.Format("15:04:05"))
	}

	// The day report opens on the hall's today.
	rep := b.MustTab(t, 1280, 900)
	rep.Open(h.Server.URL + "/report")
	rep.login(h.admin)
	rep.WaitFor(5*time.Second, `!document.querySelector("#report").hidden`)
	if got, want := browsertest.Eval[string](rep, `document.querySelector("#day").value`), h.clock.Now().Format("2006-01-02"); got != want {
		t.Errorf("the report opens on %q, want the hall's today %q", got, want)
	}
}
