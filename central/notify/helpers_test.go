package notify_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/central/calendars"
	"hallq/central/natsembed"
	"hallq/central/notify"
	"hallq/central/oidcdev"
	"hallq/central/pages"
	"hallq/central/platform"
	"hallq/central/session"
	"hallq/internal/apitest"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/internal/idnumber"
	"hallq/internal/testclock"
)

var provinceKey = []byte("example-province-key")

const clientID = "hallq-portal"

// ---- a local push service (RFC 8030) that checks VAPID and decrypts ----

// pushed is one message a push service accepted, decrypted.
type pushed struct {
	Endpoint string
	Topic    string
	Urgency  string
	TTL      string
	Body     struct {
		ID    string      `json:"id"`
		Kind  notify.Kind `json:"kind"`
		Title string      `json:"title"`
		Body  string      `json:"body"`
		URL   string      `json:"url"`
	}
}

// pushService is a push service on loopback TLS: it accepts a message
// only with a valid VAPID JWT (RFC 8292: ES256 by the key in k=, aud the
// service's origin, exp in the next 24 h, a mailto:/https: sub) for a
// known subscription, decrypts its aes128gcm body (RFC 8291) with that
// subscription's keys, and refuses anything else.
type pushService struct {
	t    testing.TB
	srv  *httptest.Server
	mu   sync.Mutex
	subs map[string]*pushBrowser
	got  []pushed
	// fail answers the next n messages with this status (tests of retry).
	failN      int
	failStatus int
}

// pushBrowser is one push subscription's private side.
type pushBrowser struct {
	name string
	key  *ecdh.PrivateKey
	auth []byte
	gone bool
}

func mustPushService(t testing.TB) *pushService {
	ps := &pushService{t: t, subs: map[string]*pushBrowser{}}
	ps.srv = httptest.NewTLSServer(http.HandlerFunc(ps.serve))
	t.Cleanup(ps.srv.Close)
	return ps
}

// Subscribe makes a pushBrowser's subscription, as PushManager.subscribe would.
func (ps *pushService) Subscribe(name string) notify.PushSub {
	k, _ := ecdh.P256().GenerateKey(rand.Reader)
	a := make([]byte, 16)
	_, _ = rand.Read(a)
	ps.mu.Lock()
	ps.subs[name] = &pushBrowser{name: name, key: k, auth: a}
	ps.mu.Unlock()
	var s notify.PushSub
	s.Endpoint = ps.srv.URL + "/push/" + name
	s.Keys.P256dh = base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
	s.Keys.Auth = base64.RawURLEncoding.EncodeToString(a)
	return s
}

// Gone makes the push service forget a subscription (410 from now on).
func (ps *pushService) Gone(name string) {
	ps.mu.Lock()
	ps.subs[name].gone = true
	ps.mu.Unlock()
}

func (ps *pushService) Failing(n, status int) {
	ps.mu.Lock()
	ps.failN, ps.failStatus = n, status
	ps.mu.Unlock()
}

func (ps *pushService) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	ps.t.Logf("push service refused: "+format, args...)
	http.Error(w, fmt.Sprintf(format, args...), status)
}

