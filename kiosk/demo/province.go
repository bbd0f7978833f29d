package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hallq/central/auth"
	"hallq/central/calendars"
	"hallq/central/oidcdev"
	"hallq/devices/sim"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/queue-server/hall"
)

// clientID is the audience of the demo's ID tokens (-oidc-client-id).
const clientID = "portal"

// provinceKey reads the demo's province key (the citizen-key secret the
// hall and the central share) from dir, making a random one the first
// time, so that a restart keeps the keys of the bookings made before.
func provinceKey(dir string) (file string, key []byte, err error) {
	file = filepath.Join(dir, "province.key")
	if b, err := os.ReadFile(file); err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) < 16 {
			return "", nil, fmt.Errorf("demo province key %s: not at least 16 bytes as hex", file)
		}
		return file, k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", nil, err
	}
	key = make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(file, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return "", nil, err
	}
	return file, key, nil
}

// identity is the stand-in OIDC provider served on its own address.
type identity struct {
	*oidcdev.Provider
	srv *http.Server
}

// Its staff accounts sign in to the province dashboard: "province" is a
// province admin, "supervisor" the supervisor of the demo hall.
func startIdentity(addr, hallID string) (*identity, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo identity provider on %s: %w", addr, err)
	}
	p, err := oidcdev.New("http://" + ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, err
	}
	p.TTL = 12 * time.Hour // the banner's staff token lasts a demo day
	p.Staff = map[string]oidcdev.Staff{
		"province":   {Role: auth.RoleProvinceAdmin},
		"supervisor": {Role: auth.RoleHallSupervisor, Halls: []string{hallID}},
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &identity{Provider: p, srv: srv}, nil
}

func (i *identity) Close() { _ = i.srv.Close() }

// staff is a province admin's ID token; citizen the sample resident's.
func (i *identity) staff() string {
	return i.Mint(oidcdev.Token{Subject: "demo-province-admin", Audience: clientID, Role: auth.RoleProvinceAdmin})
}

func (i *identity) citizen() string {
	raw, _ := sim.SampleResident.Number.Seal(func(n string) (string, error) { return n, nil })
	return i.Mint(oidcdev.Token{Subject: "demo-citizen", Audience: clientID, IDNumber: raw})
}

