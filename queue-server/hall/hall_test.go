package hall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hallq/internal/testclock"
	"strings"
	"sync"
	"testing"
	"time"
)

// memJournal is a Journal kept in memory: it rebuilds the Snapshot from committed
// events exactly as a store would, and can be told to fail.
type memJournal struct {
	mu     sync.Mutex
	events []Event
	fail   error
}

func (j *memJournal) Commit(evs []Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return j.fail
	}
	j.events = append(j.events, evs...)
	return nil
}

func (j *memJournal) all() []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Event(nil), j.events...)
}

func (j *memJournal) setFail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.fail = err
}

func (j *memJournal) Load() (Snapshot, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	tickets := map[string]Ticket{}
	windows := map[int]Window{}
	helps := map[string]HelpCall{}
	var s Snapshot
	s.Idem = map[string]IdemRecord{}
	closed := ""
	for _, ev := range j.events {
		s.Seq, s.Day = ev.Seq, ev.Day
		if ev.Type == EvDayClosed {
			closed = ev.Day
		}
		if ev.Ticket != nil {
			tickets[ev.Ticket.ID] = *ev.Ticket
		}
		if ev.Window != nil {
			windows[ev.Window.Number] = *ev.Window
		}
		if ev.Counter != nil {
			s.Counters = append(s.Counters, *ev.Counter)
		}
		if ev.Lease != nil {
			s.Leases = append(s.Leases, *ev.Lease)
		}
		if ev.Booking != nil {
			s.Bookings = append(s.Bookings, *ev.Booking)
		}
		if ev.Idem != nil {
			s.Idem[ev.Idem.Key] = *ev.Idem
		}
		if ev.Help != nil {
			helps[ev.Help.ID] = *ev.Help
		}
		if ev.Config != nil {
			c := ev.Config.Clone()
			s.Config = &c
		}
		if ev.Catalog != nil {
			s.Catalog = ev.Catalog
		}
	}
	s.DayClosed = closed != "" && closed == s.Day
	for _, t := range tickets {
		if t.Day == s.Day || t.Status.Open() {
			s.Tickets = append(s.Tickets, t)
		}
	}
	for _, w := range windows {
		s.Windows = append(s.Windows, w)
	}
	for _, h := range helps {
		s.Helps = append(s.Helps, h)
	}
	return s, nil
}

type testClock = testclock.Clock

var shanghai = testclock.Zone

// at returns 2026-11-27 (a Friday) at hh:mm hall time.
func at(hh, mm int) time.Time { return time.Date(2026, 11, 27, hh, mm, 0, 0, shanghai) }

type fixture struct {
	t     *testing.T
	svc   *Service
	j     *memJournal
	clock *testClock
	cfg   Config
	ctx   context.Context
}

func MustHall(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	cfg := SampleConfig()
	if edit != nil {
		edit(&cfg)
	}
	f := &fixture{t: t, j: &memJournal{}, clock: testclock.New(at(9, 0)), cfg: cfg, ctx: context.Background()}
	f.start()
	t.Cleanup(func() {
		f.svc.Close()
		f.checkInvariants()
	})
	return f
}

