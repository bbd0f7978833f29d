package idcard

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf16"

	"hallq/internal/idnumber"
)

// CardType is the kind of card, from the flag at text offset 248.
type CardType int

// Card types.
const (
	Resident    CardType = iota // 居民身份证
	Foreign2017                 // 'I' 外国人永久居留身份证 (2017)
	Foreign2023                 // 'Y' 外国人永久居留身份证 (2023)
	HKMOTW                      // 'J' 港澳台居民居住证
)

func (t CardType) String() string {
	switch t {
	case Resident:
		return "resident"
	case Foreign2017:
		return "foreign-2017"
	case Foreign2023:
		return "foreign-2023"
	case HKMOTW:
		return "hk-mo-tw"
	}
	return fmt.Sprintf("CardType(%d)", int(t))
}

// Flag returns the card-type flag character ("" for a resident card).
func (t CardType) Flag() string {
	return map[CardType]string{Foreign2017: "I", Foreign2023: "Y", HKMOTW: "J"}[t]
}

// Sex is the GB/T 2261.1 sex code.
type Sex byte

// Sex codes.
const (
	SexUnknown     Sex = '0'
	SexMale        Sex = '1'
	SexFemale      Sex = '2'
	SexUnspecified Sex = '9'
)

func (s Sex) String() string {
	switch s {
	case SexMale:
		return "male"
	case SexFemale:
		return "female"
	case SexUnspecified:
		return "unspecified"
	}
	return "unknown"
}

// Card is what the reader decodes from a card's text block. Dates are civil
// dates at UTC midnight.
type Card struct {
	Type        CardType
	Name        string // Chinese name (for foreigners: the Chinese name, or the English one when absent)
	NameEN      string // English name (foreigner cards)
	Sex         Sex
	Nation      string // ethnic group code, "01" = Han (resident cards)
	Nationality string // ISO 3166 alpha-3 (foreigner cards)
	BirthDate   time.Time
	Address     string
	Number      IDNumber
	Authority   string // issuing authority (code for 2017 foreigner cards)
	ValidFrom   time.Time
	ValidTo     time.Time // zero when LongTerm
	LongTerm    bool      // valid to "长期"
	PassNumber  string    // HK/Macao/Taiwan permit: the travel permit number
	IssueCount  string    // HK/Macao/Taiwan permit issues, or 2023 foreigner card renewals
	Version     string    // 2017 foreigner card version
}

func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Expired reports whether the card is past its validity date on now's
// calendar day (the card is valid through ValidTo).
func (c Card) Expired(now time.Time) bool {
	return !c.LongTerm && !c.ValidTo.IsZero() && civil(now).After(c.ValidTo)
}

// Check returns an *ExpiredError (wrapping ErrExpired) if the card has
// expired at now, else nil.
func (c Card) Check(now time.Time) error {
	if c.Expired(now) {
		return &ExpiredError{ValidTo: c.ValidTo.Format(time.DateOnly)}
	}
	return nil
}

// Age returns the holder's age in whole years at now (0 if unknown).
func (c Card) Age(now time.Time) int { return idnumber.Age(c.BirthDate, now) }

// LogValue logs only what a queue needs: type, masked number, birth year,
// validity. Name and address stay out of logs.
func (c Card) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", c.Type.String()),
		slog.String("number", c.Number.Masked()),
		slog.Int("birth_year", c.BirthDate.Year()),
		slog.String("valid_to", c.validTo()),
	)
}

func (c Card) validTo() string {
	if c.LongTerm {
		return "long-term"
	}
	return c.ValidTo.Format(time.DateOnly)
}

// TextLen is the size of the text block.
const TextLen = 256

// field is a span of the text block in bytes.
type field struct{ off, n int }

// Resident layout (GA/T 490); HK/Macao/Taiwan permits share it up to 220.
var (
	rName      = field{0, 30}
	rSex       = field{30, 2}
	rNation    = field{32, 4}
	rBirth     = field{36, 16}
	rAddress   = field{52, 70}
	rNumber    = field{122, 36}
	rAuthority = field{158, 30}
	rFrom      = field{188, 16}
	rTo        = field{204, 16}
	jPass      = field{220, 18}
	jCount     = field{238, 4}
	flagField  = field{248, 2}

	iNameEN      = field{0, 120}
	iSex         = field{120, 2}
	iNumber      = field{122, 30}
	iNationality = field{152, 6}
	iName        = field{158, 30}
	iFrom        = field{188, 16}
	iTo          = field{204, 16}
	iBirth       = field{220, 16}
	iVersion     = field{236, 4}
	iAuthority   = field{240, 8}

	yName        = field{0, 30}
	ySex         = field{30, 2}
	yRenewals    = field{32, 4}
	yBirth       = field{36, 16}
	yNameEN      = field{52, 70}
	yNumber      = field{122, 36}
	yFrom        = field{188, 16}
	yTo          = field{204, 16}
	yNameEN2     = field{220, 22}
	yNationality = field{242, 6}
)

func ucs2(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return strings.TrimRight(string(utf16.Decode(u)), " \x00")
}

func putUCS2(b []byte, s string) {
	u := utf16.Encode([]rune(s))
	for i := 0; i+1 < len(b); i += 2 {
		c := uint16(' ')
		if i/2 < len(u) {
			c = u[i/2]
		}
		b[i], b[i+1] = byte(c), byte(c>>8)
	}
}

func (f field) get(t []byte) string      { return ucs2(t[f.off : f.off+f.n]) }
func (f field) put(t []byte, s string)   { putUCS2(t[f.off:f.off+f.n], s) }
func (f field) fits(s string) bool       { return len(utf16.Encode([]rune(s)))*2 <= f.n }
func dateField(t []byte, f field) string { return strings.TrimSpace(f.get(t)) }

