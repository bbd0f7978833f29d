package rating_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/booking"
	"hallq/central/oidcdev"
	"hallq/central/pages"
	"hallq/central/platform"
	"hallq/central/rating"
	"hallq/internal/apitest"
	"hallq/internal/halltest"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
)

const clientID = "portal"

// world is a real central (embedded NATS, the views, bookings with a
// stand-in OIDC provider, online ratings, the portal's pages) and a real
// hall forwarding to it through a link the test can cut.
type world struct {
	t    testing.TB
	P    *platform.Process
	IDP  *oidcdev.Provider
	Hall *halltest.Hall
	Link *link
}

func mustWorld(t *testing.T) *world {
	t.Helper()
	w := mustCentral(t)
	w.Link = mustLink(t, w.P.NATS.URL())
	w.Hall = halltest.RunHall(t, halltest.Options{OpenAll: true, Clock: hallClock{}, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: w.Link.URL(), MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, PollInterval: 50 * time.Millisecond}
		o.CitizenSecret = []byte("example-province-key")
	}})
	return w
}

// mustCentral starts the central alone.
func mustCentral(t testing.TB) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{t: t}
	var err error
	w.P, err = platform.Start(ctx, platform.Config{DataDir: filepath.Join(t.TempDir(), "central"), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.P.Stop)
	w.IDP, err = oidcdev.New("")
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(w.IDP)
	t.Cleanup(idp.Close)
	w.IDP.Issuer = idp.URL
	key := filepath.Join(t.TempDir(), "province.key")
	if err := os.WriteFile(key, []byte("6578616d706c652d70726f76696e63652d6b6579"), 0o600); err != nil { // "example-province-key"
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	bk := booking.Extension()
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	bk.Flags(fs)
	if err := fs.Parse([]string{"-province-key", key, "-oidc-issuer", idp.URL, "-oidc-client-id", clientID}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []platform.Extension{bk, rating.Extension(), pages.Extension()} {
		if err := e.Start(ctx, w.P, log); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// shanghai is the hall's zone in the tests (not UTC: shown times must be the hall's).
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// hallClock is the wall clock of a hall server whose machine runs UTC
// (TZ unset, as a container's often is): the hall still records its times in
// its own zone (Asia/Shanghai), so what the portal shows is the hall's.
type hallClock struct{}

func (hallClock) Now() time.Time { return time.Now().UTC() }

// Do calls the central's API: the status and the body.
func (w *world) Do(method, path string, body any, hdr ...string) (int, []byte) {
	w.t.Helper()
	return apitest.Do(w.t, method, w.P.URL()+path, "", body, hdr...)
}

// Admin is a province admin's bearer header.
func (w *world) Admin() []string {
	return []string{"Authorization", "Bearer " + w.IDP.Mint(oidcdev.Token{Subject: "admin", Audience: clientID, Role: platform.RoleProvinceAdmin})}
}

// MustSetUp gives the booking side a hall's set-up (name, district,
// calendar open every day, 30-minute slots).
func (w *world) MustSetUp(id, zh, en, district string) {
	w.t.Helper()
	day := []map[string]string{{"from": "00:00", "to": "23:59"}}
	weekly := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly[d] = day
	}
	st, b := w.Do("PUT", "/api/v1/staff/halls/"+id, map[string]any{"id": id, "name": map[string]string{"zh": zh, "en": en},
		"district": map[string]string{"zh": district}, "calendar": map[string]any{"zone": "Asia/Shanghai", "weekly": weekly},
		"slot_minutes": 30, "capacity": map[string]int{"E": 2, "B": 2}, "revision": 0}, w.Admin()...)
	if st != http.StatusOK && st != http.StatusCreated {
		w.t.Fatalf("set-up %s: %d %s", id, st, b)
	}
}

// Ticket is the central's public view of a ticket.
func (w *world) Ticket(id string) platform.TicketStatus {
	w.t.Helper()
	var out platform.TicketStatus
	st, b := w.Do("GET", "/api/v1/tickets/"+id, nil)
	if st == http.StatusOK {
		_ = json.Unmarshal(b, &out)
	}
	return out
}

// Rating is where the central says the ticket's rating stands.
func (w *world) Rating(id string) rating.Record {
	w.t.Helper()
	var out struct{ Rating rating.Record }
	_, b := w.Do("GET", "/api/v1/ratings/"+id, nil)
	_ = json.Unmarshal(b, &out)
	return out.Rating
}

// Issue takes a ticket of service at the hall.
func (w *world) Issue(idem, service string) hall.TicketView {
	w.t.Helper()
	tk, err := w.Hall.Admin.Issue(context.Background(), idem, hall.IssueRequest{Service: service})
	if err != nil {
		w.t.Fatal(err)
	}
	return tk
}

// Serve opens window n, calls the next ticket there and serves it to done.
func (w *world) Serve(n int, id string) {
	w.t.Helper()
	ctx := context.Background()
	clerk := w.Hall.Admin
	if _, err := clerk.SetWindow(ctx, n, string(hall.WindowOpen), ""); err != nil {
		w.t.Fatal(err)
	}
	if _, ok, err := clerk.Call(ctx, "call-"+id, n, id); err != nil || !ok {
		w.t.Fatalf("call %s: %v %v", id, ok, err)
	}
	for _, a := range []string{hall.ActStart, hall.ActComplete} {
		if _, err := clerk.Act(ctx, a+"-"+id, id, a, nil); err != nil {
			w.t.Fatalf("%s %s: %v", a, id, err)
		}
	}
}

// eventually waits until cond holds. A person would expect it within a
// few seconds; the test fails only after 60 s (a busy machine is slow,
// the benchmarks measure speed).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 60*time.Second {
			t.Fatalf("not within 60 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Logf("took %v: %s", d.Round(time.Millisecond), what)
	}
}

// link is a TCP relay between the hall and the central's NATS that the
// test cuts (every connection dropped, new ones refused) and restores:
// the hall's link to the province going down and coming back.
type link struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func mustLink(t testing.TB, natsURL string) *link {
	t.Helper()
	u := natsURL
	if i := len("nats://"); len(u) > i && u[:i] == "nats://" {
		u = u[i:]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &link{ln: ln, target: u, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); l.Cut() })
	go l.serve()
	return l
}

func (l *link) URL() string { return "nats://" + l.ln.Addr().String() }

func (l *link) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.cut {
			l.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", l.target)
		if err != nil {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.conns[c], l.conns[up] = true, true
		l.mu.Unlock()
		go l.pipe(c, up)
		go l.pipe(up, c)
	}
}

func (l *link) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	l.mu.Lock()
	delete(l.conns, dst)
	delete(l.conns, src)
	l.mu.Unlock()
}

