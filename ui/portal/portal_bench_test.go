package portal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/calendars"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
)

// BenchmarkPortalBookingRush: the booking pages' own routes under a rush,
// as browsers call them — each citizen signed in through the provider into
// a session cookie, every write with X-Hallq-CSRF and an Idempotency-Key.
// 1,500 citizens book 1,000 seats (ten slots of 100) at once while as many
// reload the slot list. Reports p50/p99 of booking and of the slot list
// during the rush, and the slot list's p99 on the same central just before
// the rush (the in-run reference: the ratio is what the rush costs, on this
// machine, whatever its speed).
func BenchmarkPortalBookingRush(b *testing.B) {
	w := mustBookWorld(b)
	day := []calendar.Span{{From: "09:00", To: "12:00"}, {From: "13:30", To: "15:30"}}
	w.must(http.StatusOK, "PUT", "/api/v1/staff/halls/rush", w.admin(), calendars.Hall{ID: "rush", Name: catalog.Text{ZH: "抢号大厅", EN: "Rush hall"},
		Calendar:    calendar.Calendar{Zone: "Asia/Shanghai", Weekly: map[string][]calendar.Span{"mon": day}},
		SlotMinutes: 30, Capacity: map[string]int{"B": 100}}, nil)
	var slots booking.SlotsReply
	w.must(http.StatusOK, "GET", "/api/v1/halls/rush/slots?service=B&day=2026-11-30", "", nil, &slots)
	if len(slots.Slots) != 10 {
		b.Fatalf("%d slots, want 10", len(slots.Slots))
	}
	const citizens = 1500
	transport := &http.Transport{MaxIdleConnsPerHost: 256}
	clients := make([]*http.Client, citizens)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			clients[i] = benchSignIn(b, w, transport, 1000+i)
		}()
	}
	wg.Wait()
	list := func(c *http.Client) time.Duration {
		t0 := time.Now()
		resp, err := c.Get(w.URL + "/api/v1/halls/rush/slots?service=B&day=2026-11-30")
		if err != nil {
			b.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("slot list: %d", resp.StatusCode)
		}
		return time.Since(t0)
	}
	// the reference: the slot list on the idle central
	idle := make([]time.Duration, 200)
	for i := range idle {
		idle[i] = list(clients[i])
	}
	b.ResetTimer()
	book, watch := make([]time.Duration, citizens), make([]time.Duration, citizens)
	var (
		mu        sync.Mutex
		confirmed int
	)
	for i, c := range clients {
		wg.Add(2)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(booking.Request{Hall: "rush", Service: "B", SlotStart: slots.Slots[i%10].Start, Matter: "passport"})
			req, _ := http.NewRequest("POST", w.URL+"/api/v1/bookings", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hallq-CSRF", "1")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("rush-%d", i))
			t0 := time.Now()
			resp, err := c.Do(req)
			book[i] = time.Since(t0)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusCreated:
				mu.Lock()
				confirmed++
				mu.Unlock()
			case http.StatusConflict: // slot_full
			default:
				b.Errorf("booking: %d", resp.StatusCode)
			}
		}()
		go func() { defer wg.Done(); watch[i] = list(c) }()
	}
	wg.Wait()
	b.StopTimer()
	if confirmed != 1000 {
		b.Fatalf("%d confirmed of 1000 seats", confirmed)
	}
	p := func(d []time.Duration, q int) float64 {
		slices.Sort(d)
		return float64(d[len(d)*q/100].Microseconds()) / 1000
	}
	b.ReportMetric(p(book, 50), "book-p50-ms")
	b.ReportMetric(p(book, 99), "book-p99-ms")
	b.ReportMetric(p(watch, 50), "slots-p50-ms")
	b.ReportMetric(p(watch, 99), "slots-p99-ms")
	b.ReportMetric(p(idle, 99), "idle-slots-p99-ms")
	b.ReportMetric(p(watch, 99)/max(p(idle, 99), 0.001), "slots-p99/idle")
}

// benchSignIn signs citizen i in through the provider's sign-in page, as a
// browser does, and returns a client holding the session cookie.
func benchSignIn(b *testing.B, w *bkWorld, tr http.RoundTripper, i int) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: tr, Timeout: 60 * time.Second}
	resp, err := c.Get(w.URL + "/auth/login?next=/book")
	if err != nil {
		b.Error(err)
		return c
	}
	resp.Body.Close()
	form := resp.Request.URL.Query()
	form.Set("id_number", bkID(i))
	u := *resp.Request.URL
	u.RawQuery = ""
	resp, err = c.PostForm(u.String(), url.Values(form))
	if err != nil {
		b.Error(err)
		return c
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/book" {
		b.Errorf("sign-in of %d ended at %s", i, resp.Request.URL)
	}
	return c
}
