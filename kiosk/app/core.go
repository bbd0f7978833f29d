// Package app is the kiosk's application logic, free of any screen: it keeps
// a connection to the hall server (live service figures, resuming after a
// drop), leases ticket numbers ahead of time, issues tickets online or — when
// the server is unreachable — from those leases into the local outbox, and
// hands offline tickets over in issue order when the server returns. The
// citizen flow (flow.go) drives the devices and tells the screens what to
// show.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"hallq/devices/idcard"
	"hallq/internal/catalog"
	"hallq/kiosk/outbox"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/seal"
	"hallq/queue-server/wire"
)

// Citizen is all the kiosk keeps of an ID card once it has been read: the
// number sealed to the hall server (which alone derives the citizen key),
// the masked number to print and the age class. The kiosk holds no key
// that derives citizen keys, so nothing here (nor in its outbox, which
// keeps only the sealed form) gives anyone the number back.
type Citizen struct {
	Sealed   string
	Masked   string
	AgeClass hall.AgeClass
	// tag tells this card from others for this kiosk's offline per-ID
	// limit: an HMAC with a random key that lives only in this process's
	// memory (never stored, sent or shown), so it reveals nothing beyond
	// this run of this kiosk.
	tag string
}

// Ticket is a ticket as the kiosk shows and prints it.
type Ticket struct {
	ID            string
	Number        string
	Service       string
	Ahead         int
	EstimatedWait time.Duration // < 0 unknown
	IssuedAt      time.Time
	Offline       bool // issued from a lease while the server was unreachable
	StatusURL     string
	MaskedID      string
	Booking       bool      // an online booking was checked in
	Priority      bool      // the priority channel (绿色通道), e.g. an elderly card holder
	SlotStart     time.Time // the booking's slot, when Booking
}

// Core is the kiosk's link to the hall. Its methods are safe for concurrent
// use; the mutable state is guarded by one mutex and touched briefly.
type Core struct {
	cl        *client.Client
	out       *outbox.Store
	log       *slog.Logger
	leaseSize int
	statusURL string
	loc       *time.Location
	now       func() time.Time

	mu         sync.Mutex
	hallInfo   hall.HallInfo
	elderlyAge int // the hall's rule, from the server's overview (-1 until known)
	services   []hall.ServiceView
	matters    hall.HallMatters // the hall's checklists, as last fetched (kept while offline)
	online     bool
	sealKey    string // the hall server's public key ("" before the first connection)
	kick       chan struct{}
	// the offline per-ID limit: tagKey is random per process; offline
	// counts tickets issued offline by this process per day|service|tag
	tagKey  []byte
	offline map[string]int
}

// CoreConfig configures a Core.
type CoreConfig struct {
	Server    string // http://host:port
	Token     string // a kiosk token
	LeaseSize int    // numbers leased per service (default 20)
	StatusURL string // base of the status page links; default Server + "/t/"
	TimeZone  string // hall time zone (default Asia/Shanghai), for lease days
	CAPEM     []byte // when set, the server's TLS certificate must chain to this hall CA
	Transport string // TransportTLCP: speak TLCP to Server, trusting the SM2 CA in CAPEM; else TLS/HTTP
	Logger    *slog.Logger
	Now       func() time.Time
}

// NewCore opens a core on an outbox.
func NewCore(c CoreConfig, out *outbox.Store) (*Core, error) {
	if c.LeaseSize == 0 {
		c.LeaseSize = 20
	}
	if c.StatusURL == "" {
		c.StatusURL = strings.TrimRight(c.Server, "/") + "/t/"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if c.TimeZone == "" || err != nil {
		loc, _ = time.LoadLocation("Asia/Shanghai")
	}
	sealKey, _ := out.SealKey()
	cl := client.New(c.Server, c.Token)
	switch {
	case c.Transport == TransportTLCP:
		var err error
		if cl, err = client.NewTLCP(c.Server, c.Token, c.CAPEM); err != nil {
			return nil, err
		}
	case len(c.CAPEM) > 0:
		var err error
		if cl, err = client.NewTLS(c.Server, c.Token, c.CAPEM); err != nil {
			return nil, err
		}
	}
	return &Core{cl: cl, out: out, log: c.Logger, leaseSize: c.LeaseSize,
		statusURL: c.StatusURL, loc: loc, now: c.Now, sealKey: sealKey, kick: make(chan struct{}, 1),
		tagKey: randomKey(), offline: map[string]int{}, elderlyAge: -1}, nil
}

// Client is the core's server client.
func (c *Core) Client() *client.Client { return c.cl }

// Online reports whether the websocket to the server is up.
func (c *Core) Online() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.online
}

