package session_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/auth"
	"hallq/central/natsembed"
	"hallq/central/oidcdev"
	"hallq/central/platform"
	"hallq/central/session"
	"hallq/internal/testclock"
)

const idNumber = "11010519491231002X"

var provinceKey = []byte("0123456789abcdef0123456789abcdef")

type world struct {
	t     *testing.T
	clock *testclock.Clock
	idp   *oidcdev.Provider
	js    jetstream.JetStream
	v     *auth.Verifier
	site  *httptest.Server // the platform: session routes and two probes
	store *session.Store
}

// newWorld runs the stand-in identity provider, an embedded NATS server
// and a site serving the session's routes plus /whoami (citizen routes)
// and /staff (platform staff routes).
func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, clock: testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, shanghai(t)))}
	var err error
	if w.idp, err = oidcdev.New(""); err != nil {
		t.Fatal(err)
	}
	w.idp.Now = w.clock.Now
	w.idp.Staff = map[string]oidcdev.Staff{"ops": {Role: auth.RoleProvinceAdmin}, "wuchang": {Role: auth.RoleHallSupervisor, Halls: []string{"420106-01"}}}
	idpSrv := httptest.NewServer(w.idp)
	t.Cleanup(idpSrv.Close)
	w.idp.Issuer = idpSrv.URL
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	w.js, _ = jetstream.New(nc)
	if w.v, err = auth.New(t.Context(), auth.Config{Issuer: idpSrv.URL, ClientID: "portal", ProvinceKey: provinceKey, Now: w.clock.Now}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.site = httptest.NewServer(mux)
	t.Cleanup(w.site.Close)
	w.store = w.newStore(w.site.URL)
	for p, h := range w.store.Routes() {
		mux.Handle(p, h)
	}
	either := session.Either{Bearer: w.v, Session: w.store}
	mux.HandleFunc("/whoami", func(rw http.ResponseWriter, r *http.Request) {
		p, err := either.Request(r)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(rw).Encode(p)
	})
	mux.HandleFunc("/staff", func(rw http.ResponseWriter, r *http.Request) {
		s, err := either.Authenticate(r)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(rw).Encode(s)
	})
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "page "+r.URL.Path) })
	return w
}

func (w *world) newStore(public string) *session.Store {
	s, err := session.New(w.t.Context(), session.Config{JS: w.js, Verifier: w.v, ClientID: "portal", PublicURL: public, Now: w.clock.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func shanghai(t *testing.T) *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// browser is a client with cookies that follows redirects, as a browser.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func do(t *testing.T, c *http.Client, method, u string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// signIn walks the flow as a browser does: the portal's login, the
// provider's page, the form posted, back through the callback to next. It
// returns the last page and the callback URL the provider redirected to.
func (w *world) signIn(c *http.Client, next string, form url.Values) (string, string) {
	t := w.t
	t.Helper()
	var callback string
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			callback = req.URL.String()
		}
		return nil
	}
	defer func() { c.CheckRedirect = nil }()
	status, page := get(t, c, w.site.URL+"/auth/login?next="+url.QueryEscape(next))
	if status != 200 || !strings.Contains(page, "Stand-in sign-in") {
		t.Fatalf("login: %d %.300s", status, page)
	}
	// The provider's page carries the request's parameters as hidden fields.
	hidden := url.Values{}
	for _, part := range strings.Split(page, `<input type="hidden" name="`)[1:] {
		name, rest, _ := strings.Cut(part, `" value="`)
		value, _, _ := strings.Cut(rest, `"`)
		hidden.Set(name, strings.ReplaceAll(value, "&amp;", "&"))
	}
	if hidden.Get("code_challenge_method") != "S256" || hidden.Get("nonce") == "" || hidden.Get("state") == "" {
		t.Fatalf("the authorization request lacks PKCE, nonce or state: %v", hidden)
	}
	for k, v := range form {
		hidden[k] = v
	}
	res, err := c.PostForm(w.idp.Issuer+"/authorize", hidden)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b), callback
}

