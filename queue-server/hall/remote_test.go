package hall

import (
	"fmt"
	"strings"
	"testing"
)

// TestRemoteShareAndOneOpenRemoteTicket: remote tickets stop at the
// service's remote share (walk-ins go on to the daily quota), and one ID
// holds at most one open remote ticket per service.
func TestRemoteShareAndOneOpenRemoteTicket(t *testing.T) {
	f := MustHall(t, func(c *Config) {
		for i := range c.Services {
			if c.Services[i].Code == "A" {
				c.Services[i].DailyQuota, c.Services[i].RemoteQuota, c.Services[i].PerCitizenLimit = 10, 3, 0
			}
		}
	})
	remote := func(key string) error {
		_, err := f.svc.Issue(f.ctx, Op{Actor: "remote"}, IssueRequest{Service: "A", Channel: Remote, CitizenKey: key})
		return err
	}
	key := func(i int) string { return fmt.Sprintf("%064d", i) }
	if err := remote(key(1)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, remote(key(1)), Conflict, "remote_open")
	for i := 2; i <= 3; i++ {
		if err := remote(key(i)); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, remote(key(4)), QuotaExceeded, "remote_share")
	for i := range 7 {
		f.issue("A", func(r *IssueRequest) { r.CitizenKey = key(100 + i) })
	}
	_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "A", CitizenKey: key(200)})
	wantCode(t, err, QuotaExceeded, "service_quota")

	c := SampleConfig()
	c.Services[0].RemoteQuota = c.Services[0].DailyQuota + 1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "remote_quota") {
		t.Errorf("a remote quota above the daily quota: %v", err)
	}
	if got := (&ServiceConfig{DailyQuota: 300}).RemoteCap(999); got != 60 {
		t.Errorf("default remote share of 300 = %d, want 60", got)
	}
	if got := (&ServiceConfig{}).RemoteCap(999); got != 199 {
		t.Errorf("default remote share without a quota = %d, want 199", got)
	}
}