func (f *fixture) start() {
	f.t.Helper()
	svc, err := NewService(f.cfg, f.j, f.clock, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.svc = svc
}

// restart closes the service and starts a new one from the journal.
func (f *fixture) restart() {
	f.svc.Close()
	f.start()
}

// checkInvariants: sequence numbers are gap-free, numbers never repeat on a day.
func (f *fixture) checkInvariants() {
	f.t.Helper()
	seen := map[string]string{}
	for i, ev := range f.j.all() {
		if ev.Seq != uint64(i+1) {
			f.t.Errorf("event %d has seq %d", i, ev.Seq)
		}
		if ev.Type == EvTicketIssued || ev.Type == EvTicketCarried {
			k := ev.Ticket.Day + "/" + ev.Ticket.Number
			if id, ok := seen[k]; ok && id != ev.Ticket.ID {
				f.t.Errorf("number %s issued twice", k)
			}
			seen[k] = ev.Ticket.ID
		}
	}
}

func (f *fixture) issue(service string, mods ...func(*IssueRequest)) TicketView {
	f.t.Helper()
	r := IssueRequest{Service: service, CitizenKey: fmt.Sprintf("%064d", len(f.j.all())), MaskedID: "4201**********1234"}
	for _, m := range mods {
		m(&r)
	}
	t, err := f.svc.Issue(f.ctx, Op{Actor: "kiosk-1"}, r)
	if err != nil {
		f.t.Fatalf("issue %s: %v", service, err)
	}
	return t
}

func (f *fixture) open(windows ...int) {
	f.t.Helper()
	for _, w := range windows {
		if _, err := f.svc.SetWindow(f.ctx, Op{Actor: "clerk"}, w, WindowOpen, fmt.Sprintf("clerk%d", w), ""); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) call(w int) TicketView {
	f.t.Helper()
	t, ok, err := f.svc.Call(f.ctx, Op{Actor: "clerk"}, w, "")
	if err != nil || !ok {
		f.t.Fatalf("call window %d: ok=%v err=%v", w, ok, err)
	}
	return t
}

func (f *fixture) act(name, id string, mods ...func(*Action)) (TicketView, error) {
	a := Action{Name: name, Ticket: id}
	for _, m := range mods {
		m(&a)
	}
	return f.svc.Act(f.ctx, Op{Actor: "clerk"}, a)
}

func (f *fixture) mustAct(name, id string, mods ...func(*Action)) TicketView {
	f.t.Helper()
	t, err := f.act(name, id, mods...)
	if err != nil {
		f.t.Fatalf("%s %s: %v", name, id, err)
	}
	return t
}

func wantCode(t *testing.T, err error, code Code, reason string) {
	t.Helper()
	if ErrorCode(err) != code || (reason != "" && ErrorReason(err) != reason) {
		t.Fatalf("got error %v, want %s/%s", err, code, reason)
	}
}

func TestNumbersPerServiceRestartDaily(t *testing.T) {
	f := MustHall(t, nil)
	for i, want := range []string{"A001", "A002", "A003"} {
		if got := f.issue("A").Number; got != want {
			t.Fatalf("ticket %d: got %s, want %s", i, got, want)
		}
	}
	if got := f.issue("B").Number; got != "B001" {
		t.Fatalf("first B is %s", got)
	}
	f.restart()
	if got := f.issue("A").Number; got != "A004" {
		t.Fatalf("after restart got %s, want A004", got)
	}
	f.clock.Advance(24 * time.Hour)
	tk := f.issue("A")
	if tk.Number != "A001" || tk.Day != "2026-11-28" {
		t.Fatalf("next day got %s on %s", tk.Number, tk.Day)
	}
}

func TestCallOrderPriorityPreferenceAndAging(t *testing.T) {
	f := MustHall(t, func(c *Config) { c.Rules.AgingBound = Duration(30 * time.Minute) })
	walkA := f.issue("A")
	f.clock.Advance(time.Minute)
	walkE := f.issue("E")
	f.clock.Advance(time.Minute)
	elderly := f.issue("A", func(r *IssueRequest) { r.AgeClass = AgeElderly })
	if elderly.Channel != Priority {
		t.Fatalf("elderly citizen got channel %s, want priority", elderly.Channel)
	}
	f.open(1) // window 1 serves A then E
	if got := f.call(1); got.ID != elderly.ID {
		t.Fatalf("first call %s, want priority %s", got.Number, elderly.Number)
	}
	f.mustAct(ActStart, elderly.ID)
	f.mustAct(ActComplete, elderly.ID)
	if got := f.call(1); got.ID != walkA.ID {
		t.Fatalf("second call %s, want preferred service A %s", got.Number, walkA.Number)
	}
	f.mustAct(ActNoShow, walkA.ID)
	// aging: walkE has waited beyond the bound, so it beats a fresh priority ticket
	f.clock.Advance(40 * time.Minute)
	prio := f.issue("A", func(r *IssueRequest) { r.Channel = Priority })
	if got := f.call(1); got.ID != walkE.ID {
		t.Fatalf("aged walk-in not called first: got %s", got.Number)
	}
	f.mustAct(ActNoShow, walkE.ID)
	if got := f.call(1); got.ID != prio.ID {
		t.Fatalf("got %s, want %s", got.Number, prio.Number)
	}
}

func TestConcurrentCallNextNeverDuplicates(t *testing.T) {
	f := MustHall(t, func(c *Config) {
		for i := range c.Services {
			c.Services[i].DailyQuota, c.Services[i].PerCitizenLimit = 0, 0
		}
	})
	const n = 300
	for range n {
		f.issue("A")
	}
	windows := []int{1, 2, 3, 7}
	f.open(windows...)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for g := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := windows[g%len(windows)]
			for {
				tk, ok, err := f.svc.Call(f.ctx, Op{Actor: "clerk"}, w, "")
				if ErrorReason(err) == "window_busy" {
					// another goroutine of this window holds a ticket: finish one
					ws, _ := f.svc.Windows(f.ctx)
					if cur := ws[w-1].Current; cur != "" {
						f.act(ActStart, cur)
						f.act(ActComplete, cur)
					}
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				seen[tk.ID]++
				mu.Unlock()
				f.act(ActStart, tk.ID)
				f.act(ActComplete, tk.ID)
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d distinct tickets called, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("ticket %s called %d times", id, c)
		}
	}
}

func TestIllegalTransitionsChangeNothing(t *testing.T) {
	f := MustHall(t, nil)
	tk := f.issue("A")
	before := len(f.j.all())
	for _, a := range []string{ActStart, ActComplete, ActNoShow, ActRecall, ActRequeue, ActResume, ActPark} {
		_, err := f.act(a, tk.ID)
		wantCode(t, err, Conflict, "illegal_transition")
	}
	_, err := f.act(ActRate, tk.ID, func(a *Action) { a.Score = 5 })
	wantCode(t, err, Conflict, "illegal_transition")
	_, err = f.act(ActRate, tk.ID, func(a *Action) { a.Score = 9 })
	wantCode(t, err, Invalid, "")
	_, err = f.act("dance", tk.ID)
	wantCode(t, err, Invalid, "")
	_, err = f.act(ActStart, "nope")
	wantCode(t, err, NotFound, "")
	_, _, err = f.svc.Call(f.ctx, Op{}, 1, "")
	wantCode(t, err, Conflict, "window_not_open")
	_, _, err = f.svc.Call(f.ctx, Op{}, 99, "")
	wantCode(t, err, NotFound, "")
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "Z"})
	wantCode(t, err, NotFound, "")
	if len(f.j.all()) != before {
		t.Fatalf("refused operations wrote %d events", len(f.j.all())-before)
	}
}

