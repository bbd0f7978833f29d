package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
	"hallq/internal/testclock"
	"hallq/queue-server/client"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/seal"
	"hallq/queue-server/wire"
)

// TestBookingCheckInThroughCentral runs the province (central, embedded
// NATS) and a hall joined to it, once with the default cryptography and
// once with the 国密 option on both, under the same assertions: the
// province books a citizen (keyed in its scheme), the booking reaches the
// hall, the citizen's card sealed at a kiosk checks it in, and the
// check-in's events reach the province's view, none refused. A hall on
// the option under a standard province is refused there, saying why, and
// the province's booking does not match its cards.
func TestBookingCheckInThroughCentral(t *testing.T) {
	for _, tc := range []struct {
		name, hall, central string
		mixed               bool
	}{
		{"standard", CryptoStandard, "standard", false},
		{"gm", CryptoGM, "gm", false},
		{"gm hall, standard province", CryptoGM, "standard", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			natsAddr, httpAddr := freeAddr(t), freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			// made here, not in the goroutine: its removal must be registered
			// before the cleanup that stops the central, so it runs after it
			// (a directory removed under a running JetStream: "directory not empty")
			data := t.TempDir()
			go func() {
				done <- platform.Main(ctx, []string{"-data", data, "-nats-listen", natsAddr, "-http", httpAddr, "-crypto", tc.central}, io.Discard)
			}()
			t.Cleanup(func() { cancel(); <-done })

			provinceKey := []byte("example-province-key")
			dir := t.TempDir()
			cfg := hall.SampleConfig()
			clock := testclock.New(testclock.At(10, 0))
			s, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: clock, Crypto: tc.hall, CitizenSecret: provinceKey,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Forward: &forward.Config{NATSURL: "nats://" + natsAddr}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
			admin := client.New(s.URL, strings.TrimSpace(string(tok)))

			// the province books a citizen
			id := residentID(t, 42)
			scheme, _ := platform.SchemeOfCrypto(tc.central)
			key, err := platform.CitizenKeyWith(scheme, provinceKey, id)
			if err != nil {
				t.Fatal(err)
			}
			nc := connectNATS(t, natsAddr)
			js, _ := jetstream.New(nc)
			slot := clock.Now().Add(10 * time.Minute)
			if _, err := platform.PublishAppointment(ctx, js, cfg.Hall.ID, forward.Appointment{BookingID: "bk-e2e", CitizenKey: key,
				Service: "B", SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute), Status: "booked"}); err != nil {
				t.Fatal(err)
			}
			waitUntilTrue(t, "the booking at the hall", func() bool {
				var bs []hall.Booking
				admin.Do(ctx, "GET", "/api/v1/appointments", "", nil, &bs)
				return len(bs) == 1
			})

			// the citizen's card at a kiosk
			tk, err := admin.CreateToken(ctx, wire.TokenRequest{Name: "kiosk-1", Role: wire.RoleKiosk})
			if err != nil {
				t.Fatal(err)
			}
			kiosk := client.New(s.URL, tk.Token)
			pubText, _ := kiosk.SealKey(ctx)
			if got := strings.HasPrefix(pubText, "sm2:"); got != (tc.hall == CryptoGM) {
				t.Fatalf("seal key %q for crypto %s", pubText, tc.hall)
			}
			pub, _ := seal.ParsePublic(pubText)
			sealed, _ := seal.Seal(pub, id)
			tv, err := kiosk.CheckIn(ctx, "ci-1", hall.CheckIn{SealedID: sealed})
			if tc.mixed {
				if err == nil {
					t.Fatalf("a booking keyed %s checked in at a hall keying with HMAC-SM3: %+v", scheme, tv.Ticket)
				}
			} else if err != nil || tv.Service != "B" || tv.Number == "" {
				t.Fatalf("check-in by card: %+v, %v", tv.Ticket, err)
			}
			if tc.mixed { // something to forward all the same
				if _, err := admin.Issue(ctx, "walk-in", hall.IssueRequest{Service: "E"}); err != nil {
					t.Fatal(err)
				}
			}

			// the province's view of the hall
			var hv platform.HallView
			waitUntilTrue(t, "the hall in the province's view", func() bool {
				resp, err := http.Get("http://" + httpAddr + "/halls")
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				var view struct{ Halls []platform.HallView }
				json.NewDecoder(resp.Body).Decode(&view)
				if len(view.Halls) != 1 {
					return false
				}
				hv = view.Halls[0]
				return hv.Issued >= 1 || hv.KeySchemeRefused >= 1
			})
			if tc.mixed {
				if hv.Issued != 0 || !strings.Contains(hv.KeySchemeError, "keys citizens with hmac-sm3, this province with hmac-sha256") {
					t.Fatalf("the province accepted a hall of another key scheme: %+v", hv)
				}
				return
			}
			if hv.Hall != cfg.Hall.ID || hv.Issued != 1 || hv.KeySchemeRefused != 0 || hv.Duplicates != 0 || hv.Gaps != 0 {
				t.Fatalf("central view: %+v", hv)
			}
		})
	}
}

// connectNATS connects to the central started in another goroutine once it
// serves: its NATS listens and its streams are made. (With
// RetryOnFailedConnect the connection came back before the server was up,
// and a publish with headers on it failed "headers not supported by this
// server".)
func connectNATS(t *testing.T, addr string) *nats.Conn {
	t.Helper()
	var nc *nats.Conn
	waitUntilTrue(t, "the central's NATS", func() bool {
		var err error
		nc, err = nats.Connect("nats://"+addr, nats.MaxReconnects(-1))
		return err == nil
	})
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	waitUntilTrue(t, "the central's streams", func() bool {
		_, err := js.Stream(context.Background(), platform.CentralStream)
		return err == nil
	})
	return nc
}

// waitUntilTrue polls ok until it holds, failing after a generous 30 s (a stall,
// not a slow machine).
func waitUntilTrue(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 30 s", what)
		}
	}
}
