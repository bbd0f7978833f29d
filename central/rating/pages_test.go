package rating_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/internal/browsertest"
	"hallq/queue-server/hall"
)

var screenshots = flag.String("screenshots", "", "write screenshots of the live-waits, ticket and rating pages into this directory (e.g. ../../docs/screenshots)")

// patience is how soon a person would expect these pages to answer: a
// wait fails after browsertest.WaitLimit of it (60 s; no test fails on a
// timing) and logs a slower one.
const patience = 6 * time.Second

// mustBrowser is one headless Chromium (hallq/internal/browsertest);
// each page runs in its own tab, in a browser context of its own.
func mustBrowser(t *testing.T) *browsertest.Browser {
	t.Helper()
	return browsertest.MustBrowser(t, browsertest.Config{Screenshots: *screenshots, Prefix: "portal-", FromTop: true})
}

var views = []struct {
	name          string
	width, height int64
}{{"phone", 390, 844}, {"desktop", 1366, 900}}

// words of the pages the tests look for, per language.
var words = map[string]map[string]string{
	"zh": {"hall": "江岸区公安政务服务中心", "slow": "分钟前更新", "best": "推荐", "window": "请到 1 号窗口", "ahead": "1 人",
		"done": "已办结", "rate": "评价本次服务", "thanks": "谢谢您的评价", "counted": "大厅已收到并计入", "pad": "已在窗口评价器评价过",
		"notdone": "办结后才能评价", "matter": "政策咨询", "material": "居民身份证", "refused": "您的网上评价未计入", "lang": "English"},
	"en": {"hall": "Jiang'an Public Security Service Hall", "slow": "min ago", "best": "Least busy", "window": "Please go to window 1", "ahead": "1",
		"done": "Done", "rate": "Rate this visit", "thanks": "Thank you for your rating", "counted": "The hall has counted it", "pad": "already rated at the window's rating pad",
		"notdone": "once it is done", "matter": "Policy enquiry", "material": "Resident ID card", "refused": "your online rating was not counted", "lang": "中文"},
}

