package booking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/booking"
	"hallq/central/natsembed"
	"hallq/queue-server/forward"
)

// rushClient shares connections the way a load balancer's pool would.
var rushClient = &http.Client{Transport: &http.Transport{MaxConnsPerHost: 150, MaxIdleConnsPerHost: 150}}

type rushResult struct {
	confirmed map[string]int // booking id → citizen
	full      int
	retries   int64
}

// rush sends one booking request per token, for slot i%len(slots), to
// the live instances in turn; a request that meets a dead instance or an
// unavailable store is retried with the same Idempotency-Key on the next,
// as the portal does. kill runs once, when killAfter answers are in.
func rush(t testing.TB, w *world, hall string, slots []time.Time, tokens []string, killAfter int, kill func()) rushResult {
	t.Helper()
	var (
		mu      sync.Mutex
		res     = rushResult{confirmed: map[string]int{}}
		done    atomic.Int64
		once    sync.Once
		dead    sync.Map
		wg      sync.WaitGroup
		failure atomic.Value
	)
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(booking.Request{Hall: hall, Service: "B", SlotStart: slots[i%len(slots)]})
			idem := fmt.Sprintf("rush-%d", i)
			for k := i; ; k++ {
				in := w.Insts[k%len(w.Insts)]
				if _, gone := dead.Load(in); gone {
					continue
				}
				req, _ := http.NewRequest("POST", in.URL+"/api/v1/bookings", bytesReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Idempotency-Key", idem)
				resp, err := rushClient.Do(req)
				var out struct {
					Booking booking.Booking
					Error   booking.Error
				}
				st := 0
				if err == nil {
					st = resp.StatusCode
					_ = json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
				}
				switch {
				case st == http.StatusCreated || st == http.StatusOK:
					mu.Lock()
					if c, seen := res.confirmed[out.Booking.ID]; seen && c != i {
						failure.Store(fmt.Sprintf("booking %s answered to two citizens", out.Booking.ID))
					}
					res.confirmed[out.Booking.ID] = i
					mu.Unlock()
				case st == http.StatusConflict && out.Error.Reason == booking.ReasonSlotFull:
					mu.Lock()
					res.full++
					mu.Unlock()
				case err != nil || st >= 500:
					atomic.AddInt64(&res.retries, 1)
					time.Sleep(20 * time.Millisecond) // a client's pause before its retry, not a wait for a state
					continue
				default:
					failure.Store(fmt.Sprintf("request %d: %d %+v", i, st, out.Error))
				}
				break
			}
			if done.Add(1) == int64(killAfter) && kill != nil {
				once.Do(func() { kill(); dead.Store(w.Insts[1], true) })
			}
		}()
	}
	wg.Wait()
	if f := failure.Load(); f != nil {
		t.Fatal(f)
	}
	return res
}

// mintCitizens pre-signs n citizens' tokens from first on.
func mintCitizens(w *world, first, n int) []string {
	out := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = w.Citizen(first + i) }()
	}
	wg.Wait()
	return out
}

// checkRush checks the rush's end state in JetStream itself: every slot
// holds exactly its seats, the bookings bucket holds exactly the
// confirmed bookings, and the hall was sent each of them once.
func checkRush(t testing.TB, w *world, hall string, slots []time.Time, seats int, res rushResult, requests int) {
	t.Helper()
	if len(res.confirmed) != len(slots)*seats || res.full != requests-len(slots)*seats {
		t.Fatalf("%d confirmed and %d refused as full of %d requests for %d seats", len(res.confirmed), res.full, requests, len(slots)*seats)
	}
	held := map[string]bool{}
	for _, s := range slots {
		ids := w.Seats(hall, "B", s)
		if len(ids) != seats {
			t.Fatalf("slot %s holds %d seats, capacity %d", s.Format("15:04"), len(ids), seats)
		}
		for _, id := range ids {
			if _, ok := res.confirmed[id]; !ok || held[id] {
				t.Fatalf("seat held by %s, not one confirmed booking", id)
			}
			held[id] = true
		}
	}
	ctx := context.Background()
	kv, err := w.JS.KeyValue(ctx, booking.BookingsBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for k := range keys.Keys() {
		if _, ok := res.confirmed[k]; !ok {
			t.Fatalf("booking %s stored but never confirmed", k)
		}
		n++
	}
	if n != len(res.confirmed) {
		t.Fatalf("%d bookings stored, %d confirmed", n, len(res.confirmed))
	}
	s, err := w.JS.Stream(ctx, "CENTRAL")
	if err != nil {
		t.Fatal(err)
	}
	subj := forward.AppointmentsSubject(hall)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.State.Subjects[subj])
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}})
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	for read := 0; read < total; {
		batch, err := c.Fetch(total-read, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			var a forward.Appointment
			_ = json.Unmarshal(m.Data(), &a)
			sent[a.BookingID]++
			read++
		}
	}
	for id := range res.confirmed {
		if sent[id] != 1 {
			t.Fatalf("booking %s was sent to the hall %d times", id, sent[id])
		}
	}
	if len(sent) != len(res.confirmed) {
		t.Fatalf("%d bookings sent to the hall, %d confirmed", len(sent), len(res.confirmed))
	}
}

func rushHall(w *world, seats int) []time.Time {
	h := sampleHall("rush")
	h.Capacity = map[string]int{"B": seats}
	w.MustHall(h)
	var slots []time.Time
	for _, s := range []int{0, 30, 60, 90, 120, 150, 270, 300, 330, 360} { // ten slots, around lunch
		slots = append(slots, monday(9, 0).Add(time.Duration(s)*time.Minute))
	}
	return slots
}

// TestBookingRushOnAClusterWhileANodeAndAProcessDie: 2,000 concurrent
// requests for 100 seats across three central processes on a three-node
// JetStream cluster (KV with three replicas); one NATS node and one
// process are killed in the middle. Exactly 100 are confirmed, none over
// capacity, none lost or sent twice.
func TestBookingRushOnAClusterWhileANodeAndAProcessDie(t *testing.T) {
	if testing.Short() {
		t.Skip("a cluster rush")
	}
	cl, err := natsembed.StartCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	w := mustWorldAt(t, cl.URLs(), 3, 3)
	slots := rushHall(w, 10)
	const requests = 2000
	tokens := mintCitizens(w, 1000, requests)
	res := rush(t, w, "rush", slots, tokens, 300, func() {
		w.Insts[1].Kill()
		cl.Kill(1)
	})
	t.Logf("%d confirmed, %d full, %d retries after the kills", len(res.confirmed), res.full, res.retries)
	checkRush(t, w, "rush", slots, 10, res, requests)
}
