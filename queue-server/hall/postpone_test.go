package hall

import (
	"testing"
	"time"
)

func position(t *testing.T, f *fixture, id string) TicketView {
	t.Helper()
	v, err := f.svc.Ticket(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPostponeMovesBackTheConfiguredPlacesOnce(t *testing.T) {
	f := MustHall(t, func(c *Config) { c.Rules.PostponePlaces = 3 })
	var ids []string
	for range 6 {
		ids = append(ids, f.issue("A").ID)
		f.clock.Advance(time.Minute)
	}
	f.open(1)
	first := position(t, f, ids[1])
	v, err := f.svc.Postpone(f.ctx, Op{Actor: "phone"}, ids[1], true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Postponed || v.Position != 4 || v.Status != Waiting {
		t.Fatalf("after postponing A002: %+v, want waiting at position 4 (was %d)", v, first.Position)
	}
	if v.EstimatedWaitS <= first.EstimatedWaitS {
		t.Errorf("estimate %ds did not grow from %ds", v.EstimatedWaitS, first.EstimatedWaitS)
	}
	if ev := f.j.all(); ev[len(ev)-1].Type != EvTicketPostponed || ev[len(ev)-1].Ticket.ID != ids[1] {
		t.Errorf("last event = %+v", ev[len(ev)-1])
	}
	// those it let pass each moved up one place
	for i, want := range map[int]int{0: 0, 2: 1, 3: 2, 4: 3, 5: 5} {
		if p := position(t, f, ids[i]).Position; p != want {
			t.Errorf("ticket %d at position %d, want %d", i, p, want)
		}
	}
	_, err = f.svc.Postpone(f.ctx, Op{Actor: "phone"}, ids[1], true, 0)
	wantCode(t, err, Conflict, string(ReasonAlreadyPostponed))
	// the new place survives a restart and decides the calls
	f.restart()
	var order []string
	for range 6 {
		c := f.call(1)
		order = append(order, c.Number)
		f.mustAct(ActStart, c.ID)
		f.mustAct(ActComplete, c.ID)
	}
	if got := order[4]; got != "A002" {
		t.Errorf("call order %v, want A002 fifth", order)
	}
}

func TestPostponeNearTheEndGoesLast(t *testing.T) {
	f := MustHall(t, nil) // default: 5 places
	a := f.issue("A")
	f.clock.Advance(time.Minute)
	b := f.issue("A")
	v, err := f.svc.Postpone(f.ctx, Op{Actor: "phone"}, a.ID, true, 0)
	if err != nil || v.Position != 1 {
		t.Fatalf("postpone with one behind: %+v, %v", v, err)
	}
	if position(t, f, b.ID).Position != 0 {
		t.Error("B did not move up")
	}
}

func TestClerkPostponesACalledCitizen(t *testing.T) {
	f := MustHall(t, func(c *Config) { c.Rules.PostponePlaces = 2 })
	var ids []string
	for range 4 {
		ids = append(ids, f.issue("A").ID)
		f.clock.Advance(time.Minute)
	}
	f.open(1, 2)
	called := f.call(1)
	// the phone page cannot postpone a call; a clerk at another window cannot either
	_, err := f.svc.Postpone(f.ctx, Op{Actor: "phone"}, called.ID, true, 0)
	wantCode(t, err, Conflict, string(ReasonIllegalTransition))
	_, err = f.svc.Postpone(f.ctx, Op{Actor: "clerk2"}, called.ID, false, 2)
	wantCode(t, err, Forbidden, string(ReasonNotYourWindow))
	v, err := f.svc.Postpone(f.ctx, Op{Actor: "clerk1"}, called.ID, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != Waiting || !v.CalledAt.IsZero() || v.Position != 2 {
		t.Fatalf("postponed call: %+v, want waiting at position 2", v)
	}
	ws, _ := f.svc.Windows(f.ctx)
	if ws[0].Current != "" {
		t.Errorf("window 1 still holds %s", ws[0].Current)
	}
	if next := f.call(1); next.ID != ids[1] {
		t.Errorf("window 1 called %s next, want the second ticket", next.Number)
	}
	// a ticket in service cannot be postponed
	f.mustAct(ActStart, ids[1])
	_, err = f.svc.Postpone(f.ctx, Op{Actor: "clerk1"}, ids[1], false, 0)
	wantCode(t, err, Conflict, string(ReasonIllegalTransition))
	_, err = f.svc.Postpone(f.ctx, Op{Actor: "phone"}, "nosuch", true, 0)
	wantCode(t, err, NotFound, "")
}

func TestPostponePlacesAreValidated(t *testing.T) {
	c := SampleConfig()
	if c.Rules.PostponePlaces != DefaultPostponePlaces {
		t.Errorf("default postpone_places = %d", c.Rules.PostponePlaces)
	}
	c.Rules.PostponePlaces = 51
	if err := c.Validate(); err == nil || err.Error() != "rules.postpone_places: must be 1 to 50, got 51" {
		t.Errorf("Validate = %v", err)
	}
}
