package hall

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"hallq/internal/catalog"
)

// One ticket through the visit (一票到底): a ticket carries the matters the
// citizen came for. The clerk adds or removes them at the window, records
// how each ended (its Outcome), and moves the citizen on to another service
// for the next matter with a transfer, which keeps the number and the
// place (the transfer rules of state.go). A matter whose materials were
// incomplete lists what was missing: the one-time notice (一次性告知单)
// the phone page shows and the kiosk prints.

// Outcome is how one matter of a visit ended.
type Outcome string

// Outcomes of a matter; "" while it is still to be handled.
const (
	OutcomeDone       Outcome = "done"       // 办结: finished at the window
	OutcomeAccepted   Outcome = "accepted"   // 受理: accepted, finished later under a case number
	OutcomeIncomplete Outcome = "incomplete" // 材料不全: materials missing; the one-time notice lists them
	OutcomeRefused    Outcome = "refused"    // 不予受理: refused, with the reason
)

// Outcomes lists every outcome, in a stable order.
var Outcomes = []Outcome{OutcomeDone, OutcomeAccepted, OutcomeIncomplete, OutcomeRefused}

// Finished reports whether the outcome completes the matter in this visit
// (done or accepted): the citizen need not come again for it.
func (o Outcome) Finished() bool { return o == OutcomeDone || o == OutcomeAccepted }

// Ticket events of the visit's matters.
const (
	EvMatterAdded   = "ticket.matter_added"
	EvMatterRemoved = "ticket.matter_removed"
	EvMatterOutcome = "ticket.matter_outcome"
)

// Ticket actions of the visit's matters (POST /tickets/{id}/{action}).
const (
	ActAddMatter    = "add-matter"
	ActRemoveMatter = "remove-matter"
	ActOutcome      = "outcome"
)

// VisitMatter is one matter of a visit with its outcome. Name, Services
// and the names of the missing materials are copied from the catalogue when
// the matter is added, so the record (and the one-time notice) stays what
// the citizen was told when the catalogue later changes.
type VisitMatter struct {
	Code     string       `json:"code"`
	Name     catalog.Text `json:"name"`
	Services []string     `json:"services"` // the hall's services that handle it

	Outcome    Outcome        `json:"outcome,omitempty"`
	CaseNumber string         `json:"case_number,omitempty"` // accepted (受理)
	Missing    []catalog.Text `json:"missing,omitempty"`     // incomplete (材料不全): the materials missing, the one-time notice
	Reason     string         `json:"reason,omitempty"`      // refused (不予受理)
	Service    string         `json:"service,omitempty"`     // where the outcome was recorded
	Window     int            `json:"window,omitempty"`
	Clerk      string         `json:"clerk,omitempty"`
	At         time.Time      `json:"at,omitzero"` // when the outcome was recorded

	Rating *Rating `json:"rating,omitempty"` // the citizen's 好差评 of this matter (evaluation.go)
}

// visitMatter returns the index of the matter code on t, or -1.
func (t *Ticket) visitMatter(code string) int {
	return slices.IndexFunc(t.Matters, func(m VisitMatter) bool { return m.Code == code })
}

// maxMatters bounds the matters one ticket carries.
const maxMatters = 10

func (st *state) addMatter(id, code string, now time.Time, actor string) (*Ticket, error) {
	m, err := st.matter(code)
	if err != nil {
		return nil, err
	}
	return st.step(id, "add a matter to", EvMatterAdded, []Status{Waiting, Called, Serving, Parked}, now, actor, func(nt *Ticket) (*Window, error) {
		if nt.visitMatter(m.Code) >= 0 {
			return nil, Refusal(Conflict, ReasonMatterOnTicket, "ticket %s already carries matter %s", nt.Number, m.Code)
		}
		if len(nt.Matters) >= maxMatters {
			return nil, Errorf(Invalid, "a ticket carries at most %d matters", maxMatters)
		}
		nt.Matters = append(slices.Clone(nt.Matters), VisitMatter{Code: m.Code, Name: m.Name, Services: m.Services})
		return nil, nil
	})
}

func (st *state) removeMatter(id, code string, now time.Time, actor string) (*Ticket, error) {
	return st.step(id, "remove a matter from", EvMatterRemoved, []Status{Waiting, Called, Serving, Parked}, now, actor, func(nt *Ticket) (*Window, error) {
		i := nt.visitMatter(code)
		if i < 0 {
			return nil, Refusal(NotFound, ReasonMatterNotOnTicket, "ticket %s carries no matter %q", nt.Number, code)
		}
		if nt.Matters[i].Outcome != "" {
			return nil, Refusal(Conflict, ReasonMatterHasOutcome, "matter %s of ticket %s already ended (%s); its record stays", code, nt.Number, nt.Matters[i].Outcome)
		}
		nt.Matters = slices.Delete(slices.Clone(nt.Matters), i, i+1)
		return nil, nil
	})
}

