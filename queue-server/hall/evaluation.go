package hall

import (
	"slices"
	"strings"
	"time"
)

// 政务服务"好差评" as GB/T 39734-2020 (一次一评、一事一评) and GB/T 39735-2020
// describe it: one evaluation per visit and matter — on a ticket that
// carries matters each matter is rated once, on a ticket without matters
// the visit is; five levels; for the level chosen, options of the
// second-level indicators of offline (在现场) evaluation — overall
// satisfaction (整体满意度), efficiency (服务效率), service level (服务水平)
// and attitude (服务态度) — worded for that level; the channel it came from;
// a low rating (不满意, 非常不满意) asks for the reason. Whichever channel
// rates first counts; any other is refused with already_rated.

// RatingChannel is where a rating was given (评价渠道).
type RatingChannel string

// Rating channels.
const (
	ViaWindowPad RatingChannel = "window_pad" // 窗口评价器 at the window
	ViaKiosk     RatingChannel = "kiosk"      // 自助终端, by scanning the ticket
	ViaPhone     RatingChannel = "phone"      // 二维码: the ticket's status page on a phone
	ViaOnline    RatingChannel = "online"     // 网上: the province's portal
)

// RatingChannels lists every channel, in a stable order.
var RatingChannels = []RatingChannel{ViaWindowPad, ViaKiosk, ViaPhone, ViaOnline}

// Indicator is one second-level indicator of offline evaluation.
type Indicator string

// The offline indicators (线下评价的二级指标).
const (
	IndOverall    Indicator = "overall"       // 整体满意度
	IndEfficiency Indicator = "efficiency"    // 服务效率
	IndLevel      Indicator = "service_level" // 服务水平
	IndAttitude   Indicator = "attitude"      // 服务态度
)

// Indicators lists the indicators, in the order they are offered.
var Indicators = []Indicator{IndOverall, IndEfficiency, IndLevel, IndAttitude}

// IndicatorOption is an indicator as offered for one level: its code and
// the words the citizen taps.
type IndicatorOption struct {
	Indicator Indicator `json:"indicator"`
	Label     Text      `json:"label"`
}

// indicatorWords are the options' words by tone: good (5, 4), basic (3),
// poor (2, 1).
var indicatorWords = map[Indicator][3]Text{
	IndOverall:    {{ZH: "整体满意", EN: "Satisfied overall"}, {ZH: "整体基本满意", EN: "Basically satisfied overall"}, {ZH: "整体不满意", EN: "Not satisfied overall"}},
	IndEfficiency: {{ZH: "办事效率高", EN: "Quick service"}, {ZH: "办事效率一般", EN: "Service could be quicker"}, {ZH: "等候和办理时间长", EN: "Long wait or slow service"}},
	IndLevel:      {{ZH: "业务熟练、讲解清楚", EN: "Skilled, clear explanations"}, {ZH: "业务水平一般", EN: "Average skill"}, {ZH: "业务不熟练、讲解不清", EN: "Unskilled, unclear explanations"}},
	IndAttitude:   {{ZH: "服务态度好", EN: "Friendly staff"}, {ZH: "服务态度一般", EN: "Staff could be friendlier"}, {ZH: "服务态度差", EN: "Unfriendly staff"}},
}

func tone(score int) int {
	switch {
	case score >= 4:
		return 0
	case score == 3:
		return 1
	}
	return 2
}

// IndicatorOptions returns the options offered for a score (1–5).
func IndicatorOptions(score int) []IndicatorOption {
	out := make([]IndicatorOption, 0, len(Indicators))
	for _, ind := range Indicators {
		out = append(out, IndicatorOption{Indicator: ind, Label: indicatorWords[ind][tone(score)]})
	}
	return out
}

func indicatorTable() map[int][]IndicatorOption {
	m := map[int][]IndicatorOption{}
	for s := 1; s <= 5; s++ {
		m[s] = IndicatorOptions(s)
	}
	return m
}

// Low reports whether a score is a poor rating (差评: 不满意 or 非常不满意).
func Low(score int) bool { return score <= 2 }

// RateRequest is one evaluation.
type RateRequest struct {
	Matter     string        // the matter rated; "" on a ticket without matters
	Score      int           // 5 very satisfied … 1 very dissatisfied
	Indicators []Indicator   // options chosen for the score
	Reason     string        // free text; a low rating needs it or an indicator
	Via        RatingChannel // "" counts as the window pad
}

// CheckRating reports what is wrong with a rating by the rules every
// channel follows (score 1–5, known indicators, a low score's reason), so a
// channel that relays ratings to the hall (the province's portal) refuses
// them as the hall would, before sending them on.
func CheckRating(r RateRequest) error {
	_, err := newRating(r, time.Time{})
	return err
}

