// Package oidcdev is a stand-in OpenID Connect provider for tests and the
// demo (make run) — NOT the province's identity service. It serves
// discovery, its signing keys (JWKS), the authorization-code flow with
// PKCE (S256) behind a sign-in page that says plainly it is a stand-in
// (anyone may type any valid resident ID number), and the token endpoint,
// which returns an RS256 ID token carrying the number in claim
// "id_number" — what the real provider asserts after its own checks.
//
// It keeps no state: an authorization code is the sign-in sealed with
// AES-GCM under a key of the process, valid for one minute (a stand-in
// does not enforce single use). Tests mint tokens directly with Mint.
// Standard library only.
package oidcdev

import (
	"cmp"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"hallq/internal/idnumber"
)

// Provider is a stand-in OIDC provider. Issuer must be the URL it is
// served at (set it after starting the listener).
type Provider struct {
	Issuer string
	Now    func() time.Time // default time.Now
	TTL    time.Duration    // ID token lifetime, default 1h
	// Staff are the stand-in's staff accounts by user name: the sign-in
	// page offers them beside the ID-number form (no password — a
	// stand-in), and their tokens carry the role and halls.
	Staff map[string]Staff
	key   *rsa.PrivateKey
	kid   string
	seal  cipher.AEAD
}

// New makes a provider with a fresh RSA key.
func New(issuer string) (*Provider, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	var sk [32]byte
	_, _ = rand.Read(sk[:])
	b, _ := aes.NewCipher(sk[:])
	g, _ := cipher.NewGCM(b)
	var kid [8]byte
	_, _ = rand.Read(kid[:])
	return &Provider{Issuer: issuer, key: k, kid: fmt.Sprintf("%x", kid), seal: g}, nil
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Token is what Mint puts into an ID token.
type Token struct {
	Subject  string
	Audience string
	IDNumber string   // a citizen's number
	Role     string   // a staff role (hallq_role)
	Halls    []string // a supervisor's halls (hallq_halls)
	Name     string   // a staff member's display name (name)
	Nonce    string
	TTL      time.Duration // default p.TTL; negative: already expired
}

// Staff is a stand-in staff account.
type Staff struct {
	Role  string   // province_admin or hall_supervisor
	Halls []string // a supervisor's halls
	Name  string   // the display name (claim "name"); default the account
}

// Mint signs an ID token with the provider's key.
func (p *Provider) Mint(t Token) string { return p.mint(p.key, p.kid, t) }

// MintForeign signs the same token with a key the provider never
// published — a forged token, for tests.
func (p *Provider) MintForeign(t Token) string {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	return p.mint(k, p.kid, t)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (p *Provider) mint(k *rsa.PrivateKey, kid string, t Token) string {
	ttl := t.TTL
	if ttl == 0 {
		ttl = p.TTL
	}
	if ttl == 0 {
		ttl = time.Hour
	}
	now := p.now()
	cl := map[string]any{"iss": p.Issuer, "sub": t.Subject, "aud": t.Audience,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if t.IDNumber != "" {
		cl["id_number"] = t.IDNumber
	}
	if t.Role != "" {
		cl["hallq_role"] = t.Role
		cl["hallq_halls"] = t.Halls
		if t.Name != "" {
			cl["name"] = t.Name
		}
	}
	if t.Nonce != "" {
		cl["nonce"] = t.Nonce
	}
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(cl)
	in := b64(h) + "." + b64(c)
	sum := sha256.Sum256([]byte(in))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	return in + "." + b64(sig)
}

// ServeHTTP serves the provider's endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": p.Issuer, "authorization_endpoint": p.Issuer + "/authorize",
			"token_endpoint": p.Issuer + "/token", "jwks_uri": p.Issuer + "/jwks",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported":      []string{"S256"},
			"scopes_supported":                      []string{"openid"},
		})
	case "/jwks":
		writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": p.kid,
			"n": b64(p.key.N.Bytes()), "e": b64(big.NewInt(int64(p.key.E)).Bytes()),
		}}})
	case "/authorize":
		p.authorize(w, r)
	case "/token":
		p.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