// OutcomeRequest is what the clerk records for one matter.
type OutcomeRequest struct {
	Matter     string
	Outcome    Outcome
	CaseNumber string
	Missing    []int // indexes into the matter's materials (its checklist)
	Reason     string
}

func (st *state) outcome(id string, r OutcomeRequest, now time.Time, actor string) (*Ticket, error) {
	var m catalog.Matter
	switch r.Outcome {
	case OutcomeDone, OutcomeAccepted, OutcomeIncomplete, OutcomeRefused:
	case "":
		return nil, Errorf(Invalid, "outcome is required (one of %v)", Outcomes)
	default:
		return nil, Errorf(Invalid, "unknown outcome %q (one of %v)", r.Outcome, Outcomes)
	}
	r.CaseNumber, r.Reason = strings.TrimSpace(r.CaseNumber), strings.TrimSpace(r.Reason)
	switch {
	case r.Outcome == OutcomeAccepted && r.CaseNumber == "":
		return nil, Errorf(Invalid, "an accepted matter (受理) needs its case number")
	case r.Outcome != OutcomeAccepted && r.CaseNumber != "":
		return nil, Errorf(Invalid, "only an accepted matter has a case number")
	case utf8.RuneCountInString(r.CaseNumber) > 40 || strings.ContainsFunc(r.CaseNumber, isControl):
		return nil, Errorf(Invalid, "case_number must be at most 40 printable characters")
	case r.Outcome == OutcomeRefused && r.Reason == "":
		return nil, Errorf(Invalid, "a refused matter (不予受理) needs the reason")
	case r.Outcome == OutcomeIncomplete && len(r.Missing) == 0:
		return nil, Errorf(Invalid, "materials incomplete (材料不全) needs the missing materials ticked")
	case r.Outcome != OutcomeIncomplete && len(r.Missing) > 0:
		return nil, Errorf(Invalid, "only materials incomplete lists missing materials")
	}
	if r.Outcome == OutcomeIncomplete {
		var err error
		if m, err = st.matter(r.Matter); err != nil {
			return nil, err
		}
	}
	return st.step(id, "record an outcome on", EvMatterOutcome, []Status{Called, Serving}, now, actor, func(nt *Ticket) (*Window, error) {
		i := nt.visitMatter(r.Matter)
		if i < 0 {
			return nil, Refusal(NotFound, ReasonMatterNotOnTicket, "ticket %s carries no matter %q", nt.Number, r.Matter)
		}
		vm := nt.Matters[i]
		if vm.Outcome != "" {
			return nil, Refusal(Conflict, ReasonMatterHasOutcome, "matter %s of ticket %s already ended (%s)", vm.Code, nt.Number, vm.Outcome)
		}
		if !slices.Contains(vm.Services, nt.Service) {
			return nil, Refusal(Conflict, ReasonNotServedHere, "matter %s is handled by service %s, not %s: transfer the ticket", vm.Code, strings.Join(vm.Services, "/"), nt.Service)
		}
		var missing []catalog.Text
		seen := map[int]bool{}
		for _, k := range r.Missing {
			if k < 0 || k >= len(m.Materials) {
				return nil, Errorf(Invalid, "missing material %d: matter %s has materials 0 to %d", k, vm.Code, len(m.Materials)-1)
			}
			if !seen[k] {
				seen[k] = true
				missing = append(missing, m.Materials[k].Name)
			}
		}
		vm.Outcome, vm.CaseNumber, vm.Missing, vm.Reason = r.Outcome, r.CaseNumber, missing, r.Reason
		vm.Service, vm.Window, vm.Clerk, vm.At = nt.Service, nt.Window, nt.Clerk, now
		nt.Matters = slices.Clone(nt.Matters)
		nt.Matters[i] = vm
		return nil, nil
	})
}

// pendingHere names a matter of t that its current service handles and
// that has no outcome yet, or "".
func (t *Ticket) pendingHere() string {
	for _, m := range t.Matters {
		if m.Outcome == "" && slices.Contains(m.Services, t.Service) {
			return m.Code
		}
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Notice is the one-time notice (一次性告知单) of a visit: every matter
// whose materials were incomplete, with what was missing.
type Notice struct {
	Ticket  string        `json:"ticket"` // the ticket number
	Day     string        `json:"day"`
	Matters []VisitMatter `json:"matters"` // the incomplete matters, with Missing
}

// NoticeOf returns the visit's one-time notice; ok is false when no matter
// of the visit was incomplete.
func NoticeOf(t *Ticket) (Notice, bool) {
	n := Notice{Ticket: t.Number, Day: t.Day, Matters: []VisitMatter{}}
	for _, m := range t.Matters {
		if m.Outcome == OutcomeIncomplete {
			m.Rating = nil
			n.Matters = append(n.Matters, m)
		}
	}
	return n, len(n.Matters) > 0
}
