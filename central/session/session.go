// Package session signs citizens and province staff in to the platform's
// pages — the citizen portal and the province dashboard — through the
// province's OpenID Connect provider (the authorization-code flow with
// PKCE and a nonce, golang.org/x/oauth2 for the flow and hallq/central/auth
// for the ID token), and keeps each sign-in as a server-side session in a
// JetStream KV bucket that every central process shares.
//
// The browser holds only an unguessable session id in an HttpOnly cookie;
// the bucket holds, under the SHA-256 of that id, who it is: a citizen's
// key and masked ID number (never the number itself, never the ID token),
// or a staff member's role and halls. A write (any method but GET/HEAD)
// needs the header X-Hallq-CSRF as well — a header another site cannot make
// a browser send without this server's consent — and the cookie is
// SameSite=Lax. Signing out deletes the session at once, for every process.
//
// The store is an Authenticator for both kinds of routes: Request for the
// citizen and booking routes (auth.Principal), Authenticate for the
// platform's staff routes (platform.Staff). Either combines it with bearer
// ID tokens.
package session

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/oauth2"

	"hallq/central/auth"
	"hallq/central/platform"
)

// Bucket is the KV bucket of sessions and sign-ins under way.
const Bucket = "PORTAL_SESSIONS"

// Cookie names.
const (
	CookieName = "hallq_session"
	loginName  = "hallq_signin"
)

// CSRFHeader must accompany every write made with the session cookie.
const CSRFHeader = "X-Hallq-CSRF"

// Config configures the store.
type Config struct {
	JS           jetstream.JetStream
	Replicas     int
	Verifier     *auth.Verifier // checks the ID token and derives the citizen key
	ClientID     string
	ClientSecret string // "" for a public client (PKCE alone)
	// PublicURL is the platform's address as browsers reach it
	// (https://portal.example.gov.cn); the callback is PublicURL/auth/callback.
	PublicURL string
	TTL       time.Duration // a session's lifetime; default 2 h
	Now       func() time.Time
	Log       *slog.Logger
	// HTTPClient reaches the provider's token endpoint (default
	// http.DefaultClient).
	HTTPClient *http.Client
}

// Store is the sessions of the platform.
type Store struct {
	cfg    Config
	kv     jetstream.KeyValue
	oauth  oauth2.Config
	secure bool
}

const signinTTL = 10 * time.Minute

// New opens (or creates) the bucket.
func New(ctx context.Context, c Config) (*Store, error) {
	if c.Verifier == nil || c.ClientID == "" {
		return nil, errors.New("session: a verifier and a client id are needed")
	}
	authURL, tokenURL := c.Verifier.Endpoints()
	if authURL == "" || tokenURL == "" {
		return nil, errors.New("session: the provider's discovery document names no authorization or token endpoint")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("session: the public URL %q is not an absolute URL", c.PublicURL)
	}
	if c.TTL == 0 {
		c.TTL = 2 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	kv, err := platform.OpenKV(ctx, c.JS, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "portal and dashboard sign-ins: s.<sha256 of the cookie> → who; l.<state> → a sign-in under way",
		History: 1, TTL: c.TTL + signinTTL, Storage: jetstream.FileStorage, Replicas: max(c.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("session: bucket %s: %w", Bucket, err)
	}
	style := oauth2.AuthStyleAutoDetect
	if c.ClientSecret == "" {
		style = oauth2.AuthStyleInParams // a public client: client_id in the form, PKCE proves the rest
	}
	return &Store{cfg: c, kv: kv, secure: u.Scheme == "https", oauth: oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: style},
		RedirectURL: strings.TrimRight(c.PublicURL, "/") + "/auth/callback",
		Scopes:      []string{"openid"},
	}}, nil
}

// record is a session as stored.
type record struct {
	Subject string        `json:"sub"`
	Name    string        `json:"name,omitempty"` // staff: the display name
	Citizen *auth.Citizen `json:"citizen,omitempty"`
	Role    string        `json:"role,omitempty"`
	Halls   []string      `json:"halls,omitempty"`
	Expires time.Time     `json:"expires"`
}

// signin is a sign-in under way, between /auth/login and /auth/callback.
type signin struct {
	Verifier string    `json:"verifier"` // PKCE
	Nonce    string    `json:"nonce"`
	Next     string    `json:"next"`
	Expires  time.Time `json:"expires"`
}

// Routes are the sign-in routes by ServeMux pattern.
func (s *Store) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /auth/login":    http.HandlerFunc(s.login),
		"GET /auth/callback": http.HandlerFunc(s.callback),
		"POST /auth/logout":  http.HandlerFunc(s.logout),
		"GET /api/v1/me":     http.HandlerFunc(s.me),
	}
}

