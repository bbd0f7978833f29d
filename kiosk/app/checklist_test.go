package app

import (
	"context"
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

// TestScannedTicketPrintsItsNotice: a citizen sent home with materials
// missing scans the ticket's QR code at the kiosk and gets the one-time
// notice printed; a ticket without one says so.
func TestScannedTicketPrintsItsNotice(t *testing.T) {
	r := mustRigWith(t, rigOptions{hall: func(c *hall.Config) {
		c.Matters = []catalog.Matter{{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Hukou move"}, Services: []string{"E"}, Booking: catalog.BookingNone,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "户口簿", EN: "Household register"}}, {Name: catalog.Text{ZH: "准迁证", EN: "Move permit"}}}}}
	}})
	ctx := context.Background()
	adm := r.h.Admin
	tk, err := adm.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := adm.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if _, err := adm.SetWindow(ctx, 1, "open", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := adm.Call(ctx, "", 1, tk.ID); err != nil {
		t.Fatal(err)
	}
	for _, a := range []hall.Action{{Matter: "hukou-move"}, {Matter: "hukou-move", Outcome: hall.OutcomeIncomplete, Missing: []int{1}}} {
		name := hall.ActAddMatter
		if a.Outcome != "" {
			name = hall.ActOutcome
		}
		if _, err := adm.Act(ctx, "", tk.ID, name, &a); err != nil {
			t.Fatal(err)
		}
	}
	r.sims.Scanner.Scan(r.k.core.statusURL + tk.ID)
	v := r.awaitView("the notice screen", func(v View) bool { return v.Screen == ScreenNotice })
	if v.Notice == nil || v.Notice.Ticket != tk.Number || len(v.Notice.Matters) != 1 || !v.Printed {
		t.Fatalf("notice view %+v printed=%v", v.Notice, v.Printed)
	}
	pages := r.sims.Printer.Printed()
	if len(pages) != 1 {
		t.Fatalf("%d pages printed", len(pages))
	}
	if text := pages[0].Text(); !strings.Contains(text, "一次性告知单") || !strings.Contains(text, "准迁证 Move permit") || strings.Contains(text, "户口簿") {
		t.Fatalf("printed notice:\n%s", text)
	}
	r.flow.Done()
	r.await(ScreenHome)
	r.sims.Scanner.Scan(r.k.core.statusURL + plain.ID)
	v = r.awaitView("the empty notice screen", func(v View) bool { return v.Screen == ScreenNotice })
	if v.Notice == nil || len(v.Notice.Matters) != 0 || len(r.sims.Printer.Printed()) != 1 {
		t.Fatalf("a ticket without a notice: %+v, %d pages", v.Notice, len(r.sims.Printer.Printed()))
	}
}

// TestKioskRatesAScannedTicket: the holder of a handled ticket scans it at
// the kiosk and rates its matter there (channel kiosk), once.
func TestKioskRatesAScannedTicket(t *testing.T) {
	r := mustRigWith(t, rigOptions{hall: func(c *hall.Config) {
		c.Matters = []catalog.Matter{{Code: "consult", Name: catalog.Text{ZH: "政策咨询", EN: "Enquiry"}, Services: []string{"E"}, Booking: catalog.BookingNone,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "无", EN: "Nothing"}}}}}
	}})
	ctx := context.Background()
	adm := r.h.Admin
	tk, _ := adm.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	adm.SetWindow(ctx, 1, "open", "")
	if _, _, err := adm.Call(ctx, "", 1, tk.ID); err != nil {
		t.Fatal(err)
	}
	for _, a := range []hall.Action{{Matter: "consult"}, {Matter: "consult", Outcome: hall.OutcomeDone}} {
		name := hall.ActAddMatter
		if a.Outcome != "" {
			name = hall.ActOutcome
		}
		if _, err := adm.Act(ctx, "", tk.ID, name, &a); err != nil {
			t.Fatal(err)
		}
	}
	r.sims.Scanner.Scan(r.k.core.statusURL + tk.ID)
	v := r.awaitView("the rating offer", func(v View) bool { return v.Screen == ScreenNotice })
	if v.Rate == nil || v.Rate.Matter != "consult" || len(v.Rate.Options[1]) != 4 || len(r.sims.Printer.Printed()) != 0 {
		t.Fatalf("notice screen %+v rate %+v (no notice to print)", v.Notice, v.Rate)
	}
	r.flow.Rate(4, []string{"efficiency"})
	v = r.awaitView("the thanks", func(v View) bool { return v.Screen == ScreenNotice && v.Rated })
	if v.Rate != nil {
		t.Fatalf("still offers %+v", v.Rate)
	}
	got, _ := adm.Ticket(ctx, tk.ID)
	if rt := got.Matters[0].Rating; rt == nil || rt.Channel != hall.ViaKiosk || rt.Score != 4 || len(rt.Indicators) != 1 {
		t.Fatalf("rating %+v", got.Matters[0].Rating)
	}
}
