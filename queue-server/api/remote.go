package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// maxRemoteAddrs bounds the per-address table of remote ticket requests.
const maxRemoteAddrs = 10000

// addrTable counts requests per client address in a sliding window, in
// bounded memory that never resets anyone's count: when the table is full,
// addresses whose window has passed are dropped (at most once a second);
// if it is still full, a new address is refused until room frees, while
// every address already counted keeps its count. (The service's remote
// share bounds what a flood of new addresses can take anyway.) Not safe for
// concurrent use: the hub's goroutine owns it.
type addrTable struct {
	max    int
	per    int
	window time.Duration
	hits   map[string][]time.Time
	pruned time.Time
}

func newAddrTable(max, per int, window time.Duration) *addrTable {
	return &addrTable{max: max, per: per, window: window, hits: map[string][]time.Time{}}
}

// allow counts one request from addr at now and reports whether it is
// within the limit.
func (t *addrTable) allow(addr string, now time.Time) bool {
	recent, known := t.hits[addr]
	if !known && len(t.hits) >= t.max {
		if now.Sub(t.pruned) >= time.Second {
			t.pruned = now
			for k, ts := range t.hits {
				if now.Sub(ts[len(ts)-1]) > t.window {
					delete(t.hits, k)
				}
			}
		}
		if len(t.hits) >= t.max {
			return false
		}
	}
	recent = slices.DeleteFunc(recent, func(ts time.Time) bool { return now.Sub(ts) > t.window })
	ok := len(recent) < t.per
	if ok {
		recent = append(recent, now)
	}
	if len(recent) == 0 {
		delete(t.hits, addr)
		return ok
	}
	t.hits[addr] = recent
	return ok
}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR
// prefixes (e.g. "127.0.0.1,10.20.0.0/24,::1").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// clientIP is the address a request came from: the peer, unless the peer
// is one of the configured trusted proxies — then the rightmost address of
// X-Forwarded-For that is not itself a trusted proxy (a client can put
// anything at the left of that header, so only what our proxies appended
// counts). Without trusted proxies no header is believed.
func (a *API) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !a.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a malformed hop: trust nothing left of it
		}
		if !a.trusted(hop) {
			return hop.Unmap().String()
		}
	}
	return host
}

func (a *API) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// addrKey is the unit the per-address limit counts: an IPv4 address, or an
// IPv6 /64 (one household or phone gets a whole /64; counting single IPv6
// addresses would give each phone millions of budgets).
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// newClaim is the secret a remote ticket's holder keeps in their browser:
// 128 random bits in hex.
func newClaim() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isClaim accepts a claim as newClaim makes it (or the page's own, made
// the same way with crypto.getRandomValues).
func isClaim(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// claimTag is what the idempotency record keeps of a claim: a hash, so the
// store holds nothing that would let its reader take over the ticket.
func claimTag(claim string) string {
	h := sha256.Sum256([]byte("hallq remote claim\x00" + claim))
	return hex.EncodeToString(h[:12])
}

// registerCapped registers a websocket client unless its credential (token
// or session) already holds max open websockets: 3,000 sockets on one
// display token once slowed issuing for everyone.
func (h *hub) registerCapped(c *client, max int) bool {
	ok := false
	h.do(func() {
		n := 0
		for o := range h.clients {
			if o.p.TokenID == c.p.TokenID {
				n++
			}
		}
		if ok = n < max; ok {
			h.clients[c] = true
			if h.obs != nil {
				h.obs.WSClients(len(h.clients))
			}
		}
	})
	return ok
}
