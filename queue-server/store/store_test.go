package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/catalog"
	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

var cst = testclock.Zone

// MustStore opens a store in a fresh temp dir and checks, on cleanup, that
// the event log is gap-free and matches the outbox.
func MustStore(t testing.TB, dir string) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		evs, err := s.Events(0, 1<<30)
		if err == nil {
			for i, ev := range evs {
				if ev.Seq != uint64(i+1) {
					t.Errorf("event log gap: position %d has seq %d", i, ev.Seq)
				}
			}
			// the outbox is the log's tail: compaction never passed an
			// event still to forward
			s.db.View(func(tx *bolt.Tx) error {
				m := tx.Bucket(bMeta)
				if from, fwd := outboxFrom(m), getU64(m, kForwarded); from > fwd+1 {
					t.Errorf("the outbox starts at %d, but only %d are forwarded", from, fwd)
				}
				if k, _ := tx.Bucket(bOutbox).Cursor().First(); k != nil {
					t.Errorf("the outbox bucket holds entries (%x): schema 4 keeps a mark", k)
				}
				return nil
			})
		}
		s.Close()
	})
	return s
}

func MustService(t testing.TB, s *Store, clock hall.Clock) *hall.Service {
	t.Helper()
	svc, err := hall.NewService(hall.SampleConfig(), s, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func TestCommitLoadRoundTripAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	a1, err := svc.Issue(ctx, hall.Op{IdemKey: "k:1"}, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetWindow(ctx, hall.Op{}, 1, hall.WindowOpen, "wang", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Call(ctx, hall.Op{}, 1, ""); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	s.Close()

	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	svc2 := MustService(t, s2, clock)
	got, err := svc2.Ticket(ctx, a1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != hall.Called || got.Window != 1 {
		t.Fatalf("after restart: %+v", got.Ticket)
	}
	again, err := svc2.Issue(ctx, hall.Op{IdemKey: "k:1"}, hall.IssueRequest{Service: "E"})
	if err != nil || again.ID != a1.ID {
		t.Fatalf("idempotent retry after restart: %v %s", err, again.Number)
	}
	next, err := svc2.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
	if err != nil || next.Number != "E002" {
		t.Fatalf("numbering after restart: %v %s", err, next.Number)
	}
	ws, _ := svc2.Windows(ctx)
	if ws[0].Status != hall.WindowOpen || ws[0].Clerk != "wang" || ws[0].Current != a1.ID {
		t.Fatalf("window after restart: %+v", ws[0])
	}
}

func TestConfigChangeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	tk, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := svc.Config()
	cfg.Services[4].Name.EN, cfg.Services[4].DailyQuota = "Enquiries", 7
	cfg.Windows[0].Services = []string{"E"}
	if _, err := svc.UpdateConfig(ctx, hall.Op{Actor: "boss"}, cfg); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	s.Close()

	s2 := MustStore(t, dir)
	st, err := s2.Load()
	if err != nil {
		t.Fatal(err)
	}
	if st.Config == nil || st.Config.Services[4].DailyQuota != 7 {
		t.Fatalf("stored config = %+v", st.Config)
	}
	evs, _ := s2.Events(0, 100)
	if last := evs[len(evs)-1]; last.Type != hall.EvConfigChanged || last.Actor != "boss" || last.Config == nil {
		t.Fatalf("last event = %+v, want config.changed by boss with the config", last)
	}
	svc2 := MustService(t, s2, clock) // started with the sample: the stored config wins
	got := svc2.Config()
	if got.Services[4].Name.EN != "Enquiries" || got.Services[4].DailyQuota != 7 || len(got.Windows[0].Services) != 1 {
		t.Fatalf("config after restart: %+v", got.Services[4])
	}
	if back, err := svc2.Ticket(ctx, tk.ID); err != nil || back.Status != hall.Waiting {
		t.Fatalf("ticket after restart: %+v %v", back, err)
	}
	ws, _ := svc2.Windows(ctx)
	if len(ws[0].Services) != 1 || ws[0].Services[0] != "E" {
		t.Fatalf("window 1 after restart serves %v", ws[0].Services)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.db.Update(func(tx *bolt.Tx) error { return putU64(tx.Bucket(bMeta), kSchema, SchemaVersion+1) })
	s.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("got %v", err)
	}
}

// A file written by schema 1 — a JSON copy of each ticket, a copy of each
// event in the outbox, idempotency records keyed by their key — opens as
// the current schema with the same hall in it: the same tickets, the same answers to
// retried requests, the same events still to forward.
func TestSchema1FileIsUpgraded(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := hall.NewService(hall.SampleConfig(), s, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := svc.Issue(ctx, hall.Op{IdemKey: "kiosk-1|a"}, hall.IssueRequest{Service: "E"})
	svc.SetWindow(ctx, hall.Op{}, 1, hall.WindowOpen, "wang", "")
	svc.Call(ctx, hall.Op{}, 1, "")
	second, _ := svc.Issue(ctx, hall.Op{IdemKey: "kiosk-2|b"}, hall.IssueRequest{Service: "E"})
	svc.Close()
	if err := s.MarkForwarded(1); err != nil {
		t.Fatal(err)
	}
	// rewrite it as schema 1 wrote it
	err = s.db.Update(func(tx *bolt.Tx) error {
		events := tx.Bucket(bEvents)
		whole := map[string][]byte{} // schema 1 stored every event whole
		events.ForEach(func(k, v []byte) error {
			raw, _ := storedEvent(events, k)
			whole[string(k)] = raw
			return nil
		})
		for k, raw := range whole {
			events.Put([]byte(k), raw)
		}
		events.ForEach(func(k, v []byte) error {
			var ev hall.Event
			json.Unmarshal(v, &ev)
			if ev.Ticket != nil {
				b, _ := json.Marshal(ev.Ticket)
				tx.Bucket(bTickets).Put([]byte(ev.Ticket.ID), b)
			}
			return tx.Bucket(bOutbox).Put(bytes.Clone(k), bytes.Clone(v))
		})
		var index [][]byte // schema 1's day entries were empty
		tx.Bucket(bDays).ForEach(func(k, _ []byte) error { index = append(index, bytes.Clone(k)); return nil })
		for _, k := range index {
			tx.Bucket(bDays).Put(k, nil)
		}
		tx.DeleteBucket(bIdem)
		idem, _ := tx.CreateBucket(bIdem)
		idem.Put([]byte("2026-11-27/kiosk-1|a"), []byte("t:"+first.ID))
		idem.Put([]byte("2026-11-27/kiosk-2|b"), []byte("t:"+second.ID))
		return putU64(tx.Bucket(bMeta), kSchema, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = MustStore(t, dir)
	s.db.View(func(tx *bolt.Tx) error {
		if v := getU64(tx.Bucket(bMeta), kSchema); v != SchemaVersion {
			t.Errorf("schema after upgrade: %d", v)
		}
		tx.Bucket(bTickets).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				t.Errorf("ticket %s still holds a copy: %s", k, v)
			}
			return nil
		})
		tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
			if len(v) != 0 {
				t.Errorf("outbox entry %x still holds a copy", k)
			}
			return nil
		})
		return nil
	})
	svc = MustService(t, s, clock)
	got, err := svc.Ticket(ctx, first.ID)
	if err != nil || got.Status != hall.Called || got.Window != 1 {
		t.Fatalf("first ticket after upgrade: %v %+v", err, got.Ticket)
	}
	for key, want := range map[string]string{"kiosk-1|a": first.ID, "kiosk-2|b": second.ID} {
		again, err := svc.Issue(ctx, hall.Op{IdemKey: key}, hall.IssueRequest{Service: "E"})
		if err != nil || again.ID != want {
			t.Fatalf("retry of %s after upgrade: %v, got %s want %s", key, err, again.ID, want)
		}
	}
	third, err := svc.Issue(ctx, hall.Op{IdemKey: "kiosk-1|c"}, hall.IssueRequest{Service: "E"})
	if err != nil || third.Number != "E003" {
		t.Fatalf("a new ticket after upgrade: %v %s", err, third.Number)
	}
	if evs, _ := s.Outbox(100); len(evs) != 4 || evs[0].Seq != 2 || evs[0].Type != hall.EvWindowOpened {
		t.Fatalf("outbox after upgrade: %d events", len(evs))
	}
	var day []string
	s.TicketsBetween("2026-11-27", "2026-11-27", func(t hall.Ticket) error { day = append(day, t.Number); return nil })
	if len(day) != 3 {
		t.Fatalf("the day's report after upgrade: %v", day)
	}
}

func TestSecondOpenIsRefusedClearly(t *testing.T) {
	dir := t.TempDir()
	MustStore(t, dir)
	_, err := Open(dir)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("in use")) {
		t.Fatalf("got %v", err)
	}
}

func TestOutboxDrainMarkCompact(t *testing.T) {
	s := MustStore(t, "")
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	svc := MustService(t, s, clock)
	for range 10 {
		if _, err := svc.Issue(context.Background(), hall.Op{IdemKey: fmt.Sprint(clock.Now().UnixNano())}, hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	st, _ := s.OutboxStats()
	if st.Backlog != 10 || st.Oldest.IsZero() {
		t.Fatalf("stats %+v", st)
	}
	evs, _ := s.Outbox(4)
	if len(evs) != 4 || evs[0].Seq != 1 || evs[0].Idem != nil {
		t.Fatalf("outbox gave %d events, first %+v", len(evs), evs[0])
	}
	if err := s.MarkForwarded(4); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkForwarded(2); err != nil { // never backwards
		t.Fatal(err)
	}
	if err := s.MarkForwarded(99); err == nil {
		t.Fatal("marking beyond the log must fail")
	}
	evs, _ = s.Outbox(100)
	if len(evs) != 6 || evs[0].Seq != 5 {
		t.Fatalf("after mark: %d events from %d", len(evs), evs[0].Seq)
	}
	n, err := s.CompactOutbox(time.Date(2027, 1, 1, 0, 0, 0, 0, cst), 100)
	if err != nil || n != 4 {
		t.Fatalf("compacted %d (%v), want the 4 forwarded", n, err)
	}
	if st, _ := s.OutboxStats(); st.Backlog != 6 {
		t.Fatalf("backlog after compaction %d", st.Backlog)
	}
	evs, _ = s.Events(0, 100)
	if len(evs) != 10 {
		t.Fatal("compaction must not touch the event log")
	}
}

func TestBackupRestoresSameState(t *testing.T) {
	s := MustStore(t, "")
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	svc := MustService(t, s, clock)
	ctx := context.Background()
	tk, _ := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"}) // after the backup
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := MustStore(t, dir)
	rsvc := MustService(t, r, clock)
	if _, err := rsvc.Ticket(ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	next, _ := rsvc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
	if next.Number != "E002" {
		t.Fatalf("restored hall issued %s, want E002", next.Number)
	}
}

func TestTokensStoredHashed(t *testing.T) {
	s := MustStore(t, "")
	if err := s.PutToken("s3cret-value", Token{ID: "abc", Name: "kiosk-1", Role: "kiosk"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupToken("s3cret-value")
	if err != nil || got.Name != "kiosk-1" {
		t.Fatalf("lookup: %v %+v", err, got)
	}
	if _, err := s.LookupToken("other"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("unknown token: %v", err)
	}
	raw, _ := os.ReadFile(s.Path())
	if bytes.Contains(raw, []byte("s3cret-value")) {
		t.Fatal("token value stored in clear")
	}
	if err := s.RevokeToken("abc"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LookupToken("s3cret-value"); !got.Revoked {
		t.Fatal("not revoked")
	}
}

// A token looked up once is answered from memory (no read transaction per
// websocket request), and every write to the tokens — a revoke, a token
// stored again under the same value — is seen by the very next lookup,
// also while other lookups race with it.
func TestTokenLookupsAreCachedAndSeeEveryWrite(t *testing.T) {
	s := MustStore(t, "")
	if err := s.PutToken("v1", Token{ID: "t1", Name: "kiosk-1", Role: "kiosk"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupToken("v1"); err != nil {
		t.Fatal(err)
	}
	before := s.db.Stats().TxN
	for range 100 {
		if got, err := s.LookupToken("v1"); err != nil || got.Name != "kiosk-1" {
			t.Fatalf("lookup: %v %+v", err, got)
		}
	}
	if n := s.db.Stats().TxN - before; n != 0 {
		t.Fatalf("100 lookups of a known token opened %d read transactions, want 0", n)
	}
	if err := s.PutToken("v1", Token{ID: "t1", Name: "kiosk-2", Role: "kiosk"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LookupToken("v1"); got.Name != "kiosk-2" {
		t.Fatalf("after storing the token again: %+v", got)
	}
	for i := range 50 {
		value, id := fmt.Sprint("race-", i), fmt.Sprint("r", i)
		if err := s.PutToken(value, Token{ID: id, Role: "display"}); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						s.LookupToken(value)
					}
				}
			}()
		}
		if err := s.RevokeToken(id); err != nil {
			t.Fatal(err)
		}
		got, err := s.LookupToken(value)
		close(stop)
		wg.Wait()
		if err != nil || !got.Revoked {
			t.Fatalf("round %d: the lookup right after the revoke: %v %+v", i, err, got)
		}
		if got, _ := s.LookupToken(value); !got.Revoked {
			t.Fatalf("round %d: a later lookup saw the token unrevoked", i)
		}
	}
}

func TestTicketsBetweenAndLoadReadsOnlyToday(t *testing.T) {
	s := MustStore(t, "")
	ctx := context.Background()
	clock := testclock.New(time.Date(2026, 11, 25, 9, 0, 0, 0, cst))
	svc := MustService(t, s, clock)
	for d := range 3 {
		clock.Set(time.Date(2026, 11, 25+d, 9, 0, 0, 0, cst))
		for range d + 1 {
			if _, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	n := 0
	s.TicketsBetween("2026-11-25", "2026-11-26", func(hall.Ticket) error { n++; return nil })
	if n != 3 {
		t.Fatalf("tickets 25th–26th: %d, want 3", n)
	}
	st, _ := s.Load()
	if st.Day != "2026-11-27" || len(st.Tickets) != 3 {
		t.Fatalf("load: day %s, %d tickets", st.Day, len(st.Tickets))
	}
}

func TestDeadLetterMovesBatchAsideAndMarksForwarded(t *testing.T) {
	s := MustStore(t, "")
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	svc := MustService(t, s, clock)
	for range 5 {
		if _, err := svc.Issue(context.Background(), hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutDeadLetter(DeadLetter{First: 1, Last: 9, Reason: "x"}); err == nil {
		t.Fatal("a dead letter beyond the log must fail")
	}
	if err := s.PutDeadLetter(DeadLetter{First: 1, Last: 3, At: clock.Now(), Status: 400, Reason: "bad request", Body: json.RawMessage(`{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.OutboxStats(); st.Forwarded != 3 || st.Backlog != 2 {
		t.Fatalf("after dead letter: %+v", st)
	}
	dl, err := s.DeadLetters(10)
	if err != nil || len(dl) != 1 || dl[0].First != 1 || dl[0].Last != 3 || dl[0].Status != 400 || string(dl[0].Body) != `{"a":1}` {
		t.Fatalf("dead letters: %v %+v", err, dl)
	}
	if evs, _ := s.Outbox(10); len(evs) != 2 || evs[0].Seq != 4 {
		t.Fatalf("outbox continues after the dead letter: %d events", len(evs))
	}
}

// The log buckets only ever grow at their end; their pages must be filled,
// not split half empty as bbolt does by default (which doubles the file).
func TestAppendedBucketsFillTheirPages(t *testing.T) {
	s := MustStore(t, "")
	day := "2026-11-28"
	for seq := uint64(1); seq <= 3000; seq += 10 {
		var evs []hall.Event
		for i := range uint64(10) {
			id := fmt.Sprintf("t%06d", seq+i)
			evs = append(evs, hall.Event{Seq: seq + i, Type: hall.EvTicketIssued, Day: day,
				Ticket: &hall.Ticket{ID: id, Number: "E001", Service: "E", Day: day, Status: hall.Waiting},
				Idem:   &hall.IdemRecord{Key: "kiosk-1:" + id, Ref: hall.TicketRef(id)}})
		}
		if err := s.Commit(evs); err != nil {
			t.Fatal(err)
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bEvents, bDays} { // an issue's idempotency record is in its day entry
			st := tx.Bucket(name).Stats()
			fill := float64(st.LeafInuse) / float64(st.LeafPageN*tx.DB().Info().PageSize)
			if fill < 0.85 {
				t.Errorf("%s: leaf pages %.0f%% full, want ≥ 85%%", name, 100*fill)
			}
		}
		return nil
	})
}

// An idempotency key keeps the fingerprint of its request across a
// restart (a different request with it is refused then too), and records
// written before fingerprints existed are still read and still answer.
func TestIdempotencyFingerprintSurvivesRestartAndOldRecordsRead(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	a1, err := svc.Issue(ctx, hall.Op{IdemKey: "k:new", Fingerprint: "fp-issue-E"}, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	old, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	// a record in the format of before: ref NUL key, no fingerprint
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bIdem).Put(idemKey(a1.Day, 1<<40), []byte("t:"+old.ID+"\x00k:old"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2 := MustStore(t, dir)
	svc2 := MustService(t, s2, clock)
	again, err := svc2.Issue(ctx, hall.Op{IdemKey: "k:new", Fingerprint: "fp-issue-E"}, hall.IssueRequest{Service: "E"})
	if err != nil || again.ID != a1.ID {
		t.Fatalf("same request after restart: %v %s", err, again.ID)
	}
	_, err = svc2.Issue(ctx, hall.Op{IdemKey: "k:new", Fingerprint: "fp-issue-C"}, hall.IssueRequest{Service: "C"})
	if hall.ErrorCode(err) != hall.Unprocessable || hall.ErrorReason(err) != "idempotency_key_reused" {
		t.Fatalf("other request with the key after restart: %v", err)
	}
	prev, err := svc2.Issue(ctx, hall.Op{IdemKey: "k:old", Fingerprint: "fp-any"}, hall.IssueRequest{Service: "E"})
	if err != nil || prev.ID != old.ID {
		t.Fatalf("record of the old format: %v %s, want %s", err, prev.ID, old.ID)
	}
}

// A stored idempotency record whose result ref is none of hall.Ref's forms
// stops the load with an error that names the record by its place (never
// the caller's key, which may say who the caller is), instead of a repeat
// that would answer with nothing.
func TestGarbledIdempotencyRefFailsTheLoad(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	tk, err := svc.Issue(context.Background(), hall.Op{IdemKey: "remote:citizen-a"}, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bIdem).Put(idemKey(tk.Day, 1<<40), []byte("q:"+tk.ID+"\x00remote:citizen-b"))
	}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Load()
	if err == nil || !strings.Contains(err.Error(), `unknown kind "q"`) || !strings.Contains(err.Error(), "idempotency record "+tk.Day+"/") {
		t.Fatalf("load with a garbled ref: %v", err)
	}
	if strings.Contains(err.Error(), "citizen-b") {
		t.Fatalf("the error names the caller's key: %v", err)
	}
}

// One commit of several events writes each state row as the batch's last
// event left it, with the bytes json.Marshal gives it: a service's counter
// moved by every issue of the batch, a window changed twice, a ticket
// issued and called in the same commit.
func TestBatchWritesEachRowAsItsLastEventLeftIt(t *testing.T) {
	dir := t.TempDir()
	s := MustStore(t, dir)
	day := "2026-11-28"
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, cst)
	var evs []hall.Event
	add := func(ev hall.Event) {
		ev.Seq, ev.Day, ev.At = uint64(len(evs)+1), day, at.Add(time.Duration(len(evs))*time.Second)
		evs = append(evs, ev)
	}
	tk := func(n int, st hall.Status) *hall.Ticket {
		return &hall.Ticket{ID: fmt.Sprintf("t%03d", n), Number: fmt.Sprintf("A%03d", n), Service: "A", Day: day, Channel: hall.WalkIn, Status: st, IssuedAt: at, QueuedAt: at}
	}
	win := hall.Window{Number: 3, Name: hall.Text{ZH: "三号窗口", EN: "Window 3"}, Services: []string{"A"}, Status: hall.WindowOpen, Clerk: "wang"}
	add(hall.Event{Type: hall.EvWindowOpened, Window: &win})
	for n := 1; n <= 4; n++ {
		add(hall.Event{Type: hall.EvTicketIssued, Ticket: tk(n, hall.Waiting), Counter: &hall.Counter{Day: day, Service: "A", Last: n}})
	}
	add(hall.Event{Type: hall.EvTicketIssued, Ticket: &hall.Ticket{ID: "tb1", Number: "B001", Service: "B", Day: day, Status: hall.Waiting, IssuedAt: at, QueuedAt: at}, Counter: &hall.Counter{Day: day, Service: "B", Last: 1}})
	called := tk(2, hall.Called)
	called.Window, called.CalledAt = 3, at.Add(time.Minute)
	w2 := win
	w2.Current = called.ID
	add(hall.Event{Type: hall.EvTicketCalled, Ticket: called, Window: &w2})
	if err := s.Commit(evs); err != nil {
		t.Fatal(err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		for _, c := range []hall.Counter{{Day: day, Service: "A", Last: 4}, {Day: day, Service: "B", Last: 1}} {
			want, _ := json.Marshal(c)
			if got := tx.Bucket(bCounters).Get([]byte(day + "/" + c.Service)); !bytes.Equal(got, want) {
				t.Errorf("counter %s: stored %s, want %s", c.Service, got, want)
			}
		}
		want, _ := json.Marshal(w2)
		if got := tx.Bucket(bWindows).Get(winKey(3)); !bytes.Equal(got, want) {
			t.Errorf("window: stored %s, want %s", got, want)
		}
		return nil
	})
	s.Close()
	s = MustStore(t, dir)
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Counters) != 2 || len(snap.Tickets) != 5 || len(snap.Windows) != 1 || snap.Windows[0].Current != called.ID {
		t.Fatalf("loaded %+v", snap)
	}
	for _, tk := range snap.Tickets {
		if tk.ID == called.ID && (tk.Status != hall.Called || tk.Window != 3) {
			t.Errorf("ticket %s loaded as %+v, want its call", tk.ID, tk)
		}
	}
}

// The outbox is the log from a mark: a commit writes nothing for it (no
// entry, no page of its own); reading after the forwarded mark, the oldest
// waiting event, and compaction by count, by the forwarded mark and by time
// move through it event by event.
func TestOutboxIsTheLogFromAMark(t *testing.T) {
	s := MustStore(t, "")
	day := "2026-11-28"
	at := func(seq uint64) time.Time { return time.Date(2026, 11, 28, 9, 0, int(seq), 0, cst) }
	seq := uint64(0)
	commit := func(n int) {
		var evs []hall.Event
		for range n {
			seq++
			id := fmt.Sprintf("t%03d", seq)
			evs = append(evs, hall.Event{Seq: seq, Type: hall.EvTicketIssued, Day: day, At: at(seq),
				Ticket: &hall.Ticket{ID: id, Number: fmt.Sprintf("E%03d", seq), Service: "E", Day: day, Status: hall.Waiting, IssuedAt: at(seq), QueuedAt: at(seq)}})
		}
		if err := s.Commit(evs); err != nil {
			t.Fatal(err)
		}
	}
	commit(3)
	commit(1)
	commit(6)
	s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bOutbox).Stats().KeyN; n != 0 {
			t.Errorf("the outbox bucket has %d entries; commits write none", n)
		}
		return nil
	})
	outbox := func(limit int) (out []uint64) {
		t.Helper()
		evs, err := s.Outbox(limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			out = append(out, ev.Seq)
		}
		return out
	}
	if n, b, _ := s.OutboxBytes(); n != 10 || b != 0 {
		t.Fatalf("the outbox holds %d events in %d bytes of its own, want 10 in 0", n, b)
	}
	if err := s.MarkForwarded(2); err != nil {
		t.Fatal(err)
	}
	if got := outbox(100); !slices.Equal(got, []uint64{3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Fatalf("after 2 forwarded, the outbox gives %v", got)
	}
	if got := outbox(2); !slices.Equal(got, []uint64{3, 4}) {
		t.Fatalf("two of the outbox: %v", got)
	}
	if st, _ := s.OutboxStats(); st.Backlog != 8 || !st.Oldest.Equal(at(3)) {
		t.Fatalf("stats %+v, want 8 waiting since event 3", st)
	}
	s.MarkForwarded(6)
	if st, _ := s.OutboxStats(); st.Backlog != 4 || !st.Oldest.Equal(at(7)) {
		t.Fatalf("stats %+v, want 4 waiting since event 7", st)
	}
	// compaction: only forwarded events, at most limit, only before cutoff
	later := at(100)
	if n, err := s.CompactOutbox(later, 2); err != nil || n != 2 {
		t.Fatalf("compacted %d (%v), want 2 (the limit)", n, err)
	}
	if n, err := s.CompactOutbox(at(5), 100); err != nil || n != 2 {
		t.Fatalf("compacted %d (%v), want 3 and 4 (5 is not before the cutoff)", n, err)
	}
	if n, err := s.CompactOutbox(later, 100); err != nil || n != 2 {
		t.Fatalf("compacted %d (%v), want 5 and 6 (7 is not forwarded)", n, err)
	}
	if n, err := s.CompactOutbox(later, 100); err != nil || n != 0 {
		t.Fatalf("compacted %d (%v), want none (nothing more is forwarded)", n, err)
	}
	if n, _, _ := s.OutboxBytes(); n != 4 {
		t.Fatalf("after compaction the outbox holds %d events, want 4", n)
	}
	if got := outbox(100); !slices.Equal(got, []uint64{7, 8, 9, 10}) {
		t.Fatalf("after compaction the outbox gives %v", got)
	}
	if evs, _ := s.Events(0, 100); len(evs) != 10 {
		t.Fatal("compaction must not touch the event log")
	}
}

// A schema 3 store (an outbox entry for every event still to forward or not
// yet compacted: what the build before wrote) opens at schema 4 with the
// outbox where its entries began, and reads and compacts as before.
func TestSchema3OutboxOpensAsAMark(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc := MustService(t, s, clock)
	for i := range 20 {
		if _, err := svc.Issue(context.Background(), hall.Op{IdemKey: fmt.Sprint("k", i)}, hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	svc.Close()
	// as schema 3 left it: 8 forwarded, 1–5 compacted, entries for 6–20
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bOutbox)
		for seq := uint64(6); seq <= 20; seq++ {
			if err := b.Put(u64(seq), nil); err != nil {
				return err
			}
		}
		m := tx.Bucket(bMeta)
		if err := m.Delete(kOutboxFrom); err != nil {
			return err
		}
		if err := putU64(m, kForwarded, 8); err != nil {
			return err
		}
		return putU64(m, kSchema, 3)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = MustStore(t, dir)
	s.db.View(func(tx *bolt.Tx) error {
		if v := getU64(tx.Bucket(bMeta), kSchema); v != SchemaVersion {
			t.Errorf("schema after open: %d", v)
		}
		if v := outboxFrom(tx.Bucket(bMeta)); v != 6 {
			t.Errorf("the outbox starts at %d after the upgrade, want 6 (its first entry)", v)
		}
		return nil
	})
	if n, _, _ := s.OutboxBytes(); n != 15 {
		t.Fatalf("the upgraded outbox holds %d events, want 15", n)
	}
	if evs, err := s.Outbox(100); err != nil || len(evs) != 12 || evs[0].Seq != 9 {
		t.Fatalf("the upgraded outbox gave %d events (%v), want 9–20", len(evs), err)
	}
	if n, err := s.CompactOutbox(clock.Now(), 100); err != nil || n != 3 {
		t.Fatalf("compacted %d (%v), want 6–8 (forwarded)", n, err)
	}
	// an empty schema 3 outbox: nothing left to forward or compact — and
	// never an event past the forwarded mark, whatever the entries say
	for _, c := range []struct{ forwarded, want uint64 }{{20, 0}, {15, 5}} {
		s.db.Update(func(tx *bolt.Tx) error {
			m := tx.Bucket(bMeta)
			m.Delete(kOutboxFrom)
			putU64(m, kForwarded, c.forwarded)
			return putU64(m, kSchema, 3)
		})
		s.Close()
		s = MustStore(t, dir)
		if n, _, _ := s.OutboxBytes(); uint64(n) != c.want {
			t.Fatalf("an empty schema 3 outbox with %d of 20 forwarded upgraded to %d events, want %d", c.forwarded, n, c.want)
		}
	}
}

// An issue's idempotency record rides in its ticket's entry of the days
// index (schema 5: one bucket, and its pages, fewer per issue); a request
// that issues nothing keeps its record in the idem bucket. Both answer a
// retry after a restart, and a key answered twice (a remote ticket taken
// again once the first was cancelled) stands for its later answer.
func TestAnIssuesIdempotencyRecordRidesInItsDayEntry(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	a1, err := svc.Issue(ctx, hall.Op{IdemKey: "k:1", Fingerprint: "fp-1"}, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	remote := hall.Op{IdemKey: "remote:citizen-a", IdemWhileOpen: true}
	r1, err := svc.Issue(ctx, remote, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Act(ctx, hall.Op{IdemKey: "k:cancel"}, hall.Action{Name: hall.ActCancel, Ticket: r1.ID}); err != nil {
		t.Fatal(err)
	}
	r2, err := svc.Issue(ctx, remote, hall.IssueRequest{Service: "E"})
	if err != nil || r2.ID == r1.ID {
		t.Fatalf("the remote key once its ticket was cancelled: %v, %s (the first %s)", err, r2.ID, r1.ID)
	}
	svc.Close()
	s.db.View(func(tx *bolt.Tx) error {
		n := 0
		tx.Bucket(bIdem).ForEach(func(k, v []byte) error { n++; return nil })
		if n != 1 {
			t.Errorf("the idem bucket holds %d records, want 1 (the cancel's; the issues' are in their day entries)", n)
		}
		for _, id := range []string{a1.ID, r1.ID, r2.ID} {
			v := tx.Bucket(bDays).Get([]byte(a1.Day + "/" + id))
			if len(v) < 9 {
				t.Errorf("ticket %s's day entry holds %d bytes, want its issue's seq and record", id, len(v))
			}
		}
		// the issue writes no pointer in tickets: the day entry is one;
		// the cancel (the ticket's next event) does
		if v := tx.Bucket(bTickets).Get([]byte(a1.ID)); v != nil {
			t.Errorf("a ticket only issued has a tickets entry %x", v)
		}
		if v := tx.Bucket(bTickets).Get([]byte(r1.ID)); len(v) != 8 {
			t.Errorf("the cancelled ticket's tickets entry: %x, want the cancel's seq", v)
		}
		return nil
	})
	s.Close()

	s = MustStore(t, dir)
	svc = MustService(t, s, clock)
	if again, err := svc.Issue(ctx, hall.Op{IdemKey: "k:1", Fingerprint: "fp-1"}, hall.IssueRequest{Service: "E"}); err != nil || again.ID != a1.ID {
		t.Fatalf("a retry after the restart: %v, %s, want %s", err, again.ID, a1.ID)
	}
	_, err = svc.Issue(ctx, hall.Op{IdemKey: "k:1", Fingerprint: "fp-other"}, hall.IssueRequest{Service: "C"})
	if hall.ErrorCode(err) != hall.Unprocessable {
		t.Fatalf("the key with another request after the restart: %v, want unprocessable (its fingerprint kept)", err)
	}
	if again, err := svc.Issue(ctx, remote, hall.IssueRequest{Service: "E"}); err != nil || again.ID != r2.ID {
		t.Fatalf("the remote key after the restart: %v, %s, want the later ticket %s (the first, %s, is cancelled)", err, again.ID, r2.ID, r1.ID)
	}
	if again, err := svc.Act(ctx, hall.Op{IdemKey: "k:cancel"}, hall.Action{Name: hall.ActCancel, Ticket: r1.ID}); err != nil || again.ID != r1.ID {
		t.Fatalf("the cancel's retry after the restart: %v, %s", err, again.ID)
	}
	tks, _ := svc.Tickets(ctx, nil)
	status := map[string]hall.Status{}
	for _, tk := range tks {
		status[tk.ID] = tk.Status
	}
	if len(tks) != 3 || status[a1.ID] != hall.Waiting || status[r1.ID] != hall.Cancelled || status[r2.ID] != hall.Waiting {
		t.Fatalf("after the restart: %v, want %s and %s waiting, %s cancelled", status, a1.ID, r2.ID, r1.ID)
	}
}

// A schema 4 store (every idempotency record in the idem bucket, a
// tickets entry for every ticket and empty day entries: what the build
// before wrote) opens at schema 5 as it is: its tickets are read, its
// records answer retries, and the issues after it use the new places.
func TestSchema4IdempotencyRecordsStillAnswer(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	var ids []string
	for i := range 3 {
		tk, err := svc.Issue(ctx, hall.Op{IdemKey: fmt.Sprint("k:", i), Fingerprint: fmt.Sprint("fp-", i)}, hall.IssueRequest{Service: "E"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	svc.Close()
	// as schema 4 wrote it
	err := s.db.Update(func(tx *bolt.Tx) error {
		days := tx.Bucket(bDays)
		type rec struct{ k, v []byte }
		var recs []rec
		days.ForEach(func(k, v []byte) error { recs = append(recs, rec{bytes.Clone(k), bytes.Clone(v)}); return nil })
		for _, r := range recs {
			day, id, _ := bytes.Cut(r.k, []byte("/"))
			if err := tx.Bucket(bIdem).Put(idemKey(string(day), binary.BigEndian.Uint64(r.v)), r.v[8:]); err != nil {
				return err
			}
			if err := tx.Bucket(bTickets).Put(id, r.v[:8]); err != nil { // every ticket had its pointer
				return err
			}
			if err := days.Put(r.k, nil); err != nil {
				return err
			}
		}
		return putU64(tx.Bucket(bMeta), kSchema, 4)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = MustStore(t, dir)
	s.db.View(func(tx *bolt.Tx) error {
		if v := getU64(tx.Bucket(bMeta), kSchema); v != SchemaVersion {
			t.Errorf("schema after open: %d, want %d", v, SchemaVersion)
		}
		return nil
	})
	svc = MustService(t, s, clock)
	for i, id := range ids {
		if again, err := svc.Issue(ctx, hall.Op{IdemKey: fmt.Sprint("k:", i), Fingerprint: fmt.Sprint("fp-", i)}, hall.IssueRequest{Service: "E"}); err != nil || again.ID != id {
			t.Fatalf("a retry of a schema 4 record: %v, %s, want %s", err, again.ID, id)
		}
	}
	if _, err := svc.Issue(ctx, hall.Op{IdemKey: "k:0", Fingerprint: "fp-other"}, hall.IssueRequest{Service: "E"}); hall.ErrorCode(err) != hall.Unprocessable {
		t.Fatalf("a schema 4 key with another request: %v, want unprocessable", err)
	}
	tk, err := svc.Issue(ctx, hall.Op{IdemKey: "k:new"}, hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bDays).Get([]byte(tk.Day + "/" + tk.ID)); len(v) < 9 {
			t.Errorf("an issue after the upgrade: its day entry holds %d bytes, want its seq and record", len(v))
		}
		return nil
	})
	var n int
	if err := s.TicketsBetween(tk.Day, tk.Day, func(hall.Ticket) error { n++; return nil }); err != nil || n != 4 {
		t.Fatalf("the day's tickets after the upgrade: %d (%v), want 4", n, err)
	}
}

// A commit drops the counters of the days before its own: numbering goes
// on from the current day's, and the bucket every issue writes stays
// inside the root page (a year of counters made it pages of its own whose
// last leaf and branch each issue wrote again).
func TestCountersOfPastDaysAreDropped(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, cst))
	ctx := context.Background()
	s := MustStore(t, dir)
	svc := MustService(t, s, clock)
	for _, code := range []string{"A", "B", "E"} {
		if _, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: code, CitizenKey: fmt.Sprintf("%064x", code[0])}); err != nil {
			t.Fatal(err)
		}
	}
	// a year of counters, as a schema 4 store kept them
	s.db.Update(func(tx *bolt.Tx) error {
		for d := range 365 {
			day := time.Date(2025, 11, 26, 0, 0, 0, 0, cst).AddDate(0, 0, d).Format(time.DateOnly)
			for _, code := range []string{"A", "B", "C", "D", "E"} {
				tx.Bucket(bCounters).Put([]byte(day+"/"+code), []byte(`{"day":"`+day+`","service":"`+code+`","last":120}`))
			}
		}
		return nil
	})
	clock.Set(time.Date(2026, 11, 27, 9, 0, 0, 0, cst))
	first, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
	if err != nil || first.Number != "E001" {
		t.Fatalf("the next day's first ticket: %v, %s", err, first.Number)
	}
	check := func(when string) {
		t.Helper()
		s.db.View(func(tx *bolt.Tx) error {
			var keys []string
			tx.Bucket(bCounters).ForEach(func(k, _ []byte) error { keys = append(keys, string(k)); return nil })
			if !slices.Equal(keys, []string{"2026-11-27/E"}) {
				t.Errorf("%s: %d counters (from %s), want today's only, 2026-11-27/E", when, len(keys), keys[0])
			}
			if root := tx.Bucket(bCounters).Root(); root != 0 {
				t.Errorf("%s: the counters have pages of their own (root page %d), want them inside the root page", when, root)
			}
			return nil
		})
	}
	check("after the day's first commit")
	svc.Close()
	s.Close()
	s = MustStore(t, dir)
	svc = MustService(t, s, clock)
	if next, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil || next.Number != "E002" {
		t.Fatalf("after a restart: %v, %s, want E002", err, next.Number)
	}
	check("after a restart")
	var n int
	if err := s.TicketsBetween("2026-11-26", "2026-11-26", func(hall.Ticket) error { n++; return nil }); err != nil || n != 3 {
		t.Fatalf("the day before: %d tickets (%v), want 3", n, err)
	}
}

// A schema 4 store kept the configuration changed at runtime and the
// catalogue in meta, which every commit writes: they move to the settings
// bucket at open and load from there, and meta stays inside the root page.
func TestSettingsMoveOutOfMeta(t *testing.T) {
	dir := t.TempDir()
	s := MustStore(t, dir)
	cfg := hall.SampleConfig()
	cfg.Hall.Name = hall.Text{ZH: "移出的配置", EN: "the moved configuration"}
	cat := catalog.Catalog{Version: 7, PublishedAt: "2026-11-20T08:00:00+08:00"}
	rawCfg, _ := json.Marshal(cfg)
	rawCat, _ := json.Marshal(cat)
	err := s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		m.Put(kConfig, rawCfg)
		m.Put(kCatalog, rawCat)
		if err := tx.DeleteBucket(bSettings); err != nil {
			return err
		}
		return putU64(m, kSchema, 4)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = MustStore(t, dir)
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if st.Config == nil || st.Config.Hall.Name.EN != "the moved configuration" || st.Catalog == nil || st.Catalog.Version != 7 {
		t.Fatalf("loaded config %v, catalogue %v", st.Config, st.Catalog)
	}
	s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if m.Get(kConfig) != nil || m.Get(kCatalog) != nil {
			t.Error("meta still holds the configuration or the catalogue")
		}
		if root := m.Root(); root != 0 {
			t.Errorf("meta has pages of its own (root page %d), want it inside the root page", root)
		}
		return nil
	})
	// the next change goes to the settings bucket too
	svc := MustService(t, s, testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, cst)))
	cfg.Hall.Name = hall.Text{ZH: "又改", EN: "changed again"}
	if _, err := svc.UpdateConfig(context.Background(), hall.Op{Actor: "admin"}, cfg); err != nil {
		t.Fatal(err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta).Get(kConfig) != nil || !bytes.Contains(tx.Bucket(bSettings).Get(kConfig), []byte("changed again")) {
			t.Error("a configuration changed at runtime is not in the settings bucket")
		}
		return nil
	})
}
