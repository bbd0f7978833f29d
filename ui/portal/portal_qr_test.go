package portal_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// bkQRMatrix reads the modules of the page's QR code SVG (qr.js: a
// viewBox of size+8 and one "Mx,yh1v1h-1z" square per dark module, a
// quiet zone of four).
func bkQRMatrix(t *testing.T, viewBox, d string) [][]bool {
	t.Helper()
	f := strings.Fields(viewBox)
	if len(f) != 4 {
		t.Fatalf("viewBox %q", viewBox)
	}
	n, _ := strconv.Atoi(f[2])
	size := n - 8
	m := make([][]bool, size)
	for i := range m {
		m[i] = make([]bool, size)
	}
	for _, sq := range regexp.MustCompile(`M(\d+),(\d+)h1v1h-1z`).FindAllStringSubmatch(d, -1) {
		x, _ := strconv.Atoi(sq[1])
		y, _ := strconv.Atoi(sq[2])
		if x < 4 || y < 4 || x-4 >= size || y-4 >= size {
			t.Fatalf("a dark module in the quiet zone at %d,%d", x, y)
		}
		m[y-4][x-4] = true
	}
	return m
}

// bkQRDecode reads the text of a QR code's module matrix (ISO/IEC 18004,
// versions 1–10, any error-correction level, byte mode), written from the standard for this test: the
// format bits, the function patterns, the zigzag, the mask, the block
// interleaving, the segment header. It checks the finder patterns too, so
// a matrix that is not a QR code fails.
func bkQRDecode(m [][]bool) (string, error) {
	n := len(m)
	v := (n - 17) / 4
	if n < 21 || (n-17)%4 != 0 || v > 10 {
		return "", fmt.Errorf("size %d is not a QR code of version 1–10", n)
	}
	for _, c := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} { // finder: dark ring, light ring, dark 3×3
		for dy := range 7 {
			for dx := range 7 {
				ring := max(abs(dx-3), abs(dy-3))
				if m[c[1]+dy][c[0]+dx] != (ring != 2) {
					return "", fmt.Errorf("no finder pattern at %v", c)
				}
			}
		}
	}
	// format: 15 bits beside the top-left finder, XOR 101010000010010
	pos := [][2]int{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8}, {7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}}
	bits := 0
	for i, p := range pos {
		if m[p[1]][p[0]] {
			bits |= 1 << i
		}
	}
	bits ^= 0x5412
	level, mask := bits>>13, (bits>>10)&7 // level bits: L 01, M 00, Q 11, H 10
	// function modules
	fn := make([][]bool, n)
	for i := range fn {
		fn[i] = make([]bool, n)
	}
	mark := func(x0, y0, w, h int) {
		for y := y0; y < y0+h; y++ {
			for x := x0; x < x0+w; x++ {
				if x >= 0 && y >= 0 && x < n && y < n {
					fn[y][x] = true
				}
			}
		}
	}
	mark(0, 0, 9, 9)
	mark(n-8, 0, 8, 9)
	mark(0, n-8, 9, 8)
	mark(6, 0, 1, n)
	mark(0, 6, n, 1)
	if v >= 2 {
		num := v/7 + 2
		step := (v*4 + 4 + num*2 - 3) / (num*2 - 2) * 2 // ceil((v*4+4)/(num*2-2))*2
		centers := []int{6}
		for p := n - 7; len(centers) < num; p -= step {
			centers = append([]int{6}, append([]int{p}, centers[1:]...)...)
		}
		for i, cx := range centers {
			for j, cy := range centers {
				if (i == 0 && j == 0) || (i == 0 && j == num-1) || (i == num-1 && j == 0) {
					continue
				}
				mark(cx-2, cy-2, 5, 5)
			}
		}
	}
	if v >= 7 {
		mark(n-11, 0, 3, 6)
		mark(0, n-11, 6, 3)
	}
	masked := func(x, y int) bool {
		switch mask {
		case 0:
			return (x+y)%2 == 0
		case 1:
			return y%2 == 0
		case 2:
			return x%3 == 0
		case 3:
			return (x+y)%3 == 0
		case 4:
			return (x/3+y/2)%2 == 0
		case 5:
			return x*y%2+x*y%3 == 0
		case 6:
			return (x*y%2+x*y%3)%2 == 0
		}
		return ((x+y)%2+x*y%3)%2 == 0
	}
	var stream []byte
	var cur byte
	nb := 0
	for right := n - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := range n {
			for j := range 2 {
				x := right - j
				y := vert
				if (right+1)&2 == 0 {
					y = n - 1 - vert
				}
				if fn[y][x] {
					continue
				}
				bit := m[y][x] != masked(x, y)
				cur <<= 1
				if bit {
					cur |= 1
				}
				if nb++; nb == 8 {
					stream, cur, nb = append(stream, cur), 0, 0
				}
			}
		}
	}
	// total codewords; per level (by its bits), ECC codewords per block and blocks (versions 1–10)
	total := []int{0, 26, 44, 70, 100, 134, 172, 196, 242, 292, 346}[v]
	ecc := [4][]int{
		{0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26}, // M
		{0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18},  // L
		{0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28}, // H
		{0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24}, // Q
	}[level][v]
	blocks := [4][]int{
		{0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5}, // M
		{0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4}, // L
		{0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8}, // H
		{0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8}, // Q
	}[level][v]
	if len(stream) < total {
		return "", fmt.Errorf("read %d codewords, want %d", len(stream), total)
	}
	short := blocks - total%blocks
	shortData := total/blocks - ecc
	data := make([][]byte, blocks)
	k := 0
	for i := 0; i <= shortData; i++ {
		for b := range blocks {
			if i == shortData && b < short {
				continue
			}
			data[b] = append(data[b], stream[k])
			k++
		}
	}
	var all []byte
	for _, d := range data {
		all = append(all, d...)
	}
	// the segment: mode 0100 (byte), count (8 bits below version 10, 16 from it), the bytes
	get := func(off, w int) int {
		x := 0
		for i := range w {
			bi := off + i
			if bi/8 >= len(all) {
				return -1
			}
			x = x<<1 | int(all[bi/8]>>(7-bi%8)&1)
		}
		return x
	}
	if mode := get(0, 4); mode != 4 {
		return "", fmt.Errorf("mode %04b, want byte mode 0100", mode)
	}
	cw := 8
	if v >= 10 {
		cw = 16
	}
	count := get(4, cw)
	out := make([]byte, 0, count)
	for i := range count {
		c := get(4+cw+8*i, 8)
		if c < 0 {
			return "", fmt.Errorf("the count %d runs past the data", count)
		}
		out = append(out, byte(c))
	}
	return string(out), nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// The decoder reads what an independent encoder wrote: a QR code of
// skip2/go-qrcode (the hall's printer raster and status pages), at every
// error-correction level.
func TestQRDecoderReadsAnotherEncoder(t *testing.T) {
	for _, level := range []qrcode.RecoveryLevel{qrcode.Low, qrcode.Medium, qrcode.High, qrcode.Highest} {
		for _, text := range []string{"bkrzt5v4oxuubvc2bbj2zpyoiv2u", "hello", strings.Repeat("x", 100)} {
			m := bkGoQR(t, text, level)
			got, err := bkQRDecode(m)
			if err != nil || got != text {
				t.Errorf("level %d, %q: decoded %q, %v", level, text, got, err)
			}
		}
	}
}

func bkGoQR(t *testing.T, text string, level qrcode.RecoveryLevel) [][]bool {
	t.Helper()
	q, err := qrcode.New(text, level)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = true
	return q.Bitmap()
}
