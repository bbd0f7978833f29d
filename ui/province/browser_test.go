package province_test

// The browser every page's tests drive (as hallq/ui/web's tests): real
// headless Chromium, one browser context per tab (its own cookies: one
// signed-in person), page problems failing the test, axe and screenshots.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshots = flag.String("screenshots", "", "write a screenshot of each province page into this directory (e.g. ../../docs/screenshots)")

const chromium = "/usr/bin/chromium"

// ---- the browser (as ui/web's tests) ----

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
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900))
	t.Cleanup(cancel)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// tab is one page in its own browser context (its own cookies: one
// signed-in person). Uncaught exceptions and security messages (CSP
// violations) fail the test when it ends.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	bad []string
}

func (b *browser) tab(t *testing.T, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
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

// waitFor polls a JavaScript expression until it is true. within is how
// soon a person would expect it; it fails only after ten times that (at
// least 30 s), so a busy machine does not fail it.
func (tb *tab) waitFor(within time.Duration, expr string) {
	tb.t.Helper()
	start, limit := time.Now(), max(10*within, 30*time.Second)
	for {
		ok, err := func() (bool, error) {
			ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
			defer cancel()
			return chromedp.Run(ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
		}()
		if err == nil && ok {
			if took := time.Since(start); took > within {
				tb.t.Logf("took %v (expected within %v): %s", took.Round(time.Millisecond), within, expr)
			}
			return
		}
		if time.Since(start) > limit {
			tb.t.Fatalf("not true within %v: %s (%v)\npage: %s", limit, expr, err, eval[string](tb, `location.href + "\n" + document.body.innerText.slice(0, 800)`))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	tb.waitFor(3*time.Second, fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || "").includes(%q)`, sel, want))
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

var axeSource = sync.OnceValue(func() string {
	b, err := os.ReadFile("../web/testdata/axe.min.js") // vendored once, for every page's tests
	if err != nil {
		panic(err)
	}
	return string(b)
})

// axe runs axe-core in the page and fails on serious or critical violations.
func (tb *tab) axe() {
	tb.t.Helper()
	if !eval[bool](tb, `typeof axe === "object"`) {
		eval[any](tb, axeSource()+";0")
	}
	found := eval[[]string](tb, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`)
	for _, v := range found {
		tb.t.Errorf("accessibility (%s): %s", eval[string](tb, "location.pathname"), v)
	}
}

// shot writes a screenshot when -screenshots is given.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	if *screenshots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, "province-"+name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}
