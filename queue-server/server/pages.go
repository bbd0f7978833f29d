package server

import (
	"net/http"

	"hallq/ui/web"
)

// pages returns the web faces served at /.
func pages() http.Handler { return web.Handler() }
