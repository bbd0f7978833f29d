package hall

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"hallq/internal/catalog"
)

// testMatters gives the sample hall three matters: two of 户政 (A), one of
// 出入境 (B).
func testMatters(c *Config) {
	c.Matters = []catalog.Matter{
		{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Hukou move"}, Services: []string{"A"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证", EN: "ID card"}, Original: true}, {Name: catalog.Text{ZH: "户口簿", EN: "Household register"}, Original: true}, {Name: catalog.Text{ZH: "准迁证", EN: "Move permit"}}}},
		{Code: "id-renew", Name: catalog.Text{ZH: "身份证换领", EN: "ID card renewal"}, Services: []string{"A"}, Booking: catalog.BookingNone,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "原身份证", EN: "Old ID card"}}}},
		{Code: "passport", Name: catalog.Text{ZH: "护照申领", EN: "Passport"}, Services: []string{"B"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证", EN: "ID card"}}, {Name: catalog.Text{ZH: "照片回执", EN: "Photo receipt"}}}},
	}
}

func matter(code string) func(*Action) { return func(a *Action) { a.Matter = code } }

func TestMattersComeFromConfigOrTheProvince(t *testing.T) {
	f := MustHall(t, nil)
	hm, err := f.svc.Matters(f.ctx)
	if err != nil || hm.Source != "none" || len(hm.Matters) != 0 || len(hm.Indicators[1]) != 4 {
		t.Fatalf("a hall without matters: %+v, %v", hm, err)
	}
	var c catalog.Catalog
	testMatters(&Config{})
	cfg := Config{}
	testMatters(&cfg)
	c = catalog.Catalog{Version: 7, PublishedAt: "2026-11-27T08:00:00+08:00", Matters: cfg.Matters}
	if v, err := f.svc.ReceiveCatalog(f.ctx, Op{Actor: "central"}, c); err != nil || v != 7 {
		t.Fatalf("receive: %d %v", v, err)
	}
	before := len(f.j.all())
	old := c
	old.Version = 6
	if v, err := f.svc.ReceiveCatalog(f.ctx, Op{Actor: "central"}, old); err != nil || v != 7 || len(f.j.all()) != before {
		t.Fatalf("an older version replaced the newer one or wrote an event: %d %v", v, err)
	}
	if _, err := f.svc.ReceiveCatalog(f.ctx, Op{}, catalog.Catalog{}); ReasonOf(err) != ReasonInvalidCatalog {
		t.Fatalf("an invalid catalogue: %v", err)
	}
	f.restart() // the catalogue is in the journal: it survives a restart
	hm, _ = f.svc.Matters(f.ctx)
	if hm.Source != "province" || hm.Version != 7 || !slices.Equal(hm.ByService["A"], []string{"hukou-move", "id-renew"}) || !slices.Equal(hm.ByService["B"], []string{"passport"}) {
		t.Fatalf("after restart: %+v", hm)
	}

	own := MustHall(t, func(c *Config) {
		testMatters(c)
		c.Matters = c.Matters[:1]
	})
	own.svc.ReceiveCatalog(own.ctx, Op{}, c)
	hm, _ = own.svc.Matters(own.ctx)
	if hm.Source != "config" || len(hm.Matters) != 1 {
		t.Fatalf("the hall's own matters must win: %+v", hm)
	}
}

func TestConfigMattersAreValidated(t *testing.T) {
	cfg := SampleConfig()
	testMatters(&cfg)
	cfg.Matters[0].Services = []string{"Z"}
	if err := cfg.Validate(); err == nil {
		t.Fatal("a matter of an unknown service was accepted")
	}
	testMatters(&cfg)
	cfg.Matters[1].Code = cfg.Matters[0].Code
	if err := cfg.Validate(); err == nil {
		t.Fatal("a duplicate matter was accepted")
	}
	cfg = SampleConfig()
	cfg.Rules.RepeatWithin = -1
	if err := cfg.Validate(); err == nil {
		t.Fatal("a negative repeat_within was accepted")
	}
}

