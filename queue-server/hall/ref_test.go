package hall

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every kind of result ref reads back as itself from the form it is
// stored in, which is the form records written before Ref existed hold.
func TestRefRoundTrip(t *testing.T) {
	for _, c := range []struct {
		ref  Ref
		text string
	}{
		{Ref{}, ""},
		{TicketRef("tk3f9a"), "t:tk3f9a"},
		{WindowRef(12), "w:12"},
		{LeaseRef("ls01"), "l:ls01"},
		{BookingRef("bk7q"), "b:bk7q"},
		{ConfigRef(), "c:"},
	} {
		if got := c.ref.String(); got != c.text {
			t.Errorf("%+v is stored as %q, want %q", c.ref, got, c.text)
		}
		if got := string(c.ref.AppendTo([]byte("x"))); got != "x"+c.text {
			t.Errorf("%+v appends as %q, want %q", c.ref, got, "x"+c.text)
		}
		back, err := ParseRef(c.text)
		if err != nil || back != c.ref {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", c.text, back, err, c.ref)
		}
		j, _ := json.Marshal(IdemRecord{Key: "k", Ref: c.ref})
		var rec IdemRecord
		if err := json.Unmarshal(j, &rec); err != nil || rec.Ref != c.ref || !strings.Contains(string(j), `"ref":"`+c.text+`"`) {
			t.Errorf("JSON %s reads back as %+v, %v", j, rec.Ref, err)
		}
	}
}

// A stored ref that is none of the forms is an error that says what is
// wrong with it, not a result that silently resolves to nothing.
func TestParseRefRefusesGarbage(t *testing.T) {
	for text, want := range map[string]string{
		"tk3f9a": "no kind",
		"t:":     "names no id",
		"w:x":    "not a number",
		"w:0":    "not a number",
		"w:012":  "not a number",
		"c:x":    "has no id",
		"k:abc":  "unknown kind",
	} {
		if _, err := ParseRef(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRef(%q) = %v, want an error saying %q", text, err, want)
		}
	}
}
