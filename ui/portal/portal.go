// Package portal holds the citizen portal of the province platform — book
// a matter online, my bookings, every hall's live waits, follow a ticket
// from anywhere, rate a visit, notifications — as static HTML, CSS and
// JavaScript embedded into the central binary, in the style of the hall's
// pages (hallq/ui/web), whose shared helpers (assets/js/hallq.js, codes.js,
// hallq.css) it serves too. Nothing is fetched from the internet: the pages
// talk only to the central that serves them.
package portal

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"hallq/ui/web"
)

//go:embed static
var files embed.FS

// Pages maps each route of the portal to the HTML file that serves it.
// Pages read their parameters (ticket id, booking id) from the address in
// the browser, so one file serves each route.
var Pages = map[string]string{
	"GET /{$}":           "index.html",    // home: search a matter, start booking
	"GET /book":          "book.html",     // matter → guide → hall → slot → confirmation
	"GET /bookings":      "bookings.html", // my bookings: cancel, reschedule, .ics
	"GET /waits":         "waits.html",    // every hall's live waits, public
	"GET /t/{ticket}":    "ticket.html",   // follow a ticket from anywhere
	"GET /rate/{ticket}": "rate.html",     // rate the visit online (好差评, 网上)
	"GET /notifications": "notify.html",   // notification choices
	"GET /sw.js":         "sw.js",         // the service worker (Web Push), scope /
	"GET /manifest.json": "manifest.json",
}

// Handler serves the portal's pages, its own assets under /p/ and the hall
// pages' shared assets under /assets/.
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
	own := http.FileServerFS(static)
	m.Handle("GET /p/", noDirs(own))
	m.Handle("GET /assets/", web.Handler())
	return m
}

func noDirs(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}