// Cut drops every connection and refuses new ones until Restore.
func (l *link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c := range l.conns {
		c.Close()
	}
}

// Restore lets connections through again.
func (l *link) Restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = false
}

// publishHall forwards, as a hall would, a window open for service E and
// n waiting tickets, every event at hall time at: a hall whose last word
// is as old as at.
func publishHall(t testing.TB, js jetstream.JetStream, id string, at time.Time, n int) {
	t.Helper()
	at = at.In(shanghai)
	day := at.Format(time.DateOnly)
	evs := []hall.Event{{Type: hall.EvWindowOpened, Window: &hall.Window{Number: 1, Services: []string{"E"}, Status: hall.WindowOpen, Since: at}}}
	for i := range n {
		evs = append(evs, hall.Event{Type: hall.EvTicketIssued, Ticket: &hall.Ticket{ID: fmt.Sprintf("%s-t%04d", strings.ToLower(id), i), Number: fmt.Sprintf("E%03d", i+1),
			Service: "E", Day: day, Channel: hall.WalkIn, Status: hall.Waiting, IssuedAt: at, QueuedAt: at}})
	}
	for i := range evs {
		evs[i].At, evs[i].Day = at, day
	}
	publishEvents(t, js, id, evs)
}

// publishEvents forwards events as hall id would (seq from 1, one epoch).
func publishEvents(t testing.TB, js jetstream.JetStream, id string, evs []hall.Event) {
	t.Helper()
	var futs []jetstream.PubAckFuture
	for i, ev := range evs {
		ev.Seq = uint64(i + 1)
		data, _ := json.Marshal(ev)
		m := &nats.Msg{Subject: forward.Subject(id, ev.Type), Data: data, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d@%s", id, ev.Seq, "0123456789abcdef"))
		f, err := js.PublishMsgAsync(m)
		if err != nil {
			t.Fatal(err)
		}
		futs = append(futs, f)
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatal(err)
		}
	}
}
