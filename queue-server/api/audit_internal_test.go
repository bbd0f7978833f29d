package api

import "testing"

// A name kept on the audit trail is never an ID number, whole or mistyped.
func TestAuditTextWithholdsIDNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"li":                 "li",
		"110101199003070011": "1101**********0011",
		"110101199003070019": "(withheld: looks like an ID number)", // a wrong check digit
		"1101011990030700":   "(withheld: looks like an ID number)",
		"li\x1b[2Jclear":     "li[2Jclear",
		"":                   "",
	} {
		if got := auditText(in); got != want {
			t.Errorf("auditText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := []rune(auditText("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十")); len(got) != 64 {
		t.Errorf("a long name keeps %d characters, want 64", len(got))
	}
}
