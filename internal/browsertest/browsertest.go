// Package browsertest drives the system's web pages in real headless
// Chromium for tests: the hall's pages (ui/web), the citizen portal
// (ui/portal), the province's pages (ui/province) and the platform's
// rating and notification pages (central/rating, central/notify). It is
// used only by tests, and it is the one home of github.com/chromedp.
//
// A [Browser] is one Chromium process a test's subtests share; it skips
// the test when Chromium is not installed (make deps). Each [Tab] is one
// page in a browser context of its own: its own cookies and storage, so
// one tab is one person ([Tab.MustTabBeside] opens a second tab of the
// same browser, for a page that must find what another left). Uncaught
// exceptions and security messages (CSP violations) in a tab fail the
// test when it ends. Every tab's clock runs in a zone far from the halls'
// ([BrowserZone], or the suite's [Config.TimeZone]), as a manager's laptop
// or a citizen's phone abroad may: a page that shows a time in the
// browser's zone instead of the hall's shows the wrong time in a test.
//
// A tab acts as a person would and waits as a person would:
//   - [Tab.WaitFor] polls a condition until it holds. It is given how soon
//     a person would expect it and fails only after [WaitLimit] of that (a
//     busy machine is slow; no test fails on a timing). While the page is
//     being replaced (a navigation) or the condition throws (its element
//     is not there yet), the answer is "not yet".
//   - [Tab.Click] taps an element as a finger would, at its centre, once
//     the element has been the same element in the same place for three
//     frames ([Tab.Settle]): a list re-rendered from the event stream
//     replaces its rows, and a page still growing moves what is below.
//   - [Tab.Axe] runs axe-core (the copy vendored in
//     ui/web/testdata/axe.min.js) and fails on serious or critical
//     violations; [Tab.Shot] writes a screenshot when the suite was asked
//     for them (its -screenshots flag), named with the suite's prefix.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
)

// Chromium is where the tests expect the browser (scripts/deps.sh installs it).
const Chromium = "/usr/bin/chromium"

// step is how long one command to the browser may take before the test
// fails: far beyond what a person would wait, so only a browser that
// stopped answering reaches it.
const step = 30 * time.Second

// Config is how a suite's browser starts and where its screenshots go.
type Config struct {
	// Width and Height are the browser window's size; each tab sets its
	// own viewport. Zero is 1920×1080.
	Width, Height int64
	// Screenshots is the directory Shot writes into; empty writes none
	// (each suite passes its -screenshots flag).
	Screenshots string
	// Prefix begins each screenshot's file name ("web-", "province-",
	// "portal-"), so that the suites share docs/screenshots.
	Prefix string
	// FullPage makes Shot capture the whole page, not only the viewport.
	FullPage bool
	// FromTop makes Shot take the focus away and scroll to the top first:
	// the page as a person first sees it.
	FromTop bool
	// TimeZone is the zone every tab's browser is set to (an IANA name);
	// empty is [BrowserZone]. Pages must show the hall's times whatever
	// this is.
	TimeZone string
}

// BrowserZone is the browser's zone when a suite names none: a manager's
// laptop or a citizen's phone far from the hall, in a zone whose offset
// and daylight saving differ from every hall's (halls are in China, and
// the tests pin non-UTC hall zones), so a time formatted in the browser's
// zone instead of the hall's shows up in a test.
const BrowserZone = "America/New_York"

// Browser is one headless Chromium for a test and its subtests.
type Browser struct {
	ctx context.Context
	cfg Config
}

// MustBrowser starts Chromium for t, stopped when t ends; t is skipped
// when Chromium is not installed.
func MustBrowser(t testing.TB, cfg Config) *Browser {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Skipf("browser tests need Chromium at %s (make deps): %v", Chromium, err)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		cfg.Width, cfg.Height = 1920, 1080
	}
	if cfg.TimeZone == "" {
		cfg.TimeZone = BrowserZone
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(Chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(int(cfg.Width), int(cfg.Height)))
	t.Cleanup(cancel)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &Browser{ctx: ctx, cfg: cfg}
}

// Tab is one page at one viewport, in a browser context of its own.
type Tab struct {
	// T is the test the tab reports to.
	T   testing.TB
	ctx context.Context
	cfg Config
	mu  sync.Mutex
	bad []string
}

// MustTab opens a tab of width×height CSS pixels in a new browser context
// (its own cookies and storage: one person, one device), its clock in the
// suite's [Config.TimeZone], closed when t
// ends. Page problems (uncaught exceptions, security messages such as CSP
// violations) fail t when it ends.
func (b *Browser) MustTab(t testing.TB, width, height int64) *Tab {
	t.Helper()
	return mustTab(t, b.ctx, b.cfg, width, height, chromedp.WithNewBrowserContext())
}

// MustTabBeside opens another tab in tb's browser context: the same
// browser on the same device, sharing its cookies and storage (a page
// opened again after a restart, a second screen of the same machine).
func (tb *Tab) MustTabBeside(t testing.TB, width, height int64) *Tab {
	t.Helper()
	return mustTab(t, tb.ctx, tb.cfg, width, height)
}

