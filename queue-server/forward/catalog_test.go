package forward_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/internal/catalog"
	"hallq/queue-server/forward"
)

func testCatalog(version uint64) catalog.Catalog {
	return catalog.Catalog{Version: version, PublishedAt: "2026-11-27T08:00:00+08:00", Matters: []catalog.Matter{{
		Code: "id-renew", Name: catalog.Text{ZH: "身份证换领", EN: "ID card renewal"}, Services: []string{"A"}, Booking: catalog.BookingNone,
		Materials: []catalog.Material{{Name: catalog.Text{ZH: fmt.Sprintf("原身份证 v%d", version)}}},
	}}}
}

// catalogStream makes sure a central stream holds central.catalog: the
// central's own (docs/central.md) or, on a build whose central has none
// yet, one for this test.
func catalogStream(t *testing.T, c *Central) {
	ctx := context.Background()
	if _, err := c.JS.StreamNameBySubject(ctx, forward.CatalogSubject); err == nil {
		return
	}
	if _, err := c.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "CATALOG_TEST", Subjects: []string{forward.CatalogSubject}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
}

func publishCatalog(t *testing.T, c *Central, version uint64, data []byte) {
	t.Helper()
	m := &nats.Msg{Subject: forward.CatalogSubject, Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("catalog@%d", version))
	if _, err := c.JS.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// TestCatalogueReachesTheHall: the hall takes the latest catalogue
// published before it started, then each newer one; an invalid version is
// skipped, not stored; the version survives a restart without the central.
func TestCatalogueReachesTheHall(t *testing.T) {
	c := MustCentral(t)
	catalogStream(t, c)
	for _, v := range []uint64{1, 2} {
		b, _ := json.Marshal(testCatalog(v))
		publishCatalog(t, c, v, b)
	}
	dir := t.TempDir()
	h := MustHall(t, dir, fastConfig(), nil)
	cfg := forward.Config{HallID: hallID, NATSURL: c.Srv.URL(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	stop := goUntilCleanup(t, func(ctx context.Context) {
		if err := forward.RunCatalog(ctx, cfg, h.Svc, nil); err != nil {
			t.Errorf("catalog: %v", err)
		}
	})
	ctx := context.Background()
	version := func() uint64 { hm, _ := h.Svc.Matters(ctx); return hm.Version }
	waitFor(t, "catalogue version 2", 20*time.Second, func() bool { return version() == 2 })

	bad := testCatalog(3)
	bad.Matters[0].Services = []string{"a"} // not a service letter
	b, _ := json.Marshal(bad)
	publishCatalog(t, c, 3, b)
	publishCatalog(t, c, 4, []byte(`{"version": 4, "matters": [`))
	withField, _ := json.Marshal(testCatalog(5))
	withField = append(withField[:len(withField)-1], []byte(`,"added_later":{"x":1}}`)...) // the central extends the catalogue
	publishCatalog(t, c, 5, withField)
	waitFor(t, "catalogue version 5", 20*time.Second, func() bool { return version() == 5 })
	stop()
	h.Close()

	h2 := MustHall(t, dir, fastConfig(), nil)
	hm, err := h2.Svc.Matters(ctx)
	if err != nil || hm.Source != "province" || hm.Version != 5 || hm.Matters[0].Materials[0].Name.ZH != "原身份证 v5" {
		t.Fatalf("after a restart without the central: %+v %v", hm, err)
	}
}
