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
	"sync"
	"time"

	"hallq/internal/idnumber"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Remote ticket taking (线上取号): tickets per client address per window,
// and how many addresses the table holds at most.
const (
	maxRemotePerIP = 10
	remoteWindow   = time.Hour
	maxRemoteAddrs = 10000
)

// remoteLimiter is the per-address limit of remote ticket requests: each
// client address (addrKey) may make maxRemotePerIP an hour. Safe for
// concurrent use: its mutex guards the table, held only while counting.
type remoteLimiter struct {
	mu    sync.Mutex
	table *addrTable
}

func newRemoteLimiter() *remoteLimiter {
	return &remoteLimiter{table: newAddrTable(maxRemoteAddrs, maxRemotePerIP, remoteWindow)}
}

// allow counts one remote ticket request from client address ip at now
// and reports whether the address is still within its limit.
func (l *remoteLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.table.allow(addrKey(ip), now)
}

// addrTable counts requests per client address in a sliding window, in
// bounded memory that never resets anyone's count: when the table is full,
// addresses whose window has passed are dropped (at most once a second);
// if it is still full, a new address is refused until room frees, while
// every address already counted keeps its count. (The service's remote
// share bounds what a flood of new addresses can take anyway.) Not safe for
// concurrent use: remoteLimiter's mutex guards it.
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

// opRemoteTicket takes a ticket from a citizen's phone (线上取号). The typed
// ID number becomes the citizen key and masked form here and goes no
// further. Whoever types a number is not necessarily its holder, so:
//   - the answer carries a claim, a random secret the page keeps in the
//     browser (or the page's own, sent as "claim"); the idempotency key is
//     the citizen key, the service and the claim, so a double tap or reload
//     from that browser returns the same ticket while it is open — and
//     nobody else who types the number gets it;
//   - refusals about the person (blacklisted, the per-ID limit, an open
//     remote ticket already) are one and the same answer, not_available,
//     so the endpoint tells nobody whether someone is blacklisted or holds
//     a ticket;
//   - remote tickets come out of their own share of the service's day
//     (ServiceConfig.RemoteCap), so phones never starve the hall;
//   - each client address (behind trusted proxies: see clientIP) may make
//     maxRemotePerIP requests with a valid number an hour.
//
// A hall joined to the province refuses them: there the province's citizen
// portal takes remote tickets after its real-name sign-in.
func opRemoteTicket(c *call) (int, any, error) {
	if c.a.joined {
		return 0, nil, hall.Refusal(hall.Forbidden, hall.ReasonRealNameRequired,
			"this hall is joined to the province platform: take a remote ticket on the province's citizen portal after real-name sign-in")
	}
	var r wire.RemoteTicketRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	service := strings.ToUpper(strings.TrimSpace(r.Service)) // as the hall reads codes
	if service == "" {
		return 0, nil, hall.Errorf(hall.Invalid, "service is required")
	}
	claim := r.Claim
	if claim == "" {
		claim = newClaim()
	} else if !isClaim(claim) {
		return 0, nil, hall.Errorf(hall.Invalid, "claim must be 32 lowercase hex digits (128 random bits kept by the browser)")
	}
	num, err := idnumber.ParseResident(r.IDNumber)
	r.IDNumber = ""
	if err != nil {
		return 0, nil, hall.Refusal(hall.Invalid, hall.ReasonInvalidIDNumber, "that is not a valid 18-character resident ID number")
	}
	if !c.a.remote.allow(c.ip, c.a.now()) {
		return 0, nil, hall.Refusal(hall.QuotaExceeded, hall.ReasonTooManyRequests, "too many remote tickets from this address; try again later")
	}
	key := num.KeyWith(c.a.keyHash, c.a.secret)
	actor := c.p.Name
	if actor == "" {
		actor = "remote"
	}
	o := hall.Op{Actor: actor, IdemKey: "remote:" + service + ":" + key + ":" + claimTag(claim), IdemWhileOpen: true}
	t, err := c.a.svc.Issue(c.ctx, o, hall.IssueRequest{Service: service, Channel: hall.Remote, CitizenKey: key, MaskedID: num.Masked()})
	switch hall.ErrorReason(err) {
	case string(hall.ReasonBlacklisted), string(hall.ReasonCitizenLimit), string(hall.ReasonRemoteOpen):
		return 0, nil, hall.Refusal(hall.Forbidden, hall.ReasonNotAvailable,
			"no remote ticket can be taken with this ID number now; please take one at a kiosk in the hall or ask staff")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, wire.RemoteTicket{TicketView: redactView(t, levelPublic), Claim: claim}, nil
}
