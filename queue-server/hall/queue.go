package hall

import (
	"slices"
	"time"
)

// serviceQueue holds one service's waiting tickets, one list per priority
// class, each sorted by (QueuedAt, Number). Appends are the common case;
// offline hand-overs and transfers insert in place.
type serviceQueue struct {
	classes [numClasses][]*Ticket
}

func ticketBefore(a, b *Ticket) bool {
	if !a.QueuedAt.Equal(b.QueuedAt) {
		return a.QueuedAt.Before(b.QueuedAt)
	}
	if len(a.Number) != len(b.Number) {
		return len(a.Number) < len(b.Number)
	}
	return a.Number < b.Number
}

func cmpTicket(a, b *Ticket) int {
	switch {
	case a == b:
		return 0
	case ticketBefore(a, b):
		return -1
	case ticketBefore(b, a):
		return 1
	}
	return 0
}

func (q *serviceQueue) insert(t *Ticket) {
	l := q.classes[t.class()]
	i, _ := slices.BinarySearchFunc(l, t, cmpTicket)
	q.classes[t.class()] = slices.Insert(l, i, t)
}

func (q *serviceQueue) remove(t *Ticket) {
	c := t.class()
	l := q.classes[c]
	i, found := slices.BinarySearchFunc(l, t, cmpTicket)
	if !found || l[i] != t {
		i = slices.Index(l, t) // equal keys: fall back to identity
		if i < 0 {
			return
		}
	}
	q.classes[c] = slices.Delete(l, i, i+1)
}

// ahead counts the tickets of this queue that come before t by class and time.
func (q *serviceQueue) ahead(t *Ticket) int {
	n := 0
	c := t.class()
	for k := 0; k < c; k++ {
		n += len(q.classes[k])
	}
	i, _ := slices.BinarySearchFunc(q.classes[c], t, cmpTicket)
	return n + i
}

func (q *serviceQueue) len() int {
	n := 0
	for _, l := range q.classes {
		n += len(l)
	}
	return n
}

// oldest returns the earliest QueuedAt among the waiting tickets.
func (q *serviceQueue) oldest() (time.Time, bool) {
	var best time.Time
	for _, l := range q.classes {
		if len(l) > 0 && (best.IsZero() || l[0].QueuedAt.Before(best)) {
			best = l[0].QueuedAt
		}
	}
	return best, !best.IsZero()
}

// candidate is a ticket that a window might call, with its ordering key:
// tickets aged past the bound come first (oldest first), then by class,
// then by the window's service preference, then by queue time.
type candidate struct {
	t    *Ticket
	aged bool
	pref int
}

func (a candidate) before(b candidate) bool {
	if a.aged != b.aged {
		return a.aged
	}
	if a.aged {
		return ticketBefore(a.t, b.t)
	}
	if ca, cb := a.t.class(), b.t.class(); ca != cb {
		return ca < cb
	}
	if a.pref != b.pref {
		return a.pref < b.pref
	}
	return ticketBefore(a.t, b.t)
}

// next returns the ticket that window w should call at time now, or nil.
func (st *state) next(w *Window, now time.Time) *Ticket {
	var best candidate
	bound := st.cfg.Rules.AgingBound.D()
	for pref, code := range w.Services {
		q := st.queues[code]
		if q == nil {
			continue
		}
		for _, l := range q.classes {
			for _, t := range l {
				if t.TargetWindow != 0 && t.TargetWindow != w.Number {
					continue
				}
				c := candidate{t: t, pref: pref, aged: bound > 0 && now.Sub(t.QueuedAt) > bound}
				if best.t == nil || c.before(best) {
					best = c
				}
				break // the rest of this list comes later
			}
		}
	}
	return best.t
}