// newRating validates r into a Rating.
func newRating(r RateRequest, now time.Time) (*Rating, error) {
	if r.Score < 1 || r.Score > 5 {
		return nil, Errorf(Invalid, "score must be 1 (very dissatisfied) to 5 (very satisfied), got %d", r.Score)
	}
	if len(r.Reason) > 200 {
		return nil, Errorf(Invalid, "reason is longer than 200 bytes")
	}
	if r.Via == "" {
		r.Via = ViaWindowPad
	}
	if !slices.Contains(RatingChannels, r.Via) {
		return nil, Errorf(Invalid, "unknown rating channel %q (one of %v)", r.Via, RatingChannels)
	}
	var inds []Indicator
	for _, ind := range r.Indicators {
		if !slices.Contains(Indicators, ind) {
			return nil, Errorf(Invalid, "unknown indicator %q (one of %v)", ind, Indicators)
		}
		if !slices.Contains(inds, ind) {
			inds = append(inds, ind)
		}
	}
	reason := strings.TrimSpace(r.Reason)
	if Low(r.Score) && reason == "" && len(inds) == 0 {
		return nil, Refusal(Invalid, ReasonRatingNeedsReason, "a rating of %d (%s) needs its reason: an option or a few words", r.Score, RatingLabels[r.Score].ZH)
	}
	return &Rating{Score: r.Score, Indicators: inds, Reason: reason, Channel: r.Via, At: now}, nil
}

func (st *state) rate(id string, r RateRequest, now time.Time, actor string) (*Ticket, error) {
	rating, err := newRating(r, now)
	if err != nil {
		return nil, err
	}
	t, err := st.ticket(id)
	if err != nil {
		return nil, err
	}
	if len(t.Matters) == 0 || r.Matter == "" {
		if r.Matter != "" {
			return nil, Refusal(NotFound, ReasonMatterNotOnTicket, "ticket %s carries no matter %q", t.Number, r.Matter)
		}
		if len(t.Matters) > 0 {
			return nil, Errorf(Invalid, "ticket %s carries matters: rate one of them (matter)", t.Number)
		}
		if t.Rating != nil {
			return nil, Refusal(Conflict, ReasonAlreadyRated, "ticket %s was already rated (%s)", t.Number, t.Rating.Channel)
		}
		return st.step(id, "rate", EvTicketRated, []Status{Done}, now, actor, func(nt *Ticket) (*Window, error) {
			nt.Rating = rating
			return nil, nil
		})
	}
	i := t.visitMatter(r.Matter)
	if i < 0 {
		return nil, Refusal(NotFound, ReasonMatterNotOnTicket, "ticket %s carries no matter %q", t.Number, r.Matter)
	}
	if t.Matters[i].Rating != nil {
		return nil, Refusal(Conflict, ReasonAlreadyRated, "matter %s of ticket %s was already rated (%s)", r.Matter, t.Number, t.Matters[i].Rating.Channel)
	}
	if t.Matters[i].Outcome == "" {
		return nil, Refusal(Conflict, ReasonIllegalTransition, "matter %s of ticket %s is not handled yet: it is rated after", r.Matter, t.Number)
	}
	return st.step(id, "rate", EvTicketRated, []Status{Waiting, Called, Serving, Parked, Done}, now, actor, func(nt *Ticket) (*Window, error) {
		nt.Matters = slices.Clone(nt.Matters)
		nt.Matters[i].Rating = rating
		return nil, nil
	})
}

// OnlineStatus is where a rating given on the province's portal (channel
// online) stands, as the central tells the citizen: the hall, the
// authority on a visit's one rating, applies it or has one already.
type OnlineStatus string

// Online rating statuses.
const (
	OnlineNone           OnlineStatus = "none"            // not rated anywhere that the central knows of
	OnlinePending        OnlineStatus = "pending"         // accepted by the central, on its way to the hall (or the hall's answer on its way back)
	OnlineApplied        OnlineStatus = "applied"         // the hall took the online rating: it counts
	OnlineRatedElsewhere OnlineStatus = "rated_elsewhere" // the visit was rated on another channel (the window's pad) first
)

// OnlineStatuses lists them, in a stable order.
var OnlineStatuses = []OnlineStatus{OnlineNone, OnlinePending, OnlineApplied, OnlineRatedElsewhere}

// OnlineRefusal is why the central refuses an online rating before sending
// it to the hall (error.reason of its rating route), besides the hall's own
// ReasonAlreadyRated and ReasonRatingNeedsReason, spelt the same.
type OnlineRefusal string

// Online rating refusals.
const (
	OnlineNotServed     OnlineRefusal = "not_served"     // the visit is not done (served) yet: it is rated after
	OnlineUnknownTicket OnlineRefusal = "unknown_ticket" // no such ticket at the central (or past its keeping time)
	OnlineDayOver       OnlineRefusal = "day_over"       // the hall has begun another day: it keeps a day's tickets only until then
)

// OnlineRefusals lists them with the hall's reasons the route shares.
var OnlineRefusals = []string{string(ReasonAlreadyRated), string(ReasonRatingNeedsReason), string(OnlineNotServed), string(OnlineUnknownTicket), string(OnlineDayOver)}
