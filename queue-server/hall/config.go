package hall

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"hallq/internal/calendar"
	"hallq/internal/catalog"
)

//go:embed sample-hall.json
var sampleHall []byte

// SampleConfig returns the embedded sample hall: services A 户政, B 出入境,
// C 车驾管, D 治安, E 综合咨询 and eight windows.
func SampleConfig() Config {
	c, err := ParseConfig(sampleHall)
	if err != nil {
		panic("embedded sample hall is invalid: " + err.Error())
	}
	return c
}

// Config describes one hall. Its JSON form is documented in docs/config.md.
type Config struct {
	Hall     HallInfo        `json:"hall"`
	Services []ServiceConfig `json:"services"`
	Windows  []WindowConfig  `json:"windows"`
	Rules    Rules           `json:"rules"`
	Alerts   Alerts          `json:"alerts"`
	// Calendar, when given, decides the issuing hours (hall/calendar.go).
	Calendar *calendar.Calendar `json:"calendar,omitempty"`
	// Board holds the display boards' notices and media (hall/board.go).
	Board Board `json:"board,omitzero"`
	// Matters are the hall's own matters (事项) with their guides; when
	// empty the hall uses the last catalogue the province published
	// (matters.go). Each names the services that handle it.
	Matters []catalog.Matter `json:"matters,omitempty"`
}

// Alerts are the hall's alert thresholds: every manager's dashboard raises
// the same alerts, whoever set them.
type Alerts struct {
	WaitOver    Duration `json:"wait_over"`    // a service whose longest wait is beyond this; also the wait target of the figures
	PauseOver   Duration `json:"pause_over"`   // a window paused longer than this
	KioskSilent Duration `json:"kiosk_silent"` // a kiosk that has not reported its devices for this long is offline
}

// HallInfo names the hall.
type HallInfo struct {
	ID       string `json:"id"`        // stable id used towards the central platform, e.g. "420102-01"
	Name     Text   `json:"name"`      // shown on boards and tickets
	TimeZone string `json:"time_zone"` // IANA name; the hall's day starts at local midnight
}

// Text is a label in Chinese and English.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// ServiceConfig is one kind of business handled in the hall.
type ServiceConfig struct {
	Code            string   `json:"code"` // one capital letter, also the ticket prefix
	Name            Text     `json:"name"`
	DailyQuota      int      `json:"daily_quota"`       // tickets per day; 0 = unlimited
	PerCitizenLimit int      `json:"per_citizen_limit"` // tickets per ID card per day; 0 = unlimited
	RequiresID      bool     `json:"requires_id"`       // an ID card must be read to take a ticket
	AcceptExpired   bool     `json:"accept_expired_id"` // an expired ID card still takes a ticket (e.g. 户政, where cards are renewed)
	Remote          bool     `json:"remote"`            // may be taken remotely on a phone (线上取号)
	MeanService     Duration `json:"mean_service"`      // prior for the wait estimate before today's data
	Hours           Hours    `json:"hours"`
	// RemoteQuota is the share of the day's tickets that may be taken
	// remotely (线上取号), so phones can never starve the citizens in the
	// hall; 0 = the default, a fifth of daily_quota (or of the day's
	// numbers when the quota is unlimited). See RemoteCap.
	RemoteQuota int `json:"remote_quota,omitempty"`
}

// RemoteCap is how many remote tickets the service issues a day at most,
// given the day's last number.
func (s *ServiceConfig) RemoteCap(maxNumber int) int {
	switch {
	case s.RemoteQuota > 0:
		return s.RemoteQuota
	case s.DailyQuota > 0:
		return max(1, s.DailyQuota/5)
	}
	return max(1, maxNumber/5)
}

// Hours are a service's issuing hours, in hall-local "HH:MM".
// Tickets are issued from Open to Close-StopBefore, except during lunch.
type Hours struct {
	Open       string   `json:"open"`
	LunchStart string   `json:"lunch_start,omitempty"`
	LunchEnd   string   `json:"lunch_end,omitempty"`
	Close      string   `json:"close"`
	StopBefore Duration `json:"stop_before"` // issuing stops this long before Close
}

