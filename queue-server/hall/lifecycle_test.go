package hall

import (
	"slices"
	"testing"
)

// TestTicketLifeCycle is the ticket life cycle as one table: every status a
// ticket can be in × every action → allowed (and the status it leads to)
// or the exact refusal. Each cell runs on a fresh hall, so a refusal is
// also checked to write nothing.
func TestTicketLifeCycle(t *testing.T) {
	const ill = "illegal_transition"
	// reach puts a fresh ticket of service A into a status, through the
	// public operations only; window 1 (serving A and B) is open.
	reach := map[string]func(f *fixture) string{
		"waiting": func(f *fixture) string { return f.issue("A").ID },
		"called":  func(f *fixture) string { f.issue("A"); return f.call(1).ID },
		"serving": func(f *fixture) string { f.issue("A"); id := f.call(1).ID; f.mustAct(ActStart, id); return id },
		"done": func(f *fixture) string {
			f.issue("A")
			id := f.call(1).ID
			f.mustAct(ActStart, id)
			f.mustAct(ActComplete, id)
			return id
		},
		"done, rated": func(f *fixture) string {
			f.issue("A")
			id := f.call(1).ID
			f.mustAct(ActStart, id)
			f.mustAct(ActComplete, id)
			f.mustAct(ActRate, id, func(a *Action) { a.Score = 4 })
			return id
		},
		"no_show": func(f *fixture) string { f.issue("A"); id := f.call(1).ID; f.mustAct(ActNoShow, id); return id },
		"parked": func(f *fixture) string {
			f.issue("A")
			id := f.call(1).ID
			f.mustAct(ActStart, id)
			f.mustAct(ActPark, id)
			return id
		},
		"cancelled": func(f *fixture) string { id := f.issue("A").ID; f.mustAct(ActCancel, id); return id },
		"expired": func(f *fixture) string { // the manager closed the day with it open
			id := f.issue("A").ID
			if err := f.svc.CloseDay(f.ctx, Op{Actor: "manager"}); err != nil {
				f.t.Fatal(err)
			}
			return id
		},
	}
	// want[status][action]: the status it leads to when allowed ("=": the
	// same), else "!" and the refusal reason (or code for plain errors).
	want := map[string]map[string]string{
		"waiting":     {ActRecall: "!" + ill, ActStart: "!" + ill, ActComplete: "!" + ill, ActNoShow: "!" + ill, ActRequeue: "!" + ill, ActTransfer: "waiting", ActPark: "!" + ill, ActResume: "!" + ill, ActCancel: "cancelled", ActRate: "!" + ill, ActPrintFailed: "=", ActAddMatter: "=", ActRemoveMatter: "!matter_not_on_ticket", ActOutcome: "!" + ill},
		"called":      {ActRecall: "called", ActStart: "serving", ActComplete: "!" + ill, ActNoShow: "no_show", ActRequeue: "!" + ill, ActTransfer: "waiting", ActPark: "parked", ActResume: "!" + ill, ActCancel: "cancelled", ActRate: "!" + ill, ActPrintFailed: "=", ActAddMatter: "=", ActRemoveMatter: "!matter_not_on_ticket", ActOutcome: "!matter_not_on_ticket"},
		"serving":     {ActRecall: "!" + ill, ActStart: "!" + ill, ActComplete: "done", ActNoShow: "!" + ill, ActRequeue: "!" + ill, ActTransfer: "waiting", ActPark: "parked", ActResume: "!" + ill, ActCancel: "!" + ill, ActRate: "!" + ill, ActPrintFailed: "=", ActAddMatter: "=", ActRemoveMatter: "!matter_not_on_ticket", ActOutcome: "!matter_not_on_ticket"},
		"done":        {ActRecall: "!" + ill, ActStart: "!" + ill, ActComplete: "!" + ill, ActNoShow: "!" + ill, ActRequeue: "!" + ill, ActTransfer: "!" + ill, ActPark: "!" + ill, ActResume: "!" + ill, ActCancel: "!" + ill, ActRate: "done", ActPrintFailed: "!" + ill, ActAddMatter: "!" + ill, ActRemoveMatter: "!" + ill, ActOutcome: "!" + ill},
		"done, rated": {ActRecall: "!" + ill, ActStart: "!" + ill, ActComplete: "!" + ill, ActNoShow: "!" + ill, ActRequeue: "!" + ill, ActTransfer: "!" + ill, ActPark: "!" + ill, ActResume: "!" + ill, ActCancel: "!" + ill, ActRate: "!already_rated", ActPrintFailed: "!" + ill, ActAddMatter: "!" + ill, ActRemoveMatter: "!" + ill, ActOutcome: "!" + ill},
		"no_show":     {ActRecall: "!" + ill, ActStart: "!" + ill, ActComplete: "!" + ill, ActNoShow: "!" + ill, ActRequeue: "waiting", ActTransfer: "!" + ill, ActPark: "!" + ill, ActResume: "!" + ill, ActCancel: "!" + ill, ActRate: "!" + ill, ActPrintFailed: "!" + ill, ActAddMatter: "!" + ill, ActRemoveMatter: "!" + ill, ActOutcome: "!" + ill},
		"parked":      {ActRecall: "!" + ill, ActStart: "!" + ill, ActComplete: "!" + ill, ActNoShow: "!" + ill, ActRequeue: "!" + ill, ActTransfer: "!" + ill, ActPark: "!" + ill, ActResume: "serving", ActCancel: "cancelled", ActRate: "!" + ill, ActPrintFailed: "=", ActAddMatter: "=", ActRemoveMatter: "!matter_not_on_ticket", ActOutcome: "!" + ill},
		"cancelled":   {ActRecall: "!" + ill, ActStart: "!" + ill, ActComplete: "!" + ill, ActNoShow: "!" + ill, ActRequeue: "!" + ill, ActTransfer: "!" + ill, ActPark: "!" + ill, ActResume: "!" + ill, ActCancel: "!" + ill, ActRate: "!" + ill, ActPrintFailed: "!" + ill, ActAddMatter: "!" + ill, ActRemoveMatter: "!" + ill, ActOutcome: "!" + ill},
		"expired":     {},
	}
	for _, a := range Actions {
		want["expired"][a] = "!" + ill
	}
	// The table covers every status and every action: a new one fails here
	// until someone decides its row or column.
	for _, s := range []Status{Waiting, Called, Serving, Done, NoShow, Parked, Cancelled, Expired} {
		if want[string(s)] == nil {
			t.Errorf("status %s has no row", s)
		}
	}
	for status, row := range want {
		for _, a := range Actions {
			if _, ok := row[a]; !ok {
				t.Errorf("%s × %s: no cell", status, a)
			}
		}
		if len(row) != len(Actions) {
			t.Errorf("%s: %d cells for %d actions", status, len(row), len(Actions))
		}
	}
	args := map[string]func(*Action){
		ActTransfer: func(a *Action) { a.Service = "B" },
		ActRate:     func(a *Action) { a.Score = 5 },
		// the ticket carries no matter: add-matter adds one, the others find none
		ActAddMatter:    func(a *Action) { a.Matter = "hukou-move" },
		ActRemoveMatter: func(a *Action) { a.Matter = "hukou-move" },
		ActOutcome:      func(a *Action) { a.Matter = "hukou-move"; a.Outcome = OutcomeDone },
	}
	for status, row := range want {
		for action, cell := range row {
			t.Run(status+"×"+action, func(t *testing.T) {
				f := MustHall(t, testMatters)
				f.open(1)
				id := reach[status](f)
				before := len(f.j.all())
				var mods []func(*Action)
				if m := args[action]; m != nil {
					mods = append(mods, m)
				}
				got, err := f.act(action, id, mods...)
				if refusal, refused := cutPrefix(cell, "!"); refused {
					if err == nil {
						t.Fatalf("allowed (now %s), want refused with %s", got.Status, refusal)
					}
					if ErrorReason(err) != refusal && !(ErrorReason(err) == "" && string(ErrorCode(err)) == refusal) {
						t.Fatalf("refused with %s/%s (%v), want %s", ErrorCode(err), ErrorReason(err), err, refusal)
					}
					if n := len(f.j.all()) - before; n != 0 {
						t.Fatalf("the refusal wrote %d events", n)
					}
					return
				}
				if err != nil {
					t.Fatalf("refused (%s/%s: %v), want allowed", ErrorCode(err), ErrorReason(err), err)
				}
				wantStatus := Status(cell)
				if cell == "=" {
					wantStatus = Status(status)
				}
				if got.Status != wantStatus {
					t.Fatalf("now %s, want %s", got.Status, wantStatus)
				}
				if len(f.j.all()) == before {
					t.Fatal("allowed but wrote no event")
				}
			})
		}
	}
	if !slices.Contains(Actions, ActPrintFailed) {
		t.Fatal("the action list lost print-failed")
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}
