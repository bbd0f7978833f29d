package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MarkFile, in the data directory beside the trail, is the forwarded mark:
// the last record the province platform has acknowledged (a Head as JSON).
// Only the forwarder writes it; retention keeps every record after it (see
// Options.HoldUnforwarded). The records themselves are only in the trail.
const MarkFile = "audit.forwarded"

// ReadMark returns the forwarded mark in dir; a missing mark is the zero
// Head (nothing forwarded yet).
func ReadMark(dir string) (Head, error) {
	b, err := os.ReadFile(filepath.Join(dir, MarkFile))
	if errors.Is(err, os.ErrNotExist) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("audit: the forwarded mark: %w", err)
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return Head{}, fmt.Errorf("audit: the forwarded mark %s: %v", filepath.Join(dir, MarkFile), err)
	}
	return h, nil
}

// WriteMark durably records that the records through h were acknowledged
// (a temporary file, synced, renamed over the mark).
func WriteMark(dir string, h Head) error {
	b, _ := json.Marshal(h)
	p := filepath.Join(dir, MarkFile)
	if err := writeSynced(p+".tmp", append(b, '\n')); err != nil {
		return err
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return syncDir(dir)
}

// Line is one record of the trail as stored: its seq and hash, and the
// line's exact bytes (without the newline), which is what is forwarded.
type Line struct {
	Seq  uint64
	Hash string
	At   string // the record's time as written (RFC 3339, UTC)
	Data []byte
}

// Reader reads a trail's records in order, for the forwarder. It remembers
// where it stopped, so reading on from there does not read the file from
// the start again; a file replaced by retention is read from its start.
// One goroutine uses a Reader.
type Reader struct {
	path string
	fi   os.FileInfo
	off  int64
	next uint64 // the seq expected at off
}

// NewReader reads the trail in dir.
func NewReader(dir string) *Reader { return &Reader{path: filepath.Join(dir, FileName)} }

// After returns up to limit records with a seq above after, in the file's
// order. A line that is not a record is skipped (the province finds the
// gap it leaves); a last line still being written is left for later.
func (r *Reader) After(after uint64, limit int) ([]Line, error) {
	f, err := os.Open(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if r.fi == nil || !os.SameFile(r.fi, fi) || r.next != after+1 || fi.Size() < r.off {
		r.fi, r.off, r.next = fi, 0, 0
	}
	if _, err := f.Seek(r.off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	br := bufio.NewReaderSize(f, 64*1024)
	var out []Line
	off := r.off
	for len(out) < limit {
		b, err := br.ReadBytes('\n')
		if err != nil { // io.EOF: nothing more, or a line not yet whole
			break
		}
		off += int64(len(b))
		data := b[:len(b)-1]
		var rec struct {
			Seq  uint64 `json:"seq"`
			At   string `json:"at"`
			Hash string `json:"hash"`
		}
		if json.Unmarshal(data, &rec) != nil || rec.Seq == 0 {
			continue
		}
		if rec.Seq <= after {
			r.off, r.next = off, rec.Seq+1
			continue
		}
		out = append(out, Line{Seq: rec.Seq, Hash: rec.Hash, At: rec.At, Data: append([]byte(nil), data...)})
		r.off, r.next = off, rec.Seq+1
	}
	return out, nil
}
