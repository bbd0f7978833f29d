package escpos

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

var sample = Ticket{
	HallName: "武汉市公安局江岸分局政务服务中心", ServiceZH: "户政业务", ServiceEN: "Household registration",
	Number: "A023", Ahead: 5, EstimatedWait: 12*time.Minute + 30*time.Second,
	IssuedAt:  time.Date(2025, 6, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600)),
	StatusURL: "https://hall.example/t/7f3a9c", MaskedID: "4201**********1234", Footer: "请留意叫号 Please wait for your number",
	Windows: []int{1, 2, 3, 7},
}

// goldenTickets are the tickets kept as golden files: the bytes (.bin)
// and, in golden_text_test.go, the text a printer shows (.txt).
func goldenTickets() map[string]struct {
	t Ticket
	m Model
} {
	offline := sample
	offline.Offline, offline.EstimatedWait, offline.Ahead = true, 0, -1
	appt := sample
	appt.Number, appt.Booking, appt.Ahead = "B007", true, 0
	appt.ServiceZH, appt.ServiceEN, appt.Windows = "出入境", "Exit-entry", []int{3, 4, 8}
	appt.SlotStart = time.Date(2025, 6, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	prio := sample
	prio.Priority = true
	bring := sample
	bring.Bring = []string{"居民身份证", "户口簿", "准迁证", "原身份证", "照片回执", "租房合同", "出生医学证明"}
	return map[string]struct {
		t Ticket
		m Model
	}{
		"ticket-80-native.bin":      {sample, Generic80},
		"ticket-58-raster.bin":      {sample, Generic58},
		"ticket-80-offline.bin":     {offline, Raster80},
		"ticket-80-appointment.bin": {appt, Generic80},
		"ticket-58-priority.bin":    {prio, Generic58},
		"ticket-80-checklist.bin":   {bring, Generic80},
	}
}

func TestEncodeGolden(t *testing.T) {
	for name, tc := range goldenTickets() {
		got := Encode(tc.t, tc.m)
		path := filepath.Join("testdata", name)
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update once)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoding changed (%d bytes, golden %d); check and run go test -update", name, len(got), len(want))
		}
	}
}

// The byte sequences quoted in devices.md.
func TestEncodeReferenceBytes(t *testing.T) {
	got := Encode(sample, Generic80)
	for name, want := range map[string][]byte{
		"init":           {0x1B, 0x40},
		"chinese on":     {0x1C, 0x26},
		"centre":         {0x1B, 0x61, 0x01},
		"QR model 2":     {0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00},
		"QR module 6":    {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06},
		"QR level M":     {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31},
		"QR store":       append([]byte{0x1D, 0x28, 0x6B, byte(len(sample.StatusURL) + 3), 0x00, 0x31, 0x50, 0x30}, sample.StatusURL...),
		"QR print":       {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30},
		"公安局 in GB18030": {0xB9, 0xAB, 0xB0, 0xB2, 0xBE, 0xD6},
		"partial cut":    {0x1D, 0x56, 0x01},
	} {
		if !bytes.Contains(got, want) {
			t.Errorf("%s: % X missing", name, want)
		}
	}
	if !bytes.HasPrefix(got, []byte{0x1B, 0x40}) {
		t.Error("job does not start with ESC @")
	}
	if nc := Encode(sample, Generic58); bytes.Contains(nc, []byte{0x1D, 0x56}) || bytes.Contains(nc, []byte{0x1D, 0x28, 0x6B}) {
		t.Error("58 mm model without cutter or native QR got a cut or GS ( k")
	}
	if !bytes.Contains(Encode(sample, Generic58), []byte{0x1D, 0x76, 0x30, 0x00}) {
		t.Error("58 mm model lacks the raster QR")
	}
}

func TestEncodeNeverPrintsFullNumber(t *testing.T) {
	tk := sample
	tk.MaskedID = "11010519491231002X"
	if got := Encode(tk, Generic80); bytes.Contains(got, []byte("11010519491231002X")) || !bytes.Contains(got, []byte("1101**********002X")) {
		t.Error("full number reached the ticket")
	}
}

func TestQRRaster(t *testing.T) {
	r, err := QRRaster("https://hall.example/t/1", 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.Height%4 != 0 || r.WidthBytes*8 < r.Height || len(r.Bits) != r.WidthBytes*r.Height {
		t.Fatalf("raster %dx%d with %d bytes", r.WidthBytes*8, r.Height, len(r.Bits))
	}
	// Quiet zone white, finder pattern corner black.
	if r.At(0, 0) || !r.At(8, 8) || !r.At(8+27, 8) {
		t.Error("unexpected QR raster corners")
	}
}
