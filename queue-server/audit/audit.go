// Package audit keeps the hall's security audit trail (等保 安全审计): who did
// what, when, from where — staff logins and failed logins, logouts, token
// and user management, configuration changes, day close, backups, window
// and ticket actions by staff, and refused attempts to change anything.
//
// The trail is a file of JSON lines (audit.log in the data directory), one
// Record a line, chained: each record carries the hash of the one before
// it (Prev) and its own (Hash, over its other fields). A changed record no
// longer matches its hash, a removed or reordered one breaks the next
// record's Prev and the run of sequence numbers, so Verify (the command
// `queue-server audit verify`) finds any of them. Records at the end can
// only be missed against a head recorded elsewhere (Verify's head), and a
// chain rewritten whole, every hash recomputed, verifies on its own: so a
// hall joined to the province forwards every record (package forward), the
// province checks each as it arrives with Check, and VerifyAgainst checks
// the file against the last record the province holds (a Head). The
// forwarded mark (MarkFile) says how far the province has acknowledged;
// with HoldUnforwarded, retention never removes a record after it.
//
// The hash is SHA-256, or SM3 with the 国密 option; each record names its
// own (Alg), so a trail goes on across a switch of the option. One goroutine owns the file; Record waits until its record is
// on disk (records arriving together share one fsync). Records older than
// the retention are removed at open and once a day (the newest one always
// stays, so the chain goes on); the first kept record's Prev then names a
// removed record, which Verify reports as the chain's start. No record holds an ID number, a password or a token.
//
// The package imports only the standard library.
package audit

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FileName is the trail's file in the data directory.
const FileName = "audit.log"

// Genesis is the Prev of a trail's first record.
var Genesis = string(bytes.Repeat([]byte("0"), 64))

