package escpos_test

import (
	"context"
	"testing"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/sim"
)

// BenchmarkPrint measures a full print (status before, job, status after)
// through the real serial library on a pseudo-terminal, which has no baud-rate
// delay: the time per print is overhead. It also reports the bytes' transfer
// time at 115200 baud.
func BenchmarkPrint(b *testing.B) {
	for _, m := range []escpos.Model{escpos.Generic80, escpos.Generic58} {
		b.Run(m.Name, func(b *testing.B) {
			s := MustPrinterSim(b, sim.PrinterOptions{})
			p := MustPrinter(b, s.Path(), m)
			ctx := context.Background()
			bytesPerJob := len(escpos.Encode(ticket, m)) + 2*3*(3+1) // job + 6 status queries and replies
			transfer := time.Duration(bytesPerJob) * 10 * time.Second / 115200
			b.ResetTimer()
			for b.Loop() {
				if err := p.Print(ctx, ticket); err != nil {
					b.Fatal(err)
				}
				<-s.Pages()
			}
			b.ReportMetric(float64(b.Elapsed()/time.Duration(b.N))/float64(time.Millisecond), "overhead-ms/op")
			b.ReportMetric(float64(transfer)/float64(time.Millisecond), "transfer115200-ms/op")
			b.ReportMetric(float64(bytesPerJob), "bytes/op")
		})
	}
}