// TestOneTicketThroughSeveralMatters: 户口迁移 done and 身份证换领 with
// materials missing at 户政, then transferred to 出入境 for the passport,
// which keeps the number; the visit lists each matter with its outcome.
func TestOneTicketThroughSeveralMatters(t *testing.T) {
	f := MustHall(t, testMatters)
	f.open(1, 4)
	tk := f.issue("A")
	f.call(1)
	f.mustAct(ActStart, tk.ID)
	for _, m := range []string{"hukou-move", "id-renew", "passport"} {
		f.mustAct(ActAddMatter, tk.ID, matter(m))
	}
	_, err := f.act(ActAddMatter, tk.ID, matter("passport"))
	wantCode(t, err, Conflict, string(ReasonMatterOnTicket))
	_, err = f.act(ActAddMatter, tk.ID, matter("visa-on-mars"))
	wantCode(t, err, NotFound, string(ReasonUnknownMatter))

	f.mustAct(ActOutcome, tk.ID, matter("hukou-move"), func(a *Action) { a.Outcome = OutcomeDone })
	_, err = f.act(ActComplete, tk.ID)
	wantCode(t, err, Conflict, string(ReasonMattersPending)) // id-renew has no outcome
	_, err = f.act(ActOutcome, tk.ID, matter("passport"), func(a *Action) { a.Outcome = OutcomeDone })
	wantCode(t, err, Conflict, string(ReasonNotServedHere))
	_, err = f.act(ActOutcome, tk.ID, matter("hukou-move"), func(a *Action) { a.Outcome = OutcomeRefused; a.Reason = "x" })
	wantCode(t, err, Conflict, string(ReasonMatterHasOutcome))
	_, err = f.act(ActRemoveMatter, tk.ID, matter("hukou-move"))
	wantCode(t, err, Conflict, string(ReasonMatterHasOutcome))
	v := f.mustAct(ActOutcome, tk.ID, matter("id-renew"), func(a *Action) { a.Outcome = OutcomeIncomplete; a.Missing = []int{0, 0} })
	if m := v.Matters[1]; m.Outcome != OutcomeIncomplete || len(m.Missing) != 1 || m.Missing[0].ZH != "原身份证" || m.Window != 1 || m.Clerk != "clerk1" || m.Service != "A" {
		t.Fatalf("incomplete matter: %+v", m)
	}
	n, ok := NoticeOf(&v.Ticket)
	if !ok || n.Ticket != tk.Number || len(n.Matters) != 1 || n.Matters[0].Code != "id-renew" {
		t.Fatalf("one-time notice: %+v %v", n, ok)
	}

	moved := f.mustAct(ActTransfer, tk.ID, func(a *Action) { a.Service = "B" })
	if moved.Number != tk.Number || moved.Service != "B" || len(moved.Matters) != 3 {
		t.Fatalf("the transfer lost the number or the matters: %+v", moved.Ticket)
	}
	f.call(4)
	f.mustAct(ActStart, tk.ID)
	f.mustAct(ActOutcome, tk.ID, matter("passport"), func(a *Action) { a.Outcome = OutcomeAccepted; a.CaseNumber = "CR2026-001" })
	done := f.mustAct(ActComplete, tk.ID)
	got := map[string]Outcome{}
	for _, m := range done.Matters {
		got[m.Code] = m.Outcome
	}
	if got["hukou-move"] != OutcomeDone || got["id-renew"] != OutcomeIncomplete || got["passport"] != OutcomeAccepted || done.Matters[2].CaseNumber != "CR2026-001" || done.Matters[2].Window != 4 {
		t.Fatalf("visit record: %+v", done.Matters)
	}
	f.restart()
	again, _ := f.svc.Ticket(f.ctx, tk.ID)
	if len(again.Matters) != 3 || again.Matters[1].Missing[0].ZH != "原身份证" {
		t.Fatalf("after restart: %+v", again.Matters)
	}
}

