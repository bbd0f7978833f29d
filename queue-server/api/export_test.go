package api

import (
	"sync/atomic"
	"time"
)

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

// hashes counts the password hashes checked (the login's bcrypt calls).
var hashes atomic.Int64

func init() {
	inner := compareHash
	compareHash = func(hash, password []byte) error {
		hashes.Add(1)
		return inner(hash, password)
	}
}

// PasswordHashes is how many password hashes logins have checked.
func PasswordHashes() int64 { return hashes.Load() }

// ReportsFromTickets makes the reports read every ticket instead of the
// closed days' digests (on), or read the digests again (off).
func ReportsFromTickets(on bool) { fromTickets.Store(on) }

// SetPingInterval shortens the server's ping interval for tests. Call it
// before the server under test starts.
func SetPingInterval(d time.Duration) { pingWait = d }
