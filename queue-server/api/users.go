package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hallq/queue-server/hall"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// Login limits and session length.
const (
	sessionTTL    = 12 * time.Hour
	maxFailures   = 5
	failureWindow = 5 * time.Minute
)

func opUsers(c *call) (int, any, error) {
	us, err := c.a.store.Users()
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot list users: %v", err)
	}
	return ok(us, nil)
}

func opUserCreate(c *call) (int, any, error) {
	var r wire.UserRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	switch {
	case r.Name == "" || len(r.Name) > 64 || strings.ContainsAny(r.Name, " /\t\n"):
		return 0, nil, hall.Errorf(hall.Invalid, "name must be 1 to 64 characters without spaces or slashes")
	case len(r.Password) < 8 || len(r.Password) > 72:
		return 0, nil, hall.Errorf(hall.Invalid, "password must be 8 to 72 bytes")
	case !slices.Contains([]string{wire.RoleAdmin, wire.RoleManager, wire.RoleClerk}, r.Role):
		return 0, nil, hall.Errorf(hall.Invalid, "password accounts are for admin, manager or clerk")
	case c.p.Role == wire.RoleManager && r.Role != wire.RoleClerk:
		return 0, nil, hall.Errorf(hall.Forbidden, "managers create clerk accounts only")
	}
	if r.Role == wire.RoleClerk {
		if _, ok := findWindow(c.a.svc.Config(), r.Window); !ok {
			return 0, nil, hall.Errorf(hall.Invalid, "a clerk account needs an existing window, got %d", r.Window)
		}
	} else if r.Window != 0 {
		return 0, nil, hall.Errorf(hall.Invalid, "only clerk accounts are bound to a window")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.DefaultCost)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Internal, "cannot hash the password")
	}
	u := store.User{Name: r.Name, Role: r.Role, Window: r.Window, Hash: hash, Created: time.Now()}
	if err := c.a.store.PutUser(u); err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot store the user: %v", err)
	}
	c.a.log.Info("user saved", "name", u.Name, "role", u.Role, "by", c.p.Name)
	u.Hash = nil
	return http.StatusCreated, u, nil
}

// opLogin checks a password and returns a session token that expires. Each
// name gets a few attempts per window of time, so passwords cannot be
// guessed at speed.
func opLogin(c *call) (int, any, error) {
	var r wire.LoginRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	if !c.a.hub.allowLogin(r.Name) {
		return 0, nil, hall.Refusal(hall.QuotaExceeded, "too_many_attempts", "too many failed logins for this name; wait a few minutes")
	}
	u, err := c.a.store.GetUser(r.Name)
	if err != nil && !errors.Is(err, store.ErrNoUser) {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot check the login: %v", err)
	}
	if err != nil || u.Disabled || bcrypt.CompareHashAndPassword(u.Hash, []byte(r.Password)) != nil {
		c.a.hub.loginFailed(r.Name)
		return 0, nil, hall.Errorf(hall.Unauthorized, "wrong name or password")
	}
	t, err := newToken(c.a.store, store.Token{Name: u.Name, Role: u.Role, Window: u.Window, Session: true}, sessionTTL)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot store the session: %v", err)
	}
	return http.StatusCreated, map[string]any{"token": t.Token, "role": u.Role, "window": u.Window, "name": u.Name, "expires_in_s": int(sessionTTL.Seconds())}, nil
}

// opLogout ends the caller's password session on the server: the session
// token stops working at once, wherever it is held. Tokens handed out by a
// manager (kiosks, boards, clerk tokens) are not sessions: a manager
// revokes those, so a stray sign-out cannot switch off a board.
func opLogout(c *call) (int, any, error) {
	if !c.p.Session {
		return 0, nil, hall.Refusal(hall.Conflict, "not_a_session", "this is a token, not a password session; a manager revokes tokens")
	}
	if err := c.a.store.RevokeToken(c.p.TokenID); err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot end the session: %v", err)
	}
	c.a.hub.dropToken(c.p.TokenID)
	c.a.log.Info("signed out", "name", c.p.Name, "id", c.p.TokenID)
	return ok(map[string]bool{"signed_out": true}, nil)
}