func TestFullLifeAndRating(t *testing.T) {
	f := MustHall(t, nil)
	tk := f.issue("B")
	f.open(4)
	f.call(4)
	f.mustAct(ActRecall, tk.ID)
	f.mustAct(ActStart, tk.ID)
	f.mustAct(ActPark, tk.ID)
	if ws, _ := f.svc.Windows(f.ctx); ws[3].Current != "" {
		t.Fatal("parking did not free the window")
	}
	f.mustAct(ActResume, tk.ID)
	done := f.mustAct(ActComplete, tk.ID)
	if done.Status != Done || done.Window != 4 {
		t.Fatalf("got %+v", done.Ticket)
	}
	r := f.mustAct(ActRate, tk.ID, func(a *Action) { a.Score = 2; a.Reason = "waited long" })
	if r.Rating == nil || r.Rating.Score != 2 {
		t.Fatal("rating not kept")
	}
	_, err := f.act(ActRate, tk.ID, func(a *Action) { a.Score = 5 })
	wantCode(t, err, Conflict, "already_rated")
}

func TestRecallsThenNoShowThenRequeueWithinGrace(t *testing.T) {
	f := MustHall(t, nil) // 2 recalls, 30 min grace
	tk := f.issue("A")
	f.open(1)
	f.call(1)
	f.mustAct(ActRecall, tk.ID)
	f.mustAct(ActRecall, tk.ID)
	if got := f.mustAct(ActRecall, tk.ID); got.Status != NoShow {
		t.Fatalf("third recall left ticket %s", got.Status)
	}
	f.clock.Advance(10 * time.Minute)
	if got := f.mustAct(ActRequeue, tk.ID); got.Status != Waiting {
		t.Fatalf("requeue gave %s", got.Status)
	}
	f.call(1)
	f.mustAct(ActNoShow, tk.ID)
	f.clock.Advance(31 * time.Minute)
	_, err := f.act(ActRequeue, tk.ID)
	wantCode(t, err, Conflict, "grace_expired")
}

