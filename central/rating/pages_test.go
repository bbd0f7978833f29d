package rating_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hallq/queue-server/hall"
)

const chromium = "/usr/bin/chromium"

var screenshots = flag.String("screenshots", "", "write screenshots of the live-waits, ticket and rating pages into this directory (e.g. ../../docs/screenshots)")

// browser is one headless Chromium; each page runs in its own tab.
type browser struct{ ctx context.Context }

func mustBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("browser tests need Chromium at %s (make deps): %v", chromium, err)
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1920, 1080))
	t.Cleanup(cancel)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// tab is one page; uncaught exceptions and CSP violations fail the test.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	bad []string
}

func (b *browser) tab(t *testing.T, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Source == "security" {
				tb.mu.Lock()
				tb.bad = append(tb.bad, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, m := range tb.bad {
			t.Errorf("page problem: %s", m)
		}
	})
	return tb
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) open(url string) { tb.t.Helper(); tb.do(chromedp.Navigate(url)) }

func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript expression until it is true; it fails only
// after 60 s (a person would expect a few seconds; no test fails on a
// timing) and logs a slow one.
// holds evaluates a condition that may be waiting on a navigation: while
// the page is being replaced the browser answers "Inspected target
// navigated or closed" or loses the execution context, which means "not
// yet", not a failure. Other errors fail the test.
func (tb *tab) holds(expr string) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		if m := err.Error(); strings.Contains(m, "navigated or closed") || strings.Contains(m, "context was destroyed") || strings.Contains(m, "Cannot find context") {
			return false
		}
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (tb *tab) waitFor(expr string) {
	tb.t.Helper()
	start := time.Now()
	for !tb.holds(expr) {
		if time.Since(start) > 60*time.Second {
			tb.t.Fatalf("not true within 60 s: %s\npage: %s", expr, eval[string](tb, `document.body.innerText.slice(0, 800)`))
		}
		time.Sleep(25 * time.Millisecond)
	}
	if d := time.Since(start); d > 5*time.Second {
		tb.t.Logf("took %v: %s", d.Round(time.Millisecond), expr)
	}
}

func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || "").includes(%q)`, sel, want))
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// axe runs axe-core (vendored with the hall pages' tests) and fails on
// serious or critical violations.
func (tb *tab) axe() {
	tb.t.Helper()
	if !eval[bool](tb, `typeof axe === "object"`) {
		src, err := os.ReadFile(filepath.Join("..", "..", "ui", "web", "testdata", "axe.min.js"))
		if err != nil {
			tb.t.Fatal(err)
		}
		eval[any](tb, string(src)+";0")
	}
	found := eval[[]string](tb, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`)
	for _, v := range found {
		tb.t.Errorf("accessibility: %s", v)
	}
}

