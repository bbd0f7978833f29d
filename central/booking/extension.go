package booking

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"hallq/central/auth"
	"hallq/central/platform"
	"hallq/central/session"
)

// Extension wires bookings, calendars and the catalogue into a central
// process (platform.Main's extension): flags -province-key (the citizen-key
// secret the halls share, hex in a file), -oidc-issuer and -oidc-client-id
// (the province's identity provider, whose ID tokens sign citizens and
// staff in), -oidc-client-secret-file and -public-url (the pages' sign-in
// sessions, hallq/central/session: every citizen route then takes a
// bearer ID token or the session cookie, and the platform's staff routes a
// staff session besides the static tokens). Without -province-key the process serves the hall views only
// and says so.
func Extension() platform.Extension { return &extension{} }

type extension struct {
	keyFile, issuer, clientID, secretFile, publicURL string
	auth                                             Authenticator // set by Start
}

// AuthenticatorOf gives, once ext (an Extension()) has started, the
// authenticator of its citizen and staff routes, for other parts' routes
// (the notifications); nil before, or when ext is not this package's.
func AuthenticatorOf(ext platform.Extension) func() Authenticator {
	return func() Authenticator {
		if e, ok := ext.(*extension); ok {
			return e.auth
		}
		return nil
	}
}

func (e *extension) Flags(fs *flag.FlagSet) {
	fs.StringVar(&e.keyFile, "province-key", "", "file with the province's citizen-key secret (hex, ≥ 16 bytes; the halls' -citizen-key-file): enables bookings, calendars and the catalogue")
	fs.StringVar(&e.issuer, "oidc-issuer", "", "OpenID Connect issuer whose ID tokens sign citizens and staff in (bookings)")
	fs.StringVar(&e.clientID, "oidc-client-id", "portal", "the audience the ID tokens must name")
	fs.StringVar(&e.secretFile, "oidc-client-secret-file", "", "file with the portal's client secret at the identity provider (none: a public client, PKCE alone)")
	fs.StringVar(&e.publicURL, "public-url", "", "the platform's address as browsers reach it, for the sign-in callback (default: the -http address)")
}

func (e *extension) Start(ctx context.Context, p *platform.Process, log *slog.Logger) error {
	if e.keyFile == "" {
		log.Info("bookings off: no -province-key")
		return nil
	}
	key, err := readKey(e.keyFile)
	if err != nil {
		return fmt.Errorf("-province-key: %w", err)
	}
	svc, err := New(ctx, Config{JS: p.JS, Replicas: p.Replicas(), ProvinceKey: key, Log: log.With("part", "bookings")})
	if err != nil {
		return err
	}
	var a Authenticator = refuseAll{}
	if e.issuer != "" {
		v, err := auth.New(ctx, auth.Config{Issuer: e.issuer, ClientID: e.clientID, ProvinceKey: key, KeyScheme: p.KeyScheme()})
		if err != nil {
			return fmt.Errorf("-oidc-issuer: %w", err)
		}
		pub := e.publicURL
		if pub == "" {
			pub = p.URL()
		}
		var secret string
		if e.secretFile != "" {
			b, err := os.ReadFile(e.secretFile)
			if err != nil {
				return fmt.Errorf("-oidc-client-secret-file: %w", err)
			}
			secret = strings.TrimSpace(string(b))
		}
		sess, err := session.New(ctx, session.Config{JS: p.JS, Replicas: p.Replicas(), Verifier: v, ClientID: e.clientID,
			ClientSecret: secret, PublicURL: pub, Log: log.With("part", "sign-in")})
		if err != nil {
			return err
		}
		for pattern, h := range sess.Routes() {
			p.API.Handle(pattern, h)
		}
		a = session.Either{Bearer: v, Session: sess}
		p.API.SetAuth(session.Either{Bearer: v, Session: sess, Staff: p.API.Auth()})
	} else {
		log.Warn("bookings: no -oidc-issuer, citizen and staff booking routes answer 401")
	}
	e.auth = a
	go func() {
		if err := svc.Follow(ctx); err != nil && ctx.Err() == nil {
			log.Error("bookings: following the halls' events stopped", "err", err)
		}
	}()
	for pattern, h := range Routes(svc, a) {
		p.API.Handle(pattern, h)
	}
	p.API.SetSlots(newSlotSource(svc))
	log.Info("bookings, calendars and catalogue served", "oidc_issuer", e.issuer)
	return nil
}

func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < 16 {
		return nil, errors.New("the file must hold at least 16 bytes as hex")
	}
	return k, nil
}

// refuseAll is the authenticator without an identity provider.
type refuseAll struct{}

func (refuseAll) Request(*http.Request) (*auth.Principal, error) { return nil, auth.ErrNoToken }

// slotSource gives the central's hall list each hall's next free slots
// and names (listFree). One pass over 1,000 halls reads 1,000 set-ups and
// the seats taken, so the list is served
// from the last pass (a snapshot), and a pass older than listTTL is
// redone in the background while the old one is served. A request waits
// up to listWait for a pass it starts, so a small province's list is
// complete at once and a large one's is never held up.
type slotSource struct {
	s          *Service
	snap       atomic.Pointer[listSnap] // written only by the pass that holds refreshing
	refreshing atomic.Bool
}

type listSnap struct {
	at    time.Time
	slots map[string][]platform.Slot
	names map[string]platform.HallName
}

const (
	listTTL  = 15 * time.Second
	listWait = 2 * time.Second
)

func newSlotSource(s *Service) *slotSource { return &slotSource{s: s} }

// current returns the snapshot for halls, starting a pass when there is
// none or it is stale; nil when none is ready within listWait.
func (s *slotSource) current(halls []string) *listSnap {
	snap := s.snap.Load()
	if snap != nil && time.Since(snap.at) < listTTL {
		return snap
	}
	if s.refreshing.CompareAndSwap(false, true) {
		go func() {
			defer s.refreshing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			next, err := s.pass(ctx, slices.Clone(halls))
			if err != nil {
				s.s.cfg.Log.Warn("bookings: next free slots for the hall list", "err", err)
			}
			if next != nil {
				s.snap.Store(next)
			}
		}()
	}
	if snap != nil {
		return snap // stale but served; the pass replaces it
	}
	for deadline := time.Now().Add(listWait); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if next := s.snap.Load(); next != nil {
			return next
		}
		if !s.refreshing.Load() {
			break // the pass ended without a result (logged); the next request tries again
		}
	}
	return s.snap.Load()
}

func (s *slotSource) pass(ctx context.Context, halls []string) (*listSnap, error) {
	free, set, err := s.s.listFree(ctx, halls)
	if err != nil {
		return nil, err
	}
	next := &listSnap{at: time.Now(), slots: map[string][]platform.Slot{}, names: map[string]platform.HallName{}}
	for id, h := range set {
		next.names[id] = platform.HallName{Name: h.Name, District: h.District}
	}
	for h, l := range free {
		for _, f := range l {
			next.slots[h] = append(next.slots[h], platform.Slot{Service: f.Service, Start: f.Start, End: f.End, Free: f.Free})
		}
	}
	return next, nil
}

func (s *slotSource) NextFree(ctx context.Context, halls []string) (map[string][]platform.Slot, error) {
	snap := s.current(halls)
	if snap == nil {
		return nil, errors.New("the first pass over the halls' next free slots is still running")
	}
	return snap.slots, nil
}

// HallNames names the public hall list's halls from their set-ups.
func (s *slotSource) HallNames(ctx context.Context, halls []string) (map[string]platform.HallName, error) {
	if snap := s.snap.Load(); snap != nil {
		return snap.names, nil
	}
	return nil, nil
}