func TestTransferKeepsPlaceOrGoesToHead(t *testing.T) {
	for _, head := range []bool{false, true} {
		t.Run(fmt.Sprint("head=", head), func(t *testing.T) {
			f := MustHall(t, func(c *Config) { c.Rules.TransferToHead = head })
			a := f.issue("A")
			f.clock.Advance(time.Minute)
			b1 := f.issue("B")
			f.open(1)
			f.call(1)
			moved := f.mustAct(ActTransfer, a.ID, func(x *Action) { x.Service = "B" })
			if moved.Service != "B" || moved.Number != a.Number || moved.FromService != "A" {
				t.Fatalf("got %+v", moved.Ticket)
			}
			f.open(4)
			// transferred outranks walk-in either way; head only changes queue time
			if got := f.call(4); got.ID != a.ID {
				t.Fatalf("window 4 called %s, want transferred %s (then %s)", got.Number, a.Number, b1.Number)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	f := MustHall(t, func(c *Config) { c.Services[3].DailyQuota = 2 })
	key := fmt.Sprintf("%064x", 7)
	f.issue("A", func(r *IssueRequest) { r.CitizenKey = key })
	f.issue("A", func(r *IssueRequest) { r.CitizenKey = key })
	_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "A", CitizenKey: key})
	wantCode(t, err, QuotaExceeded, "citizen_limit")
	f.issue("D")
	f.issue("D")
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "D", CitizenKey: fmt.Sprintf("%064x", 8)})
	wantCode(t, err, QuotaExceeded, "service_quota")
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "A"})
	wantCode(t, err, Invalid, "id_required")
	if tk := f.issue("E", func(r *IssueRequest) { r.CitizenKey = "" }); tk.Number != "E001" {
		t.Fatal("E needs no ID card")
	}
	bad := fmt.Sprintf("%064x", 9)
	if err := f.svc.SetBlacklist(f.ctx, Op{}, BlackEntry{CitizenKey: bad}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "B", CitizenKey: bad})
	wantCode(t, err, Forbidden, "blacklisted")
	wantCode(t, f.svc.SetBlacklist(f.ctx, Op{}, BlackEntry{CitizenKey: "110101199003070000"}), Invalid, "")
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "C", Channel: Remote, CitizenKey: key})
	wantCode(t, err, Forbidden, "remote_not_allowed")

	for _, tc := range []struct {
		at     time.Time
		reason string
	}{{at(8, 0), "closed"}, {at(12, 30), "lunch"}, {at(17, 10), "issuing_stopped"}, {at(18, 0), "closed"}} {
		f.clock.Set(tc.at)
		_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "A", CitizenKey: fmt.Sprintf("%064x", 10)})
		wantCode(t, err, Closed, tc.reason)
	}
}

