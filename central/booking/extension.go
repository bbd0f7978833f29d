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
	"strings"

	"hallq/central/auth"
	"hallq/central/calendars"
	"hallq/central/platform"
)

// Extension wires bookings, calendars and the catalogue into a central
// process (platform.Main's extension): flags -province-key (the citizen-key
// secret the halls share, hex in a file), -oidc-issuer and -oidc-client-id
// (the province's identity provider, whose ID tokens sign citizens and
// staff in). Without -province-key the process serves the hall views only
// and says so.
func Extension() platform.Extension { return &extension{} }

type extension struct {
	keyFile, issuer, clientID string
}

func (e *extension) Flags(fs *flag.FlagSet) {
	fs.StringVar(&e.keyFile, "province-key", "", "file with the province's citizen-key secret (hex, ≥ 16 bytes; the halls' -citizen-key-file): enables bookings, calendars and the catalogue")
	fs.StringVar(&e.issuer, "oidc-issuer", "", "OpenID Connect issuer whose ID tokens sign citizens and staff in (bookings)")
	fs.StringVar(&e.clientID, "oidc-client-id", "portal", "the audience the ID tokens must name")
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
		a = v
	} else {
		log.Warn("bookings: no -oidc-issuer, citizen and staff booking routes answer 401")
	}
	go func() {
		if err := svc.Follow(ctx); err != nil && ctx.Err() == nil {
			log.Error("bookings: following the halls' events stopped", "err", err)
		}
	}()
	for pattern, h := range Routes(svc, a) {
		p.API.Handle(pattern, h)
	}
	p.API.SetSlots(slotSource{svc})
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

// slotSource gives the central's hall list each hall's next free slots.
type slotSource struct{ s *Service }

func (s slotSource) NextFree(ctx context.Context, halls []string) (map[string][]platform.Slot, error) {
	free, err := s.s.NextFreeAll(ctx, halls)
	out := map[string][]platform.Slot{}
	for h, l := range free {
		for _, f := range l {
			out[h] = append(out[h], platform.Slot{Service: f.Service, Start: f.Start, End: f.End, Free: f.Free})
		}
	}
	return out, err
}

// HallNames names the public hall list's halls from their set-ups.
func (s slotSource) HallNames(ctx context.Context, halls []string) (map[string]platform.HallName, error) {
	out := map[string]platform.HallName{}
	for _, id := range halls {
		h, err := s.s.Halls.Get(ctx, id)
		if errors.Is(err, calendars.ErrUnknownHall) {
			continue
		}
		if err != nil {
			return out, err
		}
		out[id] = platform.HallName{Name: h.Name, District: h.District}
	}
	return out, nil
}
