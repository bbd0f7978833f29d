package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

// Retention watermarks in the meta bucket.
var (
	// kPurgedSeq is the last event whose personal data has been purged.
	kPurgedSeq = []byte("purged_seq")
	// kScrub is set while free pages may still hold purged values.
	kScrub = []byte("scrub")
	// kPurgedIdemDay is the first day whose entries in the days index
	// may still hold idempotency records.
	kPurgedIdemDay = []byte("purged_idem_day")
)

// bScratch is a bucket that exists only while scrubFreePages runs.
var bScratch = []byte("scrub-scratch")

// PurgePersonal removes the personal data — citizen key and masked ID
// number — from the ticket and booking snapshots of events of closed
// hall days before before's date (in before's location), and drops those
// days' idempotency records (a remote ticket's key is derived from the
// citizen key; an issue's record is cut from its ticket's day entry,
// which the reports still need) and helper calls (only the current day's
// are read), and strips the copies of those events in dead letters.
// Tickets and the outbox hold no copies: they point into the event log.
// Everything else (numbers, times, statuses, ratings) stays, so reports keep
// working.
//
// One call is one transaction that goes through at most limit records
// (events, idempotency records, helper calls, dead letters); it returns how many it went
// through, 0 when nothing before the cutoff is left. Watermarks in the meta bucket make it
// resumable and keep it from rescanning what was purged already: call it
// until it returns less than limit. The call that finishes also overwrites
// the pages bbolt freed, which still hold the old copies of the rewritten
// values (see scrubFreePages).
func (s *Store) PurgePersonal(before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("store: purge limit must be positive, got %d", limit)
	}
	cutoff := before.Format(time.DateOnly)
	n := 0
	scrub := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		// The hall's current day is never purged, however old: its tickets
		// live on in the service's memory and are written again when the
		// day closes. Once it is closed, the next call purges it.
		if day := string(m.Get(kDay)); day != "" && day < cutoff {
			cutoff = day
		}
		// rewrites are applied after the scan: a cursor's bucket must not
		// change under it
		type put struct{ bucket, key, value []byte }
		var puts []put

		// events, in sequence (and so day) order: tickets and the outbox
		// point into the log and hold no copies
		events := tx.Bucket(bEvents)
		seq := getU64(m, kPurgedSeq)
		ec := events.Cursor()
		purgedSeq := seq
		through := cutoff // the days before it are purged once this transaction commits
		for k, v := ec.Seek(u64(seq + 1)); k != nil; k, v = ec.Next() {
			ev, err := readEvent(events, k)
			if err != nil {
				return err
			}
			if ev.Day >= cutoff {
				break
			}
			if n == limit {
				through = ev.Day // the rest of this day is for the next call
				break
			}
			n++
			purgedSeq = ev.Seq
			if len(v) > 0 && v[0] == patchTag {
				// its base (earlier, so purged already or in this pass)
				// loses the personal data; the patch loses its own copy,
				// and the event its idempotency record, whose key may be
				// derived from the citizen key
				if !stripPersonal(&ev) && ev.Idem == nil {
					continue
				}
				ev.Idem = nil
				b, err := stripPatch(v, &ev)
				if err != nil {
					return fmt.Errorf("store: event %d: %w", ev.Seq, err)
				}
				puts = append(puts, put{bEvents, bytes.Clone(k), b})
				continue
			}
			if !stripPersonal(&ev) {
				continue
			}
			b, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			puts = append(puts, put{bEvents, bytes.Clone(k), b})
		}
		// the citizen keys in the digests of the days wholly purged
		if err := purgeVisits(tx, through); err != nil {
			return err
		}
		// idempotency records of those days: a key may be derived from the
		// citizen key (remote tickets), and they are only needed the same day
		var idemGone [][]byte
		ic := tx.Bucket(bIdem).Cursor()
		for k, _ := ic.First(); k != nil && n < limit; k, _ = ic.Next() {
			day, _, _ := bytes.Cut(k, []byte("/"))
			if string(day) >= cutoff {
				break
			}
			n++
			idemGone = append(idemGone, bytes.Clone(k))
		}
		for _, k := range idemGone {
			if err := tx.Bucket(bIdem).Delete(k); err != nil {
				return err
			}
		}
		if len(idemGone) > 0 {
			if err := m.Put(kScrub, []byte{1}); err != nil {
				return err
			}
		}
		// the records of issues, in the tickets' day entries (schema 5),
		// from the first day not gone through yet
		from := m.Get(kPurgedIdemDay)
		next := []byte(cutoff)
		dc := tx.Bucket(bDays).Cursor()
		for k, v := dc.Seek(from); k != nil; k, v = dc.Next() {
			day, _, _ := bytes.Cut(k, []byte("/"))
			if string(day) >= cutoff {
				break
			}
			if len(v) <= 8 { // no record: at most the ticket's pointer, which stays
				continue
			}
			if n == limit {
				next = bytes.Clone(day) // the rest of this day is for the next call
				break
			}
			n++
			puts = append(puts, put{bDays, bytes.Clone(k), bytes.Clone(v[:8])})
		}
		if !bytes.Equal(next, from) {
			if err := m.Put(kPurgedIdemDay, next); err != nil {
				return err
			}
		}
		// helper calls of those days: only today's are ever read (the
		// event log keeps each call's event), and a busy hall adds dozens
		// a day; each says which ticket needed help, so they go with the
		// personal data rather than accumulate for ever
		if hb := tx.Bucket(bHelps); hb != nil {
			var helpsGone [][]byte
			hc := hb.Cursor()
			for k, _ := hc.First(); k != nil && n < limit; k, _ = hc.Next() {
				day, _, _ := bytes.Cut(k, []byte("/"))
				if string(day) >= cutoff {
					break
				}
				n++
				helpsGone = append(helpsGone, bytes.Clone(k))
			}
			for _, k := range helpsGone {
				if err := hb.Delete(k); err != nil {
					return err
				}
			}
		}
		// dead letters wholly within the purged log: their bodies are
		// copies of those events
		if dl := tx.Bucket(bDeadLetters); dl != nil {
			c := dl.Cursor()
			for k, v := c.First(); k != nil && n < limit; k, v = c.Next() {
				var d DeadLetter
				if err := json.Unmarshal(v, &d); err != nil {
					return fmt.Errorf("store: dead letter %d: %w", binary.BigEndian.Uint64(k), err)
				}
				if d.Last > purgedSeq {
					break // batches are disjoint and in order: the rest are later
				}
				if d.Purged {
					continue
				}
				n++
				d.Body, d.Purged = stripBatch(d.Body), true
				b, err := json.Marshal(d)
				if err != nil {
					return err
				}
				puts = append(puts, put{bDeadLetters, bytes.Clone(k), b})
			}
		}
		if purgedSeq != seq {
			if err := putU64(m, kPurgedSeq, purgedSeq); err != nil {
				return err
			}
		}
		for _, p := range puts {
			if err := tx.Bucket(p.bucket).Put(p.key, p.value); err != nil {
				return err
			}
		}
		if len(puts) > 0 {
			if err := m.Put(kScrub, []byte{1}); err != nil {
				return err
			}
		}
		scrub = m.Get(kScrub) != nil
		return nil
	})
	if err != nil || n == limit || !scrub {
		return n, err
	}
	return n, s.scrubFreePages()
}

