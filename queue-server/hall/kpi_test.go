package hall

import (
	"strings"
	"testing"
	"time"
)

// Each figure has one definition; a transferred ticket counts for the
// service it was taken for, and its wait runs from taking the ticket to
// the call that brought the citizen to the window.
func TestFiguresHaveOneDefinition(t *testing.T) {
	f := MustHall(t, nil)
	f.open(1, 3, 8)
	a := f.issue("A")
	e := f.issue("E")
	f.clock.Advance(10 * time.Minute)
	if got := f.call(1); got.ID != a.ID {
		t.Fatalf("window 1 called %s", got.Number)
	}
	f.clock.Advance(time.Minute)
	f.mustAct(ActStart, a.ID)
	f.clock.Advance(4 * time.Minute)
	f.mustAct(ActTransfer, a.ID, func(x *Action) { x.Service = "B" }) // A001 now waits for B
	f.clock.Advance(5 * time.Minute)
	if got := f.call(3); got.ID != a.ID {
		t.Fatalf("window 3 called %s", got.Number)
	}
	f.clock.Advance(2 * time.Minute)
	f.mustAct(ActStart, a.ID)
	f.clock.Advance(6 * time.Minute)
	f.mustAct(ActComplete, a.ID)
	f.mustAct(ActRate, a.ID, func(x *Action) { x.Score = 2; x.Reason = "waited long" })
	if got := f.call(8); got.ID != e.ID {
		t.Fatalf("window 8 called %s", got.Number)
	}

	ts, _ := f.svc.Tickets(f.ctx, nil)
	var tickets []Ticket
	for _, v := range ts {
		tickets = append(tickets, v.Ticket)
	}
	d := Summarize(f.svc.Config(), "2026-11-27", tickets)
	if d.Open != "08:30" || d.Close != "17:30" {
		t.Fatalf("the hall's hours are %s–%s, want the configured 08:30–17:30", d.Open, d.Close)
	}
	byKey := map[string]GroupFigures{}
	for _, g := range d.Services {
		byKey[g.Key] = g
	}
	A, B, E := byKey["A"], byKey["B"], byKey["E"]
	if A.Issued != 1 || A.Served != 1 || A.Transferred != 1 || B.Issued != 0 {
		t.Fatalf("issued by issuing service: A %+v, B %+v", A.Figures, B.Figures)
	}
	// A001: issued 09:00, called at B 09:20 → wait 20 min; started 09:22,
	// done 09:28 → service 6 min, handling 8 min.
	if A.MeanWaitS != 20*60 || A.MeanServiceS != 6*60 || A.MeanHandlingS != 8*60 {
		t.Fatalf("A wait %v, service %v, handling %v", A.MeanWaitS, A.MeanServiceS, A.MeanHandlingS)
	}
	if E.MeanWaitS != 28*60 || E.Open != 1 || E.Served != 0 {
		t.Fatalf("E: %+v", E.Figures)
	}
	if A.WithinTarget != 1 || E.WithinTarget != 1 || A.Dissatisfied != 1 || A.MeanRating != 2 {
		t.Fatalf("within target / ratings: A %+v", A.Figures)
	}
	if d.Total.Issued != 2 || d.Total.Called != 2 || d.Total.MeanWaitS != 24*60 {
		t.Fatalf("total %+v", d.Total)
	}
	if d.WaitHist[4] != 2 { // 20–30 min
		t.Fatalf("wait histogram %v", d.WaitHist)
	}
	if len(d.Clerks) == 0 {
		t.Fatal("no clerk figures")
	}
	// Flow: every 15 min of the hall's hours, no gaps, nothing lost.
	issued, served := 0, 0
	for i, b := range d.Flow {
		issued += b.Issued
		served += b.Served
		if i > 0 {
			prev, _ := parseClock(d.Flow[i-1].At)
			cur, _ := parseClock(b.At)
			if cur-prev != 15*time.Minute {
				t.Fatalf("flow steps %s → %s", d.Flow[i-1].At, b.At)
			}
		}
	}
	if issued != 2 || served != 1 || d.Flow[0].At != d.Open {
		t.Fatalf("flow: %d issued, %d served, starts %s (hall opens %s)", issued, served, d.Flow[0].At, d.Open)
	}
	heat := 0
	for _, r := range d.Heat {
		for _, n := range r.Issued {
			heat += n
		}
	}
	if heat != 2 || len(d.Heat[0].Issued) != len(d.Hours) {
		t.Fatalf("heat map holds %d tickets over %d hours", heat, len(d.Hours))
	}

	// The day summary sent to the central uses the same wait.
	if err := f.svc.CloseDay(f.ctx, Op{}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range f.j.all() {
		if ev.Type == EvDayClosed {
			if got := ev.Summary.Services["A"].MeanWaitS; got != A.MeanWaitS {
				t.Fatalf("day summary: A mean wait %v, figures say %v", got, A.MeanWaitS)
			}
		}
	}
}

func TestAlertThresholdsValidated(t *testing.T) {
	c := SampleConfig()
	if c.Alerts.WaitOver.D() != 30*time.Minute {
		t.Fatalf("default wait_over %v", c.Alerts.WaitOver.D())
	}
	c.Alerts.PauseOver = Duration(9 * time.Hour)
	c.Alerts.KioskSilent = Duration(time.Second)
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"alerts.pause_over", "alerts.kiosk_silent"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}