// Record is one audited action. The JSON field order is the struct's.
type Record struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`               // UTC
	Actor   string    `json:"actor"`            // the account or token name; for a login, the name tried
	Role    string    `json:"role,omitempty"`   // admin, manager, clerk, kiosk, display; "" anonymous
	Addr    string    `json:"addr,omitempty"`   // the client's address
	Action  string    `json:"action"`           // the API operation, e.g. "login", "config.update"
	Target  string    `json:"target,omitempty"` // what it acted on, e.g. "window=5"
	Outcome string    `json:"outcome"`          // "ok" or "refused:<code>"
	Alg     string    `json:"alg"`              // the chain's hash: "sha256" or "sm3"
	Prev    string    `json:"prev"`             // hex hash of the record before
	Hash    string    `json:"hash,omitempty"`   // hex hash of this record without Hash
}

// Entry is what a caller records; the log adds Seq, At, Alg, Prev, Hash.
type Entry struct {
	Actor, Role, Addr, Action, Target, Outcome string
}

// Hashes name the hash functions a chain may use.
type Hashes map[string]func() hash.Hash

// sum is the record's hash: over its JSON without Hash.
func (r Record) sum(h func() hash.Hash) (string, error) {
	r.Hash = ""
	b, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	d := h()
	d.Write(b)
	return hex.EncodeToString(d.Sum(nil)), nil
}

// Options configure a Log.
type Options struct {
	Alg       string           // the hash's name, recorded in every record ("sha256", "sm3")
	Hash      func() hash.Hash // the hash function named by Alg
	Retention time.Duration    // records older are removed; <= 0 keeps all
	Now       func() time.Time // nil: time.Now
	// HoldUnforwarded keeps, whatever their age, the records after the
	// forwarded mark (MarkFile): set when the trail is forwarded to the
	// province, so retention never removes a record the central has not
	// got. A missing mark holds every record.
	HoldUnforwarded bool
	// OnWrite, when set, is called after records are on disk (the
	// forwarder's wake-up); it must not block.
	OnWrite func()
}

// Log is an open trail.
type Log struct {
	path    string
	o       Options
	in      chan req
	done    chan struct{}
	closing sync.Once
	problem error
	head    atomic.Pointer[Head] // the last record on disk (set by loop)
}

// Last is the last record on disk (the zero Head for an empty trail).
func (l *Log) Last() Head { return *l.head.Load() }

type req struct {
	e     Entry
	reply chan error
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit: the trail is closed")

// Open opens (or creates) the trail at dir/FileName. A last line cut short
// by a crash is dropped. If the chain does not verify, the log still
// appends (Problem reports why): a tampered trail must not stop a hall.
func Open(dir string, o Options) (*Log, error) {
	if o.Alg == "" || o.Hash == nil {
		return nil, errors.New("audit: a hash and its name are needed")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Log{path: filepath.Join(dir, FileName), o: o, in: make(chan req), done: make(chan struct{})}
	if err := l.repairTail(); err != nil {
		return nil, err
	}
	if err := l.prune(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	last, err := l.verifyFile()
	if err != nil {
		l.problem = err
	}
	l.head.Store(&Head{Seq: last.Seq, Hash: last.Hash})
	go l.loop(f, last)
	return l, nil
}

// Problem is why the trail did not verify when it was opened, or nil.
func (l *Log) Problem() error { return l.problem }

// Path is the trail's file.
func (l *Log) Path() string { return l.path }

// verifyFile verifies the trail and returns its last record (zero: none).
func (l *Log) verifyFile() (Record, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return Record{}, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	res, err := Verify(f, Hashes{l.o.Alg: l.o.Hash}, "")
	if err != nil {
		// append after the last record that parses, so the new records
		// still chain to what is there
		return lastParsed(l.path), err
	}
	return res.Last, nil
}

func lastParsed(path string) Record {
	b, _ := os.ReadFile(path)
	var last Record
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		var r Record
		if json.Unmarshal(line, &r) == nil && r.Hash != "" {
			last = r
		}
	}
	return last
}

// repairTail drops a last line without its newline (a write cut short).
func (l *Log) repairTail() error {
	b, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if len(b) == 0 || b[len(b)-1] == '\n' {
		return nil
	}
	if err := os.Truncate(l.path, int64(bytes.LastIndexByte(b, '\n')+1)); err != nil {
		return fmt.Errorf("audit: drop a torn last line: %w", err)
	}
	return nil
}

// prune rewrites the trail without the records older than the retention
// (a temporary file, synced, renamed over the trail). The newest record
// stays however old, so the next one still chains to it.
func (l *Log) prune() error {
	if l.o.Retention <= 0 {
		return nil
	}
	b, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	cutoff := l.o.Now().Add(-l.o.Retention)
	hold := uint64(1<<64 - 1) // records after this seq stay
	if l.o.HoldUnforwarded {
		m, err := ReadMark(filepath.Dir(l.path))
		if err != nil {
			return err
		}
		hold = m.Seq
	}
	keep := 0
	for rest := b; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := rest[:i+1]
		var r Record
		if i+1 == len(rest) || json.Unmarshal(line, &r) != nil || !r.At.Before(cutoff) || r.Seq > hold {
			break // the newest record always stays: the chain goes on from it; so does every one not yet forwarded
		}
		keep += len(line)
		rest = rest[i+1:]
	}
	if keep == 0 {
		return nil
	}
	tmp := l.path + ".prune"
	if err := writeSynced(tmp, b[keep:]); err != nil {
		return err
	}
	if err := os.Rename(tmp, l.path); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return syncDir(filepath.Dir(l.path))
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("audit: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit: %w", err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer d.Close()
	return d.Sync()
}

// loop owns the file and the chain's head.
func (l *Log) loop(f *os.File, last Record) {
	defer close(l.done)
	prunedDay := l.o.Now().UTC().Format(time.DateOnly)
	for first := range l.in {
		batch := []req{first}
	more:
		for {
			select {
			case r, ok := <-l.in:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		if day := l.o.Now().UTC().Format(time.DateOnly); day != prunedDay {
			prunedDay = day
			f.Close()
			err := l.prune()
			if f2, err2 := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err2 == nil {
				f = f2
			} else if err == nil {
				err = err2
			}
			if err != nil {
				for _, r := range batch {
					r.reply <- err
				}
				continue
			}
		}
		var buf bytes.Buffer
		next := last
		var err error
		for _, r := range batch {
			rec := Record{Seq: next.Seq + 1, At: l.o.Now().UTC(), Actor: r.e.Actor, Role: r.e.Role, Addr: r.e.Addr,
				Action: r.e.Action, Target: r.e.Target, Outcome: r.e.Outcome, Alg: l.o.Alg, Prev: next.Hash}
			if rec.Prev == "" {
				rec.Prev = Genesis
			}
			if rec.Hash, err = rec.sum(l.o.Hash); err != nil {
				break
			}
			line, _ := json.Marshal(rec)
			buf.Write(line)
			buf.WriteByte('\n')
			next = rec
		}
		if err == nil {
			if _, err = f.Write(buf.Bytes()); err == nil {
				err = f.Sync()
			}
		}
		if err == nil {
			last = next
			l.head.Store(&Head{Seq: last.Seq, Hash: last.Hash})
			if l.o.OnWrite != nil {
				l.o.OnWrite()
			}
		} else {
			err = fmt.Errorf("audit: write the trail: %w", err)
		}
		for _, r := range batch {
			r.reply <- err
		}
	}
	f.Close()
}

// Record appends e and returns once it is on disk.
func (l *Log) Record(e Entry) (err error) {
	defer func() {
		if recover() != nil { // sent on the closed channel
			err = ErrClosed
		}
	}()
	r := req{e: e, reply: make(chan error, 1)}
	l.in <- r
	return <-r.reply
}

// Close stops the log after the records already sent; closing again does
// nothing.
func (l *Log) Close() {
	l.closing.Do(func() { close(l.in) })
	<-l.done
}

// Result is what Verify found in a trail that verifies.
type Result struct {
	Records int
	First   Record // Prev is Genesis, or names a record removed by retention or export's -since
	Last    Record // Hash is the head to keep elsewhere
}

// Head names one record of a trail by its seq and hash: what the province
// platform keeps as the last record it received from a hall.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Check checks one line of a trail after the record prev (nil for the
// first line read): a record with no unknown field, a known hash, its own
// hash right and, after prev, a seq one more and a Prev that is prev's
// hash. The first line read may start after removed records (Prev naming
// one), but a Genesis Prev must be seq 1. It is the step of Verify, and
// what the province platform applies to each record a hall forwards. The
// record is returned whenever it parses, also with an error.
func Check(prev *Record, line []byte, hashes Hashes) (Record, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var rec Record
	if err := dec.Decode(&rec); err != nil {
		return rec, fmt.Errorf("not an audit record: %v", err)
	}
	if dec.More() {
		return rec, errors.New("not an audit record: more than one JSON value")
	}
	h, ok := hashes[rec.Alg]
	if !ok {
		return rec, fmt.Errorf("(seq %d): unknown hash %q", rec.Seq, rec.Alg)
	}
	sum, err := rec.sum(h)
	if err != nil {
		return rec, err
	}
	if sum != rec.Hash {
		return rec, fmt.Errorf("(seq %d): the record was changed: its hash is %s, its content hashes to %s", rec.Seq, rec.Hash, sum)
	}
	if prev != nil {
		if rec.Seq != prev.Seq+1 {
			return rec, fmt.Errorf("(seq %d): follows seq %d: a record is missing or out of order", rec.Seq, prev.Seq)
		}
		if rec.Prev != prev.Hash {
			return rec, fmt.Errorf("(seq %d): prev %s is not the hash of the record before (seq %d, %s): a record was removed, reordered or changed", rec.Seq, rec.Prev, prev.Seq, prev.Hash)
		}
	} else if rec.Prev == Genesis && rec.Seq != 1 {
		return rec, fmt.Errorf("(seq %d): the trail's first record must be seq 1", rec.Seq)
	}
	return rec, nil
}

// Verify reads a trail and checks its chain: every line a record with no
// unknown field, known hash, its own hash right, sequence numbers one
// apart and each Prev the hash of the record before (see Check). head,
// when not "", must be the last record's hash (records removed from the
// end show only so). The error names the first record (by line) that
// fails.
func Verify(r io.Reader, hashes Hashes, head string) (Result, error) {
	return VerifyAgainst(r, hashes, head, nil)
}

// VerifyAgainst is Verify that also checks the trail against a head kept
// off the machine (the province platform's last received record, see
// Head): the trail's record of that seq must have that hash — or, when
// retention has since removed it, the trail's first record must name it
// as its Prev. As every record's hash covers the one before, a record
// changed, removed or inserted at or before that seq is found even when
// whoever changed it recomputed every hash after it.
func VerifyAgainst(r io.Reader, hashes Hashes, head string, kept *Head) (Result, error) {
	var res Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var prev *Record
	line := 0
	matched := false
	for sc.Scan() {
		line++
		rec, err := Check(prev, sc.Bytes(), hashes)
		if err != nil {
			if strings.HasPrefix(err.Error(), "(") {
				return res, fmt.Errorf("line %d %v", line, err)
			}
			return res, fmt.Errorf("line %d: %v", line, err)
		}
		if prev == nil {
			res.First = rec
		}
		if kept != nil && !matched {
			switch {
			case rec.Seq == kept.Seq && rec.Hash != kept.Hash:
				return res, fmt.Errorf("line %d (seq %d): the record differs from the copy kept elsewhere: its hash is %s, the kept head's %s: the trail was rewritten", line, rec.Seq, rec.Hash, kept.Hash)
			case rec.Seq == kept.Seq:
				matched = true
			case prev == nil && rec.Seq == kept.Seq+1 && rec.Prev != kept.Hash:
				return res, fmt.Errorf("line %d (seq %d): prev %s is not the kept head's hash %s (seq %d): the trail was rewritten", line, rec.Seq, rec.Prev, kept.Hash, kept.Seq)
			case prev == nil && rec.Seq == kept.Seq+1:
				matched = true
			case prev == nil && rec.Seq > kept.Seq+1:
				return res, fmt.Errorf("line %d (seq %d): the trail starts after the kept head (seq %d): records the central holds are no longer here, so the two cannot be compared", line, rec.Seq, kept.Seq)
			}
		}
		prev = &rec
		res.Records++
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("line %d: %v", line+1, err)
	}
	if prev != nil {
		res.Last = *prev
	}
	if head != "" && res.Last.Hash != head {
		return res, fmt.Errorf("the last record (seq %d) has hash %q, not the head %s: records were removed from the end", res.Last.Seq, res.Last.Hash, head)
	}
	if kept != nil && !matched && kept.Seq > 0 {
		return res, fmt.Errorf("the trail ends at seq %d, before the kept head (seq %d): records were removed from the end", res.Last.Seq, kept.Seq)
	}
	return res, nil
}
