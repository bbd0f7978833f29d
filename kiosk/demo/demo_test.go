package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/devices/sim"
	"hallq/kiosk/app"
)

// TestDemoHallIssuesFromTheSimulatedCard starts the demo hall, runs the
// kiosk application on its configuration (no window), places the sample
// card and expects a printed ticket; the web board is served too.
func TestDemoHallIssuesFromTheSimulatedCard(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := Start(ctx, Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var banner bytes.Buffer
	h.Banner(&banner, false)
	if !strings.Contains(banner.String(), "/display?token=") {
		t.Fatalf("banner:\n%s", banner.String())
	}
	resp, err := http.Get(h.Server.URL + "/display")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("board page: %v %v", err, resp)
	}
	resp.Body.Close()

	views := make(chan app.View, 32)
	k, err := app.Open(h.Kiosk, "test", quiet, func(v app.View) {
		select {
		case views <- v:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	go k.Run(ctx)
	await := func(s app.Screen) app.View {
		t.Helper()
		for deadline := time.After(20 * time.Second); ; {
			select {
			case v := <-views:
				if v.Screen == s {
					return v
				}
			case <-deadline:
				t.Fatalf("no %s screen", s)
			}
		}
	}
	for deadline := time.Now().Add(20 * time.Second); len(k.Core.Services()) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("kiosk never got the services")
		}
	}
	k.Flow.SelectService("A")
	await(app.ScreenInsertCard)
	h.Devices.IDCard.Place(sim.SampleResident)
	v := await(app.ScreenTicket)
	if !v.Printed || !strings.HasPrefix(v.Ticket.Number, "A") {
		t.Fatalf("ticket %+v printed=%v", v.Ticket, v.Printed)
	}
	// the sample booking checks in by its QR code
	k.Flow.Home()
	await(app.ScreenHome)
	h.Devices.Scanner.Scan("BK-1")
	if v := await(app.ScreenTicket); !v.Ticket.Appointment || !strings.HasPrefix(v.Ticket.Number, "B") {
		t.Fatalf("booking check-in: %+v", v.Ticket)
	}
}