// The portal's live waits, follow-a-ticket and rating pages in real
// Chromium, in Chinese and English, on a phone and a desktop: every
// control is pressed and its effect checked on the server — a ticket
// issued at a real hall is followed on the portal, called (the page says
// which window), served and rated online, and the hall's own store has the
// rating with channel online; the window's pad is refused after it; a
// visit rated at the pad first shows "already rated at the window" when
// the citizen sends a rating; a hall whose link is slow says how old its
// figures are.
func TestPortalFollowAndRate(t *testing.T) {
	w := mustWorld(t)
	b := mustBrowser(t)
	w.MustSetUp("420102-01", "江岸区公安政务服务中心", "Jiang'an Public Security Service Hall", "江岸区")
	if st, body := w.Do("PUT", "/api/v1/staff/catalog", map[string]any{"base_version": 0, "matters": []map[string]any{{
		"code": "consult", "name": map[string]string{"zh": "政策咨询", "en": "Policy enquiry"}, "services": []string{"E"}, "booking": "allowed",
		"materials": []map[string]any{{"name": map[string]string{"zh": "居民身份证", "en": "Resident ID card"}, "original": true}}}}}, w.Admin()...); st != http.StatusOK {
		t.Fatalf("catalogue: %d %s", st, body)
	}
	// A second hall whose last word is 5 minutes old: its link is slow.
	publishHall(t, w.P.JS, "420103-09", time.Now().Add(-5*time.Minute), 9)
	ctx := context.Background()
	if _, err := w.Hall.Admin.SetWindow(ctx, 1, string(hall.WindowOpen), ""); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, lang := range []string{"zh", "en"} {
		for _, v := range views {
			if t.Failed() {
				return
			}
			t.Run(lang+"-"+v.name, func(t *testing.T) {
				wd := words[lang]
				shot := lang == "zh" && v.name == "phone" || lang == "en" && v.name == "desktop"
				tb := b.MustTab(t, v.width, v.height)

				// ---- live waits ----
				n++
				first := w.Issue(fmt.Sprintf("first-%d", n), "E")
				eventually(t, "the ticket reaches the central", func() bool { return w.Ticket(first.ID).Status == string(hall.Waiting) })
				tb.Open(w.P.URL() + "/waits?lang=" + lang)
				tb.WaitText(patience, `[data-hall="420102-01"] h2`, wd["hall"])
				tb.WaitText(patience, `[data-hall="420102-01"] [data-field=slots]`, "E ")
				tb.WaitText(patience, `[data-hall="420103-09"] [data-field=fresh]`, wd["slow"])
				if cls := browsertest.Eval[string](tb, `document.querySelector('[data-hall="420103-09"] [data-field=fresh]').className`); cls != "stale" {
					t.Errorf("the slow hall's freshness is %q, not marked stale", cls)
				}
				tb.WaitFor(patience, `!!document.querySelector('#matter option[value="consult"]')`)
				browsertest.Eval[bool](tb, `(() => { const s = document.querySelector('#matter'); s.focus(); s.value = 'consult'; s.dispatchEvent(new Event('change')); return true })()`)
				tb.WaitText(patience, "#best-text", wd["hall"]) // the fresh hall is the least busy one worth recommending
				tb.WaitText(patience, `[data-hall="420102-01"] h2`, wd["best"])
				tb.Type("#q", "420103")
				tb.WaitFor(patience, `document.querySelectorAll('#halls > li').length === 1 && !!document.querySelector('[data-hall="420103-09"]')`)
				browsertest.Eval[bool](tb, `(() => { const q = document.querySelector('#q'); q.value = ''; q.dispatchEvent(new Event('input')); return true })()`)
				tb.WaitFor(patience, `document.querySelectorAll('#halls > li').length === 2`)
				// Refresh reads the server again: a ticket issued since shows.
				before := tb.Text(`[data-hall="420102-01"] [data-field=hall-waiting]`)
				mine := w.Issue(fmt.Sprintf("mine-%d", n), "E")
				eventually(t, "the ticket reaches the central", func() bool { return w.Ticket(mine.ID).Status == string(hall.Waiting) })
				tb.Click("#refresh")
				tb.WaitFor(patience, fmt.Sprintf(`document.querySelector('[data-hall="420102-01"] [data-field=hall-waiting]').textContent !== %q`, before))
				tb.Axe()
				if shot {
					tb.Shot("waits-" + v.name + "-" + lang)
				}
				// The header's controls: large text, high contrast, language.
				tb.Click("#large")
				tb.WaitFor(patience, `document.documentElement.classList.contains('large-text') && document.querySelector('#large').getAttribute('aria-pressed') === 'true'`)
				tb.Click("#large")
				tb.Click("#contrast")
				tb.WaitFor(patience, `document.documentElement.classList.contains('high-contrast')`)
				tb.Axe()
				tb.Click("#contrast")
				tb.WaitFor(patience, `!document.documentElement.classList.contains('high-contrast') && !document.documentElement.classList.contains('large-text')`)
				if got := tb.Text("#lang"); got != wd["lang"] {
					t.Errorf("language button %q", got)
				}
				tb.Click("#lang")
				other := map[string]string{"zh": "en", "en": "zh"}[lang]
				tb.WaitText(patience, `[data-hall="420102-01"] h2`, words[other]["hall"])
				tb.Click("#lang")
				tb.WaitText(patience, `[data-hall="420102-01"] h2`, wd["hall"])
				// A next free slot leads to booking it (the portal's /book page).
				tb.Click(`[data-hall="420102-01"] [data-field=slots] a`)
				tb.WaitFor(patience, `location.pathname === '/book' && new URL(location.href).searchParams.get('hall') === '420102-01' && new URL(location.href).searchParams.get('service') === 'E'`)

				// ---- follow a ticket: waiting, called, done ----
				tb.Open(w.P.URL() + "/t/" + mine.ID + "?lang=" + lang)
				tb.WaitText(patience, "#number", mine.Number)
				tb.WaitText(patience, "#ahead", wd["ahead"])
				tb.WaitText(patience, "#guide", wd["material"])
				if f := tb.Text("#fresh"); !strings.Contains(f, ":") {
					t.Errorf("freshness %q", f)
				}
				tb.Axe()
				if shot {
					tb.Shot("ticket-waiting-" + v.name + "-" + lang)
				}
				// The checklist folds and unfolds; the header's controls work here too.
				tb.Click("#guide-list summary")
				tb.WaitFor(patience, `!document.querySelector('#guide-list details').open`)
				tb.Click("#guide-list summary")
				tb.WaitFor(patience, `document.querySelector('#guide-list details').open`)
				tb.Click("#lang")
				tb.WaitText(patience, "#number-label", map[string]string{"zh": "Your number", "en": "您的号码"}[lang])
				tb.Click("#lang")
				tb.WaitText(patience, "#number-label", map[string]string{"zh": "您的号码", "en": "Your number"}[lang])
				tb.Click("#large")
				tb.WaitFor(patience, `document.documentElement.classList.contains('large-text')`)
				tb.Click("#large")
				// Rating before the visit is done: the page says so.
				rt := b.MustTab(t, v.width, v.height)
				rt.Open(w.P.URL() + "/rate/" + mine.ID + "?lang=" + lang)
				rt.WaitText(patience, "#intro", wd["notdone"])
				if browsertest.Eval[bool](rt, `!document.querySelector('#form').hidden`) {
					t.Error("the rating form is offered before the visit is done")
				}
				w.Serve(1, first.ID)
				if _, ok, err := w.Hall.Admin.Call(ctx, "call-"+mine.ID, 1, mine.ID); err != nil || !ok {
					t.Fatalf("call: %v %v", ok, err)
				}
				eventually(t, "the central sees the call", func() bool { return w.Ticket(mine.ID).Status == string(hall.Called) })
				tb.Click("#refresh")
				tb.WaitText(patience, "#called", wd["window"])
				tb.Axe()
				if shot {
					tb.Shot("ticket-called-" + v.name + "-" + lang)
				}
				for _, a := range []string{hall.ActStart, hall.ActComplete} {
					if _, err := w.Hall.Admin.Act(ctx, a+"-"+mine.ID, mine.ID, a, nil); err != nil {
						t.Fatal(err)
					}
				}
				eventually(t, "the central sees the visit done", func() bool { return w.Ticket(mine.ID).Status == string(hall.Done) })
				tb.Click("#refresh")
				tb.WaitText(patience, "#status", wd["done"])
				tb.WaitText(patience, "#rate-link", wd["rate"])
				if browsertest.Eval[bool](tb, `!document.querySelector('#called').hidden`) {
					t.Error("the window banner stays after the visit")
				}

				// ---- rate online ----
				tb.Click("#rate-link")
				tb.WaitFor(patience, `location.pathname.startsWith('/rate/') && !!document.querySelector('#form') && !document.querySelector('#form').hidden`)
				tb.Click(`#levels button[data-score="2"]`)
				tb.WaitFor(patience, `!document.querySelector('#options-box').hidden && document.querySelector('#send').disabled`) // a low rating needs its reason
				tb.Click(`#options input[value="efficiency"]`)
				tb.WaitFor(patience, `!document.querySelector('#send').disabled`)
				tb.Type("#reason", "wait")
				tb.Axe()
				if shot {
					tb.Shot("rate-" + v.name + "-" + lang)
				}
				tb.Click("#send")
				tb.WaitText(patience, "#result", wd["thanks"])
				eventually(t, "the hall's store has the online rating", func() bool { return w.hallRating(mine.ID) != nil })
				if r := w.hallRating(mine.ID); r.Channel != hall.ViaOnline || r.Score != 2 || r.Reason != "wait" || len(r.Indicators) != 1 || r.Indicators[0] != hall.IndEfficiency {
					t.Fatalf("the hall's rating: %+v", r)
				}
				tb.WaitText(patience, "#result", wd["counted"])
				tb.WaitText(patience, "#result", w.hallRating(mine.ID).At.In(shanghai).Format("15:04")) // when the hall counted it, in the hall's time
				if shot {
					tb.Shot("rate-thanks-" + v.name + "-" + lang)
				}
				if _, err := w.Hall.Admin.Act(ctx, "pad-"+mine.ID, mine.ID, hall.ActRate, &hall.Action{Score: 5}); hall.ErrorReason(err) != string(hall.ReasonAlreadyRated) {
					t.Fatalf("the pad after the online rating: %v", err)
				}
				// Back to the ticket, which now says it is rated.
				tb.Click("#back")
				tb.WaitFor(patience, `location.pathname.startsWith('/t/')`)
				tb.WaitText(patience, "#rate-link", map[string]string{"zh": "已评价", "en": "Rated"}[lang])

				// ---- rated at the pad first: the page says so when the citizen sends ----
				other2 := w.Issue(fmt.Sprintf("pad-%d", n), "E")
				w.Serve(1, other2.ID)
				eventually(t, "the central sees it done", func() bool { return w.Ticket(other2.ID).Status == string(hall.Done) })
				tb.Open(w.P.URL() + "/rate/" + other2.ID + "?lang=" + lang)
				tb.WaitFor(patience, `!document.querySelector('#form').hidden`)
				if _, err := w.Hall.Admin.Act(ctx, "pad-"+other2.ID, other2.ID, hall.ActRate, &hall.Action{Score: 4}); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the central hears of the pad's rating", func() bool { return w.Rating(other2.ID).Status == hall.OnlineRatedElsewhere })
				tb.Click(`#levels button[data-score="5"]`)
				tb.Click("#send")
				tb.WaitText(patience, "#result", wd["pad"])
				if r := w.hallRating(other2.ID); r.Channel != hall.ViaWindowPad || r.Score != 4 {
					t.Fatalf("the pad's rating was changed: %+v", r)
				}
				tb.Axe()
			})
		}
	}
}
