package idcard_test

import (
	"context"
	"testing"
	"time"

	"hallq/devices/idcard"
	"hallq/devices/sim"
)

// BenchmarkReadCard measures find + select + read text/photo through the real
// serial library on a pseudo-terminal, which has no baud-rate delay: the time
// per read is the driver's and simulator's overhead. It also reports what the
// same bytes take on a 115200-baud line, for comparison.
func BenchmarkReadCard(b *testing.B) {
	s := MustSim(b, sim.IDCardOptions{})
	MustPlace(b, s, sim.SampleResident)
	r := MustReader(b, s.Path(), idcard.Options{})
	ctx := context.Background()
	// 3 requests of 10 bytes; replies of 15 (find), 19 (select), 1295 (read).
	const bytesPerRead = 3*10 + 15 + 19 + 1295
	transfer := time.Duration(bytesPerRead) * 10 * time.Second / 115200
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.ReadCard(ctx); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perOp)/float64(time.Millisecond), "overhead-ms/op")
	b.ReportMetric(float64(transfer)/float64(time.Millisecond), "transfer115200-ms/op")
}