func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashed(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// localPath keeps next a path of this site: "/bookings", never
// "//evil.example" or "https://…" (an open redirect).
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

func (s *Store) cookie(name, value string, maxAge int, path string) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// login starts a sign-in: a state bound to this browser (cookie), a PKCE
// verifier and a nonce kept in the bucket, and the redirect to the
// provider.
func (s *Store) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	in := signin{Verifier: verifier, Nonce: nonce, Next: localPath(r.URL.Query().Get("next")), Expires: s.cfg.Now().Add(signinTTL)}
	b, _ := json.Marshal(in)
	if _, err := s.kv.Create(r.Context(), "l."+state, b); err != nil {
		s.cfg.Log.Warn("sign-in: the session store cannot be written", "err", err)
		platform.WriteError(w, http.StatusServiceUnavailable, platform.CodeUnavailable, "sign-in is unavailable just now; try again")
		return
	}
	http.SetCookie(w, s.cookie(loginName, state, int(signinTTL/time.Second), "/auth/"))
	http.Redirect(w, r, s.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce)), http.StatusFound)
}

// callback finishes a sign-in: the state must be this browser's and
// unused, the code is exchanged with the PKCE verifier, the ID token
// verified (signature, audience, expiry, nonce) and turned into a session.
func (s *Store) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(loginName)
	switch {
	case q.Get("error") != "":
		s.fail(w, http.StatusUnauthorized, "the identity provider refused the sign-in: "+q.Get("error"))
		return
	case state == "" || err != nil || c.Value != state:
		s.fail(w, http.StatusBadRequest, "this sign-in was not started in this browser (or took longer than 10 minutes); start again")
		return
	}
	http.SetCookie(w, s.cookie(loginName, "", -1, "/auth/"))
	e, err := s.kv.Get(r.Context(), "l."+state)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "this sign-in is unknown or already used; start again")
		return
	}
	// One use: whoever deletes it at the revision read owns the sign-in.
	if err := s.kv.Delete(r.Context(), "l."+state, jetstream.LastRevision(e.Revision())); err != nil {
		s.fail(w, http.StatusBadRequest, "this sign-in is already used; start again")
		return
	}
	var in signin
	if json.Unmarshal(e.Value(), &in) != nil || s.cfg.Now().After(in.Expires) {
		s.fail(w, http.StatusBadRequest, "this sign-in took longer than 10 minutes; start again")
		return
	}
	ctx := r.Context()
	if s.cfg.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, s.cfg.HTTPClient)
	}
	tok, err := s.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(in.Verifier))
	if err != nil {
		s.cfg.Log.Warn("sign-in: the code exchange failed", "err", err)
		s.fail(w, http.StatusUnauthorized, "the identity provider did not confirm the sign-in; start again")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.fail(w, http.StatusUnauthorized, "the identity provider returned no ID token")
		return
	}
	p, err := s.cfg.Verifier.TokenWithNonce(r.Context(), raw, in.Nonce)
	if err != nil {
		s.cfg.Log.Warn("sign-in: the ID token is refused", "err", err)
		s.fail(w, http.StatusUnauthorized, "the sign-in is refused: "+strings.TrimPrefix(err.Error(), "auth: "))
		return
	}
	id := random()
	rec := record{Subject: p.Subject, Name: p.Name, Citizen: p.Citizen, Role: p.Role, Halls: p.Halls, Expires: s.cfg.Now().Add(s.cfg.TTL)}
	b, _ := json.Marshal(rec)
	if _, err := s.kv.Create(r.Context(), "s."+hashed(id), b); err != nil {
		s.cfg.Log.Warn("sign-in: the session store cannot be written", "err", err)
		s.fail(w, http.StatusServiceUnavailable, "sign-in is unavailable just now; try again")
		return
	}
	http.SetCookie(w, s.cookie(CookieName, id, int(s.cfg.TTL/time.Second), "/"))
	http.Redirect(w, r, in.Next, http.StatusFound)
}

