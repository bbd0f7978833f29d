package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limits bound what one client can hold of the hall server, so that no
// client — slow, greedy or hostile — locks out a kiosk or a clerk. Zero
// fields take DefaultLimits' values. The attack table in
// docs/reliability.md measures each (queue-server/api/hostile_test.go).
type Limits struct {
	// HeaderTimeout: a request's headers must arrive within it (slowloris).
	HeaderTimeout time.Duration
	// BodyTimeout: a request's body must arrive within it once the headers
	// are in; a body sent a byte at a time is cut off.
	BodyTimeout time.Duration
	// WriteTimeout: a reply must be taken by the client within it (not
	// for websockets, which keep their own deadlines, nor for the backup
	// download, which may be large).
	WriteTimeout time.Duration
	// ConnsPerAddr caps the open connections of one client address (not of
	// a trusted proxy): beyond it new connections are closed at once.
	ConnsPerAddr int
	// Conns caps all open connections, well below the file limit of the
	// systemd unit (LimitNOFILE), so the store and logs always have files.
	Conns int
	// SocketsPerCredential caps the websockets one token or session holds.
	SocketsPerCredential int
}

// DefaultLimits are sized for a hall: tens of kiosks, consoles and boards
// (one websocket each), hundreds of phones on the status pages, some of
// them behind one guest Wi-Fi address.
var DefaultLimits = Limits{
	HeaderTimeout:        10 * time.Second,
	BodyTimeout:          15 * time.Second,
	WriteTimeout:         60 * time.Second,
	ConnsPerAddr:         256,
	Conns:                16384,
	SocketsPerCredential: 32,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	pickN := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	return Limits{
		HeaderTimeout: pick(l.HeaderTimeout, d.HeaderTimeout), BodyTimeout: pick(l.BodyTimeout, d.BodyTimeout),
		WriteTimeout: pick(l.WriteTimeout, d.WriteTimeout), ConnsPerAddr: pickN(l.ConnsPerAddr, d.ConnsPerAddr),
		Conns: pickN(l.Conns, d.Conns), SocketsPerCredential: pickN(l.SocketsPerCredential, d.SocketsPerCredential),
	}
}

// deadlines gives every plain HTTP request a body and a reply deadline (a
// websocket upgrade keeps its own deadlines, the backup download has none
// for its reply).
func deadlines(h http.Handler, l Limits) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			rc := http.NewResponseController(w)
			now := time.Now()
			rc.SetReadDeadline(now.Add(l.BodyTimeout))
			if r.URL.Path != "/api/v1/backup" {
				rc.SetWriteDeadline(now.Add(l.WriteTimeout))
			}
		}
		h.ServeHTTP(w, r)
	})
}

// capListener closes, at once, connections beyond the per-address and the
// total cap. Its counts are guarded by one mutex and touched briefly (by
// the accept loop and by each connection's Close).
type capListener struct {
	net.Listener
	perAddr, total int
	exempt         func(netip.Addr) bool

	mu     sync.Mutex
	open   int
	byAddr map[netip.Addr]int
	// refused counts connections closed for a cap; peak is the most one
	// address ever held (for tests and the attack table).
	refused, peak int
}

func newCapListener(ln net.Listener, l Limits, exempt func(netip.Addr) bool) *capListener {
	return &capListener{Listener: ln, perAddr: l.ConnsPerAddr, total: l.Conns, exempt: exempt, byAddr: map[netip.Addr]int{}}
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var addr netip.Addr
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			addr = ap.Addr().Unmap()
		}
		l.mu.Lock()
		ok := l.open < l.total && (l.exempt(addr) || l.byAddr[addr] < l.perAddr)
		if ok {
			l.open++
			l.byAddr[addr]++
			if !l.exempt(addr) {
				l.peak = max(l.peak, l.byAddr[addr])
			}
		} else {
			l.refused++
		}
		l.mu.Unlock()
		if !ok {
			c.Close()
			continue
		}
		return &capConn{Conn: c, l: l, addr: addr}, nil
	}
}

// stats returns how many connections the caps closed and the most one
// address held at once.
func (l *capListener) stats() (refused, peak int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused, l.peak
}

type capConn struct {
	net.Conn
	l    *capListener
	addr netip.Addr
	once sync.Once
}

func (c *capConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		if c.l.byAddr[c.addr]--; c.l.byAddr[c.addr] <= 0 {
			delete(c.l.byAddr, c.addr)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