func parseDate(s, what string) (time.Time, error) {
	d, err := time.Parse("20060102", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not YYYYMMDD", ErrText, what, s)
	}
	return d, nil
}

// DecodeText decodes a 256-byte text block (UCS-2 little-endian). The card
// type comes from the flag at offset 248; anything unknown is read as a
// resident card. The number, the birth date and the validity dates must be
// well formed; other fields are taken as they are.
func DecodeText(t []byte) (Card, error) {
	if len(t) < TextLen {
		return Card{}, fmt.Errorf("%w: %d bytes, want %d", ErrText, len(t), TextLen)
	}
	var c Card
	var number, birth, from, to string
	strict := true
	switch flagField.get(t) {
	case "I":
		c.Type = Foreign2017
		c.NameEN, c.Name = iNameEN.get(t), iName.get(t)
		c.Sex = sexOf(iSex.get(t))
		number, c.Nationality = iNumber.get(t), iNationality.get(t)
		from, to, birth = dateField(t, iFrom), dateField(t, iTo), dateField(t, iBirth)
		c.Version, c.Authority = iVersion.get(t), iAuthority.get(t)
	case "Y":
		c.Type = Foreign2023
		c.Name, c.Sex, c.IssueCount = yName.get(t), sexOf(ySex.get(t)), yRenewals.get(t)
		c.NameEN = strings.TrimSpace(yNameEN.get(t) + yNameEN2.get(t))
		number, c.Nationality = yNumber.get(t), yNationality.get(t)
		from, to, birth = dateField(t, yFrom), dateField(t, yTo), dateField(t, yBirth)
		strict = false // layout partly unverified: accept the number as read
	default:
		c.Type = Resident
		if flagField.get(t) == "J" {
			c.Type = HKMOTW
			c.PassNumber, c.IssueCount = jPass.get(t), jCount.get(t)
		}
		c.Name, c.Sex, c.Nation = rName.get(t), sexOf(rSex.get(t)), rNation.get(t)
		c.Address, c.Authority = rAddress.get(t), rAuthority.get(t)
		number = rNumber.get(t)
		from, to, birth = dateField(t, rFrom), dateField(t, rTo), dateField(t, rBirth)
	}
	if c.Name == "" {
		c.Name = c.NameEN
	}
	var err error
	if c.Number, err = parseNumber(number, strict); err != nil {
		return Card{}, fmt.Errorf("%w: %s card: %w", ErrText, c.Type, err)
	}
	if c.BirthDate, err = parseDate(birth, "birth date"); err != nil {
		return Card{}, err
	}
	if c.ValidFrom, err = parseDate(from, "valid-from date"); err != nil {
		return Card{}, err
	}
	if to == "长期" {
		c.LongTerm = true
	} else if c.ValidTo, err = parseDate(to, "valid-to date"); err != nil {
		return Card{}, err
	}
	return c, nil
}

func sexOf(s string) Sex {
	if len(s) == 1 {
		return Sex(s[0])
	}
	return SexUnknown
}

// EncodeText lays a card out as a 256-byte text block, the inverse of
// DecodeText (simulators and tests use it). Fields too long for their span
// are an error.
func EncodeText(c Card) ([]byte, error) {
	t := make([]byte, TextLen)
	putUCS2(t, "")
	date := func(d time.Time) string {
		if d.IsZero() {
			return ""
		}
		return d.Format("20060102")
	}
	to := date(c.ValidTo)
	if c.LongTerm {
		to = "长期"
	}
	sex := string(rune(c.Sex))
	if c.Sex == 0 {
		sex = string(rune(SexUnknown))
	}
	var puts []struct {
		f field
		s string
	}
	add := func(f field, s string) {
		puts = append(puts, struct {
			f field
			s string
		}{f, s})
	}
	switch c.Type {
	case Foreign2017:
		add(iNameEN, c.NameEN)
		add(iSex, sex)
		add(iNumber, idnumber.Digits(c.Number))
		add(iNationality, c.Nationality)
		add(iName, c.Name)
		add(iFrom, date(c.ValidFrom))
		add(iTo, to)
		add(iBirth, date(c.BirthDate))
		add(iVersion, c.Version)
		add(iAuthority, c.Authority)
	case Foreign2023:
		en, en2 := c.NameEN, ""
		if r := []rune(en); len(r) > yNameEN.n/2 {
			en, en2 = string(r[:yNameEN.n/2]), string(r[yNameEN.n/2:])
		}
		add(yName, c.Name)
		add(ySex, sex)
		add(yRenewals, c.IssueCount)
		add(yBirth, date(c.BirthDate))
		add(yNameEN, en)
		add(yNumber, idnumber.Digits(c.Number))
		add(yFrom, date(c.ValidFrom))
		add(yTo, to)
		add(yNameEN2, en2)
		add(yNationality, c.Nationality)
	default:
		add(rName, c.Name)
		add(rSex, sex)
		add(rNation, c.Nation)
		add(rBirth, date(c.BirthDate))
		add(rAddress, c.Address)
		add(rNumber, idnumber.Digits(c.Number))
		add(rAuthority, c.Authority)
		add(rFrom, date(c.ValidFrom))
		add(rTo, to)
		if c.Type == HKMOTW {
			add(jPass, c.PassNumber)
			add(jCount, c.IssueCount)
		}
	}
	if f := c.Type.Flag(); f != "" {
		add(flagField, f)
	}
	for _, p := range puts {
		if !p.f.fits(p.s) {
			return nil, fmt.Errorf("%w: %d-character value does not fit %d bytes at offset %d", ErrText, len([]rune(p.s)), p.f.n, p.f.off)
		}
		p.f.put(t, p.s)
	}
	return t, nil
}
