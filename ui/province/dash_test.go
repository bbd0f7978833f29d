package province_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/central/oidcdev"
	"hallq/central/platform"
	"hallq/internal/browsertest"
	"hallq/queue-server/audit"
	"hallq/queue-server/forward"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// book makes a citizen's booking of the hall's next free slot of service
// B and returns its day.
func (pv *province) book(hallID string) string {
	pv.t.Helper()
	var slots booking.SlotsReply
	if code := pv.do("GET", "/api/v1/halls/"+hallID+"/slots?service=B", "", nil, &slots); code != 200 || len(slots.Slots) == 0 {
		pv.t.Fatalf("free slots: %d %+v", code, slots)
	}
	citizen := pv.IDP.Mint(oidcdev.Token{Subject: "citizen-1", Audience: clientID, IDNumber: "11010519491231002X"})
	if code := pv.do("POST", "/api/v1/bookings", citizen, booking.Request{Hall: hallID, Service: "B", SlotStart: slots.Slots[0].Start}, nil); code != 200 && code != 201 {
		pv.t.Fatalf("book: %d", code)
	}
	return slots.Slots[0].Start.In(shanghai).Format("2006-01-02")
}

// capacity is the seats of every slot of the hall's service on a day.
func (pv *province) capacity(hallID, svc, day string) int {
	var slots booking.SlotsReply
	pv.do("GET", "/api/v1/halls/"+hallID+"/slots?service="+svc+"&day="+day, "", nil, &slots)
	n := 0
	for _, s := range slots.Slots {
		n += s.Capacity
	}
	return n
}

// brokenAuditTrail forwards two audit records of the hall to the central
// as a hall would, the second from another trail: it does not chain.
func (pv *province) brokenAuditTrail(hallID string) {
	pv.t.Helper()
	var lines [][]byte
	for i, actor := range []string{"wang", "li"} {
		dir := pv.t.TempDir()
		l, err := audit.Open(dir, audit.Options{Alg: "sha256", Hash: sha256.New})
		if err != nil {
			pv.t.Fatal(err)
		}
		for range 2 {
			l.Record(audit.Entry{Actor: actor, Role: "clerk", Action: "windows.set", Target: "window=1", Outcome: "ok"})
		}
		l.Close()
		got, _ := audit.NewReader(dir).After(0, 2)
		lines = append(lines, got[i].Data)
	}
	for i, data := range lines {
		seq := uint64(i + 1)
		m := &nats.Msg{Subject: forward.AuditSubject(hallID, seq), Data: data, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, forward.AuditMsgID(hallID, seq))
		if _, err := pv.P.JS.PublishMsg(pv.t.Context(), m); err != nil {
			pv.t.Fatal(err)
		}
	}
}

func (pv *province) overview(token, query string) platform.Overview {
	pv.t.Helper()
	var ov platform.Overview
	if code := pv.do("GET", "/api/v1/overview"+query, token, nil, &ov); code != 200 {
		pv.t.Fatalf("overview: %d", code)
	}
	return ov
}

func (tb *tab) waitRows(want ...string) {
	tb.T.Helper()
	tb.WaitFor(3*time.Second, fmt.Sprintf(`[...document.querySelectorAll('#rows tr[data-hall]')].map((r) => r.dataset.hall).join(' ') === %q`, strings.Join(want, " ")))
}