// Checklist returns what to bring for a service: its matters with their
// materials, from the hall's catalogue as last fetched.
func (c *Core) Checklist(service string) []catalog.Matter {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []catalog.Matter
	for _, code := range c.matters.ByService[service] {
		for _, m := range c.matters.Matters {
			if m.Code == code {
				out = append(out, m)
			}
		}
	}
	return out
}

// RatingOptions returns the 好差评 options per score, as last fetched.
func (c *Core) RatingOptions() map[int][]hall.IndicatorOption {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.matters.Indicators
}

// Services returns the last known service figures.
func (c *Core) Services() []hall.ServiceView {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]hall.ServiceView(nil), c.services...)
}

// Hall returns the hall's name and id as last seen from the server.
func (c *Core) Hall() hall.HallInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hallInfo
}

// Location is the hall's time zone: the server's once known, else the
// configured one. Every time the kiosk shows or prints is in it.
func (c *Core) Location() *time.Location {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loc
}

// ElderlyAge is the hall's elderly rule (rules.elderly_age) as the server
// sent it, or fallback until the kiosk has reached the server.
func (c *Core) ElderlyAge(fallback int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.elderlyAge < 0 {
		return fallback
	}
	return c.elderlyAge
}

// ErrNoSealKey: the kiosk has never reached the server, so it cannot seal
// an ID number (and has no leases either).
var ErrNoSealKey = errors.New("no seal key yet: the kiosk has never reached the hall server")

// Citizen seals a card's number to the hall server: from here on only the
// sealed form, the masked number and the age class exist.
func (c *Core) Citizen(num idcard.IDNumber, age hall.AgeClass) (*Citizen, error) {
	c.mu.Lock()
	text := c.sealKey
	c.mu.Unlock()
	if text == "" {
		return nil, ErrNoSealKey
	}
	pub, err := seal.ParsePublic(text)
	if err != nil {
		return nil, err
	}
	sealed, err := num.Seal(func(n string) (string, error) { return seal.Seal(pub, n) })
	if err != nil {
		return nil, err
	}
	return &Citizen{Sealed: sealed, Masked: num.Masked(), AgeClass: age, tag: num.Key(c.tagKey)}, nil
}

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// Run keeps the kiosk connected until ctx ends, calling changed (if set)
// whenever the service figures or the connection state change.
func (c *Core) Run(ctx context.Context, changed func()) error {
	notify := func() {
		if changed != nil {
			changed()
		}
	}
	go c.syncLoop(ctx)
	return c.cl.Follow(ctx, 0, func(f wire.Frame) {
		var svcs []hall.ServiceView
		switch {
		case f.Type == wire.FrameServices:
			svcs = f.Services
		case f.Type == wire.FrameResync && f.Overview != nil:
			svcs = f.Overview.Services
			c.mu.Lock()
			c.hallInfo, c.elderlyAge = f.Overview.Hall, f.Overview.ElderlyAge
			if loc, err := time.LoadLocation(f.Overview.Hall.TimeZone); err == nil && f.Overview.Hall.TimeZone != "" {
				c.loc = loc // the hall's zone, as the server has it
			}
			c.mu.Unlock()
		default:
			return
		}
		c.mu.Lock()
		c.services = svcs
		c.mu.Unlock()
		notify()
	}, func(cn *client.Conn) {
		c.mu.Lock()
		c.online = cn != nil
		c.mu.Unlock()
		if cn != nil {
			c.Kick()
		}
		notify()
	})
}

