// Package escpos drives an ESC/POS thermal ticket printer: it lays out a queue
// ticket for 80 mm (576 dots) or 58 mm (384 dots) paper with Chinese text in
// GB18030, a QR code (native GS ( k, or a GS v 0 raster made with
// skip2/go-qrcode) and a cut. It checks the printer's real-time status
// (DLE EOT) before each job and confirms each job in band afterwards (GS r or
// GS ( H, which the printer answers only when printing reaches them; timing
// on models with neither), with every wait derived from the baud rate, so a
// ticket that did not print is reported as failed and a slow one is not.
package escpos

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/skip2/go-qrcode"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Command bytes.
var (
	CmdInit       = []byte{0x1B, 0x40}
	CmdChineseOn  = []byte{0x1C, 0x26}
	CmdChineseOff = []byte{0x1C, 0x2E}
	CmdPartialCut = []byte{0x1D, 0x56, 0x01}
)

// Align values for ESC a.
const (
	AlignLeft   = 0
	AlignCenter = 1
	AlignRight  = 2
)

// Model describes a printer.
type Model struct {
	Name      string
	PaperDots int  // printable width: 576 (80 mm) or 384 (58 mm)
	NativeQR  bool // supports GS ( k QR codes; otherwise a raster image is sent
	Cutter    bool
	// Confirm is how the driver learns that a job has printed.
	Confirm Confirm
	// PrintTime is the most the printer needs to print and cut one ticket
	// once it has received it (default DefaultPrintTime).
	PrintTime time.Duration
}

// DefaultPrintTime bounds printing one ticket: about 120 mm of paper at a
// slow 60 mm/s thermal head, plus the cut.
const DefaultPrintTime = 2500 * time.Millisecond

// Presets. See docs/kiosk.md for what each confirms a job with.
var (
	Generic80 = Model{Name: "generic-80", PaperDots: 576, NativeQR: true, Cutter: true, Confirm: ConfirmTransmitStatus, PrintTime: 2 * time.Second}
	Generic58 = Model{Name: "generic-58", PaperDots: 384, NativeQR: false, Cutter: false, Confirm: ConfirmTransmitStatus, PrintTime: 3 * time.Second}
	Basic58   = Model{Name: "basic-58", PaperDots: 384, NativeQR: false, Cutter: false, Confirm: ConfirmTiming, PrintTime: 3 * time.Second}
	Raster80  = Model{Name: "raster-80", PaperDots: 576, NativeQR: false, Cutter: true, Confirm: ConfirmTransmitStatus, PrintTime: 2 * time.Second}
	Epson80   = Model{Name: "epson-80", PaperDots: 576, NativeQR: true, Cutter: true, Confirm: ConfirmProcessID, PrintTime: 1500 * time.Millisecond}
)

// Models lists the presets by name, for kiosk configuration.
var Models = map[string]Model{Generic80.Name: Generic80, Generic58.Name: Generic58, Raster80.Name: Raster80, Epson80.Name: Epson80, Basic58.Name: Basic58}

// QRModule is the QR module size in dots for the model.
func (m Model) QRModule() int {
	if m.PaperDots >= 576 {
		return 6
	}
	return 4
}

// Ticket is what a queue ticket shows.
type Ticket struct {
	HallName      string
	ServiceZH     string
	ServiceEN     string
	Number        string        // e.g. A023
	Ahead         int           // tickets waiting ahead; negative: unknown (offline)
	EstimatedWait time.Duration // zero or negative: unknown
	IssuedAt      time.Time     // printed in its own location: pass it in the hall's time zone
	StatusURL     string        // the ticket's status page, printed as a QR code
	MaskedID      string        // masked ID number; a full number is masked again
	Footer        string
	Offline       bool      // issued while the server was unreachable
	Priority      bool      // the priority channel (绿色通道)
	Booking       bool      // an online booking checked in
	SlotStart     time.Time // the booking's slot, in the hall's time zone (zero: not printed)
	Windows       []int     // the windows that serve the service
	Reprint       bool      // printed again for a citizen who already holds it
	// Bring is the short reminder of what to bring (the materials of the
	// service's matters, in Chinese); the QR code's status page has the
	// whole guide. Empty: no reminder.
	Bring []string
}

// maxBring is how many materials the printed reminder names.
const maxBring = 6