// A province admin signs in through the stand-in provider, sees every
// hall with the figures the central computes, sorts and filters them,
// sees the gap and silent alerts, drills down to one hall (services,
// windows, hourly charts, bookings against capacity), reads a report by
// hall and matter, downloads its CSV (the API's own bytes), and signs
// out (the session is gone at the server). Desktop, zh, then en.
func TestDashboardAdmin(t *testing.T) {
	pv := mustProvince(t)
	pv.mustHalls()
	bookedDay := pv.book("420106-01")
	b := mustBrowser(t)
	tb := b.tab(t, 1366, 900)
	tb.signIn(pv.URL()+"/province/?lang=zh", "ops")
	tb.waitRows("420106-01", "420102-03", "420111-02") // by name: 武 < 江 < 洪 in code-point order
	tb.WaitText(3*time.Second, "#who-name", "省级管理员")

	// The figures are the central's.
	ov := pv.overview(pv.admin(), "")
	for _, h := range ov.Halls {
		cells := browsertest.Eval[[]string](tb, fmt.Sprintf(`[...document.querySelectorAll('#rows tr[data-hall=%q] td')].map((c) => c.textContent)`, h.Hall))
		if cells[2] != strconv.Itoa(h.Waiting) || cells[4] != strconv.Itoa(h.OpenWindows) || cells[5] != strconv.Itoa(h.SLABreaches) ||
			cells[6] != strconv.Itoa(h.Issued) || cells[7] != strconv.Itoa(h.Served) || cells[1] != h.District {
			t.Errorf("hall %s shows %q, the API says %+v", h.Hall, cells, h)
		}
	}
	wu := browsertest.Eval[[]string](tb, `[...document.querySelectorAll('#rows tr[data-hall="420106-01"] td')].map((c) => c.textContent)`)
	if !strings.Contains(wu[0], "武昌区公安服务大厅") || wu[2] != "4" || wu[5] != "1" || !strings.Contains(wu[3], "分钟") || !strings.Contains(wu[8], "75%") ||
		!strings.Contains(wu[9], "正常") || !strings.Contains(wu[9], "10:28") {
		t.Errorf("Wuchang row: %q", wu)
	}
	if !browsertest.Eval[bool](tb, `document.querySelector('#rows tr[data-hall="420106-01"] td:nth-child(4)').classList.contains('breach')`) {
		t.Error("a longest wait over the target is not marked")
	}
	// Forwarding health: the gap and the silent hall are alerts.
	tb.WaitFor(time.Second, `!!document.querySelector('#alerts li[data-kind=gap][data-hall="420111-02"]') && !!document.querySelector('#alerts li[data-kind=silent][data-hall="420102-03"]')`)
	if s := tb.Text(`#alerts li[data-kind=gap]`); !strings.Contains(s, "缺少 2 个事件") || !strings.Contains(s, "5-6") {
		t.Errorf("gap alert: %q", s)
	}
	if s := tb.Text(`#rows tr[data-hall="420102-03"] td:last-child`); !strings.Contains(s, "大厅失联") || !strings.Contains(s, "10:05") {
		t.Errorf("silent hall's forwarding: %q", s)
	}
	if s := tb.Text("#updated"); !strings.Contains(s, "每 5 秒刷新") || !strings.Contains(s, "30 分钟") || !strings.Contains(s, "10:3") {
		t.Errorf("updated line: %q", s)
	}
	tb.Axe()
	tb.Shot("overview")

	// Sort: by waiting (most first, then fewest), by district, by lag.
	tb.Click(`th[data-key=waiting] button`)
	tb.waitRows("420106-01", "420102-03", "420111-02")
	tb.Click(`th[data-key=waiting] button`)
	tb.waitRows("420102-03", "420111-02", "420106-01")
	tb.Click(`th[data-key=district] button`)
	tb.waitRows("420102-03", "420106-01", "420111-02")
	tb.Click(`th[data-key=lag_s] button`)
	tb.waitRows("420102-03", "420106-01", "420111-02")
	for _, k := range []string{"longest_wait_s", "open_windows", "sla_breaches", "issued", "served", "satisfied", "hall"} {
		tb.Click(`th[data-key=` + k + `] button`)
		tb.WaitFor(time.Second, `document.querySelector('th[data-key=`+k+`]').getAttribute('aria-sort') !== null`)
	}
	// Filter by name, district and service.
	tb.set("#q", "洪山")
	tb.waitRows("420111-02")
	tb.set("#q", "")
	tb.set("#district", "420106")
	tb.waitRows("420106-01")
	tb.set("#district", "")
	tb.set("#service", "E")
	tb.waitRows("420102-03")
	tb.set("#service", "")
	tb.waitRows("420106-01", "420102-03", "420111-02")

	// Drill down to Wuchang, whose audit trail arrived broken at #2.
	pv.brokenAuditTrail("420106-01")
	tb.Click(`#rows tr[data-hall="420106-01"] a.drill`)
	tb.WaitFor(3*time.Second, `location.pathname === "/province/hall/420106-01" && !!document.querySelector('#services tr[data-service=B]')`)
	tb.WaitFor(3*time.Second, `document.querySelector('#audit').textContent.includes('在 #2 处断开') && document.querySelector('#audit').classList.contains('breach') && !!document.querySelector('#alerts li[data-kind=audit_broken]')`)
	if s := tb.Text("#audit"); !strings.HasPrefix(s, "审计日志：已收到至 #2（") || !strings.Contains(s, "is not the hash of the record before") {
		t.Errorf("the audit line: %q", s)
	}
	one := pv.overview(pv.admin(), "?hall=420106-01").Halls[0]
	for _, s := range one.Services {
		cells := browsertest.Eval[[]string](tb, fmt.Sprintf(`[...document.querySelectorAll('#services tr[data-service=%q] td')].map((c) => c.textContent)`, s.Service))
		if cells[1] != strconv.Itoa(s.Waiting) || cells[3] != strconv.Itoa(s.OpenWindows) || cells[5] != strconv.Itoa(s.SLABreaches) || cells[6] != strconv.Itoa(s.Issued) {
			t.Errorf("service %s shows %q, the API says %+v", s.Service, cells, s)
		}
	}
	if w := tb.Text(`#windows tr[data-window="2"] .current`); w != "C002" {
		t.Errorf("window 2 serves %q", w)
	}
	if s := tb.Text(`#windows tr[data-window="3"]`); !strings.Contains(s, "暂停") {
		t.Errorf("window 3: %q", s)
	}
	sum := browsertest.Eval[int](tb, `[...document.querySelectorAll('#arrivals-chart rect')].reduce((a, r) => a + Number(r.dataset.value), 0)`)
	at9 := browsertest.Eval[int](tb, `Number(document.querySelector('#arrivals-chart rect:nth-of-type(2)').dataset.value)`) // 08:00, 09:00, …
	if sum != one.Issued || at9 != one.Arrivals[9] || one.Arrivals[9] != 3 {
		t.Errorf("arrivals chart: %d in all, %d at 09:00; the API: %v", sum, at9, one.Arrivals)
	}
	if n := browsertest.Eval[int](tb, `document.querySelectorAll('#waits-chart rect').length`); n == 0 {
		t.Error("no waits chart")
	}
	// Bookings against capacity on the booked day (the day picker).
	tb.set("#bk-day", bookedDay)
	tb.Click("#bk-show")
	want := strconv.Itoa(pv.capacity("420106-01", "B", bookedDay))
	tb.WaitFor(3*time.Second, fmt.Sprintf(`(document.querySelector('#bookings tr[data-service=B] td:nth-child(2)') || {}).textContent === %q && document.querySelector('#bookings tr[data-service=B] td:nth-child(3)').textContent === "1"`, want))
	tb.WaitText(3*time.Second, "#bk-note", bookedDay)
	tb.Axe()
	tb.Shot("hall")

	// Reports: by hall and month, then by hall and matter, with the CSV.
	tb.Click(`nav a[href="/province/reports"]`)
	tb.WaitFor(3*time.Second, `document.querySelectorAll('#report tbody tr').length === 3`)
	tb.set("#by", "hall,matter")
	tb.set("#group", "day")
	tb.Click("#show")
	tb.WaitFor(3*time.Second, `[...document.querySelectorAll('#report tbody td[data-col=matter]')].map((c) => c.textContent).join() === "HZ-001"`)
	if s := browsertest.Eval[string](tb, `[...document.querySelectorAll('#report tbody tr:first-child td')].map((c) => c.textContent).join('|')`); !strings.HasPrefix(s, pv.Day+"|武昌区公安服务大厅 (420106-01)|HZ-001|2|2|") {
		t.Errorf("matter row: %q", s)
	}
	href := browsertest.Eval[string](tb, `document.querySelector('#csv').getAttribute('href')`)
	got := browsertest.Eval[string](tb, `fetch(document.querySelector('#csv').href).then((r) => r.text())`)
	req, _ := http.NewRequest("GET", pv.URL()+href, nil)
	req.Header.Set("Authorization", "Bearer "+pv.admin())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(href, "format=csv") || !strings.Contains(href, "by=hall%2Cmatter") || strings.TrimPrefix(string(api), "\ufeff") != got || !strings.Contains(got, "period,hall,service,matter,handled") ||
		!strings.Contains(got, pv.Day+",420106-01,,HZ-001,2,2,0,0,0,0,1,0,0,1") || browsertest.Eval[string](tb, `document.querySelector('#csv').getAttribute('download')`) == "" {
		t.Errorf("CSV %s: the page got %q, the API %q", href, got, api)
	}
	tb.Axe()
	tb.Shot("reports")
	// One hall, by service over the whole range: the rows are the API's.
	tb.set("#hall", "420111-02")
	tb.set("#by", "service")
	tb.set("#group", "all")
	tb.Click("#show")
	var one2 struct{ Rows []platform.SummaryRow }
	pv.do("GET", "/api/v1/reports/summary?hall=420111-02&by=service&group=all&from="+pv.Day[:8]+"01&to="+pv.Day, pv.admin(), nil, &one2)
	if len(one2.Rows) != 2 {
		t.Fatalf("Hongshan by service: %+v", one2.Rows)
	}
	tb.WaitFor(3*time.Second, fmt.Sprintf(`[...document.querySelectorAll('#report tbody td[data-col=service]')].map((c) => c.textContent).join() === "A,B" && document.querySelector('#report tbody tr:first-child td[data-col=issued]').textContent === %q`, strconv.Itoa(one2.Rows[0].Issued)))
	if s := tb.Text(`#report tbody tr:first-child td[data-col=period]`); s != one2.Rows[0].Period {
		t.Errorf("period %q, the API %q", s, one2.Rows[0].Period)
	}
	tb.set("#hall", "")
	tb.set("#by", "hall,matter")
	tb.set("#group", "day")
	tb.Click("#show")
	tb.WaitFor(3*time.Second, `[...document.querySelectorAll('#report tbody td[data-col=matter]')].map((c) => c.textContent).join() === "HZ-001"`)

	// English, then sign out: the session is gone at the server.
	tb.Click("#lang")
	tb.WaitText(3*time.Second, "h1", "Reports")
	tb.WaitText(3*time.Second, "#report thead", "Handled")
	tb.Axe()
	tb.Click(`nav a[href="/province/"]`)
	tb.WaitText(3*time.Second, "h1", "Every hall")
	tb.waitRows("420111-02", "420102-03", "420106-01") // Hongshan < Jiang'an < Wuchang
	tb.WaitText(3*time.Second, "#alerts", "Events missing")
	tb.Axe()
	tb.Shot("overview-en")
	tb.Click("#signout")
	tb.WaitFor(3*time.Second, `!document.querySelector('#signedout').hidden && document.querySelector('#halls-card').hidden`)
	if code := browsertest.Eval[int](tb, `fetch('/api/v1/me').then((r) => r.status)`); code != 401 {
		t.Errorf("after signing out /api/v1/me answers %d", code)
	}
	tb.Click("#signin-again")
	tb.WaitFor(3*time.Second, `!!document.querySelector('select[name=staff]')`)
}

