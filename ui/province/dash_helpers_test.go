package province_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
	"hallq/internal/browsertest"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// The hall time zone of the tests (not UTC).
var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// hallClock is the halls' time: 10:30 in Shanghai today, running forward
// with the real clock.
type hallClock struct{ base, start time.Time }

func (c hallClock) Now() time.Time { return c.base.Add(time.Since(c.start)) }

func halfPastTen() hallClock {
	n := time.Now().In(shanghai)
	return hallClock{base: time.Date(n.Year(), n.Month(), n.Day(), 10, 30, 0, 0, shanghai), start: time.Now()}
}

// province is a whole central in-process: an embedded NATS server, a
// central process with the booking extension (bookings, calendars, the
// catalogue, the sign-in sessions) and the pages, and the stand-in OIDC
// provider with two staff accounts: ops (province admin) and wuchang
// (supervisor of 420106-01).
type province struct {
	t     *testing.T
	P     *platform.Process
	IDP   *oidcdev.Provider
	clock hallClock
	Day   string // the halls' day
}

const clientID = "portal"

func mustProvince(t *testing.T) *province {
	t.Helper()
	pv := &province{t: t, clock: halfPastTen()}
	pv.Day = pv.clock.base.Format("2006-01-02")
	var err error
	if pv.IDP, err = oidcdev.New(""); err != nil {
		t.Fatal(err)
	}
	pv.IDP.Staff = map[string]oidcdev.Staff{"ops": {Role: auth.RoleProvinceAdmin}, "wuchang": {Role: auth.RoleHallSupervisor, Halls: []string{"420106-01"}}}
	idp := httptest.NewServer(pv.IDP)
	t.Cleanup(idp.Close)
	pv.IDP.Issuer = idp.URL
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pv.P, err = platform.Start(ctx, platform.Config{NATSURLs: ns.URL(), HTTP: "127.0.0.1:0", Log: log, Now: pv.clock.Now,
		SilentAfter: 20 * time.Minute, Views: platform.ViewOptions{LeaseTTL: 2 * time.Second, Partitions: 4}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pv.P.Stop)
	key := filepath.Join(t.TempDir(), "province.key")
	if err := os.WriteFile(key, []byte("00112233445566778899aabbccddeeff"), 0o600); err != nil {
		t.Fatal(err)
	}
	bk := booking.Extension()
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	bk.Flags(fs)
	if err := fs.Parse([]string{"-province-key", key, "-oidc-issuer", idp.URL, "-oidc-client-id", clientID}); err != nil {
		t.Fatal(err)
	}
	if err := bk.Start(ctx, pv.P, log); err != nil {
		t.Fatal(err)
	}
	if err := pages.Extension().Start(ctx, pv.P, log); err != nil {
		t.Fatal(err)
	}
	return pv
}

// URL is the central's address.
func (pv *province) URL() string { return pv.P.URL() }

// admin is a province admin's bearer ID token.
func (pv *province) admin() string {
	return pv.IDP.Mint(oidcdev.Token{Subject: "ops", Audience: clientID, Role: auth.RoleProvinceAdmin})
}

// do sends a JSON request with a bearer token and decodes the answer.
func (pv *province) do(method, path, token string, body, out any) int {
	pv.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, pv.URL()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		pv.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			pv.t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, b, err)
		}
	}
	if res.StatusCode >= 300 {
		pv.t.Logf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode
}

// mustHall stores a hall's calendar (open every day 08:30–17:30, 30-minute
// slots, B 2 seats and A 1 per slot) with its name.
func (pv *province) mustHall(id, zh, en string) {
	pv.t.Helper()
	day := []calendar.Span{{From: "08:30", To: "12:00"}, {From: "13:00", To: "17:30"}}
	week := map[string][]calendar.Span{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week[d] = day
	}
	h := calendars.Hall{ID: id, Name: catalog.Text{ZH: zh, EN: en}, Calendar: calendar.Calendar{Zone: "Asia/Shanghai", Weekly: week},
		SlotMinutes: 30, Capacity: map[string]int{"A": 1, "B": 2}}
	if code := pv.do("PUT", "/api/v1/staff/halls/"+id, pv.admin(), h, nil); code != 200 {
		pv.t.Fatalf("PUT hall %s: %d", id, code)
	}
}

