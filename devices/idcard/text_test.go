package idcard

import (
	"errors"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustParse(t testing.TB, s string) IDNumber {
	t.Helper()
	id, err := ParseIDNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func sampleCards(t testing.TB) []Card {
	return []Card{
		{Type: Resident, Name: "张三", Sex: SexMale, Nation: "01", BirthDate: day(1949, 12, 31),
			Address: "北京市朝阳区某某路1号", Number: mustParse(t, "11010519491231002X"), Authority: "北京市公安局朝阳分局",
			ValidFrom: day(2010, 1, 1), LongTerm: true},
		{Type: HKMOTW, Name: "陈大文", Sex: SexMale, Nation: "", BirthDate: day(1979, 2, 3), Address: "武汉",
			Number: mustParse(t, "11010519491231002X"), Authority: "武汉市公安局", ValidFrom: day(2019, 1, 1),
			ValidTo: day(2029, 1, 1), PassNumber: "H01234567", IssueCount: "01"},
		{Type: Foreign2017, Name: "安娜", NameEN: "SMITH, ANNA", Sex: SexFemale, Nationality: "GBR",
			BirthDate: day(1988, 8, 8), Number: mustParse(t, "GBR420188080801"), Version: "20", Authority: "1500",
			ValidFrom: day(2018, 1, 1), ValidTo: day(2028, 1, 1)},
		{Type: Foreign2023, Name: "安娜", NameEN: "SMITH, ANNA MARIA ELIZABETH JONES-BROWN", Sex: SexFemale,
			Nationality: "GBR", BirthDate: day(1988, 8, 8), Number: mustParse(t, "911100198808081235"), IssueCount: "00",
			ValidFrom: day(2024, 1, 1), ValidTo: day(2034, 1, 1)},
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, c := range sampleCards(t) {
		text, err := EncodeText(c)
		if err != nil {
			t.Fatalf("%v: %v", c.Type, err)
		}
		got, err := DecodeText(text)
		if err != nil {
			t.Fatalf("%v: %v", c.Type, err)
		}
		if got != c {
			t.Errorf("%v:\n got %+v\nwant %+v", c.Type, got, c)
		}
	}
}

func TestResidentLayoutOffsets(t *testing.T) {
	c := sampleCards(t)[0]
	text, _ := EncodeText(c)
	if string(text[122:124]) != "1\x00" || text[248] != ' ' {
		t.Fatalf("number or flag at wrong offset: % X", text[120:126])
	}
	if ucs2(text[204:220]) != "长期" {
		t.Fatalf("valid-to = %q", ucs2(text[204:220]))
	}
}

func TestDecodeTextRejects(t *testing.T) {
	c := sampleCards(t)[0]
	text, _ := EncodeText(c)
	bad := append([]byte(nil), text...)
	rNumber.put(bad, "110105194912310021") // wrong check digit
	if _, err := DecodeText(bad); !errors.Is(err, ErrInvalidNumber) || !errors.Is(err, ErrText) {
		t.Errorf("bad check digit: %v", err)
	}
	bad = append([]byte(nil), text...)
	rBirth.put(bad, "1949-12-")
	if _, err := DecodeText(bad); !errors.Is(err, ErrText) {
		t.Errorf("bad birth date: %v", err)
	}
	if _, err := DecodeText(text[:100]); Code(err) != "bad_text" {
		t.Errorf("short block: %v", err)
	}
}

func TestExpiredAndAge(t *testing.T) {
	c := Card{BirthDate: day(1950, 6, 1), ValidTo: day(2025, 3, 1)}
	loc := time.FixedZone("CST", 8*3600)
	if c.Expired(time.Date(2025, 3, 1, 23, 59, 0, 0, loc)) {
		t.Error("expired on its last valid day")
	}
	now := time.Date(2025, 3, 2, 0, 1, 0, 0, loc)
	if !c.Expired(now) || Code(c.Check(now)) != "expired" || !errors.Is(c.Check(now), ErrExpired) {
		t.Error("not expired the day after")
	}
	if (Card{LongTerm: true}).Expired(now) {
		t.Error("long-term card expired")
	}
	if a := c.Age(time.Date(2025, 5, 31, 12, 0, 0, 0, loc)); a != 74 {
		t.Errorf("age = %d, want 74", a)
	}
	if a := c.Age(time.Date(2025, 6, 1, 0, 0, 0, 0, loc)); a != 75 {
		t.Errorf("age on birthday = %d, want 75", a)
	}
}

func FuzzDecodeText(f *testing.F) {
	for _, c := range sampleCards(f) {
		text, _ := EncodeText(c)
		f.Add(text)
	}
	f.Add(make([]byte, 256))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := DecodeText(in)
		if err != nil {
			return
		}
		if c.Number.IsZero() || c.BirthDate.IsZero() {
			t.Fatalf("decoded card without number or birth date: %v", c.Type)
		}
	})
}
