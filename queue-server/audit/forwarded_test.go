package audit

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Retention keeps every record the province has not acknowledged, however
// old, when the trail is forwarded; what was acknowledged goes as before.
func TestRetentionHoldsWhatIsNotForwarded(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, shanghai)}
	o := Options{Alg: "sha256", Hash: sha256.New, Retention: 180 * 24 * time.Hour, Now: c.now, HoldUnforwarded: true}
	l, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	record(t, l, 4) // June: seq 1–4
	l.Close()
	if err := WriteMark(dir, Head{Seq: 2, Hash: "x"}); err != nil {
		t.Fatal(err)
	}
	c.set(time.Date(2027, 1, 10, 9, 0, 0, 0, shanghai)) // all four are now past the retention
	l, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	record(t, l, 1)
	l.Close()
	res, err := verify(strings.Join(lines(t, dir), ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.First.Seq != 3 || res.Last.Seq != 5 {
		t.Fatalf("kept seq %d–%d, want 3–5: the records not forwarded (3, 4) must stay", res.First.Seq, res.Last.Seq)
	}

	// without a mark nothing is forwarded yet: everything stays
	dir2 := t.TempDir()
	c.set(time.Date(2026, 6, 1, 9, 0, 0, 0, shanghai))
	l, _ = Open(dir2, o)
	record(t, l, 3)
	l.Close()
	c.set(time.Date(2027, 1, 10, 9, 0, 0, 0, shanghai))
	l, _ = Open(dir2, o)
	l.Close()
	if n := len(lines(t, dir2)); n != 3 {
		t.Fatalf("%d records left, want all 3 (none acknowledged)", n)
	}
}

func TestMarkRoundTrips(t *testing.T) {
	dir := t.TempDir()
	if h, err := ReadMark(dir); err != nil || h != (Head{}) {
		t.Fatalf("no mark: %+v %v", h, err)
	}
	if err := WriteMark(dir, Head{Seq: 7, Hash: "ab"}); err != nil {
		t.Fatal(err)
	}
	if h, err := ReadMark(dir); err != nil || h != (Head{Seq: 7, Hash: "ab"}) {
		t.Fatalf("%+v %v", h, err)
	}
	os.WriteFile(filepath.Join(dir, MarkFile), []byte("{"), 0o600)
	if _, err := ReadMark(dir); err == nil || !strings.Contains(err.Error(), MarkFile) {
		t.Fatalf("a damaged mark: %v", err)
	}
}

// The reader returns records in order from a seq, leaves a line still
// being written for later, skips a line that is not a record, and reads a
// file replaced by retention from its start.
func TestReaderReadsOnFromASeq(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)}
	l := open(t, dir, c, 0)
	record(t, l, 5)
	l.Close()
	r := NewReader(dir)
	got, err := r.After(0, 3)
	if err != nil || len(got) != 3 || got[0].Seq != 1 || got[2].Seq != 3 {
		t.Fatalf("%+v %v", got, err)
	}
	var rec Record
	if err := json.Unmarshal(got[1].Data, &rec); err != nil || rec.Seq != 2 || rec.Hash != got[1].Hash {
		t.Fatalf("line data %q: %v", got[1].Data, err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("garbage\n{\"seq\":6,\"at\":")
	f.Close()
	got, err = r.After(3, 10)
	if err != nil || len(got) != 2 || got[0].Seq != 4 || got[1].Seq != 5 {
		t.Fatalf("after 3: %+v %v", got, err)
	}
	if got, _ := r.After(5, 10); len(got) != 0 {
		t.Fatalf("after 5: %+v, want nothing (seq 6 is not whole yet)", got)
	}
	if got, _ := r.After(1, 2); len(got) != 2 || got[0].Seq != 2 {
		t.Fatalf("reading again from an earlier seq: %+v", got)
	}
}

// A trail rewritten by someone who recomputed every hash after the change
// verifies alone, but not against the head the province keeps.
func TestVerifyAgainstAKeptHead(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, &clock{t: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)}, 0)
	record(t, l, 5)
	l.Close()
	ls := lines(t, dir)
	var r4 Record
	json.Unmarshal([]byte(ls[3]), &r4)
	kept := &Head{Seq: 4, Hash: r4.Hash}
	text := strings.Join(ls, "")
	if _, err := VerifyAgainst(strings.NewReader(text), sha, "", kept); err != nil {
		t.Fatalf("the trail itself: %v", err)
	}
	// rewrite record 2 and recompute the chain from there
	var recs []Record
	for _, s := range ls {
		var r Record
		json.Unmarshal([]byte(s), &r)
		recs = append(recs, r)
	}
	recs[1].Actor = "someone-else"
	var b strings.Builder
	for i := range recs {
		if i > 0 {
			recs[i].Prev = recs[i-1].Hash
		}
		recs[i].Hash, _ = recs[i].sum(sha256.New)
		j, _ := json.Marshal(recs[i])
		b.Write(j)
		b.WriteByte('\n')
	}
	if _, err := verify(b.String(), ""); err != nil {
		t.Fatalf("the rewritten trail should verify alone: %v", err)
	}
	_, err := VerifyAgainst(strings.NewReader(b.String()), sha, "", kept)
	if err == nil || !strings.Contains(err.Error(), "line 4 (seq 4): the record differs from the copy kept elsewhere") {
		t.Fatalf("against the kept head: %v", err)
	}
	// records removed from the end, past the kept head
	if _, err := VerifyAgainst(strings.NewReader(strings.Join(ls[:3], "")), sha, "", kept); err == nil || !strings.Contains(err.Error(), "before the kept head (seq 4)") {
		t.Fatalf("cut before the kept head: %v", err)
	}
	// retention removed the kept record itself: the next one names it
	if _, err := VerifyAgainst(strings.NewReader(ls[4]), sha, "", kept); err != nil {
		t.Fatalf("the kept record pruned, the next one names it: %v", err)
	}
	if _, err := VerifyAgainst(strings.NewReader(ls[4]), sha, "", &Head{Seq: 4, Hash: strings.Repeat("1", 64)}); err == nil || !strings.Contains(err.Error(), "is not the kept head's hash") {
		t.Fatalf("the next one names another: %v", err)
	}
}