// feed is a hall's events as its store commits them, published the way
// the forwarder does (subject, Nats-Msg-Id "<hall>:<seq>@<epoch>").
type feed struct {
	pv      *province
	ID      string
	seq     uint64
	tickets map[string]*hall.Ticket
	numbers map[string]int
}

func (pv *province) feed(id string) *feed {
	return &feed{pv: pv, ID: id, tickets: map[string]*hall.Ticket{}, numbers: map[string]int{}}
}

// at is the hall's today at hh:mm.
func (f *feed) at(hh, mm int) time.Time {
	b := f.pv.clock.base
	return time.Date(b.Year(), b.Month(), b.Day(), hh, mm, 0, 0, shanghai)
}

func (f *feed) publish(ev hall.Event) {
	f.pv.t.Helper()
	f.seq++
	ev.Seq, ev.Day = f.seq, f.pv.Day
	if ev.Ticket != nil {
		c := *ev.Ticket
		ev.Ticket = &c
	}
	data, _ := json.Marshal(ev)
	m := &nats.Msg{Subject: forward.Subject(f.ID, ev.Type), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d@%s", f.ID, ev.Seq, "e0e0e0e0e0e0e0e0"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := f.pv.P.JS.PublishMsg(ctx, m); err != nil {
		f.pv.t.Fatal(err)
	}
}

// skip loses n sequence numbers (a gap the central must alert).
func (f *feed) skip(n uint64) { f.seq += n }

func (f *feed) window(n int, status hall.WindowStatus, at time.Time, services ...string) {
	typ := map[hall.WindowStatus]string{hall.WindowOpen: hall.EvWindowOpened, hall.WindowPaused: hall.EvWindowPaused, hall.WindowClosed: hall.EvWindowClosed}[status]
	f.publish(hall.Event{Type: typ, At: at, Window: &hall.Window{Number: n, Services: services, Status: status, Since: at}})
}

func (f *feed) issue(svc string, at time.Time, matters ...string) *hall.Ticket {
	f.numbers[svc]++
	t := &hall.Ticket{ID: fmt.Sprintf("%s-%s%03d", strings.ToLower(f.ID), svc, f.numbers[svc]), Number: fmt.Sprintf("%s%03d", svc, f.numbers[svc]),
		Service: svc, Day: f.pv.Day, Channel: hall.WalkIn, Status: hall.Waiting, IssuedAt: at, QueuedAt: at}
	for _, m := range matters {
		t.Matters = append(t.Matters, hall.VisitMatter{Code: m, Services: []string{svc}})
	}
	f.publish(hall.Event{Type: hall.EvTicketIssued, At: at, Ticket: t})
	return t
}

// serve calls t to window at at, and completes it minutes later (every
// matter done); score > 0 rates it.
func (f *feed) serve(t *hall.Ticket, window int, at time.Time, minutes, score int) {
	t.Status, t.Window, t.CalledAt = hall.Called, window, at
	f.publish(hall.Event{Type: hall.EvTicketCalled, At: at, Ticket: t})
	t.Status, t.StartedAt = hall.Serving, at.Add(time.Minute)
	f.publish(hall.Event{Type: hall.EvTicketStarted, At: t.StartedAt, Ticket: t})
	if minutes == 0 {
		return // still being served
	}
	t.Status, t.FinishedAt = hall.Done, at.Add(time.Duration(minutes)*time.Minute)
	for i := range t.Matters {
		t.Matters[i].Outcome = hall.OutcomeDone
	}
	f.publish(hall.Event{Type: hall.EvTicketCompleted, At: t.FinishedAt, Ticket: t})
	if score > 0 {
		r := &hall.Rating{Score: score, Channel: hall.ViaWindowPad, At: t.FinishedAt}
		if score <= 2 {
			r.Reason = "等太久"
		}
		if len(t.Matters) > 0 {
			t.Matters[0].Rating = r
		} else {
			t.Rating = r
		}
		f.publish(hall.Event{Type: hall.EvTicketRated, At: t.FinishedAt, Ticket: t})
	}
}

