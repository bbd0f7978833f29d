package browsertest

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// pages serves the little pages these tests drive, on loopback.
func pages(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	page := func(path, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>%s</title></head><body><main><h1>%s</h1>%s</main></body></html>`, path, path, body)
		})
	}
	// goes on to /b by itself, a moment after it loads
	page("/a", `<script>setTimeout(() => { location.href = "/b"; }, 150);</script>`)
	page("/b", `<p id="here">b</p>`)
	// its element comes later; a condition on it throws until then
	page("/late", `<script>setTimeout(() => { const p = document.createElement("p"); p.id = "late"; p.dataset.ok = "1"; document.querySelector("main").append(p); }, 200);</script>`)
	// the button moves down while the page above it grows, frame after frame
	page("/moving", `<div id="grow"></div><button id="go" type="button">go</button>
<script>
window.taps = [];
document.querySelector("#go").addEventListener("click", () => window.taps.push("go"));
let n = 0;
const grow = () => { if (n++ < 30) { const p = document.createElement("p"); p.textContent = "row " + n; document.querySelector("#grow").append(p); requestAnimationFrame(grow); } };
requestAnimationFrame(grow);
</script>`)
	page("/throws", `<script>setTimeout(() => { throw new Error("the page broke"); }, 0);</script>`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// recorder is a test whose errors are kept, to check what a tab reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestTab(t *testing.T) {
	b := MustBrowser(t, Config{})
	base := pages(t)

	t.Run("a wait across a navigation is not yet, not a failure", func(t *testing.T) {
		tb := b.MustTab(t, 800, 600)
		tb.Open(base + "/a")
		tb.WaitFor(3*time.Second, `location.pathname === "/b" && document.readyState === "complete" && !!document.querySelector("#here")`)
	})

	t.Run("a condition on an element not there yet is not yet", func(t *testing.T) {
		tb := b.MustTab(t, 800, 600)
		tb.Open(base + "/late")
		if tb.Holds(`document.querySelector("#late").dataset.ok === "1"`) {
			t.Fatal("held before the element was there")
		}
		tb.WaitFor(3*time.Second, `document.querySelector("#late").dataset.ok === "1"`)
	})

	t.Run("a tap waits for its target to stop moving", func(t *testing.T) {
		tb := b.MustTab(t, 800, 600)
		tb.Open(base + "/moving")
		tb.Click("#go")
		tb.WaitFor(time.Second, `window.taps.length === 1`)
	})

	t.Run("each tab has its own cookies", func(t *testing.T) {
		one, two := b.MustTab(t, 800, 600), b.MustTab(t, 800, 600)
		one.Open(base + "/b")
		two.Open(base + "/b")
		Eval[bool](one, `(document.cookie = "who=one; path=/", true)`)
		if got := Eval[string](one, `document.cookie`); got != "who=one" {
			t.Fatalf("the tab's own cookie: %q", got)
		}
		if got := Eval[string](two, `document.cookie`); got != "" {
			t.Fatalf("another tab sees %q", got)
		}
	})

	t.Run("axe-core is found from the module root", func(t *testing.T) {
		src, err := axeSource()
		if err != nil || !strings.Contains(src, "axe") {
			t.Fatalf("axe-core: %d bytes, %v", len(src), err)
		}
		tb := b.MustTab(t, 800, 600)
		tb.Open(base + "/b")
		tb.Axe()
	})

	var r *recorder
	t.Run("an exception in the page", func(t *testing.T) {
		r = &recorder{TB: t}
		tb := b.MustTab(r, 800, 600)
		tb.Open(base + "/throws")
		tb.WaitFor(time.Second, `document.readyState === "complete"`)
		// the console reports the exception a moment later: wait until the tab has it
		for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			tb.mu.Lock()
			n := len(tb.bad)
			tb.mu.Unlock()
			if n > 0 {
				break
			}
			if time.Since(start) > WaitLimit(time.Second) {
				t.Fatal("the tab never heard of the exception")
			}
		}
	})
	if r == nil || len(r.errs) != 1 || !strings.Contains(r.errs[0], "page problem") || !strings.Contains(r.errs[0], "the page broke") {
		t.Errorf("the page's exception was reported as %q, want one page problem", r.errs)
	}
}
