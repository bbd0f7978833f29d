package sim

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/devices/escpos"
)

var fuzzTicket = escpos.Ticket{HallName: "公安局", ServiceZH: "出入境", ServiceEN: "Exit-entry", Number: "B101",
	Ahead: 2, EstimatedWait: time.Minute, IssuedAt: time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC),
	StatusURL: "https://h/t/b101", MaskedID: "4201**********1234", Footer: "footer", Offline: true}

func TestDecodeTicketStreamInPieces(t *testing.T) {
	job := escpos.Encode(fuzzTicket, escpos.Generic80)
	whole, _ := DecodeAll(append(slices.Clone(job), 0x10, 0x04, 0x01))
	var pages []Page
	var status []byte
	d := &Decoder{OnPage: func(p Page) { pages = append(pages, p) }, OnStatus: func(n byte) { status = append(status, n) }}
	for i := 0; i < len(job); i += 7 { // a slow link delivers odd pieces
		d.Write(job[i:min(i+7, len(job))])
	}
	d.Write([]byte{0x10, 0x04, 0x01})
	if len(pages) != 1 || len(whole) != 1 || pages[0].Text() != whole[0].Text() || !slices.Equal(status, []byte{1}) {
		t.Fatalf("pieces: %d pages, status %v", len(pages), status)
	}
	if !strings.Contains(pages[0].Text(), "出入境") || !pages[0].Cut || pages[0].Unknown != 0 {
		t.Fatalf("page:\n%s", pages[0].Text())
	}
}

func TestDecodeSkipsNoise(t *testing.T) {
	noise := []byte{0x00, 0x1B, 0x99, 0x07, 0x1D, 0xEE}
	pages, _ := DecodeAll(append(noise, escpos.Encode(fuzzTicket, escpos.Generic58)...))
	var text strings.Builder
	for _, p := range pages {
		text.WriteString(p.Text())
	}
	if !strings.Contains(text.String(), "B101") || len(pages[len(pages)-1].Images()) != 1 {
		t.Fatalf("after noise:\n%s", text.String())
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add(escpos.Encode(fuzzTicket, escpos.Generic80))
	f.Add(escpos.Encode(fuzzTicket, escpos.Generic58))
	f.Add([]byte{0x1D, 0x76, 0x30, 0x00, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, 0x10, 0x04})
	f.Fuzz(func(t *testing.T, in []byte) {
		pages, _ := DecodeAll(in)
		for _, p := range pages {
			_ = p.Text()
			var b bytes.Buffer
			if len(p.Lines) < 200 {
				if err := RenderPNG(&b, p, 384); err != nil && !strings.Contains(err.Error(), "QR") {
					t.Fatal(err)
				}
			}
		}
	})
}

// Standard commands the decoder does not draw are read past with their
// parameters: none of their bytes leak into the text, and the in-band
// requests are reported in stream order.
func TestDecodeToleratesStandardCommands(t *testing.T) {
	var b bytes.Buffer
	w := func(p ...byte) { b.Write(p) }
	w(0x1B, 0x40)
	w([]byte("AB")...)
	w(0x1B, 0x24, 0x41, 0x42)                                     // ESC $ nL nH: absolute position
	w(0x1B, 0x5C, 0x43, 0x44)                                     // ESC \ nL nH: relative position
	w(0x1D, 0x4C, 0x45, 0x46)                                     // GS L: left margin
	w(0x1D, 0x57, 0x47, 0x48)                                     // GS W: print area width
	w(0x1B, 0x70, 0x00, 0x49, 0x4A)                               // ESC p: drawer pulse
	w(0x1B, 0x2A, 0x21, 0x02, 0x00, 'K', 'L', 'M', 'N', 'O', 'P') // ESC * 24-dot column image, 2 columns
	w(0x1B, 0x2A, 0x00, 0x03, 0x00, 'Q', 'R', 'S')                // ESC * 8-dot, 3 columns
	w(0x1B, 0x44, 0x08, 0x10, 0x00)                               // ESC D tab stops
	w(0x1B, 0x20, 'T', 0x1B, 0x3D, 'U', 0x1B, 0x63, 0x35, 'V')    // ESC SP, ESC =, ESC c 5
	w(0x1C, 0x70, 0x01, 0x00)                                     // FS p: NV image
	w(0x10, 0x14, 0x01, 0x00, 0x01)                               // DLE DC4: real-time pulse
	w(0x1D, 0x48, 0x02, 0x1D, 0x6B, 0x04)                         // GS H, GS k m=4 (CODE39) …
	w([]byte("CODE39")...)
	w(0x00)
	w(0x1D, 0x6B, 0x49, 0x05) // GS k m=73 (CODE128) n=5
	w([]byte("{B123")...)
	w('\r', '\n')
	w([]byte("CD\n")...)
	w(0x1D, 0x72, 0x01)                                             // GS r 1
	w(0x1D, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30, '0', '0', '4', '2') // GS ( H fn 48
	var ts []byte
	var ids [][4]byte
	var pages []Page
	d := &Decoder{OnPage: func(p Page) { pages = append(pages, p) }, OnTransmitStatus: func(n byte) { ts = append(ts, n) },
		OnProcessID: func(id [4]byte) { ids = append(ids, id) }}
	d.Write(b.Bytes())
	d.Flush()
	if len(pages) != 1 {
		t.Fatalf("%d pages", len(pages))
	}
	pg := pages[0]
	if got := pg.Text(); got != "AB\n[barcode CODE39]\n[barcode {B123]\n\nCD\n" || pg.Unknown != 0 {
		t.Fatalf("page text %q, %d unknown bytes", got, pg.Unknown)
	}
	if !slices.Equal(ts, []byte{1}) || len(ids) != 1 || string(ids[0][:]) != "0042" {
		t.Fatalf("GS r %v, GS ( H %q", ts, ids)
	}
}