// WindowConfig is one numbered service window.
type WindowConfig struct {
	Number   int      `json:"number"`
	Name     Text     `json:"name"`
	Services []string `json:"services"` // in order of preference
}

// Rules are the hall's queueing rules.
type Rules struct {
	RecallsBeforeNoShow int      `json:"recalls_before_no_show"` // a recall beyond this marks the ticket no-show
	NoShowGrace         Duration `json:"no_show_grace"`          // a late citizen can be requeued within this
	AgingBound          Duration `json:"aging_bound"`            // nobody waits beyond this because of priority traffic
	ElderlyAge          int      `json:"elderly_age"`            // at or above: priority channel (绿色通道)
	CheckInBefore       Duration `json:"check_in_before"`        // booking check-in opens this long before the slot
	CheckInAfter        Duration `json:"check_in_after"`         // and closes this long after the slot start
	TransferToHead      bool     `json:"transfer_to_head"`       // transferred tickets go to the head instead of keeping their place
	CompleteFromCalled  bool     `json:"complete_from_called"`   // a called ticket may be completed at once (start implied)
	CarryOver           bool     `json:"carry_over"`             // at day close, waiting tickets carry over instead of expiring
	NumberDigits        int      `json:"number_digits"`          // digits after the prefix (3: A001…A999)
	PostponePlaces      int      `json:"postpone_places"`        // a postponed ticket (暂离) moves back this many places
	// RepeatWithin is how long after a visit the same citizen coming
	// again for the same matter counts as a repeat visit (kpi.go); 0 =
	// 30 days.
	RepeatWithin Duration `json:"repeat_within,omitzero"`
}

// RepeatPeriod is Rules.RepeatWithin with its default.
func (r Rules) RepeatPeriod() time.Duration {
	if r.RepeatWithin <= 0 {
		return 30 * 24 * time.Hour
	}
	return r.RepeatWithin.D()
}

// Duration is a time.Duration written as "90s", "15m", "1h30m" in JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "15m"-style strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"15m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// LoadConfig reads a hall configuration file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes and validates a configuration. Unknown keys are errors,
// so a typo never silently falls back to a default.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) setDefaults() {
	if c.Hall.TimeZone == "" {
		c.Hall.TimeZone = "Asia/Shanghai"
	}
	if c.Calendar != nil && c.Calendar.Zone == "" {
		c.Calendar.Zone = c.Hall.TimeZone
	}
	if c.Rules.PostponePlaces == 0 {
		c.Rules.PostponePlaces = DefaultPostponePlaces
	}
	if c.Rules.NumberDigits == 0 {
		c.Rules.NumberDigits = 3
	}
	for _, d := range []struct {
		v   *Duration
		def time.Duration
	}{{&c.Alerts.WaitOver, 30 * time.Minute}, {&c.Alerts.PauseOver, 15 * time.Minute}, {&c.Alerts.KioskSilent, time.Minute}} {
		if *d.v == 0 {
			*d.v = Duration(d.def)
		}
	}
	for i := range c.Services {
		if c.Services[i].MeanService == 0 {
			c.Services[i].MeanService = Duration(5 * time.Minute)
		}
	}
}