func TestCitizenSignsInAndTheSessionHoldsOnlyKeyAndMask(t *testing.T) {
	w := newWorld(t)
	c := browser(t)
	page, callback := w.signIn(c, "/bookings", url.Values{"id_number": {idNumber}})
	if page != "page /bookings" {
		t.Fatalf("after sign-in: %q, want the next page", page)
	}
	status, me := get(t, c, w.site.URL+"/api/v1/me")
	if status != 200 || !strings.Contains(me, `"masked":"1101**********002X"`) || strings.Contains(me, idNumber) {
		t.Fatalf("me: %d %s", status, me)
	}
	status, who := get(t, c, w.site.URL+"/whoami")
	want, _ := platform.CitizenKey(provinceKey, idNumber)
	if status != 200 || !strings.Contains(who, want) {
		t.Fatalf("whoami: %d %s, want key %s", status, who, want)
	}
	// The bucket holds no ID number and no token, only the key and mask.
	keys, _ := kvDump(t, w.js)
	for k, v := range keys {
		if strings.Contains(v, idNumber) || strings.Contains(v, "eyJ") {
			t.Fatalf("%s holds the raw number or a token: %s", k, v)
		}
	}
	// The callback cannot be replayed (the sign-in is used up).
	if status, _ := get(t, c, callback); status != http.StatusBadRequest {
		t.Fatalf("a replayed callback: %d", status)
	}
	// A write without the CSRF header is refused; with it, it passes.
	if status, _ := do(t, c, "POST", w.site.URL+"/whoami", nil); status != http.StatusUnauthorized {
		t.Fatalf("a write without %s: %d", session.CSRFHeader, status)
	}
	if status, _ := do(t, c, "POST", w.site.URL+"/whoami", map[string]string{session.CSRFHeader: "1"}); status != 200 {
		t.Fatalf("a write with %s: %d", session.CSRFHeader, status)
	}
	// A citizen's session is not staff.
	if status, _ := get(t, c, w.site.URL+"/staff"); status != http.StatusUnauthorized {
		t.Fatalf("a citizen on a staff route: %d", status)
	}
	// Another process sharing the bucket knows the session.
	other := w.newStore(w.site.URL)
	req, _ := http.NewRequest("GET", w.site.URL+"/", nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	if p, err := other.Request(req); err != nil || p.Citizen == nil || p.Citizen.Key != want {
		t.Fatalf("another process: %+v %v", p, err)
	}
	// Signing out ends it everywhere.
	if status, _ := do(t, c, "POST", w.site.URL+"/auth/logout", map[string]string{session.CSRFHeader: "1"}); status != http.StatusNoContent {
		t.Fatalf("logout: %d", status)
	}
	if _, err := other.Request(req); err == nil {
		t.Fatal("the session outlives its sign-out in another process")
	}
	if status, _ := get(t, c, w.site.URL+"/api/v1/me"); status != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", status)
	}
}

func TestSessionExpires(t *testing.T) {
	w := newWorld(t)
	c := browser(t)
	w.signIn(c, "/", url.Values{"id_number": {idNumber}})
	if status, _ := get(t, c, w.site.URL+"/whoami"); status != 200 {
		t.Fatalf("whoami: %d", status)
	}
	w.clock.Advance(2*time.Hour + time.Second)
	if status, body := get(t, c, w.site.URL+"/api/v1/me"); status != http.StatusUnauthorized || !strings.Contains(body, "expired") {
		t.Fatalf("me after the lifetime: %d %s", status, body)
	}
}

func TestStaffSignIn(t *testing.T) {
	w := newWorld(t)
	c := browser(t)
	w.signIn(c, "/province/", url.Values{"staff": {"wuchang"}})
	status, body := get(t, c, w.site.URL+"/staff")
	if status != 200 || !strings.Contains(body, `"role":"hall_supervisor"`) || !strings.Contains(body, "420106-01") {
		t.Fatalf("staff: %d %s", status, body)
	}
	if status, body := get(t, c, w.site.URL+"/api/v1/me"); status != 200 || !strings.Contains(body, `"staff":{"name":"wuchang"`) {
		t.Fatalf("me: %d %s", status, body)
	}
}

// What an attacker tries: a callback from a sign-in started in another
// browser (login CSRF), a next that leaves the site, a forged cookie, a
// token from another issuer's key.
func TestSignInRefusals(t *testing.T) {
	w := newWorld(t)
	victim, attacker := browser(t), browser(t)
	get(t, victim, w.site.URL+"/auth/login") // the victim has a sign-in of its own under way
	// The attacker starts a sign-in and sends the victim the callback.
	attacker.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			status, _ := get(t, victim, req.URL.String())
			if status != http.StatusBadRequest {
				t.Errorf("a callback from another browser: %d", status)
			}
			return http.ErrUseLastResponse
		}
		return nil
	}
	_, page := get(t, attacker, w.site.URL+"/auth/login")
	hidden := url.Values{"id_number": {idNumber}}
	for _, part := range strings.Split(page, `<input type="hidden" name="`)[1:] {
		name, rest, _ := strings.Cut(part, `" value="`)
		value, _, _ := strings.Cut(rest, `"`)
		hidden.Set(name, strings.ReplaceAll(value, "&amp;", "&"))
	}
	res, err := attacker.PostForm(w.idp.Issuer+"/authorize", hidden)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if status, _ := get(t, victim, w.site.URL+"/api/v1/me"); status != http.StatusUnauthorized {
		t.Fatalf("the victim is signed in as the attacker: %d", status)
	}
	// next cannot leave the site.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`} {
		c := browser(t)
		if page, _ := w.signIn(c, next, url.Values{"id_number": {idNumber}}); page != "page /" {
			t.Errorf("next=%s: landed on %q", next, page)
		}
	}
	// A made-up cookie is no session.
	req, _ := http.NewRequest("GET", w.site.URL+"/whoami", nil)
	req.AddCookie(&http.Cookie{Name: session.CookieName, Value: "made-up"})
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a made-up cookie: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	// A bearer token signed by a key the issuer never published.
	req, _ = http.NewRequest("GET", w.site.URL+"/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+w.idp.MintForeign(oidcdev.Token{Subject: "x", Audience: "portal", IDNumber: idNumber}))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged bearer: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}

func kvDump(t *testing.T, js jetstream.JetStream) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, session.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	keys, _ := kv.Keys(ctx)
	for _, k := range keys {
		if e, err := kv.Get(ctx, k); err == nil {
			out[k] = string(e.Value())
		}
	}
	if len(out) == 0 {
		t.Fatal("the bucket is empty")
	}
	return out, nil
}