func (ps *pushService) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/push/")
	ps.mu.Lock()
	b := ps.subs[name]
	if ps.failN > 0 && ok && b != nil {
		ps.failN--
		ps.mu.Unlock()
		http.Error(w, "busy", ps.failStatus)
		return
	}
	ps.mu.Unlock()
	if r.Method != http.MethodPost || !ok || b == nil {
		ps.refuse(w, http.StatusNotFound, "no subscription %q", r.URL.Path)
		return
	}
	if b.gone {
		ps.refuse(w, http.StatusGone, "subscription %s expired", name)
		return
	}
	if err := ps.checkVAPID(r); err != nil {
		ps.refuse(w, http.StatusUnauthorized, "VAPID: %v", err)
		return
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		ps.refuse(w, http.StatusBadRequest, "Content-Encoding %q TTL %q", r.Header.Get("Content-Encoding"), r.Header.Get("TTL"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	plain, err := decrypt(b, body)
	if err != nil {
		ps.refuse(w, http.StatusBadRequest, "decrypt: %v", err)
		return
	}
	p := pushed{Endpoint: name, Topic: r.Header.Get("Topic"), Urgency: r.Header.Get("Urgency"), TTL: r.Header.Get("TTL")}
	if err := json.Unmarshal(plain, &p.Body); err != nil {
		ps.refuse(w, http.StatusBadRequest, "payload: %v", err)
		return
	}
	ps.mu.Lock()
	ps.got = append(ps.got, p)
	ps.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

func (ps *pushService) checkVAPID(r *http.Request) error {
	a := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(a, "vapid ")
	if !ok {
		return fmt.Errorf("authorization %q is not vapid", a)
	}
	var tok, k string
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			tok = v
		} else if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	kb, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return fmt.Errorf("k: %v", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		return fmt.Errorf("k: %v", err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("t is not a JWT")
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr struct{ Alg, Typ string }
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "ES256" {
		return fmt.Errorf("JWT header %s", hb)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("JWT signature is not 64 bytes")
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("JWT signature does not verify with k")
	}
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var cl struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(cb, &cl); err != nil {
		return fmt.Errorf("JWT claims: %v", err)
	}
	if cl.Aud != ps.srv.URL {
		return fmt.Errorf("aud %q, want %q", cl.Aud, ps.srv.URL)
	}
	if exp := time.Unix(cl.Exp, 0); exp.Before(time.Now()) || exp.After(time.Now().Add(24*time.Hour)) {
		return fmt.Errorf("exp %v not within the next 24 h", exp)
	}
	if !strings.HasPrefix(cl.Sub, "mailto:") && !strings.HasPrefix(cl.Sub, "https://") {
		return fmt.Errorf("sub %q", cl.Sub)
	}
	return nil
}

// decrypt opens an aes128gcm body (RFC 8188 record, RFC 8291 keys).
func decrypt(b *pushBrowser, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("keyid of %d bytes, want the 65-byte sender key", idlen)
	}
	asPub, ct := body[21:21+idlen], body[21+idlen:]
	if uint32(len(ct)) > rs {
		return nil, fmt.Errorf("more than one record")
	}
	as, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, err
	}
	secret, err := b.key.ECDH(as)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, b.auth)
	m.Write(secret)
	prkKey := m.Sum(nil)
	info := append(append([]byte("WebPush: info\x00"), b.key.PublicKey().Bytes()...), asPub...)
	ikm, _ := hkdf.Expand(sha256.New, prkKey, string(info), 32)
	prk, _ := hkdf.Extract(sha256.New, ikm, salt)
	cek, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	blk, _ := aes.NewCipher(cek)
	g, _ := cipher.NewGCM(blk)
	plain, err := g.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexFunc(plain, func(r rune) bool { return r != 0 })
	if i < 0 || plain[i] != 2 {
		return nil, fmt.Errorf("no last-record delimiter")
	}
	return plain[:i], nil
}

// Got is every message so far.
func (ps *pushService) Got() []pushed {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]pushed(nil), ps.got...)
}

// ---- a local Tencent Cloud SMS endpoint that checks TC3-HMAC-SHA256 ----

type texted struct {
	Phone, Template string
	Params          []string
	Session         string
}

type smsService struct {
	t         testing.TB
	srv       *httptest.Server
	id, key   string
	appID     string
	mu        sync.Mutex
	got       []texted
	failCode  string // the next answer is this Error.Code
	failTimes int
}

func mustSMSService(t testing.TB) *smsService {
	s := &smsService{t: t, id: "AKIDtestsecretid", key: "test-secret-key", appID: "1400000001"}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *smsService) answerError(w http.ResponseWriter, code, msg string) {
	s.t.Logf("sms service refused: %s %s", code, msg)
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": "req-err"}})
}