type buf struct{ bytes.Buffer }

var gb = encoding.ReplaceUnsupported(simplifiedchinese.GB18030.NewEncoder())

func (b *buf) cmd(c ...byte) *buf { b.Write(c); return b }

func (b *buf) line(s string) *buf {
	enc, err := gb.String(s)
	if err != nil { // cannot happen with ReplaceUnsupported; keep ASCII
		enc = strings.Map(func(r rune) rune {
			if r < 0x80 {
				return r
			}
			return '?'
		}, s)
	}
	b.WriteString(enc)
	return b.cmd('\n')
}

func (b *buf) align(a byte) *buf  { return b.cmd(0x1B, 0x61, a) }
func (b *buf) bold(on bool) *buf  { return b.cmd(0x1B, 0x45, boolByte(on)) }
func (b *buf) size(w, h int) *buf { return b.cmd(0x1D, 0x21, byte((w-1)<<4|(h-1))) }
func (b *buf) feed(n int) *buf    { return b.cmd(0x1B, 0x64, byte(n)) }
func boolByte(on bool) byte {
	if on {
		return 1
	}
	return 0
}

// Encode lays out t for printer m. It is pure: the same ticket gives the same
// bytes.
func Encode(t Ticket, m Model) []byte {
	var b buf
	b.cmd(CmdInit...).cmd(CmdChineseOn...).align(AlignCenter)
	if t.HallName != "" {
		b.bold(true).size(2, 2).line(t.HallName).size(1, 1).bold(false)
	}
	if t.ServiceZH != "" {
		b.size(1, 2).line(t.ServiceZH).size(1, 1)
	}
	if t.ServiceEN != "" {
		b.line(t.ServiceEN)
	}
	b.feed(1)
	mul := bigSize(t.Number, m)
	b.bold(true).size(mul, mul).line(t.Number).size(1, 1).bold(false)
	if t.Reprint {
		b.line("（补打 REPRINT）")
	}
	if t.Priority {
		b.bold(true).line("【优先】绿色通道 PRIORITY").bold(false)
	}
	if t.Booking {
		mark := "【预约】APPOINTMENT"
		if !t.SlotStart.IsZero() {
			mark += " " + t.SlotStart.Format("15:04")
		}
		b.bold(true).line(mark).bold(false)
	}
	b.feed(1)
	switch {
	case t.Offline || t.Ahead < 0:
		b.line("前面人数：离线取号，暂不可知").line("People ahead: not known while offline")
	case t.Ahead == 0:
		b.line("前面无人等候 / nobody ahead")
	default:
		b.line(fmt.Sprintf("前面还有 %d 人 / %d ahead", t.Ahead, t.Ahead))
	}
	if t.EstimatedWait > 0 {
		mins := max(int((t.EstimatedWait+time.Minute-1)/time.Minute), 1)
		b.line(fmt.Sprintf("预计等候约 %d 分钟 / about %d min", mins, mins))
	} else {
		b.line("预计等候时间未知 / wait unknown")
	}
	if len(t.Windows) > 0 {
		zh, en := make([]string, len(t.Windows)), make([]string, len(t.Windows))
		for i, w := range t.Windows {
			zh[i], en[i] = fmt.Sprint(w), fmt.Sprint(w)
		}
		b.line("办理窗口 " + strings.Join(zh, "、") + " 号").line("Windows " + strings.Join(en, ", "))
	}
	if !t.IssuedAt.IsZero() {
		b.line("取号时间 " + t.IssuedAt.Format("2006-01-02 15:04"))
	}
	if t.Offline {
		b.bold(true).line("*** 离线取号 OFFLINE TICKET ***").bold(false)
		b.line("网络恢复后扫码可查看进度").line("The QR code works once the kiosk is back online")
	}
	if len(t.Bring) > 0 {
		names := t.Bring[:min(len(t.Bring), maxBring)]
		more := ""
		if len(t.Bring) > maxBring {
			more = " 等"
		}
		b.feed(1).bold(true).line("请带齐 Please bring:").bold(false)
		b.line(strings.Join(names, "、") + more)
	}
	if t.StatusURL != "" {
		b.feed(1)
		if m.NativeQR {
			b.Write(nativeQR(t.StatusURL, m.QRModule()))
		} else if r, err := QRRaster(t.StatusURL, m.QRModule()); err == nil {
			b.Write(r.Command())
		}
		if len(t.Bring) > 0 {
			b.line("扫码查看进度和办事指南").line("Scan for status and the full guide")
		} else {
			b.line("扫码查看进度 Scan for status")
		}
	}
	if t.MaskedID != "" {
		b.line("证件 ID " + maskAgain(t.MaskedID))
	}
	b.line("当日有效 · 过号请到服务台").line("Valid today only. Missed your call? Ask at the desk.")
	if t.Footer != "" {
		b.line(t.Footer)
	}
	b.align(AlignLeft).cmd(CmdChineseOff...)
	if m.Cutter {
		b.feed(4).cmd(CmdPartialCut...)
	} else {
		b.feed(6)
	}
	return b.Bytes()
}

