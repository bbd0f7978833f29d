package demo

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/devices/sim"
	"hallq/kiosk/app"
	"hallq/queue-server/client"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

// TestDemoHallIssuesFromTheSimulatedCard starts the demo hall, runs the
// kiosk application on its configuration (no window), places the sample
// card and expects a printed ticket; the web board is served too.
func TestDemoHallIssuesFromTheSimulatedCard(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	quiet := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := Start(ctx, Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var banner bytes.Buffer
	h.Banner(&banner, false)
	if !strings.Contains(banner.String(), "/display?token="+h.Display) || strings.Contains(banner.String(), "/display?token="+h.Admin) {
		t.Fatalf("the board link must carry the display token, never the admin token:\n%s", banner.String())
	}
	if me, err := client.New(h.Server.URL, h.Display).Do(ctx, "GET", "/api/v1/overview", "", nil, nil); err != nil {
		t.Fatalf("the board's token cannot read the board: %v %v", me, err)
	}
	defer func() { // no token reaches the log
		for _, tok := range []string{h.Admin, h.Display, h.Kiosk.Token} {
			if bytes.Contains(logs.Bytes(), []byte(tok)) {
				t.Errorf("a token was logged:\n%s", logs.Bytes())
			}
		}
	}()
	resp, err := http.Get(h.Server.URL + "/display?token=" + h.Display)
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
	if v := await(app.ScreenTicket); !v.Ticket.Booking || !strings.HasPrefix(v.Ticket.Number, "B") {
		t.Fatalf("booking check-in: %+v", v.Ticket)
	}
}
