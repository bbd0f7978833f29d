package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"hallq/internal/gm"
	"hallq/queue-server/audit"
)

// auditHashes are the hashes an audit trail may name (docs/security.md).
var auditHashes = audit.Hashes{"sha256": sha256.New, "sm3": gm.NewSM3}

// Audit runs `queue-server audit verify [-head HASH] [-central URL -hall ID
// -central-token-file FILE | -kept SEQ:HASH] FILE` (check a trail's chain,
// and against the last record the province holds; exit 1 naming the first
// bad record) and `queue-server audit export
// -data DIR [-since DATE] [-o FILE]` (the trail's records from DATE, as
// stored, for the assessor or the province). It returns the exit code.
func Audit(args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: queue-server audit verify [-head HASH] [-central URL -hall ID -central-token-file FILE | -kept SEQ:HASH] FILE\n       queue-server audit export -data DIR [-since 2006-01-02|RFC 3339 time] [-o FILE]")
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "verify":
		fs := flag.NewFlagSet("queue-server audit verify", flag.ContinueOnError)
		fs.SetOutput(stderr)
		head := fs.String("head", "", "the hash of the last record, as a previous verify printed it (finds records removed from the end)")
		central := fs.String("central", "", "the province platform's API (e.g. https://central.example:8090): check the trail against the last record the province received (GET /api/v1/halls/{id}/audit/head)")
		hallID := fs.String("hall", "", "the hall's id at the province, with -central")
		tokenFile := fs.String("central-token-file", "", "a file holding a province staff token (Bearer), with -central")
		keptFlag := fs.String("kept", "", "SEQ:HASH of a record kept off the machine (as the province's hall page or a previous verify shows it)")
		if fs.Parse(args[1:]) != nil || fs.NArg() != 1 {
			return usage()
		}
		var kept *audit.Head
		centralNote := ""
		switch {
		case *central != "" && *keptFlag != "":
			fmt.Fprintln(stderr, "audit verify: give -central or -kept, not both")
			return 2
		case *central != "":
			if *hallID == "" || *tokenFile == "" {
				fmt.Fprintln(stderr, "audit verify: -central needs -hall and -central-token-file")
				return 2
			}
			h, note, err := centralHead(*central, *hallID, *tokenFile)
			if err != nil {
				fmt.Fprintln(stderr, "audit verify:", err)
				return 1
			}
			kept, centralNote = &h, note
		case *keptFlag != "":
			seq, hash, ok := strings.Cut(*keptFlag, ":")
			n, err := strconv.ParseUint(seq, 10, 64)
			if !ok || err != nil || n == 0 || len(hash) != 64 {
				fmt.Fprintf(stderr, "audit verify: -kept wants SEQ:HASH (a record seq and its 64 hex digit hash), got %q\n", *keptFlag)
				return 2
			}
			kept = &audit.Head{Seq: n, Hash: hash}
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, "audit verify:", err)
			return 1
		}
		defer f.Close()
		res, err := audit.VerifyAgainst(f, auditHashes, *head, kept)
		if err != nil {
			fmt.Fprintf(stderr, "audit verify: %s: %v\n", fs.Arg(0), err)
			return 1
		}
		if kept != nil && kept.Seq > 0 {
			fmt.Fprintf(stdout, "%s: matches the copy kept elsewhere through seq %d (hash %s)\n", fs.Arg(0), kept.Seq, kept.Hash)
		}
		if centralNote != "" {
			fmt.Fprintf(stderr, "audit verify: the province reports: %s\n", centralNote)
			return 1
		}
		if res.Records == 0 {
			fmt.Fprintf(stdout, "%s: ok, no records\n", fs.Arg(0))
			return 0
		}
		start := "from the trail's first record"
		if res.First.Prev != audit.Genesis {
			start = "after records removed by retention or export (prev " + res.First.Prev + ")"
		}
		fmt.Fprintf(stdout, "%s: ok, %d records, seq %d to %d (%s … %s), %s, starting %s; head %s\n",
			fs.Arg(0), res.Records, res.First.Seq, res.Last.Seq, res.First.At.Format(time.RFC3339), res.Last.At.Format(time.RFC3339),
			res.Last.Alg, start, res.Last.Hash)
		return 0
	case "export":
		fs := flag.NewFlagSet("queue-server audit export", flag.ContinueOnError)
		fs.SetOutput(stderr)
		data := fs.String("data", env("HALLQ_DATA", "./hallq-data"), "the hall's data directory (env HALLQ_DATA)")
		sinceFlag := fs.String("since", "", "only records from this date (this machine's zone) or RFC 3339 time")
		out := fs.String("o", "", "write to this file instead of standard output")
		if fs.Parse(args[1:]) != nil || fs.NArg() != 0 {
			return usage()
		}
		var since time.Time
		if *sinceFlag != "" {
			var err error
			if since, err = time.ParseInLocation(time.DateOnly, *sinceFlag, time.Local); err != nil {
				if since, err = time.Parse(time.RFC3339, *sinceFlag); err != nil {
					fmt.Fprintf(stderr, "audit export: -since wants a date like 2026-11-01 or an RFC 3339 time, got %q\n", *sinceFlag)
					return 2
				}
			}
		}
		n, err := exportAudit(filepath.Join(*data, audit.FileName), since, *out, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "audit export:", err)
			return 1
		}
		fmt.Fprintf(stderr, "audit export: %d records\n", n)
		return 0
	}
	return usage()
}

// centralHead fetches the last record the province holds of the hall's
// trail; note is the province's summary when it found the trail broken.
func centralHead(base, hallID, tokenFile string) (audit.Head, string, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return audit.Head{}, "", err
	}
	u := strings.TrimSuffix(base, "/") + "/api/v1/halls/" + url.PathEscape(hallID) + "/audit/head"
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return audit.Head{}, "", err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return audit.Head{}, "", fmt.Errorf("the province's head: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return audit.Head{}, "", fmt.Errorf("the province's head: GET %s: HTTP %d %s", u, resp.StatusCode, bytes.TrimSpace(body))
	}
	var h struct {
		LastSeq  uint64 `json:"last_seq"`
		LastHash string `json:"last_hash"`
		Intact   bool   `json:"intact"`
		Summary  string `json:"summary"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.LastSeq == 0 || h.LastHash == "" {
		return audit.Head{}, "", fmt.Errorf("the province's head: GET %s: not a head: %q", u, body)
	}
	note := ""
	if !h.Intact {
		note = h.Summary
	}
	return audit.Head{Seq: h.LastSeq, Hash: h.LastHash}, note, nil
}

// exportAudit copies the trail's records from since, verified first, to
// out (a file written whole or not at all) or w.
func exportAudit(path string, since time.Time, out string, w io.Writer) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if _, err := audit.Verify(bytes.NewReader(b), auditHashes, ""); err != nil {
		return 0, fmt.Errorf("%s does not verify, nothing exported: %v", path, err)
	}
	var buf bytes.Buffer
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return 0, err
		}
		if !since.IsZero() && r.At.Before(since) {
			continue
		}
		buf.Write(sc.Bytes())
		buf.WriteByte('\n')
		n++
	}
	if out == "" {
		_, err := w.Write(buf.Bytes())
		return n, err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, out)
}