func TestOutcomeRulesRefuseWithoutWriting(t *testing.T) {
	f := MustHall(t, testMatters)
	f.open(1)
	tk := f.issue("A")
	f.call(1)
	f.mustAct(ActAddMatter, tk.ID, matter("hukou-move"))
	f.mustAct(ActAddMatter, tk.ID, matter("id-renew"))
	before := len(f.j.all())
	for name, a := range map[string]func(*Action){
		"no outcome":                    func(a *Action) {},
		"unknown outcome":               func(a *Action) { a.Outcome = "maybe" },
		"accepted without case number":  func(a *Action) { a.Outcome = OutcomeAccepted },
		"case number on done":           func(a *Action) { a.Outcome = OutcomeDone; a.CaseNumber = "1" },
		"case number with a newline":    func(a *Action) { a.Outcome = OutcomeAccepted; a.CaseNumber = "1\n2" },
		"refused without reason":        func(a *Action) { a.Outcome = OutcomeRefused; a.Reason = "  " },
		"incomplete without missing":    func(a *Action) { a.Outcome = OutcomeIncomplete },
		"incomplete, material unknown":  func(a *Action) { a.Outcome = OutcomeIncomplete; a.Missing = []int{3} },
		"missing on done":               func(a *Action) { a.Outcome = OutcomeDone; a.Missing = []int{0} },
		"incomplete, negative material": func(a *Action) { a.Outcome = OutcomeIncomplete; a.Missing = []int{-1} },
	} {
		_, err := f.act(ActOutcome, tk.ID, matter("hukou-move"), a)
		if ErrorCode(err) != Invalid {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
	_, err := f.act(ActOutcome, tk.ID, matter("passport"), func(a *Action) { a.Outcome = OutcomeDone })
	wantCode(t, err, NotFound, string(ReasonMatterNotOnTicket))
	if len(f.j.all()) != before {
		t.Fatalf("refusals wrote %d events", len(f.j.all())-before)
	}
	f.mustAct(ActRemoveMatter, tk.ID, matter("id-renew"))
	f.mustAct(ActStart, tk.ID)
	f.mustAct(ActOutcome, tk.ID, matter("hukou-move"), func(a *Action) { a.Outcome = OutcomeRefused; a.Reason = "不属于本辖区" })
	if v := f.mustAct(ActComplete, tk.ID); len(v.Matters) != 1 || v.Matters[0].Reason != "不属于本辖区" {
		t.Fatalf("got %+v", v.Matters)
	}
}

// TestOneRatingPerVisitAndMatter: each matter is rated once, by whichever
// channel comes first; a low rating needs its reason; options are checked.
func TestOneRatingPerVisitAndMatter(t *testing.T) {
	f := MustHall(t, testMatters)
	f.open(1)
	tk := f.issue("A")
	f.call(1)
	f.mustAct(ActAddMatter, tk.ID, matter("hukou-move"))
	f.mustAct(ActAddMatter, tk.ID, matter("id-renew"))
	f.mustAct(ActOutcome, tk.ID, matter("hukou-move"), func(a *Action) { a.Outcome = OutcomeDone })
	rate := func(m string, score int, mods ...func(*Action)) (TicketView, error) {
		return f.act(ActRate, tk.ID, append([]func(*Action){matter(m), func(a *Action) { a.Score = score }}, mods...)...)
	}
	_, err := rate("id-renew", 5)
	wantCode(t, err, Conflict, string(ReasonIllegalTransition)) // not handled yet
	_, err = rate("", 5)
	wantCode(t, err, Invalid, "") // a ticket with matters rates a matter
	_, err = rate("hukou-move", 1)
	wantCode(t, err, Invalid, string(ReasonRatingNeedsReason))
	_, err = rate("hukou-move", 1, func(a *Action) { a.Indicators = []Indicator{"mood"} })
	wantCode(t, err, Invalid, "")
	_, err = rate("hukou-move", 1, func(a *Action) { a.Via = "pigeon"; a.Reason = "x" })
	wantCode(t, err, Invalid, "")
	v, err := rate("hukou-move", 2, func(a *Action) { a.Via = ViaPhone; a.Indicators = []Indicator{IndEfficiency, IndEfficiency} })
	if err != nil {
		t.Fatal(err)
	}
	if r := v.Matters[0].Rating; r == nil || r.Score != 2 || r.Channel != ViaPhone || !slices.Equal(r.Indicators, []Indicator{IndEfficiency}) {
		t.Fatalf("rating: %+v", v.Matters[0].Rating)
	}
	_, err = rate("hukou-move", 5, func(a *Action) { a.Via = ViaWindowPad })
	wantCode(t, err, Conflict, string(ReasonAlreadyRated)) // only the first channel counts
	f.mustAct(ActOutcome, tk.ID, matter("id-renew"), func(a *Action) { a.Outcome = OutcomeDone })
	if _, err := rate("id-renew", 5, func(a *Action) { a.Via = ViaKiosk }); err != nil {
		t.Fatalf("the second matter is rated on its own: %v", err)
	}
	if got := IndicatorOptions(1)[3].Label.ZH; got != "服务态度差" {
		t.Fatalf("the options of a low level: %q", got)
	}
	if got := IndicatorOptions(5)[3].Label.ZH; got != "服务态度好" {
		t.Fatalf("the options of a high level: %q", got)
	}
}

// latestTickets returns every ticket's latest snapshot in the journal, any day.
func (f *fixture) latestTickets() []Ticket {
	byID := map[string]Ticket{}
	var order []string
	for _, ev := range f.j.all() {
		if ev.Ticket != nil {
			if _, ok := byID[ev.Ticket.ID]; !ok {
				order = append(order, ev.Ticket.ID)
			}
			byID[ev.Ticket.ID] = *ev.Ticket
		}
	}
	out := make([]Ticket, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out
}

// visit takes a ticket for service with key, calls it at window, records
// outcome for matter and completes it.
func (f *fixture) visit(service, key string, window int, code string, o Outcome) TicketView {
	f.t.Helper()
	tk := f.issue(service, func(r *IssueRequest) { r.CitizenKey = key })
	if got := f.call(window); got.ID != tk.ID {
		f.t.Fatalf("window %d called %s, not %s", window, got.Number, tk.Number)
	}
	f.mustAct(ActStart, tk.ID)
	f.mustAct(ActAddMatter, tk.ID, matter(code))
	f.mustAct(ActOutcome, tk.ID, matter(code), func(a *Action) {
		a.Outcome = o
		if o == OutcomeIncomplete {
			a.Missing = []int{0}
		}
		if o == OutcomeAccepted {
			a.CaseNumber = "C-1"
		}
	})
	return f.mustAct(ActComplete, tk.ID)
}

// TestRepeatVisitsAcrossDays: a citizen sent home with materials missing
// on Friday who finishes the matter on Monday came twice; another who
// finishes at once came once; one without an ID card is not matched; a
// return after the period is a new first visit.
func TestRepeatVisitsAcrossDays(t *testing.T) {
	f := MustHall(t, func(c *Config) {
		testMatters(c)
		c.OpenAllDay()
		c.Rules.RepeatWithin = Duration(7 * 24 * time.Hour)
		c.Services[0].RequiresID = false // a citizen without a card gets a ticket at the desk
	})
	f.open(1, 2)
	key := func(n int) string { return fmt.Sprintf("%064x", n) }
	f.visit("A", key(1), 1, "hukou-move", OutcomeIncomplete) // Friday 27th: back home for the permit
	f.visit("A", key(2), 2, "hukou-move", OutcomeDone)       // done at once
	f.visit("A", key(4), 1, "id-renew", OutcomeDone)         // renews on the 27th …
	f.clock.Advance(3 * 24 * time.Hour)                      // Monday 30th
	f.open(1, 2)
	f.visit("A", key(1), 2, "hukou-move", OutcomeDone) // the repeat visit, finished
	f.visit("A", "", 1, "id-renew", OutcomeAccepted)   // no card read: not matched
	f.clock.Advance(8 * 24 * time.Hour)                // … and comes again after the period
	f.open(1, 2)
	f.visit("A", key(4), 1, "id-renew", OutcomeDone)

	cfg := f.svc.Config()
	all := f.latestTickets()
	mon := OneVisitFigures(cfg, all, "2026-11-30", "2026-11-30")
	if mon.Total.Handled != 2 || mon.Total.Repeats != 1 || mon.Total.FirstVisit != 0 || mon.Total.Unkeyed != 1 || mon.Total.Rate != 0 {
		t.Fatalf("Monday: %+v", mon.Total)
	}
	week := OneVisitFigures(cfg, all, "2026-11-27", "2026-11-30")
	byMatter := map[string]OneVisit{}
	for _, o := range week.ByMatter {
		byMatter[o.Key] = o
	}
	// hukou-move: 3 handled, 2 finished (key 2 at once, key 1 at the repeat)
	if h := byMatter["hukou-move"]; h.Handled != 3 || h.Finished != 2 || h.Repeats != 1 || h.FirstVisit != 1 || h.Rate != 0.5 || h.Name.ZH != "户口迁移" {
		t.Fatalf("hukou-move: %+v", h)
	}
	byWindow := map[string]OneVisit{}
	for _, o := range week.ByWindow {
		byWindow[o.Key] = o
	}
	if w2 := byWindow["2"]; w2.Handled != 2 || w2.Repeats != 1 || w2.Rate != 0.5 || w2.Name.ZH != "2号窗口" {
		t.Fatalf("window 2: %+v", w2)
	}
	later := OneVisitFigures(cfg, all, "2026-12-08", "2026-12-08")
	if later.Total.Handled != 1 || later.Total.Repeats != 0 || later.Total.Rate != 1 {
		t.Fatalf("a visit after the period is a first visit: %+v", later.Total)
	}
	for _, tk := range all {
		if tk.CitizenKey != "" && len(tk.CitizenKey) != 64 {
			t.Fatalf("a ticket holds something else than the keyed hash: %q", tk.CitizenKey)
		}
	}
}

// TestClerkFigures: walk time is call → start; idle counts the time a
// window left a waiting citizen uncalled, not the time nobody waited.
func TestClerkFigures(t *testing.T) {
	f := MustHall(t, testMatters)
	f.open(1)
	a := f.issue("A")
	f.call(1)
	f.clock.Advance(2 * time.Minute) // walk 2 min
	f.mustAct(ActStart, a.ID)
	f.clock.Advance(5 * time.Minute)
	f.mustAct(ActComplete, a.ID) // 09:07
	f.clock.Advance(10 * time.Minute)
	b := f.issue("A") // 09:17: nobody waited from 09:07 to 09:17
	f.clock.Advance(4 * time.Minute)
	f.call(1) // 09:21: B waited 4 min with the window free
	f.clock.Advance(time.Minute)
	f.mustAct(ActStart, b.ID) // walk 1 min
	f.clock.Advance(3 * time.Minute)
	f.mustAct(ActComplete, b.ID)
	d := Summarize(f.svc.Config(), "2026-11-27", f.latestTickets())
	if len(d.Windows) != 1 || d.Windows[0].Key != "1" || d.Windows[0].IdleS != 4*60 || d.Windows[0].MeanWalkS != 90 {
		t.Fatalf("window figures: %+v", d.Windows)
	}
	if len(d.Clerks) != 1 || d.Clerks[0].IdleS != 4*60 || d.Clerks[0].MeanWalkS != 90 {
		t.Fatalf("clerk figures: %+v", d.Clerks)
	}
}
