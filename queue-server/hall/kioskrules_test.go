package hall

import (
	"slices"
	"testing"
)

// What a kiosk needs from the hall's rules comes from the server: which
// services take an expired card, which windows serve a service, and the
// elderly age.
func TestKioskRulesInTheOverview(t *testing.T) {
	f := MustHall(t, func(c *Config) { c.Rules.ElderlyAge = 65 })
	o, err := f.svc.Overview(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if o.ElderlyAge != 65 {
		t.Errorf("overview elderly_age %d, want the rule's 65", o.ElderlyAge)
	}
	want := map[string]struct {
		expired bool
		windows []int
	}{"A": {true, []int{1, 2, 3, 7}}, "B": {true, []int{3, 4, 8}}, "C": {false, []int{5, 6, 8}}, "D": {false, []int{2, 6, 7}}, "E": {false, []int{1, 8}}}
	for _, s := range o.Services {
		w := want[s.Code]
		if s.AcceptExpired != w.expired || !slices.Equal(s.Windows, w.windows) {
			t.Errorf("service %s: accept_expired_id %v windows %v, want %v %v", s.Code, s.AcceptExpired, s.Windows, w.expired, w.windows)
		}
	}
}

// One elderly rule for online and offline tickets.
func TestChannelFor(t *testing.T) {
	for _, tc := range []struct {
		c    Channel
		a    AgeClass
		want Channel
	}{
		{WalkIn, AgeElderly, Priority}, {WalkIn, AgeAdult, WalkIn}, {WalkIn, AgeUnknown, WalkIn},
		{Remote, AgeElderly, Remote}, {Appointment, AgeElderly, Appointment}, {Priority, AgeAdult, Priority},
	} {
		if got := ChannelFor(tc.c, tc.a); got != tc.want {
			t.Errorf("ChannelFor(%s, %s) = %s, want %s", tc.c, tc.a, got, tc.want)
		}
	}
}