// A hall supervisor, on a phone in English, sees only their hall, is
// refused another hall's page and report by the central, and switches
// to Chinese.
func TestDashboardSupervisorOnAPhone(t *testing.T) {
	pv := mustProvince(t)
	pv.mustHalls()
	b := mustBrowser(t)
	tb := b.tab(t, 390, 844)
	tb.signIn(pv.URL()+"/province/?lang=en", "wuchang")
	tb.waitRows("420106-01")
	tb.WaitText(3*time.Second, "h1", "Every hall")
	tb.WaitText(3*time.Second, "#who-name", "Hall supervisor")
	if n := browsertest.Eval[int](tb, `document.querySelectorAll('#alerts li[data-kind]').length`); n != 0 {
		t.Errorf("the supervisor sees %d alerts of other halls", n)
	}
	tb.Axe()
	tb.Shot("overview-phone-en")

	sup := pv.IDP.Mint(oidcdev.Token{Subject: "wuchang", Audience: clientID, Role: auth.RoleHallSupervisor, Halls: []string{"420106-01"}})
	if code := pv.do("GET", "/api/v1/overview?hall=420111-02", sup, nil, nil); code != 403 {
		t.Fatalf("the central let the supervisor see another hall: %d", code)
	}
	tb.Open(pv.URL() + "/province/hall/420111-02")
	tb.WaitText(3*time.Second, "#error", "You may not see this hall.")
	if !browsertest.Eval[bool](tb, `document.querySelector('#page').hidden`) {
		t.Error("another hall's figures are shown")
	}
	tb.Axe()

	tb.Open(pv.URL() + "/province/hall/420106-01")
	tb.WaitFor(3*time.Second, `!!document.querySelector('#windows tr[data-window="1"]')`)
	tb.WaitText(3*time.Second, "#windows", "Window 2")
	tb.Axe()
	tb.Shot("hall-phone-en")
	tb.Click("#back")
	tb.waitRows("420106-01")

	tb.Open(pv.URL() + "/province/reports")
	tb.WaitFor(3*time.Second, `document.querySelectorAll('#report tbody tr').length === 1`)
	if s := tb.Text("#report tbody"); !strings.Contains(s, "420106-01") {
		t.Errorf("the supervisor's report: %q", s)
	}
	if n := browsertest.Eval[int](tb, `document.querySelectorAll('#hall option').length`); n != 2 {
		t.Errorf("the supervisor may choose %d halls (with 'every hall I may see')", n)
	}
	tb.Axe()
	tb.Click("#lang")
	tb.WaitText(3*time.Second, "h1", "报表")
	tb.WaitText(3*time.Second, "#report thead", "取号")
	tb.Axe()
	tb.Click(`nav a[href="/province/"]`)
	tb.waitRows("420106-01")
	tb.WaitText(3*time.Second, "h1", "全省大厅总览")
	tb.Axe()
}
