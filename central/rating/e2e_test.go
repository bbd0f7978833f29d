package rating_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/central/auth"
	"hallq/central/oidcdev"
	"hallq/central/platform"
	"hallq/internal/browsertest"
	"hallq/internal/halltest"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
)

// TestAWholeVisitBookedOnline walks the online half and the hall half of
// one visit as the citizen, the kiosk, the clerk and the province see it,
// with every part real: the citizen signs in on the stand-in provider's
// page and books a passport visit on the portal (a phone, in Chinese);
// the booking reaches the hall; the kiosk checks in with the booking id
// the confirmation's QR code carries; the citizen follows the ticket on
// the portal over the central's view of the forwarded events; the clerk
// calls (the page says which window), serves; the citizen rates the visit
// online and the hall stores it (channel online); a province admin signs
// in and the hall's page shows the visit served and rated.
func TestAWholeVisitBookedOnline(t *testing.T) {
	const hallID = "420102-01" // the sample hall's
	w := mustCentral(t)
	w.Link = mustLink(t, w.P.NATS.URL())
	cfg := hall.SampleConfig()
	cfg.Rules.CheckInBefore = hall.Duration(48 * time.Hour) // the slot booked may be later today or tomorrow
	w.Hall = halltest.RunHall(t, halltest.Options{Config: &cfg, OpenAll: true, Clock: hallClock{}, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: w.Link.URL(), MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, PollInterval: 50 * time.Millisecond}
		o.CitizenSecret = []byte("example-province-key")
	}})
	w.IDP.Staff = map[string]oidcdev.Staff{"province": {Role: auth.RoleProvinceAdmin}}
	w.MustSetUp(hallID, "江岸区公安政务服务中心", "Jiang'an Public Security Service Hall", "江岸区")
	if st, body := w.Do("PUT", "/api/v1/staff/catalog", map[string]any{"base_version": 0, "matters": []map[string]any{{
		"code": "passport", "name": map[string]string{"zh": "普通护照申领", "en": "Applying for a passport"}, "services": []string{"B"}, "booking": "allowed",
		"materials": []map[string]any{{"name": map[string]string{"zh": "居民身份证", "en": "Resident ID card"}, "original": true}}}}}, w.Admin()...); st != http.StatusOK {
		t.Fatalf("catalogue: %d %s", st, body)
	}
	ctx := context.Background()
	// The hall has forwarded (the central lists it with its waits).
	w.Issue("warm-up", "E")
	eventually(t, "the hall is listed at the central", func() bool {
		_, b := w.Do("GET", "/api/v1/halls", nil)
		return json.Valid(b) && contains(b, hallID)
	})

	// ---- the citizen books on the portal ----
	citizen := mustBrowser(t).MustTab(t, 390, 844)
	citizen.Open(w.P.URL() + "/?lang=zh")
	citizen.Type("#search", "护照")
	citizen.WaitFor(patience, `document.querySelectorAll('#matters a.matter').length === 1`)
	citizen.Click(`#matters a[data-matter="passport"]`)
	citizen.WaitText(patience, "#guide", "居民身份证")
	citizen.Click("#to-halls")
	citizen.WaitFor(patience, fmt.Sprintf(`!!document.querySelector('li[data-hall=%q] button.choose-hall')`, hallID))
	citizen.Click(fmt.Sprintf(`li[data-hall=%q] button.choose-hall`, hallID))
	// The first day with a bookable time (late in the evening, today has none).
	citizen.WaitFor(patience, `document.querySelectorAll('button.day').length > 0`)
	var slot string
	for i := 0; slot == "" && i < browsertest.Eval[int](citizen, `document.querySelectorAll('button.day').length`); i++ {
		citizen.Click(fmt.Sprintf(`button.day[data-day=%q]`, browsertest.Eval[string](citizen, fmt.Sprintf(`document.querySelectorAll('button.day')[%d].dataset.day`, i))))
		citizen.WaitFor(patience, `!!document.querySelector('button.time') || /没有|no bookable/i.test(document.body.innerText)`)
		slot = browsertest.Eval[string](citizen, `(document.querySelector('button.time:not([disabled])') || {dataset: {}}).dataset.start || ""`)
	}
	if slot == "" {
		t.Fatal("no bookable time in the window")
	}
	citizen.Click(fmt.Sprintf(`button.time[data-start=%q]`, slot))
	citizen.Click("#signin-book")
	citizen.WaitFor(patience, `!!document.querySelector('input[name=id_number]')`)
	citizen.Type(`input[name=id_number]`, "11010519491231002X")
	citizen.Click(`form button[type=submit]`)
	citizen.WaitFor(patience, `!!document.querySelector('#confirm')`)
	citizen.Click("#confirm")
	citizen.WaitText(patience, "#done-h", "预约成功")
	bookingID := citizen.Text("#booking-id") // what the confirmation's QR code carries (ui/portal's tests decode it)
	if browsertest.Eval[int](citizen, `document.querySelectorAll('svg.qr path').length`) != 1 {
		t.Fatal("the confirmation shows no QR code")
	}

	// ---- the kiosk checks in with the scanned booking ----
	kiosk := w.Hall.As("kiosk", "kiosk-1", 0)
	var tk hall.TicketView
	eventually(t, "the booking reaches the hall and checks in", func() bool {
		var err error
		tk, err = kiosk.CheckIn(ctx, "scan-"+bookingID, hall.CheckIn{Booking: bookingID})
		var he *hall.Error
		if errors.As(err, &he) && he.Reason == string(hall.ReasonNoBooking) {
			return false // not delivered yet
		}
		if err != nil {
			t.Fatalf("check-in: %v", err)
		}
		return true
	})
	if tk.Service != "B" || tk.Channel != hall.BookingChannel {
		t.Fatalf("the checked-in ticket: %+v", tk)
	}
	eventually(t, "the central's booking is arrived", func() bool {
		_, b := w.Do("GET", "/api/v1/bookings/"+bookingID, nil, "Authorization", "Bearer "+w.IDP.Mint(oidcdev.Token{Subject: "c", Audience: clientID, IDNumber: "11010519491231002X"}))
		return contains(b, `"status":"arrived"`)
	})

	// ---- followed on the portal, called, served ----
	eventually(t, "the central has the ticket", func() bool { return w.Ticket(tk.ID).Status == string(hall.Waiting) })
	citizen.Open(w.P.URL() + "/t/" + tk.ID + "?lang=zh")
	citizen.WaitText(patience, "#number", tk.Number)
	if _, err := w.Hall.Admin.SetWindow(ctx, 3, string(hall.WindowOpen), ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := w.Hall.Admin.Call(ctx, "call-"+tk.ID, 3, tk.ID); err != nil || !ok {
		t.Fatalf("call: %v %v", ok, err)
	}
	eventually(t, "the central sees the call", func() bool { return w.Ticket(tk.ID).Status == string(hall.Called) })
	citizen.Click("#refresh")
	citizen.WaitText(patience, "#called", "3 号窗口")
	for _, a := range []string{hall.ActStart, hall.ActComplete} {
		if _, err := w.Hall.Admin.Act(ctx, a+"-"+tk.ID, tk.ID, a, nil); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the central sees the visit done", func() bool { return w.Ticket(tk.ID).Status == string(hall.Done) })

	// ---- rated online ----
	citizen.Click("#refresh")
	citizen.WaitFor(patience, `!!document.querySelector('#rate-link') && !document.querySelector('#rate-link').hidden`)
	citizen.Click("#rate-link")
	citizen.WaitFor(patience, `!!document.querySelector('#form') && !document.querySelector('#form').hidden`)
	citizen.Click(`#levels button[data-score="5"]`)
	citizen.Click("#send")
	eventually(t, "the hall stores the online rating", func() bool { return w.hallRating(tk.ID) != nil })
	if r := w.hallRating(tk.ID); r.Channel != hall.ViaOnline || r.Score != 5 {
		t.Fatalf("the hall's rating: %+v", r)
	}

	// ---- the province sees the visit and the rating ----
	eventually(t, "the central counts the visit and its rating", func() bool {
		var d platform.HallDetail
		_, b := w.Do("GET", "/api/v1/halls/"+hallID, nil, w.Admin()...)
		_ = json.Unmarshal(b, &d)
		s := d.Today["B"]
		return s != nil && s.Served == 1 && s.Ratings[5] == 1
	})
	staff := mustBrowser(t).MustTab(t, 1366, 900)
	staff.Open(w.P.URL() + "/province/hall/" + hallID + "?lang=zh")
	staff.WaitFor(patience, `!!document.querySelector('select[name=staff]')`) // not signed in: to the provider
	staff.Click(`form:has(select[name=staff]) button[type=submit]`)
	staff.WaitFor(patience, `location.pathname === '/province/hall/`+hallID+`' && !!document.querySelector('[data-kpi=served] strong')`)
	staff.WaitText(patience, `[data-kpi=served] strong`, "1")
	staff.WaitText(patience, `[data-kpi=ratings] strong`, "100%")
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
