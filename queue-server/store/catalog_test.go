package store

import (
	"context"
	"testing"
	"time"

	"hallq/internal/catalog"
	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

// TestCatalogueSurvivesRestart: the province's catalogue, once received,
// is the hall's matters after a restart, before the province is reached
// again (checklists offline).
func TestCatalogueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	c := catalog.Catalog{Version: 3, PublishedAt: "2026-11-27T08:00:00+08:00", Matters: []catalog.Matter{{
		Code: "id-renew", Name: catalog.Text{ZH: "身份证换领"}, Services: []string{"A"}, Booking: catalog.BookingNone,
		Materials: []catalog.Material{{Name: catalog.Text{ZH: "原身份证", EN: "Old ID card"}}},
	}}}
	if _, err := svc.ReceiveCatalog(ctx, hall.Op{Actor: "central"}, c); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	s.Close()

	s2 := MustStore(t, dir)
	svc2 := MustService(t, s2, clock)
	hm, err := svc2.Matters(ctx)
	if err != nil || hm.Source != "province" || hm.Version != 3 || len(hm.Matters) != 1 || hm.Matters[0].Materials[0].Name.ZH != "原身份证" {
		t.Fatalf("after restart: %+v %v", hm, err)
	}
}
