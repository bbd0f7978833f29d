package notify

import (
	"fmt"
	"time"
)

// Kind is what a notification tells. Spelled once, here; the pages and
// docs/central.md use the same spellings.
type Kind string

// Kinds.
const (
	Confirmed Kind = "confirmed" // a booking made
	Changed   Kind = "changed"   // a booking moved to another slot
	Cancelled Kind = "cancelled" // a booking cancelled, by the citizen or by a closure
	Reminder  Kind = "reminder"  // before the slot (the evening before, and shortly before)
	Ahead     Kind = "ahead"     // few people ahead of the ticket
	Called    Kind = "called"    // the ticket is called to a window
	Missed    Kind = "missed"    // the ticket was called and not there, or the booking never checked in
)

// Kinds lists every kind in the order the pages show them.
var Kinds = []Kind{Confirmed, Changed, Cancelled, Reminder, Ahead, Called, Missed}

// TicketKinds are the kinds a ticket followed without sign-in may get.
var TicketKinds = []Kind{Ahead, Called, Missed}

// Channel is how a notification reaches the citizen.
type Channel string

// Channels.
const (
	Push Channel = "push" // Web Push to a browser (VAPID)
	SMS  Channel = "sms"  // a text message through the SMS provider
)

// Message is what a notification says, in the citizen's language: the
// title and body of a push notification, the page it opens, and the
// parameters of the SMS template of its kind.
type Message struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"`
	// Template names the SMS template (its id is in the provider's
	// configuration) and Params fill its {1}, {2}, … (docs/central.md).
	Template string   `json:"template,omitempty"`
	Params   []string `json:"params,omitempty"`
}

// facts are what a message is made of.
type facts struct {
	Hall, HallName string
	Service        string
	Number         string // the ticket's number
	Window         int
	Ahead          int
	Slot           time.Time // in the hall's zone
	Closure        string    // why the hall cancelled, "" when the citizen did
	Booking        string
	Ticket         string
}

func when(t time.Time, lang string) string {
	if lang == "en" {
		return t.Format("Mon 2 Jan 15:04")
	}
	wd := []string{"日", "一", "二", "三", "四", "五", "六"}[t.Weekday()]
	return fmt.Sprintf("%d月%d日（周%s）%s", t.Month(), t.Day(), wd, t.Format("15:04"))
}

// message writes the notification of kind k in lang ("zh" or "en").
func message(k Kind, f facts, lang string) Message {
	en := lang == "en"
	pick := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	m := Message{URL: "/bookings", Template: string(k)}
	if f.Ticket != "" {
		m.URL = "/t/" + f.Ticket
	}
	slot := when(f.Slot, lang)
	switch k {
	case Confirmed:
		m.Title = pick("预约成功", "Booking confirmed")
		m.Body = pick(fmt.Sprintf("%s，%s。请带好材料，到大厅后扫码签到。", f.HallName, slot),
			fmt.Sprintf("%s, %s. Bring your documents and scan your booking code at the kiosk.", f.HallName, slot))
		m.Params = []string{f.HallName, slot}
	case Changed:
		m.Title = pick("预约已改期", "Booking moved")
		m.Body = pick(fmt.Sprintf("%s，改为 %s。", f.HallName, slot), fmt.Sprintf("%s, now %s.", f.HallName, slot))
		m.Params = []string{f.HallName, slot}
	case Cancelled:
		m.Title = pick("预约已取消", "Booking cancelled")
		if f.Closure != "" {
			m.Body = pick(fmt.Sprintf("%s %s 的预约因“%s”取消，请另约时间。", f.HallName, slot, f.Closure),
				fmt.Sprintf("Your booking at %s, %s, was cancelled: %s. Please book another time.", f.HallName, slot, f.Closure))
			m.Template, m.Params = "cancelled_closure", []string{f.HallName, slot, f.Closure}
			break
		}
		m.Body = pick(fmt.Sprintf("%s %s 的预约已取消。", f.HallName, slot), fmt.Sprintf("Your booking at %s, %s, is cancelled.", f.HallName, slot))
		m.Params = []string{f.HallName, slot}
	case Reminder:
		m.Title = pick("预约提醒", "Booking reminder")
		m.Body = pick(fmt.Sprintf("别忘了：%s，%s。请带好材料。", f.HallName, slot),
			fmt.Sprintf("Reminder: %s, %s. Bring your documents.", f.HallName, slot))
		m.Params = []string{f.HallName, slot}
	case Ahead:
		m.Title = pick(fmt.Sprintf("%s 号：快到您了", f.Number), fmt.Sprintf("%s: your turn is near", f.Number))
		m.Body = pick(fmt.Sprintf("您前面还有 %d 人，请回到大厅等候叫号。", f.Ahead),
			fmt.Sprintf("%d ahead of you. Please come back to the hall.", f.Ahead))
		if f.Ahead == 0 {
			m.Body = pick("下一位就是您，请到大厅等候叫号。", "You are next. Please wait in the hall for your call.")
		}
		m.Params = []string{f.Number, fmt.Sprint(f.Ahead)}
	case Called:
		m.Title = pick(fmt.Sprintf("请 %s 号到 %d 号窗口", f.Number, f.Window), fmt.Sprintf("%s, please go to window %d", f.Number, f.Window))
		m.Body = pick(fmt.Sprintf("请到 %d 号窗口办理。", f.Window), fmt.Sprintf("Please go to window %d now.", f.Window))
		m.Params = []string{f.Number, fmt.Sprint(f.Window)}
	case Missed:
		m.Title = pick("已过号", "Missed")
		if f.Number != "" {
			m.Body = pick(fmt.Sprintf("%s 号叫号时您不在，请到服务台咨询。", f.Number),
				fmt.Sprintf("Number %s was called and you were not there. Please ask at the desk.", f.Number))
			m.Params = []string{f.Number}
		} else {
			m.Body = pick(fmt.Sprintf("您 %s 在 %s 的预约未签到，记为爽约。", slot, f.HallName),
				fmt.Sprintf("You did not check in for your booking at %s, %s; it counts as missed.", f.HallName, slot))
			m.Template, m.Params = "missed_booking", []string{f.HallName, slot}
		}
	}
	return m
}
