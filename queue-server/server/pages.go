package server

import "net/http"

// pages returns the web faces served at / (set by ui/web once it lands).
func pages() http.Handler { return nil }