func mustTab(t testing.TB, parent context.Context, cfg Config, width, height int64, opts ...chromedp.ContextOption) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	tb := &Tab{T: t, ctx: ctx, cfg: cfg}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		cancel()
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: cfg.TimeZone}); err != nil {
		cancel()
		t.Fatalf("browser zone %s: %v", cfg.TimeZone, err)
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

// Page is a Tab, or a suite's type that embeds one (with the suite's own
// steps: signing in, …).
type Page interface{ tab() *Tab }

func (tb *Tab) tab() *Tab { return tb }

func (tb *Tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.T.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.T.Fatal(err)
	}
}

// Open navigates to url and waits for the page to load.
func (tb *Tab) Open(url string) { tb.T.Helper(); tb.do(chromedp.Navigate(url)) }

// Reload loads the page again, as the browser's reload button.
func (tb *Tab) Reload() { tb.T.Helper(); tb.do(chromedp.Reload()) }

// Eval evaluates a JavaScript expression (a promise is awaited) into a T;
// an error fails the test.
func Eval[T any](p Page, expr string) T {
	tb := p.tab()
	tb.T.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.T.Fatalf("%s: %v", expr, err)
	}
	return v
}

// WaitLimit is how long WaitFor waits before it fails: ten times what a
// person would expect, and at least 30 s.
func WaitLimit(within time.Duration) time.Duration { return max(10*within, 30*time.Second) }

