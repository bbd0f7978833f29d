package booking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/central/calendars"
	"hallq/central/natsembed"
	"hallq/central/oidcdev"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/internal/idnumber"
	"hallq/internal/testclock"
)

var provinceKey = []byte("example-province-key")

const clientID = "hallq-portal"

// friday0900 is testclock's working day (Friday 27 Nov 2026) at 09:00 CST.
var friday0900 = testclock.At(9, 0)

// monday is the next working day, 30 Nov 2026, at hh:mm CST.
func monday(hh, mm int) time.Time { return time.Date(2026, 11, 30, hh, mm, 0, 0, testclock.Zone) }

// idNumber is the i-th valid resident ID number of the tests.
func idNumber(i int) string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/900)
	first := fmt.Sprintf("110105%s%03d", birth.Format("20060102"), 100+i%900)
	c, err := idnumber.CheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

// sampleHall is open Mon–Fri 09:00–12:00 and 13:30–17:00 (Asia/Shanghai),
// with 30-minute slots: service B 2 seats, service A 1 seat.
func sampleHall(id string) calendars.Hall {
	day := []calendar.Span{{From: "09:00", To: "12:00"}, {From: "13:30", To: "17:00"}}
	return calendars.Hall{
		ID: id, Name: catalog.Text{ZH: "测试大厅", EN: "Test hall"},
		Calendar: calendar.Calendar{Zone: "Asia/Shanghai", Weekly: map[string][]calendar.Span{
			"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}},
		SlotMinutes: 30, Capacity: map[string]int{"A": 1, "B": 2},
	}
}

// world is a central's booking side on an embedded NATS server with a
// stand-in OIDC provider, on a fake clock.
type world struct {
	t      testing.TB
	Clock  *testclock.Clock
	IDP    *oidcdev.Provider
	idpURL string
	NATS   string // client URL(s)
	JS     jetstream.JetStream
	Insts  []*instance
}

type instance struct {
	Svc  *booking.Service
	URL  string
	srv  *httptest.Server
	nc   *nats.Conn
	stop context.CancelFunc
}

// Kill stops the instance's HTTP server and NATS connection at once, as
// a crashed process.
func (in *instance) Kill() {
	in.stop()
	in.srv.CloseClientConnections()
	in.srv.Close()
	in.nc.Close()
}

func mustIDP(t testing.TB, clock *testclock.Clock) (*oidcdev.Provider, string) {
	t.Helper()
	p, err := oidcdev.New("")
	if err != nil {
		t.Fatal(err)
	}
	p.Now = clock.Now
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.Issuer = srv.URL
	return p, srv.URL
}

// MustWorld starts an embedded NATS server and n instances.
func MustWorld(t testing.TB, n int) *world {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	return mustWorldAt(t, ns.URL(), 1, n)
}

func mustWorldAt(t testing.TB, urls string, replicas, n int) *world {
	t.Helper()
	w := &world{t: t, Clock: testclock.New(friday0900), NATS: urls}
	w.IDP, w.idpURL = mustIDP(t, w.Clock)
	nc, err := nats.Connect(urls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	w.JS, _ = jetstream.New(nc)
	for range n {
		w.Insts = append(w.Insts, w.mustInstance(replicas))
	}
	return w
}

func (w *world) mustInstance(replicas int) *instance {
	t := w.t
	t.Helper()
	nc, err := nats.Connect(w.NATS, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc, jetstream.WithDefaultTimeout(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var svc *booking.Service
	for { // a new cluster elects its JetStream leader first
		actx, acancel := context.WithTimeout(ctx, 15*time.Second) // a request lost with a node is retried
		svc, err = booking.New(actx, booking.Config{JS: js, Replicas: replicas, ProvinceKey: provinceKey, Clock: w.Clock,
			Log: testLog()})
		acancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.New(ctx, auth.Config{Issuer: w.idpURL, ClientID: clientID, ProvinceKey: provinceKey, Now: w.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(context.Background())
	go func() {
		if err := svc.Follow(run); err != nil && run.Err() == nil {
			t.Errorf("follow: %v", err)
		}
	}()
	srv := httptest.NewServer(booking.Handler(svc, v))
	in := &instance{Svc: svc, URL: srv.URL, srv: srv, nc: nc, stop: stop}
	t.Cleanup(func() { stop(); srv.Close(); nc.Close() })
	return in
}

// Citizen is the ID token of test citizen i.
func (w *world) Citizen(i int) string {
	return w.IDP.Mint(oidcdev.Token{Subject: fmt.Sprintf("citizen-%d", i), Audience: clientID, IDNumber: idNumber(i)})
}

// Admin is a province admin's ID token.
func (w *world) Admin() string {
	return w.IDP.Mint(oidcdev.Token{Subject: "admin", Audience: clientID, Role: auth.RoleProvinceAdmin})
}

// MustHall stores a hall through the staff API.
func (w *world) MustHall(h calendars.Hall) calendars.Hall {
	w.t.Helper()
	var rep booking.PutHallReply
	w.MustDo(http.StatusOK, "PUT", "/api/v1/staff/halls/"+h.ID, w.Admin(), h, "", &rep)
	return rep.Hall
}

// Do sends a request to instance 0.
func (w *world) Do(method, path, token string, body any, idem string) (int, []byte) {
	return do(w.t, w.Insts[0].URL, method, path, token, body, idem)
}

func do(t testing.TB, base, method, path, token string, body any, idem string) (int, []byte) {
	t.Helper()
	st, b, err := tryDo(base, method, path, token, body, idem)
	if err != nil {
		t.Fatal(err)
	}
	return st, b
}

func tryDo(base, method, path, token string, body any, idem string) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// MustDo sends a request and checks its status, decoding the body into v.
func (w *world) MustDo(status int, method, path, token string, body any, idem string, v any) {
	w.t.Helper()
	st, b := w.Do(method, path, token, body, idem)
	if st != status {
		w.t.Fatalf("%s %s: status %d, want %d: %s", method, path, st, status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			w.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// MustRefuse checks that a request is refused with status and reason.
func (w *world) MustRefuse(status int, reason booking.Reason, method, path, token string, body any) booking.Error {
	w.t.Helper()
	st, b := w.Do(method, path, token, body, "")
	var e struct{ Error booking.Error }
	_ = json.Unmarshal(b, &e)
	if st != status || e.Error.Reason != reason {
		w.t.Fatalf("%s %s: %d %s, want %d %s: %s", method, path, st, e.Error.Reason, status, reason, b)
	}
	return e.Error
}

// Book books for citizen i and returns the booking.
func (w *world) Book(i int, hall, service string, start time.Time) booking.Booking {
	w.t.Helper()
	var res booking.Result
	w.MustDo(http.StatusCreated, "POST", "/api/v1/bookings", w.Citizen(i),
		booking.Request{Hall: hall, Service: service, SlotStart: start}, "", &res)
	return res.Booking
}

// Seats reads the ids holding seats of a slot, straight from the KV.
func (w *world) Seats(hall, service string, start time.Time) []string {
	w.t.Helper()
	kv, err := w.JS.KeyValue(context.Background(), booking.SlotsBucket)
	if err != nil {
		w.t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	e, err := kv.Get(context.Background(), hall+"."+service+"."+start.In(loc).Format("20060102.1504"))
	if err != nil {
		return nil
	}
	var v struct{ IDs []string }
	_ = json.Unmarshal(e.Value(), &v)
	return v.IDs
}

func testLog() *slog.Logger {
	if os.Getenv("BOOKING_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
