package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

// citizen returns a distinct citizen key and masked ID for person i.
func citizen(i int) (key, masked string) {
	return strings.Repeat(fmt.Sprintf("%02x", 0xa0+i), 32), fmt.Sprintf("4201**********%04d", 7000+i)
}

// TestPurgePersonalForgetsOldDaysOnly issues tickets with citizen keys on
// old days and on recent ones through the real service, purges, and reads
// the raw bbolt file: the old citizens' keys and masked numbers are gone
// from every byte of it (tickets, event log, outbox, free pages), the
// recent ones are still there, and the old tickets keep everything else.
func TestPurgePersonalForgetsOldDaysOnly(t *testing.T) {
	s := MustStore(t, "")
	ctx := context.Background()
	clock := testclock.New(time.Time{})
	svc := MustService(t, s, clock)
	days := []time.Time{
		time.Date(2026, 6, 1, 9, 0, 0, 0, cst), time.Date(2026, 6, 2, 9, 0, 0, 0, cst), // old
		time.Date(2026, 8, 20, 9, 0, 0, 0, cst),                                            // old: the cutoff is 2026-08-29
		time.Date(2026, 11, 26, 9, 0, 0, 0, cst), time.Date(2026, 11, 27, 9, 0, 0, 0, cst), // kept
	}
	cutoff := time.Date(2026, 11, 27, 12, 0, 0, 0, cst).Add(-90 * 24 * time.Hour)
	var old, recent []string
	var oldIDs []string
	person := 0
	for _, d := range days {
		clock.Set(d)
		for range 7 { // more than one purge batch per day
			key, masked := citizen(person)
			person++
			// an idempotency key derived from the citizen key, as remote tickets have
			tk, err := svc.Issue(ctx, hall.Op{IdemKey: "remote:B:" + key}, hall.IssueRequest{Service: "B", CitizenKey: key, MaskedID: masked})
			if err != nil {
				t.Fatal(err)
			}
			if d.Before(cutoff) {
				old, oldIDs = append(old, key, masked), append(oldIDs, tk.ID)
			} else {
				recent = append(recent, key, masked)
			}
			clock.Advance(time.Minute)
		}
		if _, err := svc.SetWindow(ctx, hall.Op{}, 4, hall.WindowOpen, "li", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Call(ctx, hall.Op{}, 4, ""); err != nil {
			t.Fatal(err)
		}
	}
	// two batches the central refused, as the HTTPS sink keeps them: one of
	// an old day's events, one of a recent day's
	evs, _ := s.Events(0, 1000)
	for _, day := range []string{"2026-06-01", "2026-11-26"} {
		var batch []hall.Event
		for _, ev := range evs {
			if ev.Day == day {
				batch = append(batch, ev)
			}
		}
		first, last := batch[0].Seq, batch[len(batch)-1].Seq
		body, _ := json.Marshal(map[string]any{"hall": "420102-01", "first_seq": first, "last_seq": last, "events": batch})
		if err := s.PutDeadLetter(DeadLetter{First: first, Last: last, Status: 422, Reason: "refused", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := os.ReadFile(s.Path())
	for _, p := range append(old, recent...) {
		if !bytes.Contains(raw, []byte(p)) {
			t.Fatalf("before the purge the file lacks %s", p)
		}
	}

	const limit = 5
	total, calls := 0, 0
	for {
		n, err := s.PurgePersonal(cutoff, limit)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		calls++
		if n < limit {
			break
		}
	}
	if calls < 3 {
		t.Fatalf("purged in %d calls of at most %d records: want several batches", calls, limit)
	}
	// resumable without rescanning: the watermarks leave nothing to do
	if n, err := s.PurgePersonal(cutoff, limit); err != nil || n != 0 {
		t.Fatalf("a second purge went through %d records (%v), want 0", n, err)
	}

	raw, _ = os.ReadFile(s.Path())
	for _, p := range old {
		if bytes.Contains(raw, []byte(p)) {
			t.Errorf("after the purge the file still holds %s (old day)", p)
		}
	}
	for _, p := range recent {
		if !bytes.Contains(raw, []byte(p)) {
			t.Errorf("the purge removed %s (recent day)", p)
		}
	}
	for _, id := range oldIDs[:2] {
		var got hall.Ticket
		s.TicketsBetween("2026-06-01", "2026-06-01", func(tk hall.Ticket) error {
			if tk.ID == id {
				got = tk
			}
			return nil
		})
		if got.ID != id || got.Number == "" || got.IssuedAt.IsZero() || got.CitizenKey != "" || got.MaskedID != "" {
			t.Fatalf("purged ticket %s: %+v", id, got)
		}
	}
	evs, _ = s.Events(0, 1000)
	for _, ev := range evs {
		if ev.Ticket != nil && ev.Day < "2026-08-29" && (ev.Ticket.CitizenKey != "" || ev.Ticket.MaskedID != "") {
			t.Fatalf("event %d of %s keeps personal data", ev.Seq, ev.Day)
		}
	}
	// the old dead letter is stripped but still a batch to re-send; the recent one is as sent
	dls, _ := s.DeadLetters(10)
	var batch struct{ Events []hall.Event }
	if len(dls) != 2 || !dls[0].Purged || dls[1].Purged || json.Unmarshal(dls[0].Body, &batch) != nil || len(batch.Events) != int(dls[0].Last-dls[0].First+1) {
		t.Fatalf("dead letters after the purge: %+v", dls)
	}
	// the hall carries on: today's tickets and numbering are untouched
	st, err := s.Load()
	if err != nil || st.Day != "2026-11-27" || len(st.Tickets) != 7 || st.Tickets[0].CitizenKey == "" {
		t.Fatalf("load after purge: %v, day %s, %d tickets", err, st.Day, len(st.Tickets))
	}
	if err := Verify(s.Path()); err == nil {
		t.Fatal("Verify must refuse a file another process holds open") // bbolt's flock
	}
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	s := MustStore(t, dir)
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	svc := MustService(t, s, clock)
	if _, err := svc.Issue(context.Background(), hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "good.db")
	os.WriteFile(good, buf.Bytes(), 0o600)
	if err := Verify(good); err != nil {
		t.Fatalf("a fresh backup: %v", err)
	}
	cut := filepath.Join(t.TempDir(), "cut.db")
	os.WriteFile(cut, buf.Bytes()[:buf.Len()/2], 0o600)
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 1000), 0o600)
	for _, p := range []string{cut, junk, filepath.Join(t.TempDir(), "missing.db")} {
		if err := Verify(p); err == nil {
			t.Errorf("%s verified", filepath.Base(p))
		}
	}
}

// TestPurgePersonalSparesTheOpenDay: a hall idle for longer than the
// retention period still holds its last day open (its tickets are in the
// service's memory and are written again when the day closes), so that
// day is purged only after it closes.
func TestPurgePersonalSparesTheOpenDay(t *testing.T) {
	s := MustStore(t, "")
	ctx := context.Background()
	clock := testclock.New(time.Date(2026, 6, 1, 9, 0, 0, 0, cst))
	svc := MustService(t, s, clock)
	key, masked := citizen(1)
	if _, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "B", CitizenKey: key, MaskedID: masked}); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	before := clock.Now().Add(-90 * 24 * time.Hour)
	if n, err := s.PurgePersonal(before, 100); err != nil || n != 0 {
		t.Fatalf("purged %d records of the open day (%v)", n, err)
	}
	// the next change closes 2026-06-01: the waiting ticket expires, its
	// snapshot (with the key) is written again, on the old day
	if _, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(s.Path()); !bytes.Contains(raw, []byte(key)) {
		t.Fatal("the expired ticket lost its key before any purge")
	}
	if n, err := s.PurgePersonal(before, 100); err != nil || n == 0 {
		t.Fatalf("after the day closed: purged %d records (%v)", n, err)
	}
	raw, _ := os.ReadFile(s.Path())
	if bytes.Contains(raw, []byte(key)) || bytes.Contains(raw, []byte(masked)) {
		t.Fatal("the closed day's personal data is still in the file")
	}
}