// stripBatch strips the events of a dead letter's body (an HTTPS batch:
// {"hall", "first_seq", "last_seq", "events"}). A body it cannot read is
// dropped: it could not be re-sent anyway, and it may hold personal data.
func stripBatch(body []byte) json.RawMessage {
	var b map[string]json.RawMessage
	var evs []hall.Event
	if json.Unmarshal(body, &b) != nil || json.Unmarshal(b["events"], &evs) != nil {
		return nil
	}
	for i := range evs {
		stripPersonal(&evs[i])
	}
	raw, err := json.Marshal(evs)
	if err != nil {
		return nil
	}
	b["events"] = raw
	out, err := json.Marshal(b)
	if err != nil {
		return nil
	}
	return out
}

// stripPersonal's fields of a ticket, in its JSON
var personalFields = []string{"citizen_key", "masked_id"}

// stripPatch rewrites a stored patch without the personal fields in its
// ticket's patch, its event part from ev (read back and stripped).
func stripPatch(v []byte, ev *hall.Event) ([]byte, error) {
	p, err := splitPatch(v)
	if err != nil {
		return nil, err
	}
	cp := *ev
	if p.parts&partTicket != 0 {
		fields := map[string]json.RawMessage{}
		if err := json.Unmarshal(p.patch[0], &fields); err != nil {
			return nil, err
		}
		for _, f := range personalFields {
			delete(fields, f)
		}
		if p.patch[0], err = json.Marshal(fields); err != nil {
			return nil, err
		}
		cp.Ticket = nil
	}
	if p.parts&partWindow != 0 {
		cp.Window = nil
	}
	if p.rest, err = json.Marshal(&cp); err != nil {
		return nil, err
	}
	return p.encode(), nil
}

// stripPersonal clears the citizen key and masked ID number from an
// event's ticket and booking snapshots and reports whether there were any.
func stripPersonal(ev *hall.Event) bool {
	found := false
	if t := ev.Ticket; t != nil && (t.CitizenKey != "" || t.MaskedID != "") {
		t.CitizenKey, t.MaskedID = "", ""
		ev.Idem = nil // its key may be derived from the citizen key
		found = true
	}
	if b := ev.Booking; b != nil && (b.CitizenKey != "" || b.MaskedID != "") {
		b.CitizenKey, b.MaskedID = "", ""
		found = true
	}
	return found
}

// scrubFreePages overwrites the file's free pages. bbolt never changes a
// page in place: a rewritten value goes to a new page and the old page,
// still holding the old bytes, joins the free list until it is reused. So
// it fills a scratch bucket with zeros until it has taken every free page
// (bbolt hands out free pages before it grows the file), commits, and
// drops the bucket: the free pages then hold zeros. Pages that an open
// read transaction still needs cannot be reused yet; they are scrubbed by
// the next purge.
func (s *Store) scrubFreePages() error {
	st := s.db.Stats()
	pages := st.FreePageN + st.PendingPageN
	pageSize := s.db.Info().PageSize
	// three values fill one leaf page (8-byte key, 16-byte element header)
	zero := make([]byte, pageSize/3-32)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bScratch) != nil {
			if err := tx.DeleteBucket(bScratch); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(bScratch)
		if err != nil {
			return err
		}
		b.FillPercent = 1
		for i := range uint64(3 * (pages + 1)) {
			if err := b.Put(u64(i), zero); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bScratch); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Delete(kScrub)
	})
}
