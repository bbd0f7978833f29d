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
