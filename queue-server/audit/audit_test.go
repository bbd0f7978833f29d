package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

var sha = Hashes{"sha256": sha256.New}

// clock is a settable hall clock in Asia/Shanghai.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func open(t *testing.T, dir string, c *clock, retention time.Duration) *Log {
	t.Helper()
	l, err := Open(dir, Options{Alg: "sha256", Hash: sha256.New, Retention: retention, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func record(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := range n {
		if err := l.Record(Entry{Actor: fmt.Sprintf("clerk%d", i), Role: "clerk", Addr: "192.0.2.7", Action: "windows.call", Target: "window=5", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
}

func lines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

func verify(text, head string) (Result, error) {
	return Verify(strings.NewReader(text), sha, head)
}

func TestTrailVerifiesAndRecordsWhoWhatWhenWhere(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)}
	l := open(t, dir, c, 0)
	record(t, l, 3)
	l.Close()
	ls := lines(t, dir)
	if len(ls) != 3 {
		t.Fatalf("%d lines, want 3", len(ls))
	}
	var r Record
	if err := json.Unmarshal([]byte(ls[1]), &r); err != nil {
		t.Fatal(err)
	}
	if r.Seq != 2 || r.Actor != "clerk1" || r.Addr != "192.0.2.7" || r.Action != "windows.call" || !r.At.Equal(c.now()) || r.At.Location() != time.UTC || r.Alg != "sha256" {
		t.Errorf("record 2 = %+v", r)
	}
	res, err := verify(strings.Join(ls, ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || res.First.Prev != Genesis || res.Last.Seq != 3 {
		t.Errorf("verify = %+v", res)
	}
	if _, err := verify(strings.Join(ls, ""), res.Last.Hash); err != nil {
		t.Errorf("with its own head: %v", err)
	}

	// reopened, the chain goes on
	l = open(t, dir, c, 0)
	if l.Problem() != nil {
		t.Fatal(l.Problem())
	}
	record(t, l, 1)
	l.Close()
	if res, err := verify(strings.Join(lines(t, dir), ""), ""); err != nil || res.Records != 4 {
		t.Fatalf("after reopening: %+v %v", res, err)
	}
}

// Each kind of tampering is found, naming the line.
func TestTamperingIsDetected(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, &clock{t: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)}, 0)
	record(t, l, 5)
	l.Close()
	ls := lines(t, dir)
	head, _ := verify(strings.Join(ls, ""), "")

	rehash := func(line string, change func(*Record)) string {
		var r Record
		json.Unmarshal([]byte(line), &r)
		change(&r)
		r.Hash, _ = r.sum(sha256.New)
		b, _ := json.Marshal(r)
		return string(b) + "\n"
	}
	join := func(parts ...string) string { return strings.Join(parts, "") }
	for _, tc := range []struct {
		name, text, head, want string
	}{
		{"a changed actor", join(ls[0], strings.Replace(ls[1], `"clerk1"`, `"clerk9"`, 1), ls[2], ls[3], ls[4]), "", "line 2 (seq 2): the record was changed"},
		{"a changed outcome", join(ls[0], ls[1], strings.Replace(ls[2], `"ok"`, `"refused:forbidden"`, 1), ls[3], ls[4]), "", "line 3 (seq 3): the record was changed"},
		{"a changed record with its hash recomputed", join(ls[0], rehash(ls[1], func(r *Record) { r.Addr = "198.51.100.1" }), ls[2], ls[3], ls[4]), "", "line 3 (seq 3): prev"},
		{"a removed record", join(ls[0], ls[1], ls[3], ls[4]), "", "line 3 (seq 4): follows seq 2"},
		{"a removed record, the rest renumbered", join(ls[0], ls[1], rehash(ls[3], func(r *Record) { r.Seq = 3 }), ls[4]), "", "line 3 (seq 3): prev"},
		{"two records swapped", join(ls[0], ls[2], ls[1], ls[3], ls[4]), "", "line 2 (seq 3): follows seq 1"},
		{"the first record removed", join(ls[1], ls[2], ls[3], ls[4]), "", ""},
		{"the last record removed, against the head", join(ls[0], ls[1], ls[2], ls[3]), head.Last.Hash, "records were removed from the end"},
		{"an added field", join(ls[0], strings.Replace(ls[1], `"seq"`, `"note":"x","seq"`, 1), ls[2], ls[3], ls[4]), "", `line 2: not an audit record: json: unknown field "note"`},
		{"an unknown hash", join(ls[0], strings.Replace(ls[1], `"sha256"`, `"md5"`, 1)), "", `line 2 (seq 2): unknown hash "md5"`},
		{"a genesis record that is not the first", join(rehash(ls[1], func(r *Record) { r.Prev = Genesis })), "", "line 1 (seq 2): the trail's first record must be seq 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify(tc.text, tc.head)
			if tc.want == "" {
				// the first record removed: the chain verifies from seq 2,
				// its Prev naming a record that is not there
				if err != nil {
					t.Fatalf("a trail cut at its start (as retention cuts it): %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := verify(join(ls[0], ls[1], ls[2], ls[3]), ""); err != nil {
		t.Errorf("without a head a cut end is not detectable, and must not be reported: %v", err)
	}
}

func TestTornLastLineIsDroppedAtOpen(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)}
	l := open(t, dir, c, 0)
	record(t, l, 2)
	l.Close()
	f, _ := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":3,"at":"2026-`)
	f.Close()
	l = open(t, dir, c, 0)
	if l.Problem() != nil {
		t.Fatalf("a torn last line is a crash, not tampering: %v", l.Problem())
	}
	record(t, l, 1)
	l.Close()
	res, err := verify(strings.Join(lines(t, dir), ""), "")
	if err != nil || res.Records != 3 || res.Last.Seq != 3 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestOpenReportsATamperedTrailAndKeepsRecording(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)}
	l := open(t, dir, c, 0)
	record(t, l, 2)
	l.Close()
	path := filepath.Join(dir, FileName)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(b, []byte(`"clerk0"`), []byte(`"admin"`), 1), 0o600)
	l = open(t, dir, c, 0)
	if l.Problem() == nil || !strings.Contains(l.Problem().Error(), "line 1 (seq 1): the record was changed") {
		t.Fatalf("Problem() = %v", l.Problem())
	}
	record(t, l, 1)
	l.Close()
	ls := lines(t, dir)
	var r Record
	json.Unmarshal([]byte(ls[2]), &r)
	if r.Seq != 3 {
		t.Errorf("the record after a tampered trail is seq %d, want 3", r.Seq)
	}
}

// Retention removes whole old records, at open and when the hall day
// turns; what stays verifies, its first Prev naming a removed record.
func TestRetentionRemovesOldRecords(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, shanghai)}
	l := open(t, dir, c, 180*24*time.Hour)
	record(t, l, 2) // June
	c.set(time.Date(2026, 9, 1, 9, 0, 0, 0, shanghai))
	record(t, l, 2) // September
	c.set(time.Date(2026, 12, 10, 9, 0, 0, 0, shanghai))
	record(t, l, 1) // a new day: the June records are now older than 180 days
	l.Close()
	res, err := verify(strings.Join(lines(t, dir), ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || res.First.Seq != 3 || res.First.Prev == Genesis || res.Last.Seq != 5 {
		t.Fatalf("after retention: %+v", res)
	}
	c.set(time.Date(2027, 7, 1, 9, 0, 0, 0, shanghai))
	l = open(t, dir, c, 180*24*time.Hour)
	record(t, l, 1)
	l.Close()
	res, err = verify(strings.Join(lines(t, dir), ""), "")
	if err != nil || res.Records != 2 || res.First.Seq != 5 || res.Last.Seq != 6 {
		t.Fatalf("at open (all records old: the newest stays, the chain goes on from it): %+v %v", res, err)
	}
}

func TestConcurrentRecordsFormOneChain(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, &clock{t: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)}, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { record(t, l, 25) })
	}
	wg.Wait()
	l.Close()
	if err := l.Record(Entry{Action: "late"}); err != ErrClosed {
		t.Errorf("Record after Close: %v", err)
	}
	res, err := verify(strings.Join(lines(t, dir), ""), "")
	if err != nil || res.Records != 200 {
		t.Fatalf("%+v %v", res, err)
	}
}
