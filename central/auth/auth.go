// Package auth verifies the bearer tokens of the central's API: OpenID
// Connect ID tokens from the province's configured issuer (its signature
// against the issuer's published keys, the audience — our client id — and
// the expiry, with github.com/coreos/go-oidc, the one package that imports
// it), and turns their claims into a Principal:
//
//   - a citizen: the token carries the resident ID number (claim
//     "id_number" by default). It is read only in memory to derive the
//     province citizen key (HMAC, docs/central.md) and the masked form; the
//     number itself is dropped at once, never stored, logged or passed on.
//   - province staff: claim "hallq_role" is "province_admin" (every hall)
//     or "hall_supervisor" with "hallq_halls" the halls they supervise.
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"hallq/central/platform"
)

// Staff roles, the claim "hallq_role" of a staff token: the platform's
// (auth builds on central/platform, which checks the same roles of its
// static staff tokens), so each role is spelt once.
const (
	RoleProvinceAdmin  = platform.RoleProvinceAdmin
	RoleHallSupervisor = platform.RoleHallSupervisor
)

// Citizen is a signed-in citizen as the central knows them.
type Citizen struct {
	Key    string // province citizen key
	Masked string // e.g. 1101**********002X
}

// Principal is who a verified token speaks for.
type Principal struct {
	Subject string   // the issuer's subject
	Name    string   // staff: the display name (claim "name"), "" if the token has none
	Citizen *Citizen // set for a token with an ID number
	Role    string   // staff role, "" for a citizen
	Halls   []string // a supervisor's halls
}

// MayManage reports whether p is staff allowed to manage hall (a province
// admin every hall, a supervisor theirs).
func (p *Principal) MayManage(hall string) bool {
	switch p.Role {
	case RoleProvinceAdmin:
		return true
	case RoleHallSupervisor:
		return slices.Contains(p.Halls, hall)
	}
	return false
}

// Config configures the verifier.
type Config struct {
	Issuer      string // e.g. https://id.example.gov.cn
	ClientID    string // the audience our tokens must name
	ProvinceKey []byte // citizen-key secret
	// KeyScheme is the province's citizen-key scheme
	// (platform.KeySchemeSHA256 when empty, KeySchemeSM3 under -crypto gm):
	// a citizen's key must be the one the halls' kiosks derive.
	KeyScheme string
	// IDNumberClaim is the claim holding the ID number (default "id_number").
	IDNumberClaim string
	Now           func() time.Time // default time.Now
	// HTTPClient fetches discovery and keys (default http.DefaultClient).
	HTTPClient *http.Client
}

// Verifier checks ID tokens.
type Verifier struct {
	cfg               Config
	v                 *oidc.IDTokenVerifier
	authURL, tokenURL string
}

// Endpoints are the issuer's authorization and token endpoints, from its
// discovery document (for the sign-in flow, hallq/central/session).
func (v *Verifier) Endpoints() (authURL, tokenURL string) { return v.authURL, v.tokenURL }

// New discovers the issuer (its /.well-known/openid-configuration) and
// returns a verifier; keys are fetched and refreshed as tokens need them.
func New(ctx context.Context, c Config) (*Verifier, error) {
	if c.Issuer == "" || c.ClientID == "" {
		return nil, errors.New("auth: an issuer and a client id are needed")
	}
	if len(c.ProvinceKey) == 0 {
		return nil, errors.New("auth: the province key is needed to derive citizen keys")
	}
	if c.IDNumberClaim == "" {
		c.IDNumberClaim = "id_number"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, c.HTTPClient)
	}
	p, err := oidc.NewProvider(ctx, c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: discovering %s: %w", c.Issuer, err)
	}
	v := p.Verifier(&oidc.Config{ClientID: c.ClientID, Now: c.Now})
	ep := p.Endpoint()
	return &Verifier{cfg: c, v: v, authURL: ep.AuthURL, tokenURL: ep.TokenURL}, nil
}

// ErrNoToken: the request carries no bearer token.
var ErrNoToken = errors.New("auth: no bearer token")

// Request verifies the request's Authorization: Bearer token.
func (v *Verifier) Request(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, ErrNoToken
	}
	ctx := r.Context()
	if v.cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, v.cfg.HTTPClient)
	}
	return v.Token(ctx, tok)
}

// Token verifies one raw ID token. The error says what is wrong (bad
// signature, wrong audience, expired, …) without echoing the token.
func (v *Verifier) Token(ctx context.Context, raw string) (*Principal, error) {
	return v.token(ctx, raw, nil)
}

// TokenWithNonce verifies an ID token that answers a sign-in this
// service started (hallq/central/session): as Token, and its nonce claim
// must be the one the sign-in sent.
func (v *Verifier) TokenWithNonce(ctx context.Context, raw, nonce string) (*Principal, error) {
	if nonce == "" {
		return nil, errors.New("auth: no nonce to check")
	}
	return v.token(ctx, raw, &nonce)
}

func (v *Verifier) token(ctx context.Context, raw string, nonce *string) (*Principal, error) {
	if v.cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, v.cfg.HTTPClient)
	}
	t, err := v.v.Verify(ctx, raw)
	if err == nil && nonce != nil && subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(*nonce)) != 1 {
		err = errors.New("the token's nonce is not the sign-in's")
	}
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, fmt.Errorf("auth: the token expired at %s", exp.Expiry.Format(time.RFC3339))
		}
		return nil, fmt.Errorf("auth: %w", err)
	}
	var cl map[string]any
	if err := t.Claims(&cl); err != nil {
		return nil, fmt.Errorf("auth: claims: %w", err)
	}
	p := &Principal{Subject: t.Subject}
	if id, ok := cl[v.cfg.IDNumberClaim].(string); ok && id != "" {
		key, err := platform.CitizenKeyWith(v.cfg.KeyScheme, v.cfg.ProvinceKey, id)
		if err != nil {
			return nil, errors.New("auth: the token's ID number is not a valid resident ID number")
		}
		p.Citizen = &Citizen{Key: key, Masked: platform.MaskID(id)}
	}
	clear(cl) // the raw number goes no further than this function
	if role, _ := claimString(t, "hallq_role"); role != "" {
		switch role {
		case RoleProvinceAdmin, RoleHallSupervisor:
			p.Role = role
		default:
			return nil, fmt.Errorf("auth: unknown staff role %q", role)
		}
		var halls struct {
			Halls []string `json:"hallq_halls"`
		}
		_ = t.Claims(&halls)
		p.Halls = halls.Halls
		p.Name, _ = claimString(t, "name")
	}
	if p.Citizen == nil && p.Role == "" {
		return nil, errors.New("auth: the token names neither a citizen (ID number) nor a staff role")
	}
	return p, nil
}

func claimString(t *oidc.IDToken, name string) (string, error) {
	var m map[string]any
	if err := t.Claims(&m); err != nil {
		return "", err
	}
	s, _ := m[name].(string)
	return s, nil
}
