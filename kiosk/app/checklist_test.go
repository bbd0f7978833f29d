package app

import (
	"strings"
	"testing"

	"hallq/devices/sim"
	"hallq/internal/catalog"
	"hallq/queue-server/hall"
)

// TestTicketCarriesTheChecklist: with matters in the hall, the ticket screen
// lists what to bring for the service and the printed ticket a short
// reminder, its QR code leading to the status page with the whole guide;
// no tap more than without matters.
func TestTicketCarriesTheChecklist(t *testing.T) {
	r := mustRigWith(t, rigOptions{hall: func(c *hall.Config) {
		c.Matters = []catalog.Matter{{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Hukou move"}, Services: []string{"A"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证"}, Original: true}, {Name: catalog.Text{ZH: "户口簿"}}, {Name: catalog.Text{ZH: "准迁证"}}}}}
	}})
	r.flow.SelectService("A")
	r.await(ScreenInsertCard)
	if err := r.sims.IDCard.Place(sim.SampleResident); err != nil {
		t.Fatal(err)
	}
	v := r.await(ScreenTicket)
	if len(v.Checklist) != 1 || v.Checklist[0].Code != "hukou-move" || len(v.Checklist[0].Materials) != 3 {
		t.Fatalf("ticket screen checklist: %+v", v.Checklist)
	}
	pages := r.sims.Printer.Printed()
	if len(pages) != 1 {
		t.Fatalf("%d pages printed", len(pages))
	}
	if text := pages[0].Text(); !strings.Contains(text, "请带齐") || !strings.Contains(text, "居民身份证、户口簿、准迁证") || !strings.Contains(text, "办事指南") {
		t.Fatalf("printed ticket:\n%s", text)
	}
	if qr := pages[0].QRCodes(); len(qr) != 1 || qr[0] != v.Ticket.StatusURL {
		t.Fatalf("QR %v, want the status page %s", qr, v.Ticket.StatusURL)
	}
}