// sawServer updates the connection state from a request's outcome: a
// transport failure means offline now (the websocket may take its ping
// timeout to notice), an answer means online.
func (c *Core) sawServer(err error) {
	switch hall.ErrorReason(err) {
	case client.ReasonUnreachable, client.ReasonNetwork:
		c.mu.Lock()
		c.online = false
		c.mu.Unlock()
	}
}

// Kick asks the background sync to run now (after a reconnect or an
// offline ticket).
func (c *Core) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// syncLoop hands offline tickets over and tops up leases whenever kicked,
// and every half minute.
func (c *Core) syncLoop(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-t.C:
		}
		if !c.Online() {
			continue
		}
		if err := c.Sync(ctx); err != nil {
			c.log.Warn("sync with the hall server", "err", err)
		}
	}
}

// Sync fetches the server's seal key, hands over pending offline tickets
// in issue order, drops leases of past days and of removed services and
// set-aside tickets older than a week, and tops up one lease per service.
func (c *Core) Sync(ctx context.Context) error {
	// every time: a hall whose store was replaced has a new key. Without
	// one the kiosk cannot take ID cards, but hand-overs and leases go on.
	if err := c.refreshSealKey(ctx); err != nil {
		c.log.Warn("fetch the server's seal key", "err", err)
	}
	if hm, err := c.cl.Matters(ctx); err == nil {
		c.mu.Lock()
		c.matters = hm
		c.mu.Unlock()
	} else {
		c.log.Warn("fetch the hall's matters", "err", err)
	}
	if err := c.resolveDoubts(ctx); err != nil {
		return err
	}
	pending, err := c.out.Pending()
	if err != nil {
		return err
	}
	for _, t := range pending {
		t.KioskClock = c.now() // lets the server correct this kiosk's clock drift
		_, err := c.cl.HandOver(ctx, t)
		switch reason := hall.ErrorReason(err); {
		case err == nil || reason == "number_used" || reason == "id_used": // taken over, now or before
			err = c.out.Done(t)
		case refusedForGood(err):
			c.log.Error("offline ticket refused by the server; set aside", "number", t.Number, "lease", t.Lease, "err", err)
			err = c.out.PutAside(t, err.Error(), c.now())
		case hall.ErrorCode(err) == hall.Unavailable:
			return err // try again later, in order
		default: // e.g. this kiosk's token was revoked: keep it for a later sync
			c.log.Warn("offline ticket not handed over; will retry", "number", t.Number, "err", err)
			continue
		}
		if err != nil {
			return err
		}
	}
	day := c.now().In(c.Location()).Format(time.DateOnly)
	free, leases, err := c.out.Leases()
	if err != nil {
		return err
	}
	services := c.Services()
	offered := map[string]bool{}
	for _, s := range services {
		offered[s.Code] = true
	}
	for _, l := range leases {
		// past days' leases, and those of a service the hall removed (the
		// server released them): their numbers are no longer valid
		if l.Day != day || (len(services) > 0 && !offered[l.Service]) {
			c.out.DropLease(l.ID)
		}
	}
	if err := c.out.ForgetAside(c.today().AddDate(0, 0, -7)); err != nil { // kept a week for staff
		return err
	}
	for _, s := range services {
		if free[s.Code] > c.leaseSize/4 || !s.Issuing {
			continue
		}
		l, err := c.cl.Lease(ctx, s.Code, c.leaseSize)
		if err != nil {
			c.log.Warn("lease", "service", s.Code, "err", err)
			continue
		}
		if err := c.out.PutLease(l); err != nil {
			return err
		}
	}
	return nil
}

func (c *Core) refreshSealKey(ctx context.Context) error {
	pub, err := c.cl.SealKey(ctx)
	if err != nil {
		return err
	}
	if _, err := seal.ParsePublic(pub); err != nil {
		return fmt.Errorf("the server's seal key: %w", err)
	}
	c.mu.Lock()
	changed := pub != c.sealKey
	c.sealKey = pub
	c.mu.Unlock()
	if changed {
		return c.out.SetSealKey(pub)
	}
	return nil
}

