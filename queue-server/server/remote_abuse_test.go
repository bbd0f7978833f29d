package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/internal/testclock"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// startRemoteHall starts a hall whose service B has a daily quota of 20
// (so a remote share of 4), behind a trusted reverse proxy on loopback.
func startRemoteHall(t *testing.T, edit func(*Options)) (*Server, *client.Client) {
	t.Helper()
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	for i := range cfg.Services {
		if cfg.Services[i].Code == "B" {
			cfg.Services[i].DailyQuota = 20
		}
	}
	clk := testclock.New(testclock.At(10, 0))
	o := Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	if edit != nil {
		edit(&o)
	}
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, err := os.ReadFile(filepath.Join(dir, BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	return s, client.New(s.URL, strings.TrimSpace(string(tok)))
}

// remoteFrom posts a remote ticket as a phone behind the proxy at address
// from (X-Forwarded-For, as the proxy appends it; spoofed is what the phone
// itself put in front).
func remoteFrom(t *testing.T, url, from, spoofed, service, id string) (int, error) {
	t.Helper()
	body := fmt.Sprintf(`{"service":%q,"id_number":%q}`, service, id)
	req, _ := http.NewRequest("POST", url+"/api/v1/remote-tickets", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	xff := from
	if spoofed != "" {
		xff = spoofed + ", " + from
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return resp.StatusCode, nil
	}
	var eb wire.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, &hall.Error{Code: eb.Error.Code, Reason: eb.Error.Reason, Message: eb.Error.Message}
}

// TestRemoteShareLeavesTheHallItsTickets: 25 addresses ask for remote
// tickets of service B (quota 20): only its remote share (a fifth, 4) is
// issued, and the kiosks still issue the other 16 to citizens in the hall.
func TestRemoteShareLeavesTheHallItsTickets(t *testing.T) {
	s, admin := startRemoteHall(t, nil)
	issued, shareRefused := 0, 0
	for i := range 25 {
		status, err := remoteFrom(t, s.URL, fmt.Sprintf("198.51.100.%d", i+1), "", "B", residentID(t, 100+i))
		switch {
		case err == nil && status == http.StatusCreated:
			issued++
		case hall.ErrorReason(err) == "remote_share":
			shareRefused++
		default:
			t.Fatalf("remote request %d: %d %v", i, status, err)
		}
	}
	if issued != 4 || shareRefused != 21 {
		t.Fatalf("%d remote tickets issued, %d refused for the share; want 4 and 21", issued, shareRefused)
	}
	tk, err := admin.CreateToken(context.Background(), wire.TokenRequest{Name: "kiosk-1", Role: wire.RoleKiosk})
	if err != nil {
		t.Fatal(err)
	}
	kiosk := client.New(s.URL, tk.Token)
	for i := range 16 {
		if _, err := kiosk.Issue(context.Background(), fmt.Sprint("walk-in-", i), hall.IssueRequest{Service: "B", CitizenKey: fmt.Sprintf("%064x", i+1)}); err != nil {
			t.Fatalf("walk-in %d refused after the remote flood: %v", i, err)
		}
	}
	_, err = kiosk.Issue(context.Background(), "walk-in-17", hall.IssueRequest{Service: "B", CitizenKey: fmt.Sprintf("%064x", 99)})
	if hall.ErrorReason(err) != "service_quota" {
		t.Errorf("the 21st ticket of B: %v, want service_quota", err)
	}
}

// TestRemoteAddressesBehindTrustedProxies: behind the configured proxy each
// phone has its own budget (the proxy's X-Forwarded-For); what a phone puts
// in the header itself is not believed, and without trusted proxies no
// header is.
func TestRemoteAddressesBehindTrustedProxies(t *testing.T) {
	s, _ := startRemoteHall(t, nil)
	n := 0
	take := func(from, spoofed string) error {
		n++
		_, err := remoteFrom(t, s.URL, from, spoofed, "A", residentID(t, 200+n))
		return err
	}
	for i := range 10 {
		if err := take("203.0.113.7", fmt.Sprintf("10.0.0.%d", i)); err != nil {
			t.Fatalf("phone request %d: %v", i, err)
		}
	}
	if err := take("203.0.113.7", "10.9.9.9"); hall.ErrorReason(err) != "too_many_requests" {
		t.Errorf("a phone varying its own X-Forwarded-For got an 11th request: %v", err)
	}
	if err := take("203.0.113.8", ""); err != nil {
		t.Errorf("another phone behind the same proxy shares the first one's budget: %v", err)
	}

	// no trusted proxies: the header is ignored, the peer is the client
	s2, _ := startRemoteHall(t, func(o *Options) { o.TrustedProxies = nil })
	for i := range 10 {
		if _, err := remoteFrom(t, s2.URL, fmt.Sprintf("192.0.2.%d", i), "", "A", residentID(t, 300+i)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if _, err := remoteFrom(t, s2.URL, "192.0.2.99", "", "A", residentID(t, 399)); hall.ErrorReason(err) != "too_many_requests" {
		t.Errorf("an untrusted X-Forwarded-For bought a new budget: %v", err)
	}
}

// TestJoinedHallRefusesTypedIDRemoteTickets: a hall joined to the province
// sends citizens to the province's real-name sign-in instead.
func TestJoinedHallRefusesTypedIDRemoteTickets(t *testing.T) {
	s, _ := startRemoteHall(t, func(o *Options) { o.CitizenSecret = []byte("province-key-0123456789abcdef") })
	status, err := remoteFrom(t, s.URL, "", "", "A", residentID(t, 1))
	if status != http.StatusForbidden || hall.ErrorReason(err) != "real_name_required" {
		t.Errorf("joined hall: %d %v, want 403 real_name_required", status, err)
	}
}
