// Package province holds the province dashboard of the platform — every
// hall on one screen, one hall's drill-down, booking supervision, poor
// ratings as work orders, catalogue and calendar editing, reports — as
// static HTML, CSS and JavaScript embedded into the central binary under
// /province/, in the style of the hall's pages (hallq/ui/web), whose
// shared helpers (assets/js/hallq.js, codes.js, hallq.css) the central
// serves under /assets/ (hallq/ui/portal). Province staff sign in through
// the province's identity provider (hallq/central/session).
package province

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Pages maps each route of the dashboard to the HTML file that serves it.
var Pages = map[string]string{
	"GET /province/{$}":              "index.html",      // every hall on one screen
	"GET /province/hall/{hall}":      "hall.html",       // one hall's drill-down
	"GET /province/reports":          "reports.html",    // by hall/matter/month, CSV
	"GET /province/bookings":         "bookings.html",   // booking supervision, bans
	"GET /province/workorders":       "workorders.html", // poor ratings → work orders, 回访
	"GET /province/catalog":          "catalog.html",    // the matter catalogue, versioned
	"GET /province/calendars/{hall}": "calendar.html",   // a hall's calendar and capacities
}

// Handler serves the dashboard's pages and its own assets under
// /province/p/.
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	m := http.NewServeMux()
	for pattern, name := range Pages {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Referrer-Policy", "no-referrer")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
			http.ServeFileFS(w, r, static, name)
		})
	}
	own := http.StripPrefix("/province", http.FileServerFS(static))
	m.Handle("GET /province/p/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		own.ServeHTTP(w, r)
	}))
	return m
}