// demoCatalog is the province's sample catalogue: matters of the sample
// hall's services A 户政, B 出入境 and C 车驾管.
func demoCatalog() []catalog.Matter {
	t := func(zh, en string) catalog.Text { return catalog.Text{ZH: zh, EN: en} }
	tp := func(zh, en string) *catalog.Text { return &catalog.Text{ZH: zh, EN: en} }
	idCard := catalog.Material{Name: t("居民身份证", "Resident ID card"), Original: true, Copies: 1}
	hukou := catalog.Material{Name: t("居民户口簿", "Household register (hukou booklet)"), Original: true}
	photo := catalog.Material{Name: t("近期免冠彩色照片（或现场采集）", "A recent colour photo (or taken on site)"),
		Note: tp("白色背景，不戴帽子", "White background, no hat")}
	return []catalog.Matter{
		{Code: "hukou-move", Name: t("户口迁移", "Moving household registration"), Services: []string{"A"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{idCard, hukou,
				{Name: t("准予迁入证明", "Permit to move in"), Original: true, Note: tp("由迁入地派出所出具", "Issued by the police station of the new address")}},
			Fees: tp("免费", "Free"), TimeLimitDays: 5, Where: tp("户政窗口（1、2、3号）", "Household registration, windows 1–3")},
		{Code: "id-card-renewal", Name: t("居民身份证换领", "Renewing a resident ID card"), Services: []string{"A"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{idCard, hukou, photo},
			Fees:      tp("20元", "CNY 20"), TimeLimitDays: 20, Where: tp("户政窗口", "Household registration windows")},
		{Code: "passport", Name: t("普通护照申领", "Applying for a passport"), Services: []string{"B"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{idCard, photo},
			Fees:      tp("120元", "CNY 120"), TimeLimitDays: 7, Where: tp("出入境窗口（3、4号）", "Exit-entry, windows 3 and 4")},
		{Code: "driving-licence-renewal", Name: t("机动车驾驶证期满换证", "Renewing a driving licence"), Services: []string{"C"}, Booking: catalog.BookingNone,
			Materials: []catalog.Material{idCard,
				{Name: t("机动车驾驶证", "Driving licence"), Original: true},
				{Name: t("身体条件证明", "Certificate of physical fitness"), Note: tp("县级以上医院出具", "From a hospital of county level or above")}},
			Fees: tp("10元", "CNY 10"), TimeLimitDays: 1, Where: tp("车驾管窗口（5、6号）", "Vehicles and licences, windows 5 and 6")},
	}
}

// seedProvince stores the sample hall's calendar (open around the clock,
// as the demo hall), publishes the catalogue and books today's earliest
// bookable slot of services A and B for the sample citizen, as that
// citizen. It returns the booking ids.
func seedProvince(ctx context.Context, central string, idp *identity, cfg hall.Config) ([]string, error) {
	c := &http.Client{Timeout: 15 * time.Second}
	// the central is up once it serves the catalogue
	for deadline := time.Now().Add(60 * time.Second); ; {
		if st, _, err := call(ctx, c, "GET", central+"/api/v1/catalog", "", nil, ""); err == nil && st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("the demo central at %s did not start", central)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	staff := idp.staff()
	allDay := []calendar.Span{{From: "00:00", To: "23:59"}} // the calendar's day ends at 23:59; slots stop at 23:30
	weekly := map[string][]calendar.Span{}
	for _, d := range calendar.Weekdays {
		weekly[d] = allDay
	}
	h := calendars.Hall{ID: cfg.Hall.ID, Name: catalog.Text{ZH: cfg.Hall.Name.ZH, EN: cfg.Hall.Name.EN},
		Calendar:    calendar.Calendar{Zone: cfg.Hall.TimeZone, Weekly: weekly},
		SlotMinutes: 30, Capacity: map[string]int{"A": 2, "B": 2}}
	// a restart finds the hall and the catalogue there already
	if st, body, err := call(ctx, c, "GET", central+"/api/v1/staff/halls/"+h.ID, staff, nil, ""); err != nil {
		return nil, err
	} else if st == http.StatusNotFound {
		if st, body, err := call(ctx, c, "PUT", central+"/api/v1/staff/halls/"+h.ID, staff, h, ""); err != nil || st != http.StatusOK {
			return nil, fmt.Errorf("demo calendar: %d %s %v", st, body, err)
		}
	} else if st != http.StatusOK {
		return nil, fmt.Errorf("demo calendar: %d %s", st, body)
	}
	var cur catalog.Catalog
	if st, body, err := call(ctx, c, "GET", central+"/api/v1/catalog", "", nil, ""); err != nil || st != http.StatusOK || json.Unmarshal(body, &cur) != nil {
		return nil, fmt.Errorf("demo catalogue: %d %s %v", st, body, err)
	}
	if len(cur.Matters) == 0 {
		req := map[string]any{"base_version": cur.Version, "matters": demoCatalog()}
		if st, body, err := call(ctx, c, "PUT", central+"/api/v1/staff/catalog", staff, req, ""); err != nil || st != http.StatusOK {
			return nil, fmt.Errorf("demo catalogue: %d %s %v", st, body, err)
		}
	}
	citizen := idp.citizen()
	var ids []string
	for _, b := range []struct{ service, matter string }{{"A", "id-card-renewal"}, {"B", "passport"}} {
		var slots struct {
			Slots []struct {
				Start    time.Time `json:"start"`
				Bookable bool      `json:"bookable"`
			} `json:"slots"`
		}
		st, body, err := call(ctx, c, "GET", central+"/api/v1/halls/"+url.PathEscape(h.ID)+"/slots?service="+b.service, "", nil, "")
		if err != nil || st != http.StatusOK || json.Unmarshal(body, &slots) != nil {
			return nil, fmt.Errorf("demo slots of %s: %d %s %v", b.service, st, body, err)
		}
		var start time.Time
		for _, s := range slots.Slots {
			if s.Bookable {
				start = s.Start
				break
			}
		}
		if start.IsZero() {
			return nil, fmt.Errorf("demo: no bookable slot of service %s", b.service)
		}
		// one booking per service and day: the same key on a restart answers the same booking
		idem := "demo-" + b.service + "-" + start.Format("2006-01-02")
		req := map[string]any{"hall": h.ID, "service": b.service, "slot_start": start.Format(time.RFC3339), "matter": b.matter}
		st, body, err = call(ctx, c, "POST", central+"/api/v1/bookings", citizen, req, idem)
		var rep struct {
			Booking struct {
				ID string `json:"id"`
			} `json:"booking"`
		}
		switch {
		case err != nil:
			return nil, err
		case st == http.StatusConflict && bytes.Contains(body, []byte("already_booked")):
			// booked on an earlier run: scan that one
			if id := openBooking(ctx, c, central, citizen, b.service); id != "" {
				ids = append(ids, id)
			}
			continue
		case (st != http.StatusCreated && st != http.StatusOK) || json.Unmarshal(body, &rep) != nil || rep.Booking.ID == "":
			return nil, fmt.Errorf("demo booking of %s: %d %s", b.service, st, body)
		}
		ids = append(ids, rep.Booking.ID)
	}
	return ids, nil
}

// openBooking is the citizen's open booking of service, if any.
func openBooking(ctx context.Context, c *http.Client, central, citizen, service string) string {
	var mine struct {
		Bookings []struct{ ID, Service, Status string } `json:"bookings"`
	}
	if st, body, err := call(ctx, c, "GET", central+"/api/v1/bookings", citizen, nil, ""); err != nil || st != http.StatusOK || json.Unmarshal(body, &mine) != nil {
		return ""
	}
	for _, b := range mine.Bookings {
		if b.Service == service && b.Status == "booked" {
			return b.ID
		}
	}
	return ""
}

func call(ctx context.Context, c *http.Client, method, u, token string, in any, idem string) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, b, err
}