// serve checks a request the way Tencent Cloud's API 3.0 gateway does:
// it rebuilds the canonical request from what arrived (the headers named
// in SignedHeaders, which must include content-type and host), derives
// the signing key from the secret key and the credential's date and
// service, and compares the signature.
func (s *smsService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(a, "TC3-HMAC-SHA256 ")
	if !ok || r.Method != http.MethodPost {
		s.answerError(w, "AuthFailure.InvalidAuthorization", "not TC3-HMAC-SHA256")
		return
	}
	f := map[string]string{}
	for _, p := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(p, "=")
		f[k] = v
	}
	cred := strings.Split(f["Credential"], "/")
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	switch {
	case len(cred) != 4 || cred[0] != s.id || cred[2] != "sms" || cred[3] != "tc3_request":
		s.answerError(w, "AuthFailure.SecretIdNotFound", "credential "+f["Credential"])
		return
	case err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute:
		s.answerError(w, "AuthFailure.SignatureExpire", "timestamp")
		return
	case cred[1] != time.Unix(ts, 0).UTC().Format("2006-01-02"):
		s.answerError(w, "AuthFailure.SignatureFailure", "credential date")
		return
	case r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" || r.Header.Get("X-TC-Region") == "":
		s.answerError(w, "InvalidParameter", "action, version or region")
		return
	}
	names := strings.Split(f["SignedHeaders"], ";")
	if !containsStr(names, "content-type") || !containsStr(names, "host") {
		s.answerError(w, "AuthFailure.SignatureFailure", "content-type and host must be signed")
		return
	}
	var canon strings.Builder
	for _, n := range names {
		v := r.Header.Get(n)
		if n == "host" {
			v = r.Host
		}
		if n == "x-tc-action" {
			v = strings.ToLower(v)
		}
		canon.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	ph := sha256.Sum256(body)
	creq := "POST\n" + r.URL.Path + "\n" + r.URL.RawQuery + "\n" + canon.String() + "\n" + f["SignedHeaders"] + "\n" + hex.EncodeToString(ph[:])
	ch := sha256.Sum256([]byte(creq))
	toSign := "TC3-HMAC-SHA256\n" + r.Header.Get("X-TC-Timestamp") + "\n" + strings.Join(cred[1:], "/") + "\n" + hex.EncodeToString(ch[:])
	mac := func(k []byte, m string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	key := mac(mac(mac([]byte("TC3"+s.key), cred[1]), "sms"), "tc3_request")
	if !hmac.Equal([]byte(hex.EncodeToString(mac(key, toSign))), []byte(f["Signature"])) {
		s.answerError(w, "AuthFailure.SignatureFailure", "signature")
		return
	}
	var req struct {
		PhoneNumberSet   []string
		SmsSdkAppId      string
		SignName         string
		TemplateId       string
		TemplateParamSet []string
		SessionContext   string
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.PhoneNumberSet) != 1 || req.SmsSdkAppId != s.appID || req.SignName == "" || req.TemplateId == "" {
		s.answerError(w, "InvalidParameter", fmt.Sprintf("body %s", body))
		return
	}
	s.mu.Lock()
	if s.failTimes > 0 {
		s.failTimes--
		code := s.failCode
		s.mu.Unlock()
		s.answerError(w, code, "failing on purpose")
		return
	}
	s.got = append(s.got, texted{Phone: req.PhoneNumberSet[0], Template: req.TemplateId, Params: req.TemplateParamSet, Session: req.SessionContext})
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
		"SendStatusSet": []map[string]any{{"SerialNo": "2028:f825e6b16e23f73f4123", "PhoneNumber": req.PhoneNumberSet[0], "Fee": 1,
			"SessionContext": req.SessionContext, "Code": "Ok", "Message": "send success", "IsoCode": "CN"}},
		"RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}})
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (s *smsService) Got() []texted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]texted(nil), s.got...)
}

// templates are the SMS template ids the tests configure: 1001 for
// confirmed, 1002 changed, …
var templates = map[string]string{"confirmed": "1001", "changed": "1002", "cancelled": "1003", "cancelled_closure": "1004",
	"reminder": "1005", "ahead": "1006", "called": "1007", "missed": "1008", "missed_booking": "1009"}

