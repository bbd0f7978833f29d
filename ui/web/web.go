// Package web holds the hall's web faces — the display board and window
// strip, the clerk console, the rating pad, the manager dashboard and the
// citizen's phone pages (ticket status, remote ticket taking) — as static
// HTML, CSS and JavaScript embedded into the binary. There is no build
// step and nothing is fetched from the internet: the pages talk only to the
// hall server that serves them, through its REST API and websocket stream.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// pages maps each route to the HTML file that serves it.
var pages = map[string]string{
	"GET /{$}":                "index.html",
	"GET /display":            "display.html",
	"GET /display/window/{n}": "window.html",
	"GET /clerk":              "clerk.html",
	"GET /rate/{n}":           "rate.html",
	"GET /dashboard":          "dashboard.html",
	"GET /report":             "report.html",
	"GET /t/{ticket}":         "status.html",
	"GET /remote":             "remote.html",
}

// Handler serves the web faces. Pages read their parameters (window number,
// ticket id) from the address in the browser, so one file serves each route.
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	m := http.NewServeMux()
	for pattern, name := range pages {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, static, name)
		})
	}
	assets := http.FileServerFS(static)
	m.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		assets.ServeHTTP(w, r)
	}))
	return m
}
