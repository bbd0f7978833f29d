package idcard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestCheckDigit(t *testing.T) {
	for in, want := range map[string]byte{
		"11010519491231002": 'X',
		"44052418800101001": '4',
	} {
		if got, err := CheckDigit(in); err != nil || got != want {
			t.Errorf("CheckDigit(%s) = %c, %v; want %c", in, got, err, want)
		}
	}
	if _, err := CheckDigit("1101051949123100A"); err == nil {
		t.Error("accepted a letter")
	}
}

func TestParseIDNumber(t *testing.T) {
	id, err := ParseIDNumber("  11010519491231002x ")
	if err != nil {
		t.Fatal(err)
	}
	if id != mustParse(t, "11010519491231002X") {
		t.Error("normalisation differs")
	}
	if got := id.Masked(); got != "1101**********002X" {
		t.Errorf("Masked = %s", got)
	}
	for _, bad := range []string{"", "110105194912310021", "12345", "1101051949-1231002X", "这是中文的身份证号码"} {
		if _, err := ParseIDNumber(bad); !errors.Is(err, ErrInvalidNumber) {
			t.Errorf("ParseIDNumber(%q) = %v", bad, err)
		} else if strings.Contains(err.Error(), "1101051949") {
			t.Errorf("error quotes the number: %v", err)
		}
	}
	if _, err := ParseIDNumber("GBR420188080801"); err != nil {
		t.Errorf("2017 foreigner number: %v", err)
	}
	if (IDNumber{}).Key([]byte("s")) != "" || !(IDNumber{}).IsZero() {
		t.Error("zero number has a key")
	}
}

// The citizen key is HMAC-SHA256(secret, normalised number) in lowercase hex:
// a fixed vector the server and the central platform can check against.
func TestKeyVector(t *testing.T) {
	// python3: hmac.new(b"hall-secret", b"11010519491231002X", hashlib.sha256).hexdigest()
	const want = "cf6049a9da497dbb7a1db59c2fe8c51e9bb7b0db6e03fabb2165927026e032e8"
	if got := mustParse(t, "11010519491231002x").Key([]byte("hall-secret")); got != want {
		t.Fatalf("Key = %s, want %s", got, want)
	}
}

// The full number must never appear in any formatted, JSON, text or log
// output of an IDNumber or a Card holding it.
func TestNumberNeverLeaks(t *testing.T) {
	const raw = "11010519491231002X"
	id := mustParse(t, raw)
	card := sampleCards(t)[0]
	card.Number = id
	var outs []string
	for _, v := range []any{id, &id, card, &card, []IDNumber{id}, map[string]any{"n": id, "c": card}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %[1]v"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		outs = append(outs, fmt.Sprint(v), fmt.Sprintln(v))
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(j))
	}
	txt, _ := id.MarshalText()
	outs = append(outs, string(txt), id.String(), id.GoString())
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("card read", "id", id, "card", card)
		l.Info("card read", slog.Any("id", id), slog.Any("card", card))
	}
	outs = append(outs, logs.String())
	for _, o := range outs {
		if strings.Contains(o, raw) || strings.Contains(o, "1231002") {
			t.Errorf("full number leaked: %s", o)
		}
	}
	if !strings.Contains(logs.String(), "1101**********002X") {
		t.Errorf("log lacks the masked form: %s", logs.String())
	}
}
