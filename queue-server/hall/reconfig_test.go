package hall

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func (f *fixture) update(edit func(*Config)) (Config, error) {
	f.t.Helper()
	cfg := f.svc.Config()
	edit(&cfg)
	return f.svc.UpdateConfig(f.ctx, Op{Actor: "manager"}, cfg)
}

func (f *fixture) mustUpdate(edit func(*Config)) Config {
	f.t.Helper()
	c, err := f.update(edit)
	if err != nil {
		f.t.Fatalf("update config: %v", err)
	}
	return c
}

// withoutService removes a service from a configuration, from its windows,
// and the windows left serving nothing.
func withoutService(code string) func(*Config) {
	return func(c *Config) {
		c.Services = slices.DeleteFunc(c.Services, func(s ServiceConfig) bool { return s.Code == code })
		for i := range c.Windows {
			c.Windows[i].Services = slices.DeleteFunc(c.Windows[i].Services, func(s string) bool { return s == code })
		}
		c.Windows = slices.DeleteFunc(c.Windows, func(w WindowConfig) bool { return len(w.Services) == 0 })
	}
}

func TestConfigChangeRenameQuotaNewServiceAndWindow(t *testing.T) {
	f := MustHall(t, nil)
	e1 := f.issue("E")
	f.open(1)
	seq0 := len(f.j.all())

	got := f.mustUpdate(func(c *Config) {
		sc, _ := c.service("E")
		sc.Name.EN, sc.DailyQuota = "Enquiries", 2 // one already issued: one left
		c.Services = append(c.Services, ServiceConfig{Code: "F", Name: Text{ZH: "出租车", EN: "Taxi permits"},
			Hours: Hours{Open: "08:00", Close: "18:00"}})
		c.Windows = append(c.Windows, WindowConfig{Number: 9, Name: Text{ZH: "9号窗口", EN: "Window 9"}, Services: []string{"F", "E"}})
		w1, _ := c.window(1)
		w1.Name.EN = "Window 1 (express)"
	})
	if sc, _ := got.service("F"); sc == nil || sc.MeanService.D() == 0 {
		t.Fatalf("new service F missing or without the default mean service: %+v", got.Services)
	}
	evs := f.j.all()[seq0:]
	if len(evs) != 1 || evs[0].Type != EvConfigChanged || evs[0].Actor != "manager" || evs[0].Config == nil {
		t.Fatalf("events = %+v, want one config.changed by manager carrying the config", evs)
	}
	if cur := f.svc.Config(); serviceOf(&cur, "E").Name.EN != "Enquiries" {
		t.Errorf("Config() still has the old name %q", serviceOf(&cur, "E").Name.EN)
	}

	// the quota holds at once: 1 issued + 1 = 2, then refused
	f.issue("E")
	_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "E"})
	wantCode(t, err, QuotaExceeded, "service_quota")

	// the new service issues, and the new window serves it
	fTicket := f.issue("F")
	if fTicket.Number != "F001" {
		t.Errorf("first F ticket is %s", fTicket.Number)
	}
	f.open(9)
	if c := f.call(9); c.ID != fTicket.ID {
		t.Errorf("window 9 called %s, want %s", c.Number, fTicket.Number)
	}
	// window 1 kept its state (open) and took its new name; E001 still waits for it
	ws, _ := f.svc.Windows(f.ctx)
	if ws[0].Status != WindowOpen || ws[0].Name.EN != "Window 1 (express)" {
		t.Errorf("window 1 = %+v", ws[0])
	}
	if c := f.call(1); c.ID != e1.ID {
		t.Errorf("window 1 called %s, want %s", c.Number, e1.Number)
	}
	sv, _ := f.svc.Services(f.ctx)
	if i := slices.IndexFunc(sv, func(v ServiceView) bool { return v.Code == "E" }); sv[i].Name.EN != "Enquiries" || sv[i].QuotaLeft != 0 {
		t.Errorf("service view E = %+v", sv[i])
	}

	// a restart comes back with the changed configuration and the tickets
	f.restart()
	if cur := f.svc.Config(); serviceOf(&cur, "F") == nil {
		t.Fatal("service F lost on restart")
	}
	if tk, err := f.svc.Ticket(f.ctx, fTicket.ID); err != nil || tk.Status != Called || tk.Window != 9 {
		t.Fatalf("F001 after restart: %+v, %v", tk, err)
	}
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "E"})
	wantCode(t, err, QuotaExceeded, "service_quota")
}