// WaitFor polls a JavaScript condition until it is true and returns how
// long that took. within is how soon a person would expect it; a test does
// not fail on a timing (a busy machine is slow, benchmarks measure speed),
// so it fails only when the condition stays false for WaitLimit(within),
// and logs a wait beyond within.
func (tb *Tab) WaitFor(within time.Duration, expr string) time.Duration {
	tb.T.Helper()
	start, limit := time.Now(), WaitLimit(within)
	for {
		ok, why := tb.holds(expr)
		if ok {
			took := time.Since(start)
			if took > within {
				tb.T.Logf("took %v (expected within %v): %s", took.Round(time.Millisecond), within, expr)
			}
			return took
		}
		if time.Since(start) > limit {
			last := ""
			if why != nil {
				last = fmt.Sprintf(" (last answer: %v)", why)
			}
			tb.T.Fatalf("not true within %v: %s%s\npage %s", limit, expr, last, Eval[string](tb, `location.href + "\n" + document.body.innerText.slice(0, 800)`))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Holds evaluates a condition once, as WaitFor does: false while the page
// is being replaced or while the condition throws.
func (tb *Tab) Holds(expr string) bool {
	tb.T.Helper()
	ok, _ := tb.holds(expr)
	return ok
}

// holds evaluates a condition that may be waiting on a navigation: while
// the page is being replaced the browser answers "Inspected target
// navigated or closed" or loses the execution context, and a condition on
// an element not there yet throws; each means "not yet" (the error says
// why), not a failure. Other errors (the browser gone) fail the test.
func (tb *Tab) holds(expr string) (bool, error) {
	tb.T.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		if navigating(err) {
			return false, err
		}
		if _, thrown := errors.AsType[*chromedp.ExceptionError](err); thrown {
			return false, err
		}
		tb.T.Fatalf("%s: %v", expr, err)
	}
	return v, nil
}

// navigating reports whether err is the browser's answer while the page
// is being replaced.
func navigating(err error) bool {
	m := err.Error()
	return strings.Contains(m, "navigated or closed") || strings.Contains(m, "context was destroyed") || strings.Contains(m, "Cannot find context")
}

// Text returns the text of the first element that matches a CSS selector
// ("" when none does).
func (tb *Tab) Text(sel string) string {
	tb.T.Helper()
	return Eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

// WaitText waits, as WaitFor, until the first element that matches sel
// contains want.
func (tb *Tab) WaitText(within time.Duration, sel, want string) {
	tb.T.Helper()
	tb.WaitFor(within, fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || "").includes(%q)`, sel, want))
}

// Settle brings the element sel names into view and waits until it has
// been the same element in the same place for three frames (at most two
// seconds): a list re-rendered from the stream replaces its rows, and a
// page still growing moves what is below.
func (tb *Tab) Settle(sel string) {
	tb.T.Helper()
	tb.Holds(fmt.Sprintf(`new Promise((done) => {
		let last = "", node = null, still = 0, frames = 0;
		const look = () => {
			const e = document.querySelector(%q);
			if (e && e !== node) { node = e; still = 0; e.scrollIntoView({block: "center", inline: "center"}); }
			const b = e ? e.getBoundingClientRect() : null, now = b ? [b.x, b.y, b.width, b.height].join() : "";
			still = e && now === last ? still + 1 : 0;
			last = now;
			if (still >= 3 || ++frames > 120) done(true); else requestAnimationFrame(look);
		};
		requestAnimationFrame(look);
	})`, sel))
}

// Click presses the element sel names as a person's tap would: a mouse
// event at its centre, so whatever covers it gets the tap instead. It
// waits for the element, then until it has stopped moving (Settle): a tap
// computed while the page above was still growing landed beside the
// button. A row replaced between the look and the tap is found again.
func (tb *Tab) Click(sel string) {
	tb.T.Helper()
	tb.WaitFor(time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
	for i := 0; ; i++ {
		tb.Settle(sel)
		ctx, cancel := context.WithTimeout(tb.ctx, step)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
		cancel()
		if err == nil {
			return
		}
		if i == 10 || !strings.Contains(err.Error(), "Could not find node") {
			tb.T.Fatalf("click %s: %v", sel, err)
		}
	}
}

// Key presses keys on the keyboard (into the element that has the focus).
func (tb *Tab) Key(keys string) { tb.T.Helper(); tb.do(chromedp.KeyEvent(keys)) }

// Type types text into the element sel names, once it is visible, as a
// person typing would (after what is there; "\r" is Enter).
func (tb *Tab) Type(sel, text string) {
	tb.T.Helper()
	tb.do(chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// SetValue sets the value of the input or select sel names, once it is
// visible (a select's option picked).
func (tb *Tab) SetValue(sel, value string) {
	tb.T.Helper()
	tb.do(chromedp.SetValue(chromedp.CSS(sel), value, chromedp.NodeVisible))
}

// Upload puts files into the file input sel names, as a person choosing them.
func (tb *Tab) Upload(sel string, files ...string) {
	tb.T.Helper()
	tb.do(chromedp.SetUploadFiles(chromedp.CSS(sel), files))
}

// Media emulates a CSS media type ("print", or "" for the screen).
func (tb *Tab) Media(m string) {
	tb.T.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		tb.T.Fatal(err)
	}
}

// Grant allows origin the named permissions in this tab's browser context
// ("notifications", "push"), as a person answering the browser's question
// "Allow".
func (tb *Tab) Grant(origin string, names ...string) {
	tb.T.Helper()
	c := chromedp.FromContext(tb.ctx)
	for _, name := range names {
		if _, err := cdp.Call(tb.ctx, c.Browser, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, UserVisibleOnly: name == "push"}, Setting: browser.PermissionSettingGranted,
			Origin: origin, BrowserContextID: c.BrowserContextID}); err != nil {
			tb.T.Fatalf("grant %s to %s: %v", name, origin, err)
		}
	}
}

// ServiceWorkers starts reporting, for the tab's life, the service worker
// registrations whose scope begins with prefix, as the browser reports
// them (a registration may be reported more than once).
func (tb *Tab) ServiceWorkers(prefix string) <-chan string {
	tb.T.Helper()
	regs := make(chan string, 8)
	tb.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		evs := cdp.Events(tb.ctx, tg, serviceworker.WorkerRegistrationUpdated) // subscribed now, read for the tab's life
		go func() {
			for ev, err := range evs {
				if err != nil {
					return
				}
				for _, r := range ev.Registrations {
					if strings.HasPrefix(r.ScopeURL, prefix) && !r.IsDeleted {
						select {
						case regs <- string(r.RegistrationID):
						default:
						}
					}
				}
			}
		}()
		_, err := cdp.Call(ctx, tg, serviceworker.Enable, cdp.Empty{})
		return chromedp.Void{}, err
	})
	return regs
}

// Push delivers a push message with data to the service worker
// registration of origin, as the browser's push service would.
func (tb *Tab) Push(origin, registration, data string) {
	tb.T.Helper()
	tb.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
			Origin: origin, RegistrationID: serviceworker.RegistrationID(registration), Data: data})
		return chromedp.Void{}, err
	})
}

// axeSource is axe-core as ui/web/testdata vendors it, found from the
// module's root (the directory with go.mod above the test's own).
var axeSource = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(dir, "ui", "web", "testdata", "axe.min.js"))
			return string(b), err
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = up
	}
})

// Axe runs axe-core in the page and fails on serious or critical violations.
func (tb *Tab) Axe() {
	tb.T.Helper()
	if !Eval[bool](tb, `typeof axe === "object"`) {
		src, err := axeSource()
		if err != nil {
			tb.T.Fatalf("axe-core (ui/web/testdata/axe.min.js): %v", err)
		}
		Eval[any](tb, src+";0")
	}
	found := Eval[[]string](tb, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`)
	for _, v := range found {
		tb.T.Errorf("accessibility (%s): %s", Eval[string](tb, `location.pathname + location.search`), v)
	}
}

// Shot writes a screenshot as <Screenshots>/<Prefix><name>.png when the
// suite's Config names a directory.
func (tb *Tab) Shot(name string) {
	tb.T.Helper()
	if tb.cfg.Screenshots == "" {
		return
	}
	if tb.cfg.FromTop {
		Eval[bool](tb, `(document.activeElement && document.activeElement.blur && document.activeElement.blur(), window.scrollTo(0, 0), true)`)
	}
	capture := chromedp.CaptureScreenshot()
	if tb.cfg.FullPage {
		capture = chromedp.FullScreenshot(100)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		tb.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tb.cfg.Screenshots, tb.cfg.Prefix+name+".png"), png, 0o644); err != nil {
		tb.T.Fatal(err)
	}
}