// bigSize picks the ticket number's magnification so it fits the paper.
func bigSize(number string, m Model) int {
	w := 12 * max(len(number), 1) // font A is 12 dots wide
	return min(max(min(m.PaperDots/w, m.PaperDots/128), 1), 8)
}

// maskAgain makes sure no full number reaches paper: a value without an
// asterisk and with 10 or more letters and digits is masked (first 4, last 4).
func maskAgain(s string) string {
	if strings.Contains(s, "*") {
		return s
	}
	r := []rune(strings.TrimSpace(s))
	alnum := 0
	for _, c := range r {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			alnum++
		}
	}
	if alnum < 10 {
		return s
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// nativeQR stores and prints a model-2 QR code with GS ( k.
func nativeQR(data string, module int) []byte {
	n := len(data) + 3
	var b bytes.Buffer
	b.Write([]byte{0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00})
	b.Write([]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, byte(module)})
	b.Write([]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31})
	b.Write([]byte{0x1D, 0x28, 0x6B, byte(n), byte(n >> 8), 0x31, 0x50, 0x30})
	b.WriteString(data)
	b.Write([]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30})
	return b.Bytes()
}

// Raster is a 1-bit image: rows of WidthBytes bytes, most significant bit
// leftmost, a set bit is a black dot.
type Raster struct {
	WidthBytes, Height int
	Bits               []byte
}

// At reports whether the dot at x, y is black.
func (r Raster) At(x, y int) bool {
	if x < 0 || y < 0 || x >= r.WidthBytes*8 || y >= r.Height {
		return false
	}
	return r.Bits[y*r.WidthBytes+x/8]&(0x80>>(x%8)) != 0
}

// MaxBandRows is the tallest GS v 0 band Command sends: some firmware reads
// only the low byte of the height, so taller images go in bands.
const MaxBandRows = 255

// Command returns the GS v 0 commands printing r, in bands of at most
// MaxBandRows rows printed one under the other.
func (r Raster) Command() []byte {
	var out []byte
	for y := 0; y < r.Height; y += MaxBandRows {
		h := min(MaxBandRows, r.Height-y)
		out = append(out, 0x1D, 0x76, 0x30, 0x00, byte(r.WidthBytes), byte(r.WidthBytes>>8), byte(h), byte(h>>8))
		out = append(out, r.Bits[y*r.WidthBytes:(y+h)*r.WidthBytes]...)
	}
	return out
}

// QRRaster renders data as a QR code (error correction M, 2-module quiet
// zone) with module×module dots per module.
func QRRaster(data string, module int) (Raster, error) {
	q, err := qrcode.New(data, qrcode.Medium)
	if err != nil {
		return Raster{}, fmt.Errorf("escpos: QR code: %w", err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	const quiet = 2
	dots := (len(bm) + 2*quiet) * module
	r := Raster{WidthBytes: (dots + 7) / 8, Height: dots}
	r.Bits = make([]byte, r.WidthBytes*r.Height)
	for y := 0; y < dots; y++ {
		for x := 0; x < dots; x++ {
			my, mx := y/module-quiet, x/module-quiet
			if my >= 0 && mx >= 0 && my < len(bm) && mx < len(bm) && bm[my][mx] {
				r.Bits[y*r.WidthBytes+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return r, nil
}

// DecodeText decodes GB18030 printer text (ASCII passes through), for
// simulators and tests that read tickets back.
func DecodeText(b []byte) string {
	s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(s)
}
