package pages_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hallq/central/pages"
	"hallq/central/platform"
)

// The pages share the API's listener without shadowing it: the portal's
// own assets, the hall pages' shared helpers and the dashboard's assets
// are served, and an unknown API route still answers the API's JSON 404.
func TestPagesBesideTheAPI(t *testing.T) {
	s := platform.NewServer(platform.ServerOptions{})
	pages.Mount(s)
	srv := httptest.NewServer(s)
	defer srv.Close()
	for path, want := range map[string]string{
		"/p/portal.js":             "export async function call",
		"/assets/js/hallq.js":      "export function el",
		"/province/p/province.css": "province dashboard",
		"/api/v1/nope":             `"code":"not_found"`,
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.120q, want %q", path, res.StatusCode, b, want)
		}
	}
	res, err := http.Get(srv.URL + "/p/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/p/ lists a directory: %d", res.StatusCode)
	}
}
