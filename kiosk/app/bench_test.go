package app

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"hallq/devices/idcard"
	"hallq/devices/sim"
)

// BenchmarkCardToPrintedTicket measures a citizen's whole path on the real
// drivers and simulators: card placed → ticket decoded at the printer. The
// pseudo-terminals move bytes instantly, so the time measured is our own;
// the time those bytes would take on real 115200-baud links is printed
// beside it (goal: our own ≤ 100 ms).
func BenchmarkCardToPrintedTicket(b *testing.B) {
	r := MustRig(b)
	var total time.Duration
	var printed int
	for i := 0; i < b.N; i++ {
		r.flow.SelectService([]string{"A", "B", "C"}[i%3]) // two tickets per ID card and service a day
		r.await(ScreenInsertCard)
		before := len(r.sims.Printer.Printed())
		start := time.Now()
		if err := r.sims.IDCard.Place(sim.SampleResident); err != nil {
			b.Fatal(err)
		}
		r.await(ScreenTicket)
		for len(r.sims.Printer.Printed()) == before {
			time.Sleep(time.Millisecond)
		}
		total += time.Since(start)
		printed = len(encodedTicket(r))
		r.sims.IDCard.Remove()
		n := r.sims.IDCard.Requests()
		waitUntil(b, "reader polls", func() bool { return r.sims.IDCard.Requests() > n+6 })
		r.flow.Home()
		r.await(ScreenHome)
	}
	own := total / time.Duration(b.N)
	// the card exchange: find (10+15), select (10+19), read (10+1295) bytes
	cardBytes := 10 + 15 + 10 + 19 + 10 + idcard.TextLen + 1024 + 15
	transfer := time.Duration(cardBytes+printed) * 10 * time.Second / 115200
	b.ReportMetric(float64(own.Microseconds())/1000, "own-ms/op")
	b.ReportMetric(float64(transfer.Microseconds())/1000, "transfer-115200-ms/op")
	rss := rssKB()
	b.ReportMetric(float64(rss)/1024, "process-RSS-MB")
	fmt.Printf("\n  card placed → ticket decoded at the printer: %.1f ms of our own time per ticket (goal ≤ 100 ms),\n"+
		"  plus %.0f ms the bytes would take at 115200 baud. Process RSS %d MB (server, simulators and kiosk in one process;\n"+
		"  the kiosk alone is smaller).\n", float64(own.Microseconds())/1000, float64(transfer.Microseconds())/1000, rss/1024)
}

func encodedTicket(r *kioskRig) string {
	pages := r.sims.Printer.Printed()
	if len(pages) == 0 {
		return ""
	}
	return pages[len(pages)-1].Text() + strings.Repeat("q", 400) // text + QR and control bytes, approximately
}

func rssKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int(m.Sys / 1024)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
