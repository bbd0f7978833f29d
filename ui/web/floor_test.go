package web_test

import (
	"testing"
	"time"
)

// The phone status page's postpone (暂离): the citizen presses it, confirms,
// and the server moves the ticket back once; the page shows the new place
// and no longer offers it.
func TestPhonePostpone(t *testing.T) {
	b := MustBrowser(t)
	h := MustStartHall(t)
	var mine ticket
	for i := range 7 {
		tk := h.issue("E")
		if i == 0 {
			mine = tk
		}
	}
	tb := b.MustTab(t, 390, 844)
	tb.open(h.srv.URL + "/t/" + mine.ID)
	tb.waitText(3*time.Second, "#ahead", "0 人")
	tb.waitFor(time.Second, `!document.querySelector("#postpone").hidden`)
	tb.axe()
	tb.click("#postpone")
	tb.waitFor(time.Second, `!document.querySelector("#postpone-ask").hidden`)
	// changing one's mind changes nothing
	tb.click("#postpone-no")
	tb.waitFor(time.Second, `document.querySelector("#postpone-ask").hidden && !document.querySelector("#postpone").hidden`)
	if h.getTicket(mine.ID)["postponed"] == true {
		t.Fatal("no was postponed")
	}
	tb.click("#postpone")
	tb.shot("status-postpone")
	tb.click("#postpone-yes")
	tb.waitText(3*time.Second, "#floor-note", "已为您向后顺延，请留意叫号。")
	got := h.waitTicket(mine.ID, "postponed", true)
	if got["position"].(float64) != 5 {
		t.Errorf("position after postponing: %v, want 5 (the default five places)", got["position"])
	}
	tb.waitText(3*time.Second, "#ahead", "5 人")
	tb.waitFor(time.Second, `document.querySelector("#postpone").hidden`)
	tb.click("#lang")
	tb.waitText(time.Second, "#floor-note", "You have been moved back. Please watch for your number.")
	tb.axe()
	// a reload: the page says it was used, and offers it no more
	tb.open(h.srv.URL + "/t/" + mine.ID)
	tb.waitText(3*time.Second, "#floor-note", "You have already used this once.")
	tb.waitFor(time.Second, `document.querySelector("#postpone").hidden`)
}
