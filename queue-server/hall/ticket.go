package hall

import (
	"fmt"
	"strconv"
	"time"

	"hallq/internal/idnumber"
)

// Status is where a ticket is in its life.
type Status string

// Ticket statuses. Waiting, Called, Serving and Parked are open; the rest end
// a ticket's day (NoShow can still be requeued within the grace period).
const (
	Waiting   Status = "waiting"   // 等候中
	Called    Status = "called"    // 已叫号
	Serving   Status = "serving"   // 办理中
	Done      Status = "done"      // 已办结
	NoShow    Status = "no_show"   // 过号
	Parked    Status = "parked"    // 挂起
	Cancelled Status = "cancelled" // 取消
	Expired   Status = "expired"   // 未办结
)

// Open reports whether the ticket still takes part in today's queue.
func (s Status) Open() bool {
	return s == Waiting || s == Called || s == Serving || s == Parked
}

// Channel is how a ticket entered the hall.
type Channel string

// Ticket channels.
const (
	WalkIn         Channel = "walk_in"  // 现场取号
	BookingChannel Channel = "booking"  // 网上预约, checked in
	Remote         Channel = "remote"   // 线上取号
	Priority       Channel = "priority" // 绿色通道

	// Deprecated: Appointment is the old Go name of BookingChannel.
	Appointment = BookingChannel
)

// channelBookingV1 is BookingChannel as halls before the booking rename
// wrote it; it still reads as BookingChannel.
const channelBookingV1 = "appointment"

// UnmarshalText reads a channel, also the old spelling of BookingChannel
// ("appointment") that stores and clients of before the rename use.
func (c *Channel) UnmarshalText(b []byte) error {
	if string(b) == channelBookingV1 {
		*c = BookingChannel
		return nil
	}
	*c = Channel(b)
	return nil
}

func (c Channel) valid() bool {
	return c == WalkIn || c == BookingChannel || c == Remote || c == Priority
}

// AgeClass is what the queue keeps of a birth date.
type AgeClass string

// Age classes.
const (
	AgeUnknown AgeClass = ""
	AgeMinor   AgeClass = "minor"
	AgeAdult   AgeClass = "adult"
	AgeElderly AgeClass = "elderly"
)

// AgeClassOf derives the age class at time now from a birth date, using the
// hall's elderly age (0 disables the elderly class).
func AgeClassOf(birth, now time.Time, elderlyAge int) AgeClass {
	if birth.IsZero() {
		return AgeUnknown
	}
	age := idnumber.Age(birth, now)
	switch {
	case age < 18:
		return AgeMinor
	case elderlyAge > 0 && age >= elderlyAge:
		return AgeElderly
	}
	return AgeAdult
}

// ChannelFor is the hall's one elderly rule: a walk-in ticket of an
// elderly card holder goes to the priority channel (绿色通道). Tickets
// issued online and offline tickets handed over both pass through it.
func ChannelFor(c Channel, a AgeClass) Channel {
	if c == WalkIn && a == AgeElderly {
		return Priority
	}
	return c
}

