package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"hallq/ui/web"
)

// TestHandler checks the routes and the rules the CSP enforces in the
// browser: no inline scripts and no inline event handlers in any page.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=`)
	for _, path := range []string{"/", "/display", "/display/window/3", "/clerk", "/rate/5", "/dashboard", "/t/abc123", "/remote"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if m := inline.Find(body); m != nil {
			t.Errorf("%s has inline script or handler: %q", path, m)
		}
		if !strings.Contains(string(body), `<html lang="`) {
			t.Errorf("%s has no lang attribute", path)
		}
	}
	for path, want := range map[string]int{"/assets/js/hallq.js": 200, "/assets/hallq.css": 200, "/nope": 404, "/assets/": 404, "/assets/js/": 404} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
	}
}
