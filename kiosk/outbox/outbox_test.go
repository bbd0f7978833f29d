package outbox

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"hallq/queue-server/hall"
)

func MustOutbox(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTakeNumbersSurviveRestartAndNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	s := MustOutbox(t, dir)
	day := "2026-11-27"
	if err := s.PutLease(hall.Lease{ID: "L1", Kiosk: "k1", Service: "A", Day: day, From: 11, To: 13}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var got []int
	for i := range 2 {
		tk, _, err := s.Take("A", day, hall.OfflineTicket{ID: fmt.Sprintf("offline-%012d", i), IssuedAt: at.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tk.Number)
	}
	s.Close()
	s = MustOutbox(t, dir) // restart while offline
	tk, _, err := s.Take("A", day, hall.OfflineTicket{ID: "offline-000000000002", IssuedAt: at.Add(3 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, tk.Number)
	if fmt.Sprint(got) != "[11 12 13]" {
		t.Fatalf("numbers %v", got)
	}
	if _, _, err := s.Take("A", day, hall.OfflineTicket{ID: "offline-000000000003"}); !errors.Is(err, ErrNoNumbers) {
		t.Fatalf("exhausted lease: %v", err)
	}
	if _, _, err := s.Take("A", "2026-11-28", hall.OfflineTicket{ID: "x"}); !errors.Is(err, ErrNoNumbers) {
		t.Fatalf("a lease is only good on its day: %v", err)
	}
	p, _ := s.Pending()
	if len(p) != 3 || p[0].Number != 11 || p[2].Number != 13 {
		t.Fatalf("pending %+v", p)
	}
	s.Done(p[0])
	if p, _ = s.Pending(); len(p) != 2 {
		t.Fatalf("after done: %d pending", len(p))
	}
	// a re-sent lease (server's view) keeps what was taken here
	s.PutLease(hall.Lease{ID: "L1", Kiosk: "k1", Service: "A", Day: day, From: 11, To: 13, Used: []int{11}})
	free, _, _ := s.Leases()
	if free["A"] != 0 {
		t.Fatalf("free after re-put: %d", free["A"])
	}
}
