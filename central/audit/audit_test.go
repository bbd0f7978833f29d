package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/audit"
	"hallq/central/natsembed"
	"hallq/central/platform"
)

func mustLog(t *testing.T) (*audit.Log, jetstream.JetStream) {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	l, err := audit.Open(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return l, js
}

func TestEntriesAreKeptOnceNewestFirstAndCannotBeDeleted(t *testing.T) {
	l, js := mustLog(t)
	ctx := context.Background()
	zone, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, zone)
	for i, e := range []audit.Entry{
		{ID: "a1", Who: "ops", Role: platform.RoleProvinceAdmin, Action: audit.BanLifted, Target: "bk1", Reason: "hospital", At: at,
			Before: audit.State(map[string]any{"until": "2027-01-01"}), After: audit.State(map[string]any{"until": ""})},
		{ID: "a2", Who: "wu", Role: platform.RoleHallSupervisor, Action: audit.HallSaved, Hall: "h1", Target: "h1", At: at.Add(time.Minute)},
		{ID: "a1", Who: "ops", Role: platform.RoleProvinceAdmin, Action: audit.BanLifted, Target: "bk1", At: at}, // a retry
		{ID: "a3", Who: "ops", Role: platform.RoleProvinceAdmin, Action: audit.HallSaved, Hall: "h2", Target: "h2", At: at.Add(2 * time.Minute),
			After: audit.State(strings.Repeat("x", audit.MaxState))},
	} {
		if err := l.Record(ctx, e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	got, err := l.Recent(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != "a3" || got[1].ID != "a2" || got[2].ID != "a1" {
		t.Fatalf("recent %+v", got)
	}
	if got[2].Reason != "hospital" || string(got[2].Before) != `{"until":"2027-01-01"}` || !got[2].At.Equal(at) {
		t.Fatalf("entry read back %+v", got[2])
	}
	if !strings.Contains(string(got[0].After), "too large") {
		t.Fatalf("a large state is kept: %.80s", got[0].After)
	}
	mine, _ := l.Recent(ctx, audit.Filter{Halls: []string{"h1"}})
	if len(mine) != 1 || mine[0].ID != "a2" {
		t.Fatalf("h1's entries %+v", mine)
	}
	if one, _ := l.Recent(ctx, audit.Filter{Limit: 1}); len(one) != 1 || one[0].ID != "a3" {
		t.Fatalf("limit 1: %+v", one)
	}
	if err := l.Record(ctx, audit.Entry{ID: "x", Who: "ops"}); err == nil {
		t.Fatal("an entry without action and target was recorded")
	}
	st, _ := js.Stream(ctx, audit.Stream)
	if err := st.DeleteMsg(ctx, got[0].Seq); err == nil {
		t.Fatal("an audit entry was deleted")
	}
	if err := st.Purge(ctx); err == nil {
		t.Fatal("the audit trail was purged")
	}
	if m, _ := st.GetMsg(ctx, got[0].Seq); m == nil || m.Subject != "audit.h2.hall_saved" {
		t.Fatalf("subject of %+v", m)
	}
}