func (tb *tab) shot(name string) {
	tb.t.Helper()
	if *screenshots == "" {
		return
	}
	eval[bool](tb, `(document.activeElement && document.activeElement.blur && document.activeElement.blur(), window.scrollTo(0, 0), true)`)
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, "portal-"+name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
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
				tb := b.tab(t, v.width, v.height)

				// ---- live waits ----
				n++
				first := w.Issue(fmt.Sprintf("first-%d", n), "E")
				eventually(t, "the ticket reaches the central", func() bool { return w.Ticket(first.ID).Status == string(hall.Waiting) })
				tb.open(w.P.URL() + "/waits?lang=" + lang)
				tb.waitText(`[data-hall="420102-01"] h2`, wd["hall"])
				tb.waitText(`[data-hall="420102-01"] [data-field=slots]`, "E ")
				tb.waitText(`[data-hall="420103-09"] [data-field=fresh]`, wd["slow"])
				if cls := eval[string](tb, `document.querySelector('[data-hall="420103-09"] [data-field=fresh]').className`); cls != "stale" {
					t.Errorf("the slow hall's freshness is %q, not marked stale", cls)
				}
				tb.waitFor(`!!document.querySelector('#matter option[value="consult"]')`)
				eval[bool](tb, `(() => { const s = document.querySelector('#matter'); s.focus(); s.value = 'consult'; s.dispatchEvent(new Event('change')); return true })()`)
				tb.waitText("#best-text", wd["hall"]) // the fresh hall is the least busy one worth recommending
				tb.waitText(`[data-hall="420102-01"] h2`, wd["best"])
				tb.do(chromedp.SendKeys(chromedp.CSS("#q"), "420103"))
				tb.waitFor(`document.querySelectorAll('#halls > li').length === 1 && !!document.querySelector('[data-hall="420103-09"]')`)
				eval[bool](tb, `(() => { const q = document.querySelector('#q'); q.value = ''; q.dispatchEvent(new Event('input')); return true })()`)
				tb.waitFor(`document.querySelectorAll('#halls > li').length === 2`)
				// Refresh reads the server again: a ticket issued since shows.
				before := tb.text(`[data-hall="420102-01"] [data-field=hall-waiting]`)
				mine := w.Issue(fmt.Sprintf("mine-%d", n), "E")
				eventually(t, "the ticket reaches the central", func() bool { return w.Ticket(mine.ID).Status == string(hall.Waiting) })
				tb.click("#refresh")
				tb.waitFor(fmt.Sprintf(`document.querySelector('[data-hall="420102-01"] [data-field=hall-waiting]').textContent !== %q`, before))
				tb.axe()
				if shot {
					tb.shot("waits-" + v.name + "-" + lang)
				}
				// The header's controls: large text, high contrast, language.
				tb.click("#large")
				tb.waitFor(`document.documentElement.classList.contains('large-text') && document.querySelector('#large').getAttribute('aria-pressed') === 'true'`)
				tb.click("#large")
				tb.click("#contrast")
				tb.waitFor(`document.documentElement.classList.contains('high-contrast')`)
				tb.axe()
				tb.click("#contrast")
				tb.waitFor(`!document.documentElement.classList.contains('high-contrast') && !document.documentElement.classList.contains('large-text')`)
				if got := tb.text("#lang"); got != wd["lang"] {
					t.Errorf("language button %q", got)
				}
				tb.click("#lang")
				other := map[string]string{"zh": "en", "en": "zh"}[lang]
				tb.waitText(`[data-hall="420102-01"] h2`, words[other]["hall"])
				tb.click("#lang")
				tb.waitText(`[data-hall="420102-01"] h2`, wd["hall"])
				// A next free slot leads to booking it (the portal's /book page).
				tb.click(`[data-hall="420102-01"] [data-field=slots] a`)
				tb.waitFor(`location.pathname === '/book' && new URL(location.href).searchParams.get('hall') === '420102-01' && new URL(location.href).searchParams.get('service') === 'E'`)

				// ---- follow a ticket: waiting, called, done ----
				tb.open(w.P.URL() + "/t/" + mine.ID + "?lang=" + lang)
				tb.waitText("#number", mine.Number)
				tb.waitText("#ahead", wd["ahead"])
				tb.waitText("#guide", wd["material"])
				if f := tb.text("#fresh"); !strings.Contains(f, ":") {
					t.Errorf("freshness %q", f)
				}
				tb.axe()
				if shot {
					tb.shot("ticket-waiting-" + v.name + "-" + lang)
				}
				// The checklist folds and unfolds; the header's controls work here too.
				tb.click("#guide-list summary")
				tb.waitFor(`!document.querySelector('#guide-list details').open`)
				tb.click("#guide-list summary")
				tb.waitFor(`document.querySelector('#guide-list details').open`)
				tb.click("#lang")
				tb.waitText("#number-label", map[string]string{"zh": "Your number", "en": "您的号码"}[lang])
				tb.click("#lang")
				tb.waitText("#number-label", map[string]string{"zh": "您的号码", "en": "Your number"}[lang])
				tb.click("#large")
				tb.waitFor(`document.documentElement.classList.contains('large-text')`)
				tb.click("#large")
				// Rating before the visit is done: the page says so.
				rt := b.tab(t, v.width, v.height)
				rt.open(w.P.URL() + "/rate/" + mine.ID + "?lang=" + lang)
				rt.waitText("#intro", wd["notdone"])
				if eval[bool](rt, `!document.querySelector('#form').hidden`) {
					t.Error("the rating form is offered before the visit is done")
				}
				w.Serve(1, first.ID)
				if _, ok, err := w.Hall.Admin.Call(ctx, "call-"+mine.ID, 1, mine.ID); err != nil || !ok {
					t.Fatalf("call: %v %v", ok, err)
				}
				eventually(t, "the central sees the call", func() bool { return w.Ticket(mine.ID).Status == string(hall.Called) })
				tb.click("#refresh")
				tb.waitText("#called", wd["window"])
				tb.axe()
				if shot {
					tb.shot("ticket-called-" + v.name + "-" + lang)
				}
				for _, a := range []string{hall.ActStart, hall.ActComplete} {
					if _, err := w.Hall.Admin.Act(ctx, a+"-"+mine.ID, mine.ID, a, nil); err != nil {
						t.Fatal(err)
					}
				}
				eventually(t, "the central sees the visit done", func() bool { return w.Ticket(mine.ID).Status == string(hall.Done) })
				tb.click("#refresh")
				tb.waitText("#status", wd["done"])
				tb.waitText("#rate-link", wd["rate"])
				if eval[bool](tb, `!document.querySelector('#called').hidden`) {
					t.Error("the window banner stays after the visit")
				}

				// ---- rate online ----
				tb.click("#rate-link")
				tb.waitFor(`location.pathname.startsWith('/rate/') && !!document.querySelector('#form') && !document.querySelector('#form').hidden`)
				tb.click(`#levels button[data-score="2"]`)
				tb.waitFor(`!document.querySelector('#options-box').hidden && document.querySelector('#send').disabled`) // a low rating needs its reason
				tb.click(`#options input[value="efficiency"]`)
				tb.waitFor(`!document.querySelector('#send').disabled`)
				tb.do(chromedp.SendKeys(chromedp.CSS("#reason"), "wait"))
				tb.axe()
				if shot {
					tb.shot("rate-" + v.name + "-" + lang)
				}
				tb.click("#send")
				tb.waitText("#result", wd["thanks"])
				eventually(t, "the hall's store has the online rating", func() bool { return w.hallRating(mine.ID) != nil })
				if r := w.hallRating(mine.ID); r.Channel != hall.ViaOnline || r.Score != 2 || r.Reason != "wait" || len(r.Indicators) != 1 || r.Indicators[0] != hall.IndEfficiency {
					t.Fatalf("the hall's rating: %+v", r)
				}
				tb.waitText("#result", wd["counted"])
				tb.waitText("#result", w.hallRating(mine.ID).At.In(shanghai).Format("15:04")) // when the hall counted it, in the hall's time
				if shot {
					tb.shot("rate-thanks-" + v.name + "-" + lang)
				}
				if _, err := w.Hall.Admin.Act(ctx, "pad-"+mine.ID, mine.ID, hall.ActRate, &hall.Action{Score: 5}); hall.ErrorReason(err) != string(hall.ReasonAlreadyRated) {
					t.Fatalf("the pad after the online rating: %v", err)
				}
				// Back to the ticket, which now says it is rated.
				tb.click("#back")
				tb.waitFor(`location.pathname.startsWith('/t/')`)
				tb.waitText("#rate-link", map[string]string{"zh": "已评价", "en": "Rated"}[lang])

				// ---- rated at the pad first: the page says so when the citizen sends ----
				other2 := w.Issue(fmt.Sprintf("pad-%d", n), "E")
				w.Serve(1, other2.ID)
				eventually(t, "the central sees it done", func() bool { return w.Ticket(other2.ID).Status == string(hall.Done) })
				tb.open(w.P.URL() + "/rate/" + other2.ID + "?lang=" + lang)
				tb.waitFor(`!document.querySelector('#form').hidden`)
				if _, err := w.Hall.Admin.Act(ctx, "pad-"+other2.ID, other2.ID, hall.ActRate, &hall.Action{Score: 4}); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the central hears of the pad's rating", func() bool { return w.Rating(other2.ID).Status == hall.OnlineRatedElsewhere })
				tb.click(`#levels button[data-score="5"]`)
				tb.click("#send")
				tb.waitText("#result", wd["pad"])
				if r := w.hallRating(other2.ID); r.Channel != hall.ViaWindowPad || r.Score != 4 {
					t.Fatalf("the pad's rating was changed: %+v", r)
				}
				tb.axe()
			})
		}
	}
}