func TestConfigChangeRefusedChangesNothing(t *testing.T) {
	f := MustHall(t, nil)
	f.issue("D")
	f.open(3)
	before, events := f.svc.Config(), len(f.j.all())
	check := func(name string, code Code, reason string, edit func(*Config), words ...string) {
		t.Helper()
		_, err := f.update(edit)
		wantCode(t, err, code, reason)
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", name, err, w)
			}
		}
		if n := len(f.j.all()); n != events {
			t.Errorf("%s: %d events emitted", name, n-events)
		}
	}
	dropD := withoutService("D")
	check("remove a service with a waiting ticket", Conflict, "config_in_use", dropD, "service D", "D001 (waiting)")
	check("remove an open window", Conflict, "config_in_use", func(c *Config) {
		c.Windows = slices.DeleteFunc(c.Windows, func(w WindowConfig) bool { return w.Number == 3 })
	}, "window 3 is open")
	check("renumber an open window", Conflict, "config_in_use", func(c *Config) { c.Windows[2].Number = 30 }, "window 3")
	check("change the hall id", Conflict, "hall_id_fixed", func(c *Config) { c.Hall.ID = "420102-99" }, "hall.id")
	check("invalid", Invalid, "invalid_config", func(c *Config) {
		c.Services[0].DailyQuota = -1
		c.Services[1].Hours.Close = "07:00"
		c.Windows[0].Services = []string{"Z"}
	}, "services[0].daily_quota", "services[1].hours", `windows[0].services: unknown service "Z"`)
	check("duplicate window", Invalid, "invalid_config", func(c *Config) { c.Windows[1].Number = 1 }, "windows[1].number")

	after := f.svc.Config()
	if !slices.EqualFunc(before.Services, after.Services, func(a, b ServiceConfig) bool { return a == b }) || len(after.Windows) != len(before.Windows) {
		t.Fatal("a refused change altered the configuration")
	}

	// once D's ticket is done, D can go; a closed window can be removed
	f.open(2)
	tk := f.call(2)
	f.mustAct(ActStart, tk.ID)
	f.mustAct(ActComplete, tk.ID)
	f.mustUpdate(dropD)
	f.mustUpdate(func(c *Config) {
		c.Windows = slices.DeleteFunc(c.Windows, func(w WindowConfig) bool { return w.Number == 4 })
	})
	ws, _ := f.svc.Windows(f.ctx)
	if len(ws) != 7 {
		t.Errorf("%d windows, want 7", len(ws))
	}
	_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "D", CitizenKey: strings.Repeat("1", 64)})
	wantCode(t, err, NotFound, "")
}

func TestConfigChangeFailedCommitKeepsOldConfig(t *testing.T) {
	f := MustHall(t, nil)
	f.j.setFail(errors.New("disk full"))
	_, err := f.update(func(c *Config) { c.Services[0].DailyQuota = 1 })
	wantCode(t, err, Unavailable, "storage")
	f.j.setFail(nil)
	if cur := f.svc.Config(); serviceOf(&cur, "A").DailyQuota != 300 {
		t.Fatalf("quota after a failed commit = %d, want 300", serviceOf(&cur, "A").DailyQuota)
	}
	f.issue("A")
	f.issue("A") // the in-memory state was rolled back too
}

func serviceOf(c *Config, code string) *ServiceConfig {
	sc, _ := c.service(code)
	return sc
}

// Kiosks always hold a lease per service, so removing a service releases
// them: the unused numbers lapse and can no longer be handed over, the ones
// handed over stay, and that survives a restart.
func TestRemovingAServiceReleasesKioskLeases(t *testing.T) {
	f := MustHall(t, nil)
	l, err := f.svc.Lease(f.ctx, Op{}, "kiosk-1", "D", 5)
	if err != nil {
		t.Fatal(err)
	}
	offline := func(n int) OfflineTicket {
		return OfflineTicket{Lease: l.ID, Number: n, ID: fmt.Sprintf("offline-ticket-%04d", n)}
	}
	used, err := f.svc.HandOver(f.ctx, Op{}, "kiosk-1", offline(l.From))
	if err != nil {
		t.Fatal(err)
	}
	f.open(2) // D's open ticket would block the removal: serve it
	if c := f.call(2); c.ID != used.ID {
		t.Fatalf("window 2 called %s, want the handed-over %s", c.Number, used.Number)
	}
	f.mustAct(ActStart, used.ID)
	f.mustAct(ActComplete, used.ID)
	seq0 := len(f.j.all())
	f.mustUpdate(withoutService("D"))
	evs := f.j.all()[seq0:]
	if len(evs) != 2 || evs[0].Type != EvLeaseReleased || evs[0].Reason != "service_removed" || !evs[0].Lease.Released || evs[1].Type != EvConfigChanged {
		t.Fatalf("events = %+v, want lease.released (service_removed), then config.changed", evs)
	}
	for _, restart := range []bool{false, true} {
		if restart {
			f.restart()
		}
		_, err = f.svc.HandOver(f.ctx, Op{}, "kiosk-1", offline(l.From+1))
		wantCode(t, err, Conflict, "lease_released")
		_, err = f.svc.HandOver(f.ctx, Op{}, "kiosk-1", offline(l.From))
		wantCode(t, err, Conflict, "number_used")
	}
	_, err = f.svc.Lease(f.ctx, Op{}, "kiosk-1", "D", 5)
	wantCode(t, err, NotFound, "")
}
