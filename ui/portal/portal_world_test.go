package portal_test

// The booking pages' test world: a real central (platform.Start on an
// embedded NATS in a temp dir, the booking service, the sign-in sessions,
// the pages) with the stand-in identity provider, on a fake clock in
// Asia/Shanghai, and real headless Chromium. Names here start with bk so
// that the other parts' tests in this package keep their own helpers.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/central/calendars"
	"hallq/central/natsembed"
	"hallq/central/oidcdev"
	"hallq/central/pages"
	"hallq/central/platform"
	"hallq/central/session"
	"hallq/internal/apitest"
	"hallq/internal/browsertest"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/internal/idnumber"
	"hallq/internal/testclock"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

const bkClient = "portal"

var bkKey = []byte("portal-test-province-key")

// bkShanghai is the halls' zone: the tests pin a zone that is not UTC.
func bkShanghai(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// bkAt is a time of 2026 in Shanghai: bkAt(t, 11, 30, 9, 30) is Monday 30 Nov 09:30.
func bkAt(t testing.TB, month time.Month, day, hh, mm int) time.Time {
	return time.Date(2026, month, day, hh, mm, 0, 0, bkShanghai(t))
}

// bkID is the i-th valid resident ID number of these tests.
func bkID(i int) string {
	birth := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/900)
	first := fmt.Sprintf("110105%s%03d", birth.Format("20060102"), 100+i%900)
	c, err := idnumber.CheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

// bkMasked is the masked form the pages show for bkID(i).
func bkMasked(i int) string { return platform.MaskID(bkID(i)) }

type bkWorld struct {
	t     testing.TB
	clock *testclock.Clock
	idp   *oidcdev.Provider
	js    jetstream.JetStream
	svc   *booking.Service
	URL   string // the central: API and pages
	mu    sync.Mutex
	seq   map[string]uint64
}

// mustBookWorld starts the central on Friday 27 Nov 2026 09:00 (Shanghai)
// with three halls and the catalogue:
//
//	h1 武昌 (A 1 seat, B 2 seats), h2 洪山 (A 1, B 2), h3 江汉 (B 2), h4 青山 (A 1)
//	Mon–Fri 09:00–12:00, 13:30–17:00, 30-minute slots
func mustBookWorld(t testing.TB) *bkWorld {
	t.Helper()
	w := &bkWorld{t: t, clock: testclock.New(testclock.At(9, 0)), seq: map[string]uint64{}}
	var err error
	if w.idp, err = oidcdev.New(""); err != nil {
		t.Fatal(err)
	}
	w.idp.Now = w.clock.Now
	w.idp.Staff = map[string]oidcdev.Staff{"province": {Role: auth.RoleProvinceAdmin}}
	idpSrv := newLoopback(t, w.idp)
	w.idp.Issuer = idpSrv

	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := platform.Start(ctx, platform.Config{NATSURLs: ns.URL(), HTTP: "127.0.0.1:0", SilentAfter: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	w.js, w.URL = p.JS, p.URL()
	if w.svc, err = booking.New(ctx, booking.Config{JS: p.JS, ProvinceKey: bkKey, Clock: w.clock}); err != nil {
		t.Fatal(err)
	}
	v, err := auth.New(ctx, auth.Config{Issuer: idpSrv, ClientID: bkClient, ProvinceKey: bkKey, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := session.New(ctx, session.Config{JS: p.JS, Verifier: v, ClientID: bkClient, PublicURL: w.URL, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for pattern, h := range sess.Routes() {
		p.API.Handle(pattern, h)
	}
	either := session.Either{Bearer: v, Session: sess}
	for pattern, h := range booking.Routes(w.svc, either) {
		p.API.Handle(pattern, h)
	}
	p.API.SetAuth(session.Either{Bearer: v, Session: sess, Staff: p.API.Auth()})
	pages.Mount(p.API)
	go func() { _ = w.svc.Follow(ctx) }()

	day := []calendar.Span{{From: "09:00", To: "12:00"}, {From: "13:30", To: "17:00"}}
	week := map[string][]calendar.Span{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}
	for _, h := range []calendars.Hall{
		{ID: "h1", Name: catalog.Text{ZH: "武昌区政务服务中心", EN: "Wuchang service hall"}, Capacity: map[string]int{"A": 1, "B": 2}},
		{ID: "h2", Name: catalog.Text{ZH: "洪山区政务服务中心", EN: "Hongshan service hall"}, Capacity: map[string]int{"A": 1, "B": 2}},
		{ID: "h3", Name: catalog.Text{ZH: "江汉区政务服务中心", EN: "Jianghan service hall"}, Capacity: map[string]int{"B": 2}},
		{ID: "h4", Name: catalog.Text{ZH: "青山区政务服务中心", EN: "Qingshan service hall"}, Capacity: map[string]int{"A": 1}},
	} {
		h.Calendar, h.SlotMinutes = calendar.Calendar{Zone: "Asia/Shanghai", Weekly: week}, 30
		w.must(http.StatusOK, "PUT", "/api/v1/staff/halls/"+h.ID, w.admin(), h, nil)
	}
	tx := func(zh, en string) catalog.Text { return catalog.Text{ZH: zh, EN: en} }
	tp := func(zh, en string) *catalog.Text { return &catalog.Text{ZH: zh, EN: en} }
	idCard := catalog.Material{Name: tx("居民身份证", "Resident ID card"), Original: true, Copies: 1}
	w.must(http.StatusOK, "PUT", "/api/v1/staff/catalog", w.admin(), map[string]any{"base_version": 0, "matters": []catalog.Matter{
		{Code: "passport", Name: tx("普通护照申领", "Applying for a passport"), Services: []string{"B"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{idCard, {Name: tx("近期免冠彩色照片", "A recent colour photo"), Note: tp("白色背景", "White background")}},
			Fees:      tp("120元", "CNY 120"), TimeLimitDays: 7, Where: tp("出入境窗口（3、4号）", "Exit-entry, windows 3 and 4")},
		{Code: "id-card-renewal", Name: tx("居民身份证换领", "Renewing a resident ID card"), Services: []string{"A"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{idCard}, Fees: tp("20元", "CNY 20"), TimeLimitDays: 20},
		{Code: "driving-licence-renewal", Name: tx("机动车驾驶证期满换证", "Renewing a driving licence"), Services: []string{"C"}, Booking: catalog.BookingNone,
			Materials: []catalog.Material{idCard}, Fees: tp("10元", "CNY 10"), TimeLimitDays: 1},
	}}, nil)
	return w
}

func newLoopback(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func (w *bkWorld) admin() string {
	return w.idp.Mint(oidcdev.Token{Subject: "admin", Audience: bkClient, Role: auth.RoleProvinceAdmin})
}

// citizen is citizen i's bearer ID token, for the API checks.
func (w *bkWorld) citizen(i int) string {
	return w.idp.Mint(oidcdev.Token{Subject: fmt.Sprintf("c%d", i), Audience: bkClient, IDNumber: bkID(i)})
}

func (w *bkWorld) do(method, path, token string, body any) (int, []byte) {
	w.t.Helper()
	var hdr []string
	if method == "POST" {
		hdr = []string{"Idempotency-Key", fmt.Sprintf("test-%d", time.Now().UnixNano())}
	}
	return apitest.Do(w.t, method, w.URL+path, token, body, hdr...)
}

func (w *bkWorld) must(status int, method, path, token string, body, out any) {
	w.t.Helper()
	st, b := w.do(method, path, token, body)
	if st != status {
		w.t.Fatalf("%s %s: %d, want %d: %s", method, path, st, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// book books for citizen i through the API.
func (w *bkWorld) book(i int, hallID, service, matter string, at time.Time) booking.Booking {
	w.t.Helper()
	var res booking.Result
	w.must(http.StatusCreated, "POST", "/api/v1/bookings", w.citizen(i), booking.Request{Hall: hallID, Service: service, SlotStart: at, Matter: matter}, &res)
	return res.Booking
}

// mine is citizen i's bookings at the central.
func (w *bkWorld) mine(i int) []booking.Booking {
	w.t.Helper()
	var rep booking.MineReply
	w.must(http.StatusOK, "GET", "/api/v1/bookings", w.citizen(i), nil, &rep)
	return rep.Bookings
}

// event publishes a hall event on HALLS, as a hall's forwarder does.
func (w *bkWorld) event(hallID string, ev hall.Event) {
	w.t.Helper()
	w.mu.Lock()
	w.seq[hallID]++
	ev.Seq = w.seq[hallID]
	w.mu.Unlock()
	if ev.At.IsZero() {
		ev.At = w.clock.Now()
	}
	if ev.Day == "" {
		ev.Day = w.clock.Now().In(bkShanghai(w.t)).Format("2006-01-02")
	}
	data, _ := json.Marshal(ev)
	m := &nats.Msg{Subject: forward.Subject(hallID, ev.Type), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d@0123456789abcdef", hallID, ev.Seq))
	if _, err := w.js.PublishMsg(context.Background(), m); err != nil {
		w.t.Fatal(err)
	}
}

// waiting makes n tickets of service wait at a hall (its forwarded events).
func (w *bkWorld) waiting(hallID, service string, n int) {
	w.t.Helper()
	for i := range n {
		tk := &hall.Ticket{ID: fmt.Sprintf("%s-%s-%d", hallID, service, i), Number: fmt.Sprintf("%s%03d", service, i+1), Service: service,
			Day: "2026-11-27", Status: hall.Waiting, Channel: hall.WalkIn, IssuedAt: w.clock.Now()}
		w.event(hallID, hall.Event{Type: hall.EvTicketIssued, Ticket: tk})
	}
}

// miss makes a booking missed, as its hall reports it: checked in, then
// not there when called.
func (w *bkWorld) miss(b booking.Booking) {
	w.t.Helper()
	day := b.SlotStart.In(bkShanghai(w.t)).Format("2006-01-02")
	tk := "tk-" + b.ID
	w.event(b.Hall, hall.Event{Type: hall.EvBooking, Day: day, Booking: &hall.Booking{ID: b.ID, Status: hall.BookingCheckedIn, Ticket: tk}})
	w.event(b.Hall, hall.Event{Type: hall.EvTicketNoShow, Day: day, Ticket: &hall.Ticket{ID: tk, Day: day, Booking: b.ID}})
}

// missed waits until citizen i's booking is missed at the central.
func (w *bkWorld) missed(i int, id string) {
	w.t.Helper()
	w.eventually("booking "+id+" missed", func() bool {
		var got booking.Booking
		st, body := w.do("GET", "/api/v1/bookings/"+id, w.citizen(i), nil)
		return st == http.StatusOK && json.Unmarshal(body, &got) == nil && got.Status == booking.Missed
	})
}

func (w *bkWorld) eventually(what string, ok func() bool) {
	w.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			w.t.Fatalf("never: %s", what)
		}
	}
}

// ---- the browser (hallq/internal/browsertest) ----

type bkBrowser struct{ *browsertest.Browser }

func mustBkBrowser(t *testing.T) *bkBrowser {
	t.Helper()
	return &bkBrowser{browsertest.MustBrowser(t, browsertest.Config{Width: 1366, Height: 900,
		Screenshots: os.Getenv("PORTAL_SCREENSHOTS"), Prefix: "portal-"})}
}

// bkTab is one citizen's browser: a browser context of its own (its own
// cookies and storage) at one viewport.
type bkTab struct {
	*browsertest.Tab
	name string // for screenshots: zh-phone, en-desktop, …
}

var bkViewports = map[string][2]int64{"phone": {390, 844}, "desktop": {1366, 900}}

func (b *bkBrowser) tab(t *testing.T, lang, viewport string) *bkTab {
	t.Helper()
	v := bkViewports[viewport]
	return &bkTab{Tab: b.MustTab(t, v[0], v[1]), name: lang + "-" + viewport}
}

// see waits for an element to show text.
func (tb *bkTab) see(sel, text string) {
	tb.T.Helper()
	tb.WaitFor(3*time.Second, fmt.Sprintf(`[...document.querySelectorAll(%q)].some((e) => e.offsetParent !== null && e.textContent.includes(%q))`, sel, text))
}

// click presses an element once the page has drawn its step (main
// without data-busy), so it is not a control about to be replaced.
func (tb *bkTab) click(sel string) {
	tb.T.Helper()
	tb.WaitFor(3*time.Second, fmt.Sprintf(`!!document.querySelector(%q) && !document.querySelector('main[data-busy]')`, sel))
	tb.Click(sel)
}

// bkShots are the screenshots kept in docs/screenshots (name-lang-viewport).
var bkShots = map[string]bool{
	"home-zh-phone": true, "guide-zh-phone": true, "halls-zh-phone": true, "slots-zh-phone": true, "confirm-zh-phone": true,
	"done-zh-phone": true, "refused-slot-full-zh-phone": true, "refused-banned-zh-phone": true, "bookings-zh-phone": true,
	"large-contrast-zh-phone": true, "halls-en-desktop": true, "done-en-desktop": true, "bookings-en-desktop": true,
	"reschedule-en-desktop": true, "refused-closed-en-desktop": true,
}

// shot writes a screenshot of the viewport when PORTAL_SCREENSHOTS names a
// directory (PORTAL_SCREENSHOTS=$PWD/docs/screenshots go test ./ui/portal/),
// as docs/screenshots/portal-<name>-<lang>-<viewport>.png, for the shots
// the docs keep (bkShots).
func (tb *bkTab) shot(name string) {
	tb.T.Helper()
	if bkShots[name+"-"+tb.name] {
		tb.Shot(name + "-" + tb.name)
	}
}

// signIn signs in on the stand-in provider's real page with citizen i's
// ID number, from wherever the page sent the browser.
func (tb *bkTab) signIn(i int) {
	tb.T.Helper()
	tb.WaitFor(3*time.Second, `!!document.querySelector('input[name=id_number]')`)
	tb.Type(`input[name=id_number]`, bkID(i))
	tb.Click(`form button[type=submit]`)
	tb.WaitFor(3*time.Second, `!!document.querySelector('#who-masked')`)
	if got := tb.Text("#who-masked"); !strings.Contains(got, bkMasked(i)) {
		tb.T.Fatalf("signed in as %q, want %s", got, bkMasked(i))
	}
}