// refusedForGood tells a hand-over refusal that no retry can change (the
// lease is unknown today or released, the ticket is malformed, the card is
// blacklisted or over its limit) from one about this kiosk or the moment.
func refusedForGood(err error) bool {
	switch hall.ErrorReason(err) {
	case "blacklisted", "citizen_limit":
		return true
	}
	switch hall.ErrorCode(err) {
	case hall.Invalid, hall.NotFound, hall.Conflict:
		return true
	}
	return false
}

// resolveDoubts replays each online issue whose answer was lost, with its
// idempotency key, and cancels the ticket: the citizen was given an offline
// ticket instead, so the server's copy (if any) must not wait as a phantom.
func (c *Core) resolveDoubts(ctx context.Context) error {
	doubts, err := c.out.Doubts()
	if err != nil {
		return err
	}
	for key, r := range doubts {
		tv, err := c.cl.Issue(ctx, key, r)
		if err == nil {
			_, err = c.cl.Act(ctx, key+"-cancel", tv.ID, hall.ActCancel, &hall.Action{Reason: "superseded_by_offline_ticket"})
			if hall.ErrorCode(err) == hall.Conflict {
				err = nil // already called or cancelled
			}
		}
		if hall.ErrorCode(err) == hall.Unavailable {
			return err
		}
		if err != nil && hall.ErrorCode(err) != hall.Closed && hall.ErrorCode(err) != hall.QuotaExceeded {
			c.log.Warn("resolve doubtful ticket", "err", err)
		}
		if err := c.out.ClearDoubt(key); err != nil {
			return err
		}
	}
	return nil
}

// Pending counts offline tickets not yet handed over.
func (c *Core) Pending() int {
	p, _ := c.out.Pending()
	return len(p)
}

// SetAside counts the offline tickets the server refused for good today
// (those citizens may still be in the hall).
func (c *Core) SetAside() int {
	a, _ := c.out.Aside(c.today())
	return len(a)
}

// today is the start of the hall's current day.
func (c *Core) today() time.Time {
	loc := c.Location()
	now := c.now().In(loc)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
}

// LeasedFree returns the free leased numbers per service.
func (c *Core) LeasedFree() map[string]int {
	free, _, _ := c.out.Leases()
	return free
}

// ErrTicketsUnavailable: offline and no leased numbers left.
var ErrTicketsUnavailable = errors.New("tickets are temporarily unavailable")

// Issue takes a ticket for a citizen (nil for services without ID). Online,
// the server decides (with a fresh idempotency key retried on a dropped
// connection); when the server is unreachable, the ticket comes from a
// lease and waits in the outbox.
func (c *Core) Issue(ctx context.Context, service string, who *Citizen, channel hall.Channel) (Ticket, error) {
	r := hall.IssueRequest{Service: service, Channel: channel}
	if who != nil {
		r.SealedID, r.AgeClass = who.Sealed, who.AgeClass
	}
	key := client.NewKey()
	var tv hall.TicketView
	var err error
	for attempt := 0; attempt < 2; attempt++ { // one retry with the same key
		tv, err = c.cl.Issue(ctx, key, r)
		if hall.ErrorReason(err) != client.ReasonNetwork {
			break
		}
	}
	c.sawServer(err)
	switch hall.ErrorReason(err) {
	case "":
		if err != nil {
			return Ticket{}, err
		}
		return c.fromView(tv, masked(who)), nil
	case client.ReasonNetwork:
		// the server may hold a ticket we never heard of: resolve it later
		if err := c.out.AddDoubt(key, r); err != nil {
			return Ticket{}, err
		}
	case client.ReasonUnreachable:
	default:
		return Ticket{}, err // the server refused: quota, hours, blacklist…
	}
	return c.issueOffline(service, who, channel)
}