func TestIdempotentRetryReturnsFirstResult(t *testing.T) {
	f := MustHall(t, nil)
	op := Op{Actor: "kiosk-1", IdemKey: "kiosk-1:abc"}
	r := IssueRequest{Service: "E"}
	t1, err := f.svc.Issue(f.ctx, op, r)
	if err != nil {
		t.Fatal(err)
	}
	f.restart()
	t2, err := f.svc.Issue(f.ctx, op, r)
	if err != nil {
		t.Fatal(err)
	}
	if t1.ID != t2.ID || t1.Number != t2.Number {
		t.Fatalf("retry gave %s, first %s", t2.Number, t1.Number)
	}
	if n := f.issue("E", func(r *IssueRequest) { r.CitizenKey = "" }).Number; n != "E002" {
		t.Fatalf("next ticket %s, want E002", n)
	}
}

// A remote request's key answers with its ticket while that ticket is
// open; once the ticket is closed the same key takes a new one, and that
// holds across a restart.
func TestIdemWhileOpenIssuesAnewOnceClosed(t *testing.T) {
	f := MustHall(t, nil)
	op := Op{Actor: "remote", IdemKey: "remote:A:key", IdemWhileOpen: true}
	r := IssueRequest{Service: "A", Channel: Remote, CitizenKey: fmt.Sprintf("%064x", 7)}
	first, err := f.svc.Issue(f.ctx, op, r)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := f.svc.Issue(f.ctx, op, r); err != nil || again.ID != first.ID {
		t.Fatalf("double tap: %v, ticket %s, want %s", err, again.ID, first.ID)
	}
	f.mustAct(ActCancel, first.ID)
	second, err := f.svc.Issue(f.ctx, op, r)
	if err != nil || second.ID == first.ID || second.Status != Waiting || second.Number != "A002" {
		t.Fatalf("after cancelling %s: %v, %+v; want a new waiting ticket A002", first.Number, err, second)
	}
	f.restart()
	if again, err := f.svc.Issue(f.ctx, op, r); err != nil || again.ID != second.ID {
		t.Fatalf("after a restart: %v, ticket %s, want %s", err, again.ID, second.ID)
	}
	// the per-citizen limit (2 for A) still counts the cancelled ticket
	f.mustAct(ActCancel, second.ID)
	_, err = f.svc.Issue(f.ctx, op, r)
	wantCode(t, err, QuotaExceeded, "citizen_limit")
}

func TestFailedCommitAppliesNothing(t *testing.T) {
	f := MustHall(t, nil)
	f.issue("A")
	f.j.setFail(errors.New("disk full"))
	_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "A", CitizenKey: fmt.Sprintf("%064x", 1)})
	wantCode(t, err, Unavailable, "storage")
	svcs, err := f.svc.Services(f.ctx)
	if err != nil {
		t.Fatalf("reads must keep working: %v", err)
	}
	if svcs[0].Waiting != 1 {
		t.Fatalf("failed issue left %d waiting", svcs[0].Waiting)
	}
	f.j.setFail(nil)
	if n := f.issue("A").Number; n != "A002" {
		t.Fatalf("after recovery got %s, want A002", n)
	}
}

