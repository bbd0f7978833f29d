package escpos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var sampleNotice = Notice{
	HallName: "武汉市公安局江岸分局政务服务中心", Number: "A023", Day: "2025-06-01",
	At: time.Date(2025, 6, 1, 10, 5, 0, 0, time.FixedZone("CST", 8*3600)),
	Matters: []NoticeMatter{
		{NameZH: "户口迁移", NameEN: "Hukou move", Missing: []string{"准迁证 Move permit", "户口簿 Household register"}},
		{NameZH: "身份证换领", NameEN: "ID card renewal", Missing: []string{"原身份证 Old ID card"}},
	},
}

// TestNoticeGolden keeps the one-time notice's bytes and its text as a
// clerk reads it.
func TestNoticeGolden(t *testing.T) {
	for name, m := range map[string]Model{"notice-80.bin": Generic80, "notice-58.bin": Generic58} {
		got := EncodeNotice(sampleNotice, m)
		for _, f := range []struct {
			path string
			data []byte
		}{{filepath.Join("testdata", name), got}, {filepath.Join("testdata", strings.TrimSuffix(name, ".bin")+".txt"), []byte(ticketText(got))}} {
			if *update {
				if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatalf("%v (run go test -update once)", err)
			}
			if string(want) != string(f.data) {
				t.Errorf("%s changed; check and run go test -update", f.path)
			}
		}
	}
	text := ticketText(EncodeNotice(sampleNotice, Generic80))
	for _, must := range []string{"一次性告知单", "号码 Ticket A023 · 2025-06-01", "事项 Matter: 户口迁移 Hukou move", "□ 准迁证 Move permit", "□ 原身份证 Old ID card", "打印时间 2025-06-01 10:05"} {
		if !strings.Contains(text, must) {
			t.Errorf("the notice does not say %q:\n%s", must, text)
		}
	}
}