// issueOffline takes a ticket from a lease. The card's per-ID limit is
// applied to the tickets this kiosk issued offline since it started (the
// server applies it again, to all tickets, at hand-over).
func (c *Core) issueOffline(service string, who *Citizen, channel hall.Channel) (Ticket, error) {
	now := c.now()
	count := ""
	if who != nil && who.tag != "" {
		limit := 0
		for _, s := range c.Services() {
			if s.Code == service {
				limit = s.PerCitizenLimit
			}
		}
		count = now.In(c.Location()).Format(time.DateOnly) + "|" + service + "|" + who.tag
		c.mu.Lock()
		n := c.offline[count]
		c.mu.Unlock()
		if limit > 0 && n >= limit {
			return Ticket{}, hall.Refusal(hall.QuotaExceeded, hall.ReasonCitizenLimit, "this ID has taken %d ticket(s) for service %s today", limit, service)
		}
	}
	o := hall.OfflineTicket{ID: newTicketID(), Channel: channel, IssuedAt: now}
	if who != nil {
		o.SealedID, o.AgeClass = who.Sealed, who.AgeClass // the masked form is printed, not kept
	}
	o, number, err := c.out.Take(service, now.In(c.Location()).Format(time.DateOnly), o)
	if errors.Is(err, outbox.ErrNoNumbers) {
		return Ticket{}, ErrTicketsUnavailable
	}
	if err != nil {
		return Ticket{}, err
	}
	if count != "" {
		c.mu.Lock()
		c.offline[count]++
		c.mu.Unlock()
	}
	c.Kick()
	return Ticket{ID: o.ID, Number: number, Service: service, Ahead: -1, Priority: hall.ChannelFor(channel, o.AgeClass) == hall.Priority,
		EstimatedWait: -1, IssuedAt: now.In(c.Location()), Offline: true, StatusURL: c.statusURL + o.ID, MaskedID: masked(who)}, nil
}

// CheckIn checks in a booking (needs the server, which holds the
// bookings even while the central platform is down).
func (c *Core) CheckIn(ctx context.Context, r hall.CheckIn) (Ticket, error) {
	tv, err := c.cl.CheckIn(ctx, client.NewKey(), r)
	if err != nil {
		return Ticket{}, err
	}
	return c.fromView(tv, r.MaskedID), nil
}

// PrintFailed tells the server a ticket did not print (offline tickets are
// shown on screen and reach the server at hand-over).
func (c *Core) PrintFailed(ctx context.Context, t Ticket, reason string) error {
	if t.Offline {
		return nil
	}
	_, err := c.cl.Act(ctx, "", t.ID, hall.ActPrintFailed, &hall.Action{Reason: reason})
	return err
}

// DeviceReport completes a device report with the kiosk's own state: its
// connection and its offline tickets pending and set aside.
func (c *Core) DeviceReport(d wire.DeviceHealth) wire.DeviceHealth {
	d.Online, d.Pending, d.SetAside = c.Online(), c.Pending(), c.SetAside()
	return d
}

// ReportDevices sends device health to the server (best effort).
func (c *Core) ReportDevices(ctx context.Context, d wire.DeviceHealth) {
	if err := c.cl.ReportDevices(ctx, d); err != nil {
		c.log.Debug("device report", "err", err)
	}
}

// fromView makes the kiosk's ticket from the server's view; masked is the
// masked ID the kiosk read from the card itself (the server sends kiosks
// no personal data).
func (c *Core) fromView(tv hall.TicketView, masked string) Ticket {
	wait := time.Duration(tv.EstimatedWaitS) * time.Second
	if tv.EstimatedWaitS < 0 {
		wait = -1
	}
	return Ticket{ID: tv.ID, Number: tv.Number, Service: tv.Service, Ahead: tv.Position, EstimatedWait: wait,
		IssuedAt: tv.IssuedAt.In(c.Location()), Priority: tv.Channel == hall.Priority, SlotStart: localTime(tv.SlotStart, c.Location()), StatusURL: c.statusURL + tv.ID, MaskedID: masked, Booking: tv.Channel == hall.BookingChannel}
}

// localTime is t in loc, and the zero time stays zero.
func localTime(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

func masked(who *Citizen) string {
	if who == nil {
		return ""
	}
	return who.Masked
}

func newTicketID() string {
	k := client.NewKey() // 24 hex digits from crypto/rand
	return "k" + k
}
