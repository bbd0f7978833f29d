package platform_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/central/platform"
)

// slotTable is a SlotSource over a fixed table, failing when told to.
type slotTable struct {
	slots map[string][]platform.Slot
	fail  bool
}

func (s *slotTable) NextFree(_ context.Context, halls []string) (map[string][]platform.Slot, error) {
	if s.fail {
		return nil, errors.New("booking store away")
	}
	out := map[string][]platform.Slot{}
	for _, h := range halls {
		out[h] = s.slots[h]
	}
	return out, nil
}

// headerAuth is an Authenticator that knows one header value.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (*platform.Staff, error) {
	switch r.Header.Get("X-Test-Staff") {
	case "":
		return nil, platform.ErrNoCredentials
	case "ops":
		return &platform.Staff{Name: "ops", Role: platform.RoleProvinceAdmin}, nil
	}
	return nil, errors.New("unknown staff")
}

// The hooks the other parts of the central use: extra routes on the same
// mux and error shape, an Authenticator instead of the static tokens, and
// a SlotSource whose next free slots show in the public hall list (and
// whose failure leaves the list served without them).
func TestServerHooks(t *testing.T) {
	srv, js := mustEmbedded(t)
	start := time.Date(2026, 11, 27, 14, 0, 0, 0, shanghai)
	slots := &slotTable{slots: map[string][]platform.Slot{"S-1": {{Service: "A", Start: start, End: start.Add(30 * time.Minute), Free: 3}}}}
	extra := platform.Route{Pattern: "POST /api/v1/bookings", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Slot string }
		if err := platform.DecodeJSON(r, &body); err != nil {
			platform.WriteError(w, http.StatusBadRequest, platform.CodeInvalid, err.Error())
			return
		}
		platform.WriteJSON(w, http.StatusCreated, map[string]string{"slot": body.Slot})
	})}
	p := mustProcess(t, srv.URL(), platform.Config{Auth: headerAuth{}, Slots: slots, Extra: []platform.Route{extra}})
	h := newSimHall("S-1", 2)
	h.publish(t.Context(), t, js, 0, len(h.Events), 50)
	waitHall(t, p, "S-1", uint64(len(h.Events)))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, ok := p.Views.Hall("S-1"); ok {
			break
		}
	}
	var list struct{ Halls []platform.HallSummary }
	getJSON(t, p.URL()+"/api/v1/halls", "", &list)
	if len(list.Halls) != 1 || len(list.Halls[0].NextSlots) != 1 || list.Halls[0].NextSlots[0].Free != 3 || !list.Halls[0].NextSlots[0].Start.Equal(start) {
		t.Fatalf("hall list with slots: %+v", list)
	}
	slots.fail = true
	list.Halls = nil
	if code := getJSON(t, p.URL()+"/api/v1/halls", "", &list); code != 200 || len(list.Halls) != 1 || list.Halls[0].NextSlots != nil {
		t.Fatalf("hall list while the slots fail: %d %+v", code, list)
	}

	post := func(path, body string) (int, string, http.Header) {
		res, err := http.Post(p.URL()+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if code, body, _ := post("/api/v1/bookings", `{"slot":"x"}`); code != 201 || !strings.Contains(body, `"slot":"x"`) {
		t.Fatalf("extra route: %d %s", code, body)
	}
	if code, body, _ := post("/api/v1/bookings", `{"slot":"x","extra":1}`); code != 400 || !strings.Contains(body, `"code":"invalid"`) || !strings.Contains(body, "unknown field") {
		t.Fatalf("unknown field: %d %s", code, body)
	}
	if code, body, _ := post("/api/v1/bookings", `{"slot":"x"} {}`); code != 400 || !strings.Contains(body, "after the object") {
		t.Fatalf("trailing data: %d %s", code, body)
	}
	res, err := http.Get(p.URL() + "/api/v1/bookings")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 405 || res.Header.Get("Allow") != "POST" || !strings.Contains(string(b), `"code":"method_not_allowed"`) {
		t.Fatalf("GET on a POST route: %d %s %v", res.StatusCode, b, res.Header)
	}

	req, _ := http.NewRequest("GET", p.URL()+"/api/v1/alerts", nil)
	req.Header.Set("X-Test-Staff", "ops")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("alerts with the plugged-in sign-in: %d", res.StatusCode)
	}
	req.Header.Set("X-Test-Staff", "nobody")
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("a refused staff member: %d", res.StatusCode)
	}
}