// smsConfigFile writes the SMS provider's configuration files.
func (s *smsService) configFile(t testing.TB) string {
	dir := t.TempDir()
	key := filepath.Join(dir, "sms-key")
	if err := os.WriteFile(key, []byte(s.key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := json.Marshal(map[string]any{"endpoint": s.srv.URL, "region": "ap-guangzhou", "secret_id": s.id, "secret_key_file": key,
		"sdk_app_id": s.appID, "sign_name": "测试政务", "templates": templates})
	path := filepath.Join(dir, "sms.json")
	if err := os.WriteFile(path, c, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ---- the world: NATS, a central process, bookings, the notifier ----

type world struct {
	t     testing.TB
	Clock *testclock.Clock
	IDP   *oidcdev.Provider
	NS    *natsembed.Server
	P     *platform.Process
	Bk    *booking.Service
	N     *notify.Service
	Push  *pushService
	SMS   *smsService
	auth  *auth.Verifier
	stop  context.CancelFunc
	cfg   func(*notify.Config)
}

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

// friday0900 is testclock's working day (Friday 27 Nov 2026) at 09:00 CST.
var friday0900 = testclock.At(9, 0)

// monday is the next working day, 30 Nov 2026, at hh:mm CST.
func monday(hh, mm int) time.Time { return time.Date(2026, 11, 30, hh, mm, 0, 0, testclock.Zone) }

// sampleHall is open Mon–Fri 09:00–12:00 and 13:30–17:00 (Asia/Shanghai).
func sampleHall(id string) calendars.Hall {
	day := []calendar.Span{{From: "09:00", To: "12:00"}, {From: "13:30", To: "17:00"}}
	return calendars.Hall{
		ID: id, Name: catalog.Text{ZH: "测试大厅", EN: "Test hall"},
		Calendar: calendar.Calendar{Zone: "Asia/Shanghai", Weekly: map[string][]calendar.Span{
			"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}},
		SlotMinutes: 30, Capacity: map[string]int{"A": 1, "B": 2},
	}
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("NOTIFY_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// mustWorld starts an embedded NATS server, one central process with
// bookings and the notifier, a push service and an SMS endpoint.
func mustWorld(t testing.TB, tweak func(*notify.Config)) *world {
	t.Helper()
	w := &world{t: t, Clock: testclock.New(friday0900), Push: mustPushService(t), SMS: mustSMSService(t), cfg: tweak}
	var err error
	if w.NS, err = natsembed.Start(natsembed.Options{Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.NS.Stop)
	w.IDP, err = oidcdev.New("")
	if err != nil {
		t.Fatal(err)
	}
	w.IDP.Now = w.Clock.Now
	idp := httptest.NewServer(w.IDP)
	t.Cleanup(idp.Close)
	w.IDP.Issuer = idp.URL
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.auth, err = auth.New(ctx, auth.Config{Issuer: idp.URL, ClientID: clientID, ProvinceKey: provinceKey, Now: w.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	return w
}

// Start starts (again) the central process with bookings and the notifier.
func (w *world) Start() {
	t := w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := platform.Start(ctx, platform.Config{NATSURLs: w.NS.URL(), HTTP: "127.0.0.1:0", Log: testLog(t),
		Views: platform.ViewOptions{LeaseTTL: 2 * time.Second, Partitions: 4}})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(context.Background())
	bk, err := booking.New(ctx, booking.Config{JS: p.JS, ProvinceKey: provinceKey, Clock: w.Clock, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = bk.Follow(run) }()
	// The pages' sign-in as the central runs it: a bearer ID token, or
	// the session cookie of a sign-in through the provider's page.
	sess, err := session.New(ctx, session.Config{JS: p.JS, Verifier: w.auth, ClientID: clientID, PublicURL: p.URL(), Now: w.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for pat, h := range sess.Routes() {
		p.API.Handle(pat, h)
	}
	citizens := session.Either{Bearer: w.auth, Session: sess}
	for pat, h := range booking.Routes(bk, citizens) {
		p.API.Handle(pat, h)
	}
	sc, err := notify.LoadSMSConfig(w.SMS.configFile(t))
	if err != nil {
		t.Fatal(err)
	}
	c := notify.Config{JS: p.JS, Clock: w.Clock, Log: testLog(t), SMS: sc, HTTPClient: w.Push.srv.Client(),
		LeaseTTL: 2 * time.Second, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Poll: 20 * time.Millisecond}
	if w.cfg != nil {
		w.cfg(&c)
	}
	n, err := notify.New(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for pat, h := range notify.Routes(n, citizens) {
		p.API.Handle(pat, h)
	}
	pages.Mount(p.API)
	go n.Run(run)
	w.P, w.Bk, w.N, w.stop = p, bk, n, stop
	t.Cleanup(func() { stop(); p.Stop() })
}

// Kill stops the central process as a crash would.
func (w *world) Kill() {
	w.stop()
	w.P.Kill()
}

// Citizen is the ID token of test citizen i.
func (w *world) Citizen(i int) string {
	return w.IDP.Mint(oidcdev.Token{Subject: fmt.Sprintf("citizen-%d", i), Audience: clientID, IDNumber: idNumber(i)})
}

// Admin is a province admin's ID token.
func (w *world) Admin() string {
	return w.IDP.Mint(oidcdev.Token{Subject: "admin", Audience: clientID, Role: auth.RoleProvinceAdmin})
}

// Do sends a request to the central process.
func (w *world) Do(method, path, token string, body any) (int, []byte) {
	w.t.Helper()
	return apitest.Do(w.t, method, w.P.URL()+path, token, body)
}

// MustDo sends a request and checks its status, decoding the body into v.
func (w *world) MustDo(status int, method, path, token string, body, v any) {
	w.t.Helper()
	apitest.Must(w.t, status, method, w.P.URL()+path, token, body, v)
}

// MustRefuse checks a refusal's status and reason.
func (w *world) MustRefuse(status int, reason notify.Reason, method, path, token string, body any) {
	w.t.Helper()
	st, b := w.Do(method, path, token, body)
	var e struct{ Error notify.Error }
	_ = json.Unmarshal(b, &e)
	if st != status || e.Error.Reason != reason {
		w.t.Fatalf("%s %s: %d %q, want %d %q: %s", method, path, st, e.Error.Reason, status, reason, b)
	}
}

// MustHall stores a hall through the staff API.
func (w *world) MustHall(h calendars.Hall) calendars.Hall {
	w.t.Helper()
	var rep booking.PutHallReply
	w.MustDo(http.StatusOK, "PUT", "/api/v1/staff/halls/"+h.ID, w.Admin(), h, &rep)
	return rep.Hall
}

// Book books for citizen i.
func (w *world) Book(i int, hall, service string, start time.Time) booking.Booking {
	w.t.Helper()
	var res booking.Result
	w.MustDo(http.StatusCreated, "POST", "/api/v1/bookings", w.Citizen(i), booking.Request{Hall: hall, Service: service, SlotStart: start}, &res)
	return res.Booking
}

// OptIn subscribes citizen i's pushBrowser (named after them) to push and
// their phone to SMS, for kinds (every kind when none).
func (w *world) OptIn(i int, phone string, kinds ...notify.Kind) notify.PushSub {
	w.t.Helper()
	if len(kinds) == 0 {
		kinds = notify.Kinds
	}
	sub := w.Push.Subscribe(fmt.Sprintf("citizen-%d", i))
	w.MustDo(200, "PUT", "/api/v1/notifications/push", w.Citizen(i), notify.PushRequest{Subscription: sub, Kinds: kinds}, nil)
	if phone != "" {
		w.MustDo(200, "PUT", "/api/v1/notifications/sms", w.Citizen(i), notify.SMSRequest{Phone: phone, Kinds: kinds}, nil)
	}
	return sub
}

// eventually waits for cond, failing after a time no person would wait.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// pushesOf waits for n messages of kind k to endpoint and returns them.
func (w *world) pushesOf(endpoint string, k notify.Kind, n int) []pushed {
	w.t.Helper()
	var out []pushed
	eventually(w.t, fmt.Sprintf("%d %s push to %s", n, k, endpoint), func() bool {
		out = nil
		for _, p := range w.Push.Got() {
			if p.Endpoint == endpoint && p.Body.Kind == k {
				out = append(out, p)
			}
		}
		return len(out) >= n
	})
	return out
}

// textsOf waits for n texts of template to phone and returns them.
func (w *world) textsOf(phone, template string, n int) []texted {
	w.t.Helper()
	var out []texted
	eventually(w.t, fmt.Sprintf("%d texts of template %s to %s", n, template, phone), func() bool {
		out = nil
		for _, x := range w.SMS.Got() {
			if x.Phone == phone && x.Template == templates[template] {
				out = append(out, x)
			}
		}
		return len(out) >= n
	})
	return out
}

// settle waits until the outbox has nothing pending or being sent, so a
// test can say that nothing more arrives.
func (w *world) settle() {
	w.t.Helper()
	kv, err := w.P.JS.KeyValue(context.Background(), notify.OutboxBucket)
	if err != nil {
		w.t.Fatal(err)
	}
	eventually(w.t, "the outbox settles", func() bool {
		l, err := kv.ListKeys(context.Background())
		if err != nil {
			return false
		}
		for k := range l.Keys() {
			e, err := kv.Get(context.Background(), k)
			if err != nil {
				return false
			}
			var v notify.Entry
			_ = json.Unmarshal(e.Value(), &v)
			if (v.State == notify.Pending || v.State == notify.Sending) && !v.Due.After(w.Clock.Now()) {
				return false
			}
		}
		return true
	})
}