// Validate reports every mistake in the configuration, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Hall.ID == "" {
		bad("hall.id", "missing")
	}
	if c.Hall.Name.ZH == "" && c.Hall.Name.EN == "" {
		bad("hall.name", "missing")
	}
	if _, err := time.LoadLocation(c.Hall.TimeZone); err != nil {
		bad("hall.time_zone", "unknown time zone %q", c.Hall.TimeZone)
	}
	if len(c.Services) == 0 {
		bad("services", "at least one service is needed")
	}
	if c.Rules.NumberDigits < 3 || c.Rules.NumberDigits > 6 {
		bad("rules.number_digits", "must be 3 to 6, got %d", c.Rules.NumberDigits)
	}
	codes := map[string]bool{}
	for i, s := range c.Services {
		key := fmt.Sprintf("services[%d]", i)
		if len(s.Code) != 1 || s.Code[0] < 'A' || s.Code[0] > 'Z' {
			bad(key+".code", "must be one capital letter, got %q", s.Code)
		} else if codes[s.Code] {
			bad(key+".code", "duplicate service %q", s.Code)
		}
		codes[s.Code] = true
		if s.Name.ZH == "" || s.Name.EN == "" {
			bad(key+".name", "both zh and en are needed")
		}
		if s.DailyQuota < 0 {
			bad(key+".daily_quota", "must not be negative")
		}
		if s.PerCitizenLimit < 0 {
			bad(key+".per_citizen_limit", "must not be negative")
		}
		if s.RemoteQuota < 0 || (s.DailyQuota > 0 && s.RemoteQuota > s.DailyQuota) {
			bad(key+".remote_quota", "must be 0 (a fifth of daily_quota) to daily_quota, got %d", s.RemoteQuota)
		}
		if s.MeanService <= 0 {
			bad(key+".mean_service", "must be positive")
		}
		if c.Calendar != nil && s.Hours.onlyStopBefore() {
			if s.Hours.StopBefore < 0 || s.Hours.StopBefore.D() >= 12*time.Hour {
				bad(key+".hours.stop_before", "must be 0 to 12h, got %v", s.Hours.StopBefore.D())
			}
		} else if err := s.Hours.validate(); err != nil {
			bad(key+".hours", "%v", err)
		}
	}
	windows := map[int]bool{}
	for i, w := range c.Windows {
		key := fmt.Sprintf("windows[%d]", i)
		if w.Number <= 0 {
			bad(key+".number", "must be positive")
		} else if windows[w.Number] {
			bad(key+".number", "duplicate window %d", w.Number)
		}
		windows[w.Number] = true
		if len(w.Services) == 0 {
			bad(key+".services", "a window serves at least one service")
		}
		for _, code := range w.Services {
			if !codes[code] {
				bad(key+".services", "unknown service %q", code)
			}
		}
	}
	c.validateCalendar(bad)
	c.Board.validate(bad)
	r := c.Rules
	if r.RecallsBeforeNoShow < 0 {
		bad("rules.recalls_before_no_show", "must not be negative")
	}
	for key, d := range map[string]Duration{
		"rules.no_show_grace": r.NoShowGrace, "rules.aging_bound": r.AgingBound,
		"rules.check_in_before": r.CheckInBefore, "rules.check_in_after": r.CheckInAfter,
	} {
		if d < 0 {
			bad(key, "must not be negative")
		}
	}
	if r.PostponePlaces < 1 || r.PostponePlaces > 50 {
		bad("rules.postpone_places", "must be 1 to 50, got %d", r.PostponePlaces)
	}
	if r.ElderlyAge < 0 || r.ElderlyAge > 130 {
		bad("rules.elderly_age", "must be 0 (off) to 130")
	}
	for _, a := range []struct {
		key      string
		v        Duration
		min, max time.Duration
	}{
		{"alerts.wait_over", c.Alerts.WaitOver, time.Minute, 8 * time.Hour},
		{"alerts.pause_over", c.Alerts.PauseOver, time.Minute, 8 * time.Hour},
		{"alerts.kiosk_silent", c.Alerts.KioskSilent, 20 * time.Second, time.Hour},
	} {
		if a.v.D() < a.min || a.v.D() > a.max {
			bad(a.key, "must be %v to %v, got %v", a.min, a.max, a.v.D())
		}
	}
	if r.RepeatWithin < 0 || r.RepeatWithin.D() > 366*24*time.Hour {
		bad("rules.repeat_within", "must be 0 (30 days) to 8784h (a year), got %v", r.RepeatWithin.D())
	}
	c.validateMatters(bad)
	return errors.Join(errs...)
}