// fail answers a failed sign-in in plain words for a browser, with a way
// back.
func (s *Store) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>登录未完成 · Sign-in not completed</title>
<body style="font:20px sans-serif;max-width:36em;margin:2em auto;padding:0 1em"><h1>登录未完成 · Sign-in not completed</h1><p role="alert">%s</p><p><a href="/auth/login">重新登录 · Sign in again</a> · <a href="/">首页 · Home</a></p></body></html>`,
		htmlEscape(msg))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

// ErrExpired: the session cookie names a session that is over.
var ErrExpired = errors.New("session: the sign-in has expired; sign in again")

// lookup finds the request's session. It returns auth.ErrNoToken when the
// request carries no session cookie.
func (s *Store) lookup(r *http.Request) (*record, string, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, "", auth.ErrNoToken
	}
	key := "s." + hashed(c.Value)
	e, err := s.kv.Get(r.Context(), key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, "", ErrExpired
	}
	if err != nil {
		return nil, "", fmt.Errorf("session: the session store cannot be read: %w", err)
	}
	var rec record
	if json.Unmarshal(e.Value(), &rec) != nil || s.cfg.Now().After(rec.Expires) {
		return nil, "", ErrExpired
	}
	if m := r.Method; m != http.MethodGet && m != http.MethodHead && r.Header.Get(CSRFHeader) == "" {
		return nil, "", fmt.Errorf("session: a write with the session cookie needs the %s header", CSRFHeader)
	}
	return &rec, key, nil
}

// Request is the citizen (and booking staff) routes' authenticator
// (booking.Authenticator).
func (s *Store) Request(r *http.Request) (*auth.Principal, error) {
	rec, _, err := s.lookup(r)
	if err != nil {
		return nil, err
	}
	return &auth.Principal{Subject: rec.Subject, Name: rec.Name, Citizen: rec.Citizen, Role: rec.Role, Halls: rec.Halls}, nil
}

// Authenticate is the platform's staff routes' authenticator
// (platform.Authenticator): a staff session, or ErrNoCredentials.
func (s *Store) Authenticate(r *http.Request) (*platform.Staff, error) {
	rec, _, err := s.lookup(r)
	if errors.Is(err, auth.ErrNoToken) {
		return nil, platform.ErrNoCredentials
	}
	if err != nil {
		return nil, err
	}
	if rec.Role == "" {
		return nil, errors.New("a citizen's sign-in, not a staff member's")
	}
	return rec.staff(), nil
}

// staff is the session's staff member as the platform's routes know them:
// named by the provider's display name, or its subject when it gives none.
func (rec *record) staff() *platform.Staff {
	return &platform.Staff{Name: cmp.Or(rec.Name, rec.Subject), Role: rec.Role, Halls: rec.Halls}
}

func (s *Store) logout(w http.ResponseWriter, r *http.Request) {
	_, key, err := s.lookup(r)
	if err != nil && !errors.Is(err, ErrExpired) && !errors.Is(err, auth.ErrNoToken) {
		platform.WriteError(w, http.StatusForbidden, platform.CodeForbidden, err.Error())
		return
	}
	if key != "" {
		if err := s.kv.Delete(r.Context(), key); err != nil {
			platform.WriteError(w, http.StatusServiceUnavailable, platform.CodeUnavailable, "the session store cannot be written; try again")
			return
		}
	}
	http.SetCookie(w, s.cookie(CookieName, "", -1, "/"))
	w.WriteHeader(http.StatusNoContent)
}

// Me is who a session is, as GET /api/v1/me answers.
type Me struct {
	Citizen *struct {
		Masked string `json:"masked"`
	} `json:"citizen,omitempty"`
	Staff     *platform.Staff `json:"staff,omitempty"`
	ExpiresAt time.Time       `json:"expires_at"`
}

func (s *Store) me(w http.ResponseWriter, r *http.Request) {
	rec, _, err := s.lookup(r)
	if err != nil {
		status, code := http.StatusUnauthorized, platform.CodeUnauthorized
		msg := "not signed in"
		if errors.Is(err, ErrExpired) {
			msg = ErrExpired.Error()
		} else if !errors.Is(err, auth.ErrNoToken) {
			status, code, msg = http.StatusServiceUnavailable, platform.CodeUnavailable, err.Error()
		}
		platform.WriteError(w, status, code, msg)
		return
	}
	var m Me
	m.ExpiresAt = rec.Expires
	if rec.Citizen != nil {
		m.Citizen = &struct {
			Masked string `json:"masked"`
		}{rec.Citizen.Masked}
	}
	if rec.Role != "" {
		m.Staff = rec.staff()
	}
	w.Header().Set("Cache-Control", "no-store")
	platform.WriteJSON(w, http.StatusOK, m)
}

// Either is an authenticator for both kinds of routes that takes a bearer
// ID token when the request carries an Authorization header, and the
// session cookie otherwise.
type Either struct {
	Bearer  *auth.Verifier
	Session *Store
	Staff   platform.Authenticator // static staff tokens, tried for a bearer the verifier refuses; may be nil
}

// Request implements booking.Authenticator.
func (e Either) Request(r *http.Request) (*auth.Principal, error) {
	if r.Header.Get("Authorization") != "" && e.Bearer != nil {
		return e.Bearer.Request(r)
	}
	if e.Session == nil {
		return nil, auth.ErrNoToken
	}
	return e.Session.Request(r)
}

// Authenticate implements platform.Authenticator.
func (e Either) Authenticate(r *http.Request) (*platform.Staff, error) {
	if r.Header.Get("Authorization") != "" {
		if e.Staff != nil {
			if st, err := e.Staff.Authenticate(r); err == nil {
				return st, nil
			}
		}
		if e.Bearer == nil {
			return nil, errors.New("the bearer token is refused")
		}
		p, err := e.Bearer.Request(r)
		if err != nil {
			return nil, err
		}
		if p.Role == "" {
			return nil, errors.New("a citizen's token, not a staff member's")
		}
		return &platform.Staff{Name: cmp.Or(p.Name, p.Subject), Role: p.Role, Halls: p.Halls}, nil
	}
	if e.Session == nil {
		return nil, platform.ErrNoCredentials
	}
	return e.Session.Authenticate(r)
}
