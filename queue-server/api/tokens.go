package api

// Tokens: bearer credentials of kiosks, boards and staff — authenticating
// a request, creating, listing and revoking tokens.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// authenticate resolves the bearer token (or the one given in a websocket
// hello). An empty token is the anonymous principal.
func (a *API) authenticate(token string) (Principal, error) {
	if token == "" {
		return Principal{}, nil
	}
	t, err := a.store.LookupToken(token)
	switch {
	case errors.Is(err, store.ErrNoToken):
		return Principal{}, hall.Errorf(hall.Unauthorized, "unknown token")
	case err != nil:
		return Principal{}, hall.Errorf(hall.Unavailable, "cannot check the token: %w", err)
	case t.Revoked:
		return Principal{}, hall.Errorf(hall.Unauthorized, "this token was revoked")
	case !t.Expires.IsZero() && a.now().After(t.Expires):
		return Principal{}, hall.Errorf(hall.Unauthorized, "this token has expired")
	}
	return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, Window: t.Window, Expires: t.Expires, Session: t.Session}, nil
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if v, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(v)
	}
	return ""
}

// NewToken creates a random token, stores its hash, and returns the value.
func NewToken(s *store.Store, name, role string, window int, ttl time.Duration) (wire.TokenCreated, error) {
	return newToken(s, store.Token{Name: name, Role: role, Window: window}, ttl)
}

// newToken stores t (name, role, window, session) under a new random value.
func newToken(s *store.Store, t store.Token, ttl time.Duration) (wire.TokenCreated, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return wire.TokenCreated{}, err
	}
	value := "hq_" + hex.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(value))
	t.ID, t.Created = hex.EncodeToString(sum[:6]), time.Now()
	if ttl > 0 {
		t.Expires = t.Created.Add(ttl)
	}
	if err := s.PutToken(value, t); err != nil {
		return wire.TokenCreated{}, err
	}
	return wire.TokenCreated{ID: t.ID, Token: value, Name: t.Name, Role: t.Role}, nil
}

func opTokens(c *call) (int, any, error) {
	ts, err := c.a.store.Tokens()
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot list tokens: %w", err)
	}
	return ok(ts, nil)
}

func opTokenCreate(c *call) (int, any, error) {
	var r wire.TokenRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	if r.Name == "" || len(r.Name) > 64 {
		return 0, nil, hall.Errorf(hall.Invalid, "name must be 1 to 64 characters")
	}
	if !slices.Contains(wire.Roles, r.Role) {
		return 0, nil, hall.Errorf(hall.Invalid, "role must be one of %s", strings.Join(wire.Roles, ", "))
	}
	if err := c.mayManage("a token", r.Role); err != nil {
		return 0, nil, err
	}
	if r.Role == wire.RoleClerk {
		if _, ok := findWindow(c.a.svc.Config(), r.Window); !ok {
			return 0, nil, hall.Errorf(hall.Invalid, "a clerk token needs an existing window, got %d", r.Window)
		}
	} else if r.Window != 0 {
		return 0, nil, hall.Errorf(hall.Invalid, "only clerk tokens are bound to a window")
	}
	var ttl time.Duration
	if r.TTL != "" {
		d, err := time.ParseDuration(r.TTL)
		if err != nil || d <= 0 {
			return 0, nil, hall.Errorf(hall.Invalid, "ttl must be a positive duration like \"720h\"")
		}
		ttl = d
	}
	t, err := NewToken(c.a.store, r.Name, r.Role, r.Window, ttl)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot store the token: %w", err)
	}
	c.a.log.Info("token created", "id", t.ID, "name", t.Name, "role", t.Role, "by", c.p.Name)
	return http.StatusCreated, t, nil
}

func opTokenRevoke(c *call) (int, any, error) {
	id := c.params["id"]
	t, err := c.a.store.TokenByID(id)
	if err == nil {
		if err := c.mayManage("a token", t.Role); err != nil {
			return 0, nil, err
		}
		err = c.a.store.RevokeToken(id)
	}
	if errors.Is(err, store.ErrNoToken) {
		return 0, nil, hall.Errorf(hall.NotFound, "no token with id %q", id)
	}
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot revoke: %w", err)
	}
	c.a.hub.closeToken(id, "this token was revoked")
	c.a.log.Info("token revoked", "id", id, "by", c.p.Name)
	return ok(map[string]string{"revoked": c.params["id"]}, nil)
}