func (h Hours) validate() error {
	open, err := parseClock(h.Open)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	cl, err := parseClock(h.Close)
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if cl <= open {
		return errors.New("close must be after open")
	}
	if (h.LunchStart == "") != (h.LunchEnd == "") {
		return errors.New("lunch_start and lunch_end go together")
	}
	if h.LunchStart != "" {
		ls, err := parseClock(h.LunchStart)
		if err != nil {
			return fmt.Errorf("lunch_start: %w", err)
		}
		le, err := parseClock(h.LunchEnd)
		if err != nil {
			return fmt.Errorf("lunch_end: %w", err)
		}
		if !(open < ls && ls < le && le < cl) {
			return errors.New("lunch must lie inside opening hours")
		}
	}
	if h.StopBefore < 0 || h.StopBefore.D() >= cl-open {
		return errors.New("stop_before must be shorter than the opening hours")
	}
	return nil
}

// parseClock parses "HH:MM" (00:00–24:00) into the offset from midnight.
func parseClock(s string) (time.Duration, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("want HH:MM, got %q", s)
	}
	// Every issue asks for the service's hours: the usual two-digit form
	// is read directly, anything else the way it always was (Sscanf).
	h, okH := digits2(s[:2])
	m, okM := digits2(s[3:])
	if !okH || !okM {
		var sh, sm int // their own: taking h's and m's addresses would put them on the heap on every call
		if _, err := fmt.Sscanf(s, "%d:%d", &sh, &sm); err != nil {
			return 0, fmt.Errorf("want HH:MM, got %q", s)
		}
		h, m = sh, sm
	}
	if h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("want HH:MM, got %q", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// digits2 reads two ASCII digits.
func digits2(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// IssueState tells whether a service issues tickets at local time t.
// It returns "" when open, otherwise the reason: "closed", "lunch" or
// "issuing_stopped".
func (h Hours) IssueState(t time.Time) string {
	since := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	open, _ := parseClock(h.Open)
	cl, _ := parseClock(h.Close)
	switch {
	case since < open || since >= cl:
		return "closed"
	case since >= cl-h.StopBefore.D():
		return "issuing_stopped"
	}
	if h.LunchStart != "" {
		ls, _ := parseClock(h.LunchStart)
		le, _ := parseClock(h.LunchEnd)
		if since >= ls && since < le {
			return "lunch"
		}
	}
	return ""
}

// Version names this exact configuration: two configurations have the same
// version only when their JSON is the same. Saves carry the version they
// edited (HTTP If-Match), so one manager cannot overwrite another's change.
func (c Config) Version() string {
	b, err := json.Marshal(c)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Clone returns a deep copy of c (its slices are not shared).
func (c Config) Clone() Config {
	c.Services = slices.Clone(c.Services)
	c.Windows = slices.Clone(c.Windows)
	c.Calendar = cloneCalendar(c.Calendar)
	c.Board = c.Board.clone()
	c.Matters = slices.Clone(c.Matters)
	for i := range c.Windows {
		c.Windows[i].Services = slices.Clone(c.Windows[i].Services)
	}
	return c
}

func (c *Config) service(code string) (*ServiceConfig, bool) {
	for i := range c.Services {
		if c.Services[i].Code == code {
			return &c.Services[i], true
		}
	}
	return nil, false
}

func (c *Config) window(n int) (*WindowConfig, bool) {
	for i := range c.Windows {
		if c.Windows[i].Number == n {
			return &c.Windows[i], true
		}
	}
	return nil, false
}

// Location returns the hall's time zone (validated by ParseConfig).
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Hall.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// normalizeCode upper-cases a service code typed by a person.
func normalizeCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// OpenAllDay makes every service issue around the clock, without a lunch
// break — for demos and tests that run at any hour.
func (c *Config) OpenAllDay() {
	for i := range c.Services {
		c.Services[i].Hours = Hours{Open: "00:00", Close: "24:00"}
	}
}
