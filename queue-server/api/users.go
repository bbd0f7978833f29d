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

// sessionTTL is how long a password login's session lasts.
const sessionTTL = 12 * time.Hour

func opUsers(c *call) (int, any, error) {
	us, err := c.a.store.Users()
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot list users: %w", err)
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
	}
	if err := c.mayManage("an account", r.Role); err != nil {
		return 0, nil, err
	}
	// replacing an account (a new password) is managing its current role too
	old, err := c.a.store.GetUser(r.Name)
	replaced := err == nil
	switch {
	case replaced:
		if err := c.mayManage("an account", old.Role); err != nil {
			return 0, nil, err
		}
	case !errors.Is(err, store.ErrNoUser):
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot check the account: %w", err)
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
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot store the user: %w", err)
	}
	ended := 0
	if replaced {
		// a new password (after a leak, a clerk leaving) must bite at once:
		// the sessions signed in with the old one end, as a removal's do
		if ended, err = c.endSessions(old, "this account's password or role was changed"); err != nil {
			return 0, nil, hall.Errorf(hall.Unavailable, "the account is saved, but its old sessions could not all be ended: %w", err)
		}
	}
	c.a.log.Info("user saved", "name", u.Name, "role", u.Role, "replaced", replaced, "sessions_ended", ended, "by", c.p.Name)
	u.Hash = nil
	return http.StatusCreated, u, nil
}

// opUserDelete removes a password account and ends its sessions at once
// (the session tokens it logged in with are revoked). Managers remove
// clerk accounts only; nobody removes their own.
func opUserDelete(c *call) (int, any, error) {
	name := c.params["name"]
	u, err := c.a.store.GetUser(name)
	if errors.Is(err, store.ErrNoUser) {
		return 0, nil, hall.Errorf(hall.NotFound, "no user %q", name)
	}
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot read the user: %w", err)
	}
	if err := c.mayManage("an account", u.Role); err != nil {
		return 0, nil, err
	}
	if u.Name == c.p.Name && u.Role == c.p.Role {
		return 0, nil, hall.Refusal(hall.Conflict, hall.ReasonOwnAccount, "you cannot remove the account you are signed in with")
	}
	if err := c.a.store.DeleteUser(name); err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot remove the user: %w", err)
	}
	ended, err := c.endSessions(u, "this account was removed")
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "the user is removed, but its sessions could not all be ended: %w", err)
	}
	c.a.log.Info("user removed", "name", u.Name, "role", u.Role, "sessions_ended", ended, "by", c.p.Name)
	return ok(map[string]any{"removed": u.Name, "sessions_ended": ended}, nil)
}

// endSessions revokes the password sessions u logged in with and closes
// their open websockets at once.
func (c *call) endSessions(u store.User, why string) (int, error) {
	ts, err := c.a.store.Tokens()
	if err != nil {
		return 0, err
	}
	ended := 0
	for _, t := range ts {
		if t.Name == u.Name && t.Role == u.Role && !t.Expires.IsZero() && !t.Revoked {
			if err := c.a.store.RevokeToken(t.ID); err != nil {
				return ended, err
			}
			c.a.hub.closeToken(t.ID, why)
			ended++
		}
	}
	return ended, nil
}

// opLogin checks a password and returns a session token that expires.
// Each name and each client address gets a few attempts per window of
// time, counted before the password is hashed (loginGuard), and an unknown
// name costs the same bcrypt check as a known one, so passwords cannot be
// guessed at speed and the answer's time does not tell which names exist.
func opLogin(c *call) (int, any, error) {
	var r wire.LoginRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	g := c.a.logins
	if !g.begin(r.Name, c.ip) {
		return 0, nil, hall.Refusal(hall.QuotaExceeded, hall.ReasonTooManyAttempts, "too many failed logins for this name or from this address; wait a few minutes")
	}
	success := false
	defer func() { g.end(r.Name, c.ip, success) }()
	u, err := c.a.store.GetUser(r.Name)
	if err != nil && !errors.Is(err, store.ErrNoUser) {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot check the login: %w", err)
	}
	hash := u.Hash
	if err != nil || len(hash) == 0 {
		hash = dummyHash
	}
	match, cerr := g.check(c.ctx, hash, r.Password)
	if cerr != nil {
		return 0, nil, cerr
	}
	if err != nil || u.Disabled || !match {
		return 0, nil, hall.Errorf(hall.Unauthorized, "wrong name or password")
	}
	success = true
	t, err := newToken(c.a.store, store.Token{Name: u.Name, Role: u.Role, Window: u.Window, Session: true}, sessionTTL)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot store the session: %w", err)
	}
	return http.StatusCreated, map[string]any{"token": t.Token, "role": u.Role, "window": u.Window, "name": u.Name, "expires_in_s": int(sessionTTL.Seconds())}, nil
}

// opLogout ends the caller's password session on the server: the session
// token stops working at once, wherever it is held. Tokens handed out by a
// manager (kiosks, boards, clerk tokens) are not sessions: a manager
// revokes those, so a stray sign-out cannot switch off a board.
func opLogout(c *call) (int, any, error) {
	if !c.p.Session {
		return 0, nil, hall.Refusal(hall.Conflict, hall.ReasonNotASession, "this is a token, not a password session; a manager revokes tokens")
	}
	if err := c.a.store.RevokeToken(c.p.TokenID); err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot end the session: %w", err)
	}
	c.a.hub.closeToken(c.p.TokenID, "signed out")
	c.a.log.Info("signed out", "name", c.p.Name, "id", c.p.TokenID)
	return ok(map[string]bool{"signed_out": true}, nil)
}
