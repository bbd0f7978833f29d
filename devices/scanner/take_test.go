package scanner

import (
	"errors"
	"strings"
	"testing"
)

func lines(cfg Config, in []byte) (codes []string, errs []error) {
	s := &Scanner{cfg: cfg, pending: in}
	for {
		code, ok, err := s.take()
		if !ok {
			return
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			codes = append(codes, code)
		}
	}
}

func TestTake(t *testing.T) {
	cfg := Config{Suffix: "\r\n", MaxLen: 8}
	codes, errs := lines(cfg, []byte("A023\r\nB1\rC2\n\r\n123456789\rD4\r"))
	if strings.Join(codes, ",") != "A023,B1,C2,D4" || len(errs) != 1 || !errors.Is(errs[0], ErrTooLong) {
		t.Fatalf("codes %q errs %v", codes, errs)
	}
}

func FuzzTake(f *testing.F) {
	f.Add([]byte("https://hall.example/a/1\r"), "\r", 32)
	f.Add([]byte("A\r\nB\r\n"), "\r\n", 4)
	f.Add([]byte{0xff, 0xfe, '\r', 'x'}, "\r", 1)
	f.Fuzz(func(t *testing.T, in []byte, suffix string, maxLen int) {
		if suffix == "" || maxLen <= 0 || maxLen > 1<<16 {
			return
		}
		codes, _ := lines(Config{Suffix: suffix, MaxLen: maxLen}, in)
		for _, c := range codes {
			if c == "" || len(c) > 3*maxLen {
				t.Fatalf("bad code %q", c)
			}
			for i := 0; i < len(suffix) && !strings.ContainsRune(c, '\uFFFD'); i++ {
				if strings.IndexByte(c, suffix[i]) >= 0 {
					t.Fatalf("code %q holds suffix byte %#x", c, suffix[i])
				}
			}
		}
	})
}