// Ticket is one citizen's place in the hall.
type Ticket struct {
	ID         string   `json:"id"`     // unguessable, stable for the ticket's life
	Number     string   `json:"number"` // e.g. "A023", restarts every day
	Service    string   `json:"service"`
	Day        string   `json:"day"` // hall-local date the number belongs to
	Channel    Channel  `json:"channel"`
	Status     Status   `json:"status"`
	CitizenKey string   `json:"citizen_key,omitempty"` // HMAC-SHA256 of the ID number, hex
	MaskedID   string   `json:"masked_id,omitempty"`   // e.g. 4201**********1234
	AgeClass   AgeClass `json:"age_class,omitempty"`

	IssuedAt   time.Time `json:"issued_at"`
	QueuedAt   time.Time `json:"queued_at"` // ordering time within its class; moves on transfer to head
	CalledAt   time.Time `json:"called_at,omitzero"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"` // done, no-show, cancelled or expired
	ParkedAt   time.Time `json:"parked_at,omitzero"`   // when it was last parked (挂起)

	Window         int     `json:"window,omitempty"`        // window serving (or that last served) it
	TargetWindow   int     `json:"target_window,omitempty"` // only this window may call it (transfer to window)
	Recalls        int     `json:"recalls,omitempty"`
	Transferred    bool    `json:"transferred,omitempty"`
	FromService    string  `json:"from_service,omitempty"`
	Booking        string  `json:"booking,omitempty"` // booking id when checked in
	Kiosk          string  `json:"kiosk,omitempty"`   // issuing kiosk
	Offline        bool    `json:"offline,omitempty"` // issued by a kiosk while the server was unreachable
	PrintFailed    bool    `json:"print_failed,omitempty"`
	PreviousNumber string  `json:"previous_number,omitempty"` // number before a carry-over
	Clerk          string  `json:"clerk,omitempty"`
	Rating         *Rating `json:"rating,omitempty"`    // the visit's 好差评 when it carries no matters
	Postponed      bool    `json:"postponed,omitempty"` // moved back once (暂离, postpone.go)

	// Matters are the matters of the visit with their outcomes (visit.go).
	Matters []VisitMatter `json:"matters,omitempty"`

	// ClockFlag marks an offline ticket whose claimed issue time fell
	// outside what its lease and the kiosk's clock allow: it was queued at
	// its hand-over instead (OffTimeBeforeLease, OffTimeFuture,
	// OffTimeOtherDay).
	ClockFlag string `json:"clock_flag,omitempty"`
}

// Rating is a citizen's 好差评 of one visit and matter (evaluation.go).
type Rating struct {
	Score      int           `json:"score"`                // 5 very satisfied … 1 very dissatisfied
	Indicators []Indicator   `json:"indicators,omitempty"` // the options chosen for the score
	Reason     string        `json:"reason,omitempty"`
	Channel    RatingChannel `json:"channel,omitempty"` // where it was given (empty in ratings stored before channels)
	At         time.Time     `json:"at"`
}

// RatingLabels are the five levels of 政务服务"好差评", indexed by score.
var RatingLabels = [6]Text{
	{},
	{ZH: "非常不满意", EN: "Very dissatisfied"},
	{ZH: "不满意", EN: "Dissatisfied"},
	{ZH: "基本满意", EN: "Basically satisfied"},
	{ZH: "满意", EN: "Satisfied"},
	{ZH: "非常满意", EN: "Very satisfied"},
}

// class is the ticket's priority class: lower is called first.
func (t *Ticket) class() int { return QueueClass(t.Channel, t.Transferred) }

// QueueClass is the class a waiting ticket of this channel is called in,
// lower first: a booking checked in, then priority citizens, then
// transferred tickets, then walk-ins; within a class, by queue time. The
// province's views order the hall's waiting lists with it, so "people
// ahead" there is the hall's Position.
func QueueClass(ch Channel, transferred bool) int {
	switch {
	case ch == BookingChannel:
		return 0
	case ch == Priority:
		return 1
	case transferred:
		return 2
	}
	return 3
}

const numClasses = 4

// FormatNumber formats a ticket number: prefix and zero-padded sequence.
func FormatNumber(prefix string, n, digits int) string {
	if n < 0 || digits < 0 {
		return fmt.Sprintf("%s%0*d", prefix, digits, n)
	}
	// the same text, without fmt's cost on every issue
	var nb [20]byte
	num := strconv.AppendInt(nb[:0], int64(n), 10)
	var b [32]byte
	out := append(b[:0], prefix...)
	for range digits - len(num) {
		out = append(out, '0')
	}
	return string(append(out, num...))
}

// WindowStatus is the state of a service window.
type WindowStatus string

// Window states.
const (
	WindowClosed WindowStatus = "closed"
	WindowOpen   WindowStatus = "open"
	WindowPaused WindowStatus = "paused"
)

// Window is a service window's live state.
type Window struct {
	Number      int          `json:"number"`
	Name        Text         `json:"name"`
	Services    []string     `json:"services"`
	Status      WindowStatus `json:"status"`
	Clerk       string       `json:"clerk,omitempty"`
	Current     string       `json:"current,omitempty"` // id of the ticket called or being served
	PauseReason string       `json:"pause_reason,omitempty"`
	Since       time.Time    `json:"since,omitzero"` // when the status last changed
}
