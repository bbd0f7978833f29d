package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hallq/devices/idcard"
	"hallq/devices/sim"
)

var idPattern = regexp.MustCompile(`\d{17}[\dXx]`)

// rawIDNumbers finds 18-character resident ID numbers with a valid check
// digit in b (plain ASCII, and as UCS-2 the way the card encodes text).
func rawIDNumbers(b []byte) []string {
	var found []string
	s := string(b)
	s += "|" + strings.ReplaceAll(s, "\x00", "") // UCS-2 little-endian copies
	for _, m := range idPattern.FindAllString(s, -1) {
		if c, err := idcard.CheckDigit(m[:17]); err == nil && strings.EqualFold(string(c), m[17:]) {
			found = append(found, m)
		}
	}
	return found
}

// TestNoRawIDNumberAnywhere reads cards through the whole kiosk, then scans
// the server's data directory, the kiosk's outbox, the printed tickets and
// the logs of the run (server and kiosk, debug level) for any raw ID number.
func TestNoRawIDNumberAnywhere(t *testing.T) {
	r := MustRig(t)
	for _, c := range []string{"A", "B"} {
		r.flow.SelectService(c)
		r.await(ScreenInsertCard)
		card := sim.SampleResident
		if c == "B" {
			card = sim.SampleElderly
		}
		r.sims.IDCard.Place(card)
		r.await(ScreenTicket)
		r.sims.IDCard.Remove()
		// let the reader poll the empty pad a few times, so it reports removal
		n := r.sims.IDCard.Requests()
		waitUntil(t, "reader polls", func() bool { return r.sims.IDCard.Requests() > n+6 })
		r.flow.Home()
		r.await(ScreenHome)
	}
	if len(r.sims.Printer.Printed()) != 2 {
		t.Fatal("expected two printed tickets")
	}
	// the detector itself must work: the card's text block holds the number
	text, err := idcard.EncodeText(sim.SampleResident)
	if err != nil || len(rawIDNumbers(text)) != 1 {
		t.Fatalf("detector does not find the number in the card's own text block: %v", err)
	}
	r.h.srv.Close() // flush and release the files
	for _, dir := range []string{r.h.dir, r.k.dir} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if ids := rawIDNumbers(b); len(ids) > 0 {
				t.Errorf("%s holds raw ID numbers", p)
			}
			return nil
		})
	}
	logs := testLogs.Bytes()
	if len(logs) == 0 {
		t.Fatal("no log lines captured: the scan would prove nothing")
	}
	if ids := rawIDNumbers(logs); len(ids) > 0 {
		t.Errorf("the logs of this test run hold raw ID numbers")
	}
	for i, p := range r.sims.Printer.Printed() {
		if ids := rawIDNumbers([]byte(p.Text())); len(ids) > 0 {
			t.Errorf("ticket %d prints a raw ID number", i)
		}
	}
}