// TestPurgePersonalPrunesOldHelperCalls calls floor helpers from kiosks and
// from tickets' phone pages on old days and today, purges, and reads the
// helps bucket: the old days' calls are gone, today's are kept and still
// listed by the service after a restart, and the old days' figures (which
// do not count help calls) are as they were.
func TestPurgePersonalPrunesOldHelperCalls(t *testing.T) {
	dir := t.TempDir()
	s := MustStore(t, dir)
	ctx := context.Background()
	clock := testclock.New(time.Time{})
	svc := MustService(t, s, clock)
	days := []time.Time{
		time.Date(2026, 6, 1, 9, 0, 0, 0, cst), time.Date(2026, 6, 2, 9, 0, 0, 0, cst), // old
		time.Date(2026, 11, 26, 9, 0, 0, 0, cst), // kept: within the retention
		time.Date(2026, 11, 27, 9, 0, 0, 0, cst), // today
	}
	cutoff := time.Date(2026, 11, 27, 12, 0, 0, 0, cst).Add(-90 * 24 * time.Hour)
	for _, d := range days {
		clock.Set(d)
		for i := range 4 {
			tk, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CallHelper(ctx, hall.Op{}, hall.HelpRequest{Ticket: tk.ID}); err != nil {
				t.Fatal(err)
			}
			h, err := svc.CallHelper(ctx, hall.Op{}, hall.HelpRequest{Kiosk: fmt.Sprintf("K%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				if _, err := svc.AckHelp(ctx, hall.Op{Actor: "zhang"}, h.ID); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(time.Minute)
		}
	}
	helpDays := func() map[string]int {
		t.Helper()
		got := map[string]int{}
		if err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bHelps).ForEach(func(k, _ []byte) error {
				day, _, _ := bytes.Cut(k, []byte("/"))
				got[string(day)]++
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := helpDays(); len(got) != 4 || got["2026-06-01"] != 8 || got["2026-11-27"] != 8 {
		t.Fatalf("helper calls before the purge, by day: %v", got)
	}
	before, ok, err := s.DayFigures("2026-06-01")
	if err != nil || !ok {
		t.Fatalf("figures of 2026-06-01: %v %v", ok, err)
	}

	const limit = 5 // fewer than a day's calls: the pruning resumes across calls
	for {
		n, err := s.PurgePersonal(cutoff, limit)
		if err != nil {
			t.Fatal(err)
		}
		if n < limit {
			break
		}
	}
	if got := helpDays(); len(got) != 2 || got["2026-11-26"] != 8 || got["2026-11-27"] != 8 {
		t.Fatalf("helper calls after the purge, by day: %v (want only 2026-11-26 and today's, 8 each)", got)
	}
	after, ok, err := s.DayFigures("2026-06-01")
	if err != nil || !ok || fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("figures of 2026-06-01 changed by the purge:\nbefore %+v\nafter  %+v (%v %v)", before, after, ok, err)
	}
	// the dashboard's list after a restart: today's calls, two still open per
	// kind (kiosk, ticket page), nothing of the old days
	svc.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustStore(t, dir)
	svc = MustService(t, s, clock)
	calls, err := svc.HelpCalls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, h := range calls {
		if h.Day != "2026-11-27" {
			t.Fatalf("listed a call of %s: %+v", h.Day, h)
		}
		if h.Open() {
			open++
		}
	}
	if len(calls) != 8 || open != 6 {
		t.Fatalf("today's helper calls after the purge and a restart: %d, %d open; want 8, 6 open", len(calls), open)
	}
}
