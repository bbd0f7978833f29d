package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/internal/catalog"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
)

// mustMattersHall is the contract hall with two matters of 户政 (A) and one
// of 出入境 (B) in its configuration.
func mustMattersHall(t *testing.T) *contractHall {
	t.Helper()
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	cfg.Matters = []catalog.Matter{
		{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Hukou move"}, Services: []string{"A"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证", EN: "ID card"}, Original: true}, {Name: catalog.Text{ZH: "准迁证", EN: "Move permit"}}}},
		{Code: "passport", Name: catalog.Text{ZH: "护照申领", EN: "Passport"}, Services: []string{"B"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{{Name: catalog.Text{ZH: "照片回执", EN: "Photo receipt"}}}},
	}
	s, err := server.Start(server.Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	h := &contractHall{t: t, s: s, http: specClient(t)}
	h.admin = h.client(strings.TrimSpace(string(tok)))
	return h
}

// TestVisitThroughTheAPI: the matters are public; the clerk adds matters and
// records outcomes at the window (not a kiosk, not another window); the
// notice is served to the ticket's holder; the phone rates a matter once and
// the pad's later rating is refused; every answer matches the OpenAPI
// document (the spec client checks each).
func TestVisitThroughTheAPI(t *testing.T) {
	h := mustMattersHall(t)
	ctx := context.Background()
	anon := h.client("")
	st, body := h.do(anon, "GET", "/api/v1/matters", "", "")
	var hm hall.HallMatters
	if st != 200 || json.Unmarshal([]byte(body), &hm) != nil || hm.Source != "config" || len(hm.ByService["A"]) != 1 || len(hm.Indicators[2]) != 4 {
		t.Fatalf("matters: %d %s", st, body)
	}
	kiosk := h.as(wire.RoleKiosk, "kiosk-1", 0)
	clerk := h.as(wire.RoleClerk, "wang", 1)
	other := h.as(wire.RoleClerk, "li", 3)
	tk, err := kiosk.Issue(ctx, "", hall.IssueRequest{Service: "A", CitizenKey: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clerk.SetWindow(ctx, 1, "open", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := clerk.Call(ctx, "", 1, ""); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/tickets/" + tk.ID
	if st, body := h.do(kiosk, "POST", path+"/add-matter", "", `{"matter":"hukou-move"}`); st != 403 || !strings.Contains(body, string(hall.ReasonActionNotAllowed)) {
		t.Fatalf("a kiosk adding a matter: %d %s", st, body)
	}
	if st, body := h.do(other, "POST", path+"/add-matter", "", `{"matter":"hukou-move"}`); st != 403 || !strings.Contains(body, string(hall.ReasonNotYourWindow)) {
		t.Fatalf("another window's clerk adding a matter: %d %s", st, body)
	}
	for _, m := range []string{"hukou-move", "passport"} {
		if st, body := h.do(clerk, "POST", path+"/add-matter", "", `{"matter":"`+m+`"}`); st != 200 {
			t.Fatalf("add %s: %d %s", m, st, body)
		}
	}
	if st, body := h.do(clerk, "POST", path+"/remove-matter", "", `{"matter":"passport"}`); st != 200 || strings.Contains(body, `"passport"`) {
		t.Fatalf("remove: %d %s", st, body)
	}
	if st, body := h.do(clerk, "POST", path+"/outcome", "", `{"matter":"hukou-move","outcome":"incomplete","missing":[1]}`); st != 200 || !strings.Contains(body, "准迁证") {
		t.Fatalf("outcome: %d %s", st, body)
	}
	if st, body := h.do(clerk, "POST", path+"/outcome", "", `{"matter":"hukou-move","outcome":"done","bogus":1}`); st != 400 {
		t.Fatalf("an unknown field: %d %s", st, body)
	}
	st, body = h.do(anon, "GET", path+"/notice", "", "")
	var n hall.Notice
	if st != 200 || json.Unmarshal([]byte(body), &n) != nil || n.Ticket != tk.Number || n.Matters[0].Missing[0].ZH != "准迁证" || strings.Contains(body, "wang") {
		t.Fatalf("notice: %d %s", st, body)
	}
	if st, body := h.do(anon, "POST", path+"/evaluation", "", `{"matter":"hukou-move","score":1}`); st != 400 || !strings.Contains(body, string(hall.ReasonRatingNeedsReason)) {
		t.Fatalf("a low rating without a reason: %d %s", st, body)
	}
	st, body = h.do(anon, "POST", path+"/evaluation", "", `{"matter":"hukou-move","score":2,"indicators":["efficiency"],"reason":"等了很久"}`)
	if st != 200 || !strings.Contains(body, `"channel":"phone"`) || strings.Contains(body, "等了很久") {
		t.Fatalf("the phone's rating (its reason is not read back to the public): %d %s", st, body)
	}
	if st, body := h.do(clerk, "POST", path+"/evaluation", "", `{"matter":"hukou-move","score":5}`); st != http.StatusConflict || !strings.Contains(body, string(hall.ReasonAlreadyRated)) {
		t.Fatalf("the pad after the phone: %d %s", st, body)
	}
	got, err := h.admin.Ticket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Matters[0].Rating; r == nil || r.Channel != hall.ViaPhone || r.Reason != "等了很久" || r.Indicators[0] != hall.IndEfficiency {
		t.Fatalf("staff read of the rating: %+v", got.Matters[0].Rating)
	}
	st, body = h.do(h.admin, "GET", "/api/v1/figures", "", "")
	var d hall.DayFigures
	if st != 200 || json.Unmarshal([]byte(body), &d) != nil || d.OneVisit == nil || d.OneVisit.Total.Handled != 1 || d.OneVisit.ByMatter[0].Key != "hukou-move" || len(d.Windows) != 1 {
		t.Fatalf("figures: %d %s", st, body)
	}
	other2, _ := kiosk.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if st, body := h.do(anon, "GET", "/api/v1/tickets/"+other2.ID+"/notice", "", ""); st != 404 || !strings.Contains(body, string(hall.ReasonNoNotice)) {
		t.Fatalf("no notice: %d %s", st, body)
	}
}

// TestReportByMatter: the report by matter sums the tickets carrying each
// matter with its one-visit figure; by window carries the window's.
func TestReportByMatter(t *testing.T) {
	h := mustMattersHall(t)
	ctx := context.Background()
	clerk := h.as(wire.RoleClerk, "wang", 1)
	kiosk := h.as(wire.RoleKiosk, "kiosk-1", 0)
	if _, err := clerk.SetWindow(ctx, 1, "open", ""); err != nil {
		t.Fatal(err)
	}
	tk, _ := kiosk.Issue(ctx, "", hall.IssueRequest{Service: "A", CitizenKey: strings.Repeat("cd", 32)})
	clerk.Call(ctx, "", 1, "")
	for _, a := range []hall.Action{{Matter: "hukou-move"}, {Matter: "hukou-move", Outcome: hall.OutcomeDone}} {
		name := hall.ActAddMatter
		if a.Outcome != "" {
			name = hall.ActOutcome
		}
		if _, err := clerk.Act(ctx, "", tk.ID, name, &a); err != nil {
			t.Fatal(err)
		}
	}
	for by, group := range map[string]string{"matter": "hukou-move", "window": "1"} {
		st, body := h.do(h.admin, "GET", "/api/v1/reports?by="+by, "", "")
		var rows []struct {
			Group    string         `json:"group"`
			OneVisit *hall.OneVisit `json:"one_visit"`
		}
		if st != 200 || json.Unmarshal([]byte(body), &rows) != nil || len(rows) != 1 || rows[0].Group != group || rows[0].OneVisit == nil || rows[0].OneVisit.Rate != 1 {
			t.Fatalf("by %s: %d %s", by, st, body)
		}
	}
	req, _ := http.NewRequest("GET", h.s.URL+"/api/v1/reports?by=matter&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+h.admin.Token)
	res, err := http.DefaultClient.Do(req) // a download: not a JSON answer for the spec client
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	csv, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(csv), "户口迁移 Hukou move") || !strings.Contains(string(csv), "一次办结率") {
		t.Fatalf("csv: %d %s", res.StatusCode, csv)
	}
}
