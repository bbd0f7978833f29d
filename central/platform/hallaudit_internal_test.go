package platform

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/internal/gm"
	"hallq/internal/testclock"
	"hallq/queue-server/audit"
)

// trail writes n records with the hall's own audit.Log and returns its lines.
func trail(t *testing.T, n int, actor string) [][]byte {
	t.Helper()
	dir := t.TempDir()
	c := testclock.New(testclock.At(9, 0))
	l, err := audit.Open(dir, audit.Options{Alg: "sha256", Hash: sha256.New, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := l.Record(audit.Entry{Actor: actor, Role: "clerk", Action: "windows.call", Target: "window=5", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	b, _ := os.ReadFile(filepath.Join(dir, audit.FileName))
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

func hashOf(line []byte) string {
	var r audit.Record
	json.Unmarshal(line, &r)
	return r.Hash
}

// Each way a forwarded trail can fail to chain is one break, named by its
// first record and kept; the checking goes on from there.
func TestAuditTrailJudgesEachRecord(t *testing.T) {
	ls := trail(t, 6, "wang")
	other := trail(t, 2, "zhao") // another trail: its records are not ls's
	now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	lookup := func(seq uint64) string { return hashOf(ls[seq-1]) }
	run := func(lines ...[]byte) AuditTrail {
		var tr AuditTrail
		for i, l := range lines {
			tr.judge(l, uint64(i+1), now, lookup)
		}
		return tr
	}
	changed := bytes.Replace(ls[2], []byte(`"wang"`), []byte(`"li"`), 1)
	for _, tc := range []struct {
		name      string
		lines     [][]byte
		breaks    uint64
		at        uint64
		why       string
		last, dup uint64
	}{
		{"intact", ls[:4], 0, 0, "", 4, 0},
		{"the last one again", [][]byte{ls[0], ls[1], ls[1]}, 0, 0, "", 2, 1},
		{"an earlier one again", [][]byte{ls[0], ls[1], ls[2], ls[0]}, 0, 0, "", 3, 1},
		{"an earlier one again, changed", [][]byte{ls[0], ls[1], ls[2], other[1]}, 1, 2, "#2 arrived again with other content", 3, 0},
		{"a changed record", [][]byte{ls[0], ls[1], changed, ls[3], ls[4]}, 1, 3, "the record was changed", 5, 0},
		{"a missing record", [][]byte{ls[0], ls[1], ls[3], ls[4]}, 1, 4, "follows seq 2: a record is missing", 5, 0},
		{"a new trail", [][]byte{ls[0], ls[1], ls[2], other[0], other[1]}, 1, 1, "a new trail begins at #1 after #3", 2, 0},
		{"not a record", [][]byte{ls[0], []byte(`{"seq":2,"note":"x"}`), ls[1]}, 1, 2, "not an audit record", 2, 0},
		{"a trail that starts after removed records", ls[3:], 0, 0, "", 6, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := run(tc.lines...)
			if tr.Breaks != tc.breaks || tr.BrokenAt != tc.at || !strings.Contains(tr.BrokenWhy, tc.why) || tr.LastSeq != tc.last || tr.Duplicates != tc.dup {
				t.Fatalf("%+v", tr)
			}
			if tc.breaks == 0 && !strings.HasSuffix(tr.Summary(), "; intact") || tc.breaks > 0 && !strings.Contains(tr.Summary(), "; broken at #") {
				t.Fatalf("summary %q", tr.Summary())
			}
		})
	}
	if tr := run(ls[3:]...); tr.Start != "after_removed" || tr.FirstSeq != 4 {
		t.Fatalf("a trail begun after removed records: %+v", tr)
	}
	if tr := run(ls...); tr.Start != "genesis" || tr.FirstSeq != 1 || tr.Records != 6 || tr.LastStream != 6 {
		t.Fatalf("%+v", tr)
	}
}

// A hall with the 国密 option chains its trail with SM3; the central
// checks it with the same algorithm the record names.
func TestAuditTrailOfSM3IsChecked(t *testing.T) {
	dir := t.TempDir()
	l, err := audit.Open(dir, audit.Options{Alg: "sm3", Hash: gm.NewSM3, Now: testclock.New(testclock.At(9, 0)).Now})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l.Record(audit.Entry{Actor: "wang", Role: "clerk", Action: "windows.call", Outcome: "ok"})
	}
	l.Close()
	lines, _ := audit.NewReader(dir).After(0, 10)
	var tr AuditTrail
	for i, x := range lines {
		tr.judge(x.Data, uint64(i+1), time.Now(), func(uint64) string { return "" })
	}
	if !tr.Intact() || tr.LastSeq != 3 {
		t.Fatalf("%+v", tr)
	}
	tr.judge(bytes.Replace(lines[2].Data, []byte(`"seq":3`), []byte(`"seq":4`), 1), 4, time.Now(), nil)
	if tr.Breaks != 1 || !strings.Contains(tr.BrokenWhy, "the record was changed") {
		t.Fatalf("%+v", tr)
	}
}