func TestBookingCheckIn(t *testing.T) {
	f := MustHall(t, nil)
	key := fmt.Sprintf("%064x", 42)
	slot := at(10, 0)
	_, err := f.svc.UpsertBooking(f.ctx, Op{Actor: "central"}, Booking{ID: "bk-1", CitizenKey: key, Service: "B", SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(at(9, 0)) // an hour early: the window opens at 9:30
	_, err = f.svc.CheckIn(f.ctx, Op{}, CheckIn{CitizenKey: key})
	wantCode(t, err, Conflict, "outside_checkin_window")
	_, err = f.svc.CheckIn(f.ctx, Op{}, CheckIn{CitizenKey: fmt.Sprintf("%064x", 43)})
	wantCode(t, err, NotFound, "no_booking")
	f.clock.Set(at(9, 45))
	walk := f.issue("B")
	tk, err := f.svc.CheckIn(f.ctx, Op{}, CheckIn{Booking: "bk-1"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Channel != Appointment || tk.Booking != "bk-1" || tk.Position != 0 {
		t.Fatalf("got %+v", tk)
	}
	_, err = f.svc.CheckIn(f.ctx, Op{}, CheckIn{CitizenKey: key})
	wantCode(t, err, Conflict, "already_checked_in")
	f.open(4)
	if got := f.call(4); got.ID != tk.ID {
		t.Fatalf("appointment not first: called %s (walk-in was %s)", got.Number, walk.Number)
	}
}

func TestDayCloseExpiresOrCarriesOver(t *testing.T) {
	for _, carry := range []bool{false, true} {
		t.Run(fmt.Sprint("carry=", carry), func(t *testing.T) {
			f := MustHall(t, func(c *Config) { c.Rules.CarryOver = carry })
			a1 := f.issue("A")
			f.clock.Set(at(23, 59))
			f.clock.Advance(2 * time.Minute) // past midnight
			got, err := f.svc.Ticket(f.ctx, a1.ID)
			if !carry {
				wantCode(t, err, NotFound, "")
				var expired bool
				for _, ev := range f.j.all() {
					expired = expired || (ev.Type == EvTicketExpired && ev.Ticket.ID == a1.ID)
				}
				if !expired {
					t.Fatal("no expiry event")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Number != "A001" || got.PreviousNumber != "A001" || got.Day != "2026-11-28" || got.Status != Waiting {
				t.Fatalf("carried ticket: %+v", got.Ticket)
			}
			f.restart()
			if _, err := f.svc.Ticket(f.ctx, a1.ID); err != nil {
				t.Fatalf("carried ticket lost on restart: %v", err)
			}
		})
	}
}

func TestOfflineLeaseHandOverMergesByIssueTime(t *testing.T) {
	f := MustHall(t, nil)
	f.clock.Set(at(8, 30)) // leased before the tickets were issued offline
	l, err := f.svc.Lease(f.ctx, Op{}, "kiosk-1", "E", 5)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(at(9, 0))
	if l.From != 995 || l.To != 999 { // leases come from the top
		t.Fatalf("lease %d-%d", l.From, l.To)
	}
	online := f.issue("E", func(r *IssueRequest) { r.CitizenKey = "" })
	if online.Number != "E001" {
		t.Fatalf("online ticket after lease is %s, want E001", online.Number)
	}
	off, err := f.svc.HandOver(f.ctx, Op{IdemKey: "k1:1"}, "kiosk-1", OfflineTicket{Lease: l.ID, Number: 996, IssuedAt: at(8, 50), ID: "offline-ticket-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if off.Number != "E996" || !off.Offline || off.Position != 0 {
		t.Fatalf("got %+v", off)
	}
	_, err = f.svc.HandOver(f.ctx, Op{}, "kiosk-1", OfflineTicket{Lease: l.ID, Number: 996, ID: "offline-ticket-0002"})
	wantCode(t, err, Conflict, "number_used")
	old, err := f.svc.HandOver(f.ctx, Op{}, "kiosk-1", OfflineTicket{Lease: l.ID, Number: 998, IssuedAt: at(8, 55), ID: "offline-ticket-0005", AgeClass: AgeElderly})
	if err != nil || old.Channel != Priority {
		t.Fatalf("an elderly citizen's offline ticket: %v, channel %s, want priority", err, old.Channel)
	}
	_, err = f.svc.HandOver(f.ctx, Op{}, "kiosk-2", OfflineTicket{Lease: l.ID, Number: 997, ID: "offline-ticket-0003"})
	wantCode(t, err, NotFound, "unknown_lease")
	_, err = f.svc.HandOver(f.ctx, Op{}, "kiosk-1", OfflineTicket{Lease: l.ID, Number: 9, ID: "offline-ticket-0004"})
	wantCode(t, err, Invalid, "")
	f.open(8)
	if got := f.call(8); got.ID != old.ID {
		t.Fatalf("the priority offline ticket is not called first: got %s", got.Number)
	}
	f.mustAct(ActNoShow, old.ID)
	if got := f.call(8); got.ID != off.ID {
		t.Fatalf("offline ticket issued earlier not first: got %s", got.Number)
	}
}

func TestEstimateAccountsForWindowsAndPosition(t *testing.T) {
	f := MustHall(t, nil)
	f.open(5, 6) // C is served at windows 5 and 6, mean 7 min
	var last TicketView
	for range 4 {
		last = f.issue("C")
	}
	if last.Position != 3 {
		t.Fatalf("position %d, want 3", last.Position)
	}
	// two idle windows, 3 ahead: call at 0, 0, 7, 7 min → the 4th waits 7 min
	if got := last.EstimatedWaitS; got != 7*60 {
		t.Fatalf("estimate %ds, want 420s", got)
	}
	tk := f.issue("A")
	if tk.EstimatedWaitS != -1 {
		t.Fatalf("no window serves A yet, estimate %d", tk.EstimatedWaitS)
	}
}

func TestCompleteFromCalledOnlyWhereTheHallAllowsIt(t *testing.T) {
	for _, allowed := range []bool{false, true} {
		t.Run(fmt.Sprint("allowed=", allowed), func(t *testing.T) {
			f := MustHall(t, func(c *Config) { c.Rules.CompleteFromCalled = allowed })
			tk := f.issue("A")
			f.open(1)
			f.call(1)
			f.clock.Advance(2 * time.Minute)
			got, err := f.act(ActComplete, tk.ID)
			if !allowed {
				wantCode(t, err, Conflict, "illegal_transition")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != Done || got.StartedAt.IsZero() || !got.StartedAt.Equal(got.FinishedAt) {
				t.Fatalf("completed from called: %+v, want done with the start implied at the finish", got.Ticket)
			}
			if ws, _ := f.svc.Windows(f.ctx); ws[0].Current != "" {
				t.Fatal("completing did not free the window")
			}
		})
	}
}

func TestParkKeepsTheParkTime(t *testing.T) {
	f := MustHall(t, nil)
	tk := f.issue("A")
	f.open(1)
	f.call(1)
	f.clock.Advance(5 * time.Minute)
	parked := f.mustAct(ActPark, tk.ID)
	if !parked.ParkedAt.Equal(f.clock.Now()) || parked.ParkedAt.Equal(parked.CalledAt) {
		t.Fatalf("parked_at = %v, called_at = %v, want the park time %v", parked.ParkedAt, parked.CalledAt, f.clock.Now())
	}
}

// A hall server whose machine runs UTC (its clock reads UTC) still records
// the hall's times: tickets, replies and events carry the hall's zone, so
// the pages and the central, which show a time as it is written, show
// 09:30 for a ticket taken at 09:30 in the hall.
func TestTimesAreInTheHallsZoneWhateverTheMachinesZone(t *testing.T) {
	f := MustHall(t, func(c *Config) { c.Hall.TimeZone = "Asia/Shanghai" })
	f.clock.Set(at(9, 30).UTC())
	tk := f.issue("A")
	if got := tk.IssuedAt.Format("15:04 -07:00"); got != "09:30 +08:00" {
		t.Errorf("the reply's issue time reads %s, want 09:30 +08:00", got)
	}
	evs := f.j.all()
	ev := evs[len(evs)-1]
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"at":"2026-11-27T09:30:00+08:00"`) {
		t.Errorf("the event's time is not the hall's: %.200s", b)
	}
	if got := f.svc.Now().Format("15:04 -07:00"); got != "09:30 +08:00" {
		t.Errorf("Service.Now reads %s, want 09:30 +08:00", got)
	}
}
