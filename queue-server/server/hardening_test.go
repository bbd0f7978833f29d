package server

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// A clerk whose name is a spreadsheet formula appears in the CSV report as
// text: the cell starts with an apostrophe, not with =.
func TestReportCSVNeutralisesFormulas(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	evil := `=HYPERLINK("http://evil.example/","pay")`
	tk, err := h.admin.CreateToken(ctx, wire.TokenRequest{Name: evil, Role: wire.RoleClerk, Window: 1})
	if err != nil {
		t.Fatal(err)
	}
	clerk := client.New(h.URL, tk.Token)
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	if _, err := clerk.SetWindow(ctx, 1, "open", ""); err != nil {
		t.Fatal(err)
	}
	got, ok, err := clerk.Call(ctx, "", 1, "")
	if err != nil || !ok {
		t.Fatalf("call: %v %v", ok, err)
	}
	for _, act := range []string{hall.ActStart, hall.ActComplete} {
		if _, err := clerk.Act(ctx, "", got.ID, act, nil); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest("GET", h.URL+"/api/v1/reports?from=2026-11-27&to=2026-11-27&by=clerk&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+h.admin.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff")))
	cr.FieldsPerRecord = -1 // a title row and a definitions row frame the table
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	found := false
	for _, r := range rows {
		if strings.ContainsAny(r[0][:min(1, len(r[0]))], "=+-@") {
			t.Errorf("a cell starts with a formula character: %q", r[0])
		}
		found = found || r[0] == "'"+evil
	}
	if !found {
		t.Fatalf("the clerk's row is missing: %q", rows)
	}
}

// dialOrigin opens the hall's websocket as a browser page of origin would,
// with a Host header of host; it reports whether the upgrade was accepted.
func dialOrigin(t *testing.T, url, origin, host string) bool {
	t.Helper()
	hdr := http.Header{"Origin": {origin}}
	if host != "" {
		hdr.Set("Host", host)
	}
	d := websocket.Dialer{}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws", hdr)
	if err == nil {
		conn.Close()
		return true
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial from %s: %v", origin, err)
	}
	return false
}

// The websocket's Origin check compares with the hall's origins (its own
// address by default, or -origins), never with the request's Host header:
// a page reached through DNS rebinding (Origin and Host both evil) is
// refused.
func TestWebsocketOriginIsCheckedAgainstConfiguredOrigins(t *testing.T) {
	h := MustHall(t)
	if !dialOrigin(t, h.URL, h.URL, "") {
		t.Fatal("a page of the hall itself was refused")
	}
	if dialOrigin(t, h.URL, "http://evil.example", "evil.example") {
		t.Fatal("a rebinding page (Origin and Host evil.example) was accepted")
	}
	if dialOrigin(t, h.URL, "http://evil.example", "") {
		t.Fatal("another site's page was accepted")
	}
	cfg := hall.SampleConfig()
	s, err := Start(Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Config: &cfg, Logger: h.log,
		Origins: []string{"https://Hall.Example:443/"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !dialOrigin(t, s.URL, "https://hall.example", "") {
		t.Fatal("the configured origin was refused")
	}
	if dialOrigin(t, s.URL, s.URL, "") {
		t.Fatal("with -origins set, an origin not listed was accepted")
	}
}
