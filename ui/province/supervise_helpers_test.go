package province_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/central/oidcdev"
	"hallq/central/pages"
	"hallq/central/platform"
	"hallq/central/workorders"
	"hallq/internal/apitest"
	"hallq/internal/browsertest"
)

// ---- a real central ----

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// central is a central process (platform.Main with the booking, pages and
// work-order extensions) on an embedded NATS server, signing staff in at
// a stand-in provider with accounts ops (province admin), wu (supervisor
// of h1) and li (supervisor of h2).
type central struct {
	t   *testing.T
	URL string
	IDP *oidcdev.Provider
	JS  jetstream.JetStream
	seq map[string]uint64
}

func mustCentral(t *testing.T) *central {
	t.Helper()
	idp, err := oidcdev.New("")
	if err != nil {
		t.Fatal(err)
	}
	idp.Staff = map[string]oidcdev.Staff{
		"ops": {Role: auth.RoleProvinceAdmin},
		"wu":  {Role: auth.RoleHallSupervisor, Halls: []string{"h1"}},
		"li":  {Role: auth.RoleHallSupervisor, Halls: []string{"h2"}},
	}
	isrv := httptest.NewServer(idp)
	t.Cleanup(isrv.Close)
	idp.Issuer = isrv.URL
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "province.key")
	if err := os.WriteFile(keyFile, []byte("6578616d706c652d70726f76696e63652d6b6579\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natsAddr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logBuf{}
	done := make(chan error, 1)
	args := []string{"-data", filepath.Join(dir, "nats"), "-nats-listen", natsAddr, "-http", "127.0.0.1:0",
		"-province-key", keyFile, "-oidc-issuer", isrv.URL, "-oidc-client-id", "portal"}
	go func() {
		done <- platform.Main(ctx, args, logs, booking.Extension(), pages.Extension(), workorders.Extension())
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("central stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("central log:\n%s", logs.String())
		}
	})
	c := &central{t: t, IDP: idp, seq: map[string]uint64{}}
	for deadline := time.Now().Add(60 * time.Second); c.URL == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the central did not start:\n%s", logs.String())
		}
		for _, l := range strings.Split(logs.String(), "\n") {
			if i := strings.Index(l, "api=http://"); i >= 0 && strings.Contains(l, "central view") {
				c.URL = strings.TrimSuffix(strings.Fields(l[i+4:])[0], "/api/v1/halls")
			}
		}
	}
	nc, err := nats.Connect("nats://" + natsAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c.JS, _ = jetstream.New(nc)
	return c
}

// Admin is a province admin's bearer ID token; Citizen is citizen i's.
func (c *central) Admin() string {
	return c.IDP.Mint(oidcdev.Token{Subject: "ops", Audience: "portal", Role: auth.RoleProvinceAdmin})
}

func (c *central) Citizen(number string) string {
	return c.IDP.Mint(oidcdev.Token{Subject: "c-" + number, Audience: "portal", IDNumber: number})
}

// Do calls the central's API with a bearer token.
func (c *central) Do(method, path, token string, body any) (int, []byte) {
	c.t.Helper()
	return apitest.Do(c.t, method, c.URL+path, token, body)
}

// Must calls the API and checks the status, decoding into v.
func (c *central) Must(status int, method, path, token string, body, v any) {
	c.t.Helper()
	apitest.Must(c.t, status, method, c.URL+path, token, body, v)
}

// HallEvent publishes a hall event on HALLS as the hall's forwarder does.
func (c *central) HallEvent(hall, typ, day string, fields map[string]any) {
	c.t.Helper()
	c.seq[hall]++
	ev := map[string]any{"seq": c.seq[hall], "type": typ, "day": day, "at": time.Now()}
	for k, v := range fields {
		ev[k] = v
	}
	body, _ := json.Marshal(ev)
	m := &nats.Msg{Subject: "hall." + hall + ".events." + typ, Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d@0123456789abcdef", hall, c.seq[hall]))
	if _, err := c.JS.PublishMsg(context.Background(), m); err != nil {
		c.t.Fatal(err)
	}
}

// eventually polls cond; it fails only after a long limit (no test fails on a timing).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signInAs opens page (with ?lang=), follows its sign-in link to the
// stand-in provider, picks the staff account and comes back signed in. It
// returns the staff member's name as the page shows it (the provider's
// subject for the account).
func (tb *tab) signInAs(base, page, lang, account string) string {
	tb.T.Helper()
	tb.Open(base + page + "?lang=" + lang)
	tb.WaitFor(5*time.Second, `!!document.querySelector("#signin") || !!document.querySelector("#signout")`)
	if browsertest.Eval[bool](tb, `!!document.querySelector("#signout")`) {
		tb.signOut() // the browser is still signed in from before
	}
	tb.Click("#signin")
	tb.WaitFor(5*time.Second, `!!document.querySelector("select[name=staff]")`)
	browsertest.Eval[bool](tb, fmt.Sprintf(`(document.querySelector("select[name=staff]").value = %q, true)`, account))
	tb.Click(`form:has(select[name=staff]) button[type=submit]`)
	tb.WaitFor(5*time.Second, fmt.Sprintf(`location.pathname === %q && !!document.querySelector("#who")`, page))
	return strings.SplitN(tb.Text("#who"), " · ", 2)[0]
}

// signOut presses the sign-out button and waits for the sign-in link.
func (tb *tab) signOut() {
	tb.T.Helper()
	tb.Click("#signout")
	tb.WaitFor(5*time.Second, `!!document.querySelector("#signin")`)
	if st := browsertest.Eval[float64](tb, `fetch("/api/v1/me").then(r => r.status)`); st != 401 {
		tb.T.Fatalf("after sign-out /api/v1/me is %v", st)
	}
}

// viewports are the phone and desktop sizes every page is tested at.
var viewports = []struct {
	name          string
	width, height int64
}{{"phone", 390, 844}, {"desktop", 1366, 900}}

// setValue sets a form control's value as a person's editing would (a
// date input takes no typing in a locale-free way) and fires input.
func (tb *tab) setValue(sel, v string) {
	tb.T.Helper()
	tb.WaitFor(time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
	browsertest.Eval[bool](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, sel, v))
}