// waitApplied waits until the API's read copy shows the hall at its last seq.
func (f *feed) waitApplied() {
	f.pv.t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if h, ok := f.pv.P.Views.Hall(f.ID); ok && h.LastSeq >= f.seq {
			return
		}
		if time.Now().After(deadline) {
			f.pv.t.Fatalf("hall %s: the central did not apply seq %d", f.ID, f.seq)
		}
	}
}

// mustHalls feeds the three halls of the dashboard tests:
//   - 420106-01 武昌 (Wuchang): windows 1 (A, B) and 2 (C) open, 3 paused;
//     served since 08:40, rated 5, 5, 4 and 2; four waiting, the first since
//     09:50 (over the 30-minute target at 10:30); its last event at 10:28.
//   - 420111-02 洪山 (Hongshan): forwarding lost sequence numbers 5–6 (a gap).
//   - 420102-03 江岸 (Jiang'an): window open, nothing forwarded since 10:05
//     (silent: the tests' central alerts after 20 minutes).
func (pv *province) mustHalls() {
	pv.t.Helper()
	pv.mustHall("420106-01", "武昌区公安服务大厅", "Wuchang hall")
	pv.mustHall("420111-02", "洪山区公安服务大厅", "Hongshan hall")
	pv.mustHall("420102-03", "江岸区公安服务大厅", "Jiang'an hall")

	w := pv.feed("420106-01")
	w.window(1, hall.WindowOpen, w.at(8, 30), "A", "B")
	w.window(2, hall.WindowOpen, w.at(8, 30), "C")
	w.window(3, hall.WindowPaused, w.at(8, 30), "B")
	a1 := w.issue("A", w.at(8, 40), "HZ-001")
	w.serve(a1, 1, w.at(8, 50), 8, 5)
	b1 := w.issue("B", w.at(8, 45))
	w.serve(b1, 1, w.at(9, 5), 10, 5)
	c1 := w.issue("C", w.at(9, 10))
	w.serve(c1, 2, w.at(9, 20), 5, 4)
	a2 := w.issue("A", w.at(9, 15), "HZ-001")
	w.serve(a2, 1, w.at(9, 40), 6, 2)
	b2 := w.issue("B", w.at(9, 50))
	_ = b2
	w.issue("B", w.at(10, 10))
	c2 := w.issue("C", w.at(10, 12))
	w.serve(c2, 2, w.at(10, 20), 0, 0) // at window 2 now
	w.issue("A", w.at(10, 25))
	w.issue("C", w.at(10, 28))
	w.waitApplied()

	h := pv.feed("420111-02")
	h.window(1, hall.WindowOpen, h.at(8, 30), "A", "B", "C")
	x := h.issue("A", h.at(9, 0))
	h.serve(x, 1, h.at(9, 5), 0, 0)
	h.skip(2)
	h.issue("B", h.at(10, 29))
	h.waitApplied()

	j := pv.feed("420102-03")
	j.window(1, hall.WindowOpen, j.at(8, 30), "A", "E")
	y := j.issue("E", j.at(9, 0))
	j.serve(y, 1, j.at(9, 2), 3, 5)
	j.issue("A", j.at(10, 5))
	j.waitApplied()
}

// set sets a form field's value as a person would and fires input/change.
func (tb *tab) set(sel, value string) {
	tb.T.Helper()
	browsertest.Eval[bool](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, sel, value))
}

// signIn signs a staff account in through the stand-in provider's page,
// starting from a dashboard address, and waits to be back on it.
func (tb *tab) signIn(start, account string) {
	tb.T.Helper()
	tb.Open(start)
	tb.WaitFor(3*time.Second, `!!document.querySelector('select[name=staff]')`)
	tb.set("select[name=staff]", account)
	browsertest.Eval[bool](tb, `(document.querySelector('select[name=staff]').form.requestSubmit(), true)`)
	tb.WaitFor(5*time.Second, fmt.Sprintf(`location.pathname === %q && !!document.querySelector('#who-name')`, strings.SplitN(start[strings.Index(start, "/province"):], "?", 2)[0]))
}
