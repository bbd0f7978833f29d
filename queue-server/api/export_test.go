package api

import "time"

// SetHelloTimeout shortens the hello timeout for tests. Call it before the
// server under test starts.
func SetHelloTimeout(d time.Duration) { helloWait = d }

// WSClientsByRole counts the connected websocket clients by role.
func WSClientsByRole(a *API) map[string]int {
	out := map[string]int{}
	a.hub.do(func() {
		for c := range a.hub.clients {
			out[c.p.Role]++
		}
	})
	return out
}
