package escpos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTicketTextGolden keeps, beside each golden ticket's bytes, the text a
// clerk reads on it (testdata/*.txt, decoded back from the bytes), so a
// change of layout is reviewed as words: local time, the appointment and
// priority marks, the windows, 当日有效, the offline notice.
func TestTicketTextGolden(t *testing.T) {
	for name, tc := range goldenTickets() {
		got := ticketText(Encode(tc.t, tc.m))
		path := filepath.Join("testdata", strings.TrimSuffix(name, ".bin")+".txt")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update once)", err)
		}
		if got != string(want) {
			t.Errorf("%s: text changed; check and run go test -update\n--- got\n%s--- want\n%s", path, got, want)
		}
	}
	for _, must := range []struct{ file, text string }{
		{"ticket-80-native.txt", "取号时间 2025-06-01 09:30"},
		{"ticket-80-native.txt", "办理窗口 1、2、3、7 号"},
		{"ticket-80-native.txt", "当日有效"},
		{"ticket-80-offline.txt", "前面人数：离线取号，暂不可知"},
		{"ticket-80-offline.txt", "网络恢复后扫码可查看进度"},
		{"ticket-80-appointment.txt", "【预约】APPOINTMENT 10:00"},
		{"ticket-58-priority.txt", "【优先】绿色通道"},
	} {
		b, _ := os.ReadFile(filepath.Join("testdata", must.file))
		if !strings.Contains(string(b), must.text) {
			t.Errorf("%s lacks %q", must.file, must.text)
		}
	}
	if b, _ := os.ReadFile("testdata/ticket-80-offline.txt"); strings.Contains(string(b), "前面还有 -1") {
		t.Error("offline ticket prints a negative count ahead")
	}
}

// ticketText is the printed text of a job: GB18030 text lines, with
// commands (ESC x, GS x, FS x and their arguments, rasters) dropped and a
// QR code shown as [QR …].
func ticketText(b []byte) string {
	var out, line []byte
	flush := func() {
		out = append(append(out, DecodeText(line)...), '\n')
		line = line[:0]
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\n':
			flush()
		case c == 0x1B: // ESC @ / ESC a n / ESC E n / ESC d n
			if i+1 < len(b) && b[i+1] != '@' {
				i++
			}
			i++
		case c == 0x1C: // FS & / FS .
			i++
		case c == 0x1D && i+1 < len(b):
			switch b[i+1] {
			case '!': // GS ! n
				i += 2
			case 'V': // GS V m
				i += 2
				out = append(out, "--- cut ---\n"...)
			case 'v': // GS v 0 m xL xH yL yH data
				if i+7 < len(b) {
					w, h := int(b[i+4])|int(b[i+5])<<8, int(b[i+6])|int(b[i+7])<<8
					i += 7 + w*h
					out = append(out, "[QR raster]\n"...)
				}
			case '(': // GS ( k pL pH cn fn …
				if i+4 < len(b) {
					n := int(b[i+3]) | int(b[i+4])<<8
					if i+7 < len(b) && b[i+6] == 0x50 {
						out = append(out, "[QR "+string(b[i+8:i+5+n])+"]\n"...)
					}
					i += 4 + n
				}
			default:
				i++
			}
		default:
			line = append(line, c)
		}
	}
	if len(line) > 0 {
		flush()
	}
	return string(out)
}
