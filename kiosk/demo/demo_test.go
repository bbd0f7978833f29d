package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the Etc/GMT zones of dayZone on any machine

	"hallq/devices/sim"
	"hallq/internal/catalog"
	"hallq/kiosk/app"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

// TestDemoHallIssuesFromTheSimulatedCard starts the demo hall, runs the
// kiosk application on its configuration (no window), places the sample
// card and expects a printed ticket; the web board is served too.
func TestDemoHallIssuesFromTheSimulatedCard(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	quiet := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := Start(ctx, Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var banner bytes.Buffer
	h.Banner(&banner, false)
	if !strings.Contains(banner.String(), "/display?token="+h.Display) || strings.Contains(banner.String(), "/display?token="+h.Admin) {
		t.Fatalf("the board link must carry the display token, never the admin token:\n%s", banner.String())
	}
	if me, err := client.New(h.Server.URL, h.Display).Do(ctx, "GET", "/api/v1/overview", "", nil, nil); err != nil {
		t.Fatalf("the board's token cannot read the board: %v %v", me, err)
	}
	defer func() { // no token reaches the log
		for _, tok := range []string{h.Admin, h.Display, h.Kiosk.Token} {
			if bytes.Contains(logs.Bytes(), []byte(tok)) {
				t.Errorf("a token was logged:\n%s", logs.Bytes())
			}
		}
	}()
	resp, err := http.Get(h.Server.URL + "/display?token=" + h.Display)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("board page: %v %v", err, resp)
	}
	resp.Body.Close()

	views := make(chan app.View, 32)
	k, err := app.Open(h.Kiosk, "test", quiet, func(v app.View) {
		select {
		case views <- v:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	go k.Run(ctx)
	await := func(s app.Screen) app.View {
		t.Helper()
		for deadline := time.After(20 * time.Second); ; {
			select {
			case v := <-views:
				if v.Screen == s {
					return v
				}
			case <-deadline:
				t.Fatalf("no %s screen", s)
			}
		}
	}
	for deadline := time.Now().Add(20 * time.Second); len(k.Core.Services()) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("kiosk never got the services")
		}
	}
	k.Flow.SelectService("A")
	await(app.ScreenInsertCard)
	h.Devices.IDCard.Place(sim.SampleResident)
	v := await(app.ScreenTicket)
	if !v.Printed || !strings.HasPrefix(v.Ticket.Number, "A") {
		t.Fatalf("ticket %+v printed=%v", v.Ticket, v.Printed)
	}
	// the sample booking checks in by its QR code
	k.Flow.Home()
	await(app.ScreenHome)
	h.Devices.Scanner.Scan("BK-1")
	if v := await(app.ScreenTicket); !v.Ticket.Booking || !strings.HasPrefix(v.Ticket.Number, "B") {
		t.Fatalf("booking check-in: %+v", v.Ticket)
	}
}

// dayZone is a fixed-offset zone, never UTC, where it is now between 03:00
// and 18:59: the seeded bookings (the central closes booking an hour
// before a slot) then fall on the hall's today whenever the test runs.
func dayZone(t *testing.T) string {
	t.Helper()
	now := time.Now()
	for _, off := range []int{8, 9, 10, 11, 12, 13, 14, 7, 6, 5, 4, 3, 2, 1, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12} {
		name := fmt.Sprintf("Etc/GMT%+d", -off) // POSIX sign: Etc/GMT-8 is UTC+8
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		if h := now.In(loc).Hour(); h >= 3 && h <= 18 {
			return name
		}
	}
	t.Fatal("no zone in daytime")
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDemoProvinceSeedsAndFollowsACheckIn starts the demo with the
// province: the central serves the seeded catalogue, the hall receives it
// and the sample citizen's bookings, a check-in at the hall (by the
// booking's QR code, and by the card's citizen key) reaches the central as
// arrived, and the banner says where to look.
func TestDemoProvinceSeedsAndFollowsACheckIn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	quiet := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	h, err := Start(ctx, Options{DataDir: dir, Addr: "127.0.0.1:0", Logger: quiet, Central: true,
		NATSAddr: freeAddr(t), CentralAddr: freeAddr(t), IdentityAddr: "127.0.0.1:0", TimeZone: dayZone(t)})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.Bytes())
	}
	defer h.Close()
	if len(h.Bookings) != 2 || !strings.HasPrefix(h.Bookings[0], "bk") {
		t.Fatalf("seeded bookings %v", h.Bookings)
	}
	var banner bytes.Buffer
	h.Banner(&banner, true)
	for _, want := range []string{h.CentralURL + "/api/v1/halls", h.CentralURL + "/api/v1/catalog", "scan " + h.Bookings[0],
		"citizen portal  " + h.CentralURL + "/ ", h.CentralURL + "/province", h.Staff} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, banner.String())
		}
	}
	// the central serves the seeded catalogue
	st, body, err := call(ctx, http.DefaultClient, "GET", h.CentralURL+"/api/v1/catalog", "", nil, "")
	var cat catalog.Catalog
	if err != nil || st != http.StatusOK || json.Unmarshal(body, &cat) != nil || len(cat.Matters) != 4 {
		t.Fatalf("central catalogue: %d %s %v", st, body, err)
	}
	admin := client.New(h.Server.URL, h.Admin)
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s\n%s", what, logs.Bytes())
			}
		}
	}
	waitFor("the hall never received the catalogue", func() bool {
		var m json.RawMessage
		_, err := admin.Do(ctx, "GET", "/api/v1/matters", "", nil, &m)
		return err == nil && bytes.Contains(m, []byte("id-card-renewal")) && bytes.Contains(m, []byte("passport"))
	})
	waitFor("the hall never received the bookings", func() bool {
		var m json.RawMessage
		_, err := admin.Do(ctx, "GET", "/api/v1/bookings", "", nil, &m)
		return err == nil && bytes.Contains(m, []byte(h.Bookings[0])) && bytes.Contains(m, []byte(h.Bookings[1]))
	})
	// the kiosk: the QR code of the first booking, then the card at "I
	// have an appointment" for the second (the hall derives its citizen key
	// under the province key, as the central did)
	views := make(chan app.View, 32)
	k, err := app.Open(h.Kiosk, "test", quiet, func(v app.View) {
		select {
		case views <- v:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	go k.Run(ctx)
	await := func(s app.Screen) app.View {
		t.Helper()
		for deadline := time.After(30 * time.Second); ; {
			select {
			case v := <-views:
				if v.Screen == s {
					return v
				}
				if v.Screen == app.ScreenRefusal {
					t.Fatalf("refused: %+v", v)
				}
			case <-deadline:
				t.Fatalf("no %s screen", s)
			}
		}
	}
	waitFor("the kiosk never got the services", func() bool { return len(k.Core.Services()) > 0 })
	h.Devices.Scanner.Scan(h.Bookings[0])
	if v := await(app.ScreenTicket); !v.Ticket.Booking || !strings.HasPrefix(v.Ticket.Number, "A") {
		t.Fatalf("check-in by the QR code: %+v", v.Ticket)
	}
	k.Flow.Home()
	await(app.ScreenHome)
	k.Flow.StartBooking()
	await(app.ScreenBooking)
	h.Devices.IDCard.Place(sim.SampleResident)
	if v := await(app.ScreenTicket); !v.Ticket.Booking || !strings.HasPrefix(v.Ticket.Number, "B") {
		t.Fatalf("check-in by the card: %+v", v.Ticket)
	}
	citizen := h.idp.citizen()
	for _, id := range h.Bookings {
		waitFor("the central never saw "+id+" arrive", func() bool {
			var b struct {
				Booking struct{ Status string } `json:"booking"`
				Status  string                  `json:"status"`
			}
			st, body, err := call(ctx, http.DefaultClient, "GET", h.CentralURL+"/api/v1/bookings/"+id, citizen, nil, "")
			return err == nil && st == http.StatusOK && json.Unmarshal(body, &b) == nil && (b.Booking.Status == "arrived" || b.Status == "arrived")
		})
	}
	// the portal is served with sign-in working: a citizen signs in on the
	// stand-in's page and lands back on the page they were on, and the
	// stand-in's staff accounts sign in to the dashboard
	raw, _ := sim.SampleResident.Number.Seal(func(n string) (string, error) { return n, nil })
	for _, c := range []struct {
		field, value, next, want string
	}{
		{"id_number", raw, "/bookings", `"masked":"` + sim.SampleResident.Number.Masked() + `"`},
		{"staff", "province", "/", `"role":"province_admin"`},
		{"staff", "supervisor", "/", `"halls":["` + hall.SampleConfig().Hall.ID + `"]`},
	} {
		page, me := demoSignIn(t, h.CentralURL, c.next, c.field, c.value)
		if !strings.Contains(me, c.want) || !strings.Contains(page, "<html") {
			t.Errorf("sign-in as %s %s: me %s, page %.200s", c.field, c.next, me, page)
		}
	}
	for _, secret := range []string{h.Admin, h.Staff, h.Kiosk.Token, citizen} {
		if bytes.Contains(logs.Bytes(), []byte(secret)) {
			t.Errorf("a token was logged")
		}
	}
}

// demoSignIn signs in at the demo's central through the stand-in identity
// provider's page, as a browser: /auth/login?next=, the provider's form
// posted with one field, the callback, and back to next. It returns the
// page landed on and what /api/v1/me says.
func demoSignIn(t *testing.T, central, next, field, value string) (page, me string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(central + "/auth/login?next=" + url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	form := resp.Request.URL.Query() // the provider's sign-in page, with the flow's parameters
	if resp.StatusCode != http.StatusOK || form.Get("redirect_uri") != central+"/auth/callback" {
		t.Fatalf("login went to %s (%d), want the provider with redirect_uri %s/auth/callback", resp.Request.URL, resp.StatusCode, central)
	}
	form.Set(field, value)
	u := *resp.Request.URL
	u.RawQuery = ""
	resp, err = c.PostForm(u.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != central+next {
		t.Fatalf("signed in to %s (%d), want %s: %.300s", resp.Request.URL, resp.StatusCode, central+next, b)
	}
	resp, err = c.Get(central + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b), string(m)
}
