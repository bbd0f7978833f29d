package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"crypto/sha256"
	"hash"

	"hallq/devices/sim"
	"hallq/internal/gm"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
)

// The same walk through the kiosk with the default cryptography and with
// the 国密 option: a citizen's card placed at the booking screen checks in
// the booking keyed for that card (HMAC-SHA256, or HMAC-SM3 with the
// option: the kiosk seals the number with the key the hall gives it — an
// SM2 key with the option), and a card at a service tile gets a printed
// ticket; the server holds the key of the hall's scheme.
func TestKioskWalkThroughWithEitherCrypto(t *testing.T) {
	for _, tc := range []struct {
		crypto string
		hash   func() hash.Hash
	}{{server.CryptoStandard, sha256.New}, {server.CryptoGM, gm.NewSM3}} {
		t.Run(tc.crypto, func(t *testing.T) {
			r := mustRigWith(t, rigOptions{crypto: tc.crypto})
			ctx := context.Background()
			if sm2 := strings.HasPrefix(r.k.core.sealKey, "sm2:"); sm2 != (tc.crypto == server.CryptoGM) {
				t.Fatalf("the kiosk holds seal key %q", r.k.core.sealKey)
			}
			secret, err := r.h.Server.Store.Secret()
			if err != nil {
				t.Fatal(err)
			}
			key := sim.SampleResident.Number.KeyWith(tc.hash, secret)
			slot := r.h.Clock.Now().Add(10 * time.Minute)
			if _, err := r.h.Admin.Do(ctx, "POST", "/api/v1/appointments", "", hall.Booking{ID: "BK-1", CitizenKey: key, Service: "B",
				SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)}, nil); err != nil {
				t.Fatal(err)
			}
			r.flow.StartBooking()
			r.await(ScreenBooking)
			if err := r.sims.IDCard.Place(sim.SampleResident); err != nil {
				t.Fatal(err)
			}
			v := r.await(ScreenTicket)
			got, err := r.h.Admin.Ticket(ctx, v.Ticket.ID)
			if err != nil || got.Channel != hall.BookingChannel || got.Booking != "BK-1" || got.Service != "B" {
				t.Fatalf("checked-in ticket %+v, %v", got.Ticket, err)
			}
			r.flow.Home()
			r.await(ScreenHome)
			r.sims.IDCard.Remove()
			r.awaitView("card taken", func(v View) bool { return v.Screen == ScreenHome && !v.TakeCard })
			r.flow.SelectService("A")
			r.await(ScreenInsertCard)
			if err := r.sims.IDCard.Place(sim.SampleResident); err != nil {
				t.Fatal(err)
			}
			v = r.await(ScreenTicket)
			if !v.Printed || !strings.HasPrefix(v.Ticket.Number, "A") {
				t.Fatalf("walk-in ticket %+v printed=%v", v.Ticket, v.Printed)
			}
		})
	}
}