var page = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="zh"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>测试登录 · Stand-in sign-in</title>
<body style="font:20px sans-serif;max-width:36em;margin:2em auto">
<p style="background:#b00;color:#fff;padding:1em"><b>测试用登录页，不是政务服务统一身份认证。</b><br>
Stand-in sign-in for tests and the demo — not the province's identity service. Any valid ID number is accepted.</p>
{{if .Error}}<p role="alert" style="color:#b00">{{.Error}}</p>{{end}}
<form method="post" action="authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label>身份证号 ID number <input name="id_number" autocomplete="off" required style="font-size:24px"></label>
<p><button type="submit" style="font-size:24px">登录 Sign in</button></p>
</form>
{{if .Staff}}<form method="post" action="authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<h2>工作人员 Staff</h2>
<label>账号 Account <select name="staff" style="font-size:24px">{{range .Staff}}<option>{{.}}</option>{{end}}</select></label>
<p><button type="submit" style="font-size:24px">工作人员登录 Staff sign-in</button></p>
</form>{{end}}</body></html>`))

type grant struct {
	ClientID  string `json:"c"`
	Redirect  string `json:"r"`
	Challenge string `json:"x"`
	Nonce     string `json:"n"`
	IDNumber  string `json:"i,omitempty"`
	Staff     string `json:"s,omitempty"`
	Expires   int64  `json:"e"`
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.Form
	hidden := map[string]string{}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method", "scope"} {
		hidden[k] = f.Get(k)
	}
	ru, err := url.Parse(f.Get("redirect_uri"))
	switch {
	case f.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case err != nil || ru.Scheme == "" || f.Get("client_id") == "":
		http.Error(w, "client_id and an absolute redirect_uri are required", http.StatusBadRequest)
		return
	case f.Get("code_challenge") == "" || f.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE is required: code_challenge with code_challenge_method S256", http.StatusBadRequest)
		return
	}
	var staff []string
	for name := range p.Staff {
		staff = append(staff, name)
	}
	slices.Sort(staff)
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, map[string]any{"Hidden": hidden, "Staff": staff})
		return
	}
	g := grant{ClientID: f.Get("client_id"), Redirect: f.Get("redirect_uri"), Challenge: f.Get("code_challenge"),
		Nonce: f.Get("nonce"), Expires: p.now().Add(time.Minute).Unix()}
	if name := f.Get("staff"); name != "" {
		if _, ok := p.Staff[name]; !ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_ = page.Execute(w, map[string]any{"Hidden": hidden, "Staff": staff, "Error": "没有这个账号 / no such staff account"})
			return
		}
		g.Staff = name
	} else {
		typed := strings.ToUpper(strings.ReplaceAll(f.Get("id_number"), " ", ""))
		if _, err := idnumber.ParseResident(typed); err != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_ = page.Execute(w, map[string]any{"Hidden": hidden, "Staff": staff, "Error": "身份证号无效 / not a valid resident ID number"})
			return
		}
		g.IDNumber = typed
	}
	body, _ := json.Marshal(g)
	nonce := make([]byte, p.seal.NonceSize())
	_, _ = rand.Read(nonce)
	code := b64(p.seal.Seal(nonce, nonce, body, nil))
	q := ru.Query()
	q.Set("code", code)
	if s := f.Get("state"); s != "" {
		q.Set("state", s)
	}
	ru.RawQuery = q.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (p *Provider) open(code string) (grant, error) {
	raw, err := base64.RawURLEncoding.DecodeString(code)
	ns := p.seal.NonceSize()
	if err != nil || len(raw) < ns {
		return grant{}, errors.New("malformed code")
	}
	body, err := p.seal.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil {
		return grant{}, errors.New("unknown code")
	}
	var g grant
	if err := json.Unmarshal(body, &g); err != nil {
		return grant{}, err
	}
	if p.now().Unix() > g.Expires {
		return grant{}, errors.New("code expired")
	}
	return g, nil
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	g, err := p.open(f.Get("code"))
	clientID := f.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok {
		clientID = u
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": err.Error()})
	case g.ClientID != clientID || g.Redirect != f.Get("redirect_uri"):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "client_id or redirect_uri differ from the authorization request"})
	case b64(sum[:]) != g.Challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "code_verifier does not match the code_challenge"})
	default:
		sub := sha256.Sum256([]byte("sub:" + g.IDNumber + ":" + g.Staff + ":" + p.kid))
		t := Token{Subject: fmt.Sprintf("%x", sub[:12]), Audience: g.ClientID, IDNumber: g.IDNumber, Nonce: g.Nonce}
		if st, ok := p.Staff[g.Staff]; ok && g.Staff != "" {
			t.Role, t.Halls, t.Name = st.Role, st.Halls, cmp.Or(st.Name, g.Staff)
		}
		id := p.Mint(t)
		writeJSON(w, http.StatusOK, map[string]any{"access_token": id, "id_token": id, "token_type": "Bearer",
			"expires_in": int((p.TTL + time.Hour*time.Duration(btoi(p.TTL == 0))).Seconds())})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
