package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"hallq/devices/idcard"
)

// FaultKind is a misbehaviour of the simulated ID-card reader.
type FaultKind int

// Faults the ID-card simulator can inject.
const (
	FaultStatus      FaultKind = iota + 1 // reply with Fault.SW3 alone
	FaultBadChecksum                      // correct reply with a wrong checksum
	FaultSilence                          // no reply at all
	FaultGarbage                          // line noise before the correct reply
	FaultTruncate                         // the first half of the reply, then nothing
	FaultVanish                           // the first half of the reply, then the device is unplugged
)

// Fault is injected into the replies to the next Times requests (default 1)
// for command On (0: any command).
type Fault struct {
	Kind  FaultKind
	On    idcard.Command
	SW3   byte
	Times int
}

// IDCard simulates a SAM ID-card reader.
type IDCard struct {
	*device
	// owned by the loop
	buf    []byte
	card   []byte // text block of the card on the reader, nil if none
	faults []Fault
	samID  idcard.SAMID
	reqs   int
	// unreadable: the card is found and selected but every read fails (41),
	// as with a scratched or bent card.
	unreadable bool
	readTime   time.Duration
	noCard     int // find-card requests answered "no card"
	busy       bool
	queue      [][]byte // requests that arrived while a card read was under way
}

// IDCardOptions configure an ID-card simulator.
type IDCardOptions struct {
	Link string // optional symlink path kept pointing at the terminal
	// Baud paces both directions at this line rate (0: unpaced). Real
	// readers run at 115200; some are set to 9600.
	Baud int
	// ReadTime is how long the reader takes to read a card's text and photo
	// before it starts to answer (vendors quote up to 1 s; 0: at once).
	ReadTime time.Duration
}

// NewIDCard starts an ID-card reader simulator with no card on it.
func NewIDCard(opts IDCardOptions) (*IDCard, error) {
	s := &IDCard{samID: idcard.SAMID{5, 0, 1, 0, 0x9a, 0x5e, 0x32, 0x01, 0x4e, 0x61, 0xbc, 0, 0xd2, 0x02, 0x96, 0x49},
		readTime: opts.ReadTime}
	d, err := newDevice("idcard", opts.Link, opts.Baud, s.onData)
	if err != nil {
		return nil, err
	}
	d.onUnplug = func() { s.buf, s.queue, s.busy = nil, nil, false }
	s.device = d
	return s, nil
}

// SetReadTime sets how long reading a card takes (see IDCardOptions.ReadTime).
func (s *IDCard) SetReadTime(d time.Duration) error { return s.do(func() { s.readTime = d }) }

// PlaceUnreadable puts a card on the reader that is found but cannot be read:
// every read answers 41 (read failed), as a scratched or bent card does.
func (s *IDCard) PlaceUnreadable(c idcard.Card) error {
	text, err := idcard.EncodeText(c)
	if err != nil {
		return err
	}
	return s.do(func() { s.card, s.unreadable = text, true })
}

// Swap takes the card away, waits until the driver has polled the empty
// reader twice (so it has seen the card go; readers report a card once per
// placement), then places c. It gives up waiting after timeout and places c
// anyway.
func (s *IDCard) Swap(c idcard.Card, timeout time.Duration) error {
	text, err := idcard.EncodeText(c)
	if err != nil {
		return err
	}
	var before int
	if err := s.do(func() { s.card, s.unreadable, before = nil, false, s.noCard }); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var n int
		if err := s.do(func() { n = s.noCard }); err != nil {
			return err
		}
		if n >= before+2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s.do(func() { s.card = text })
}

// Place puts a card on the reader (replacing any other).
func (s *IDCard) Place(c idcard.Card) error {
	text, err := idcard.EncodeText(c)
	if err != nil {
		return err
	}
	return s.PlaceText(text)
}

// PlaceText puts a card with a raw 256-byte text block on the reader.
func (s *IDCard) PlaceText(text []byte) error {
	if len(text) != idcard.TextLen {
		return fmt.Errorf("sim: text block is %d bytes, want %d", len(text), idcard.TextLen)
	}
	text = bytes.Clone(text)
	return s.do(func() { s.card, s.unreadable = text, false })
}

// Present reports whether a card is on the reader.
func (s *IDCard) Present() bool {
	var ok bool
	s.do(func() { ok = s.card != nil })
	return ok
}

// Remove takes the card away.
func (s *IDCard) Remove() error { return s.do(func() { s.card, s.unreadable = nil, false }) }

// Inject queues a fault for the coming requests.
func (s *IDCard) Inject(f Fault) error {
	if f.Times == 0 {
		f.Times = 1
	}
	return s.do(func() { s.faults = append(s.faults, f) })
}

// ClearFaults removes all queued faults.
func (s *IDCard) ClearFaults() error { return s.do(func() { s.faults = nil }) }

// Requests returns how many well-formed requests the simulator has answered.
func (s *IDCard) Requests() int {
	var n int
	s.do(func() { n = s.reqs })
	return n
}

func (s *IDCard) onData(b []byte) {
	s.buf = append(s.buf, b...)
	for !s.busy {
		payload, n, err := idcard.Decode(s.buf)
		s.buf = s.buf[n:]
		switch {
		case err != nil:
			s.write(idcard.EncodeResponse(0x10)) // request checksum error
			continue
		case payload == nil:
			return
		case len(payload) < 2:
			s.write(idcard.EncodeResponse(0x11)) // request length error
			continue
		}
		s.reqs++
		cmd := idcard.Command(binary.BigEndian.Uint16(payload))
		frame := s.answer(cmd)
		if (cmd == idcard.CmdReadText || cmd == idcard.CmdReadTextFP) && s.card != nil && s.readTime > 0 {
			// The SAM reads the card before it answers; the reader handles
			// one request at a time, so later bytes wait in s.buf.
			s.busy = true
			s.after(s.readTime, func() {
				if !s.busy {
					return // unplugged meanwhile
				}
				s.busy = false
				s.reply(cmd, frame)
				s.onData(nil)
			})
			return
		}
		s.reply(cmd, frame)
	}
}

// answer is the healthy reader's reply frame.
func (s *IDCard) answer(cmd idcard.Command) []byte {
	switch cmd {
	case idcard.CmdResetSAM, idcard.CmdSAMStatus:
		return idcard.EncodeResponse(idcard.SW3OK)
	case idcard.CmdSAMID:
		return idcard.EncodeResponse(idcard.SW3OK, s.samID[:]...)
	case idcard.CmdFindCard:
		if s.card == nil {
			s.noCard++
			return idcard.EncodeResponse(0x80)
		}
		return idcard.EncodeResponse(idcard.SW3FoundCard, 0, 0, 0, 0)
	case idcard.CmdSelectCard:
		if s.card == nil {
			return idcard.EncodeResponse(0x81)
		}
		return idcard.EncodeResponse(idcard.SW3OK, make([]byte, 8)...)
	case idcard.CmdReadText:
		if s.card == nil || s.unreadable {
			return idcard.EncodeResponse(0x41)
		}
		data := append([]byte{0x01, 0x00, 0x04, 0x00}, s.card...)
		return idcard.EncodeResponse(idcard.SW3OK, append(data, Photo()...)...)
	case idcard.CmdReadTextFP:
		if s.card == nil || s.unreadable {
			return idcard.EncodeResponse(0x41)
		}
		// three big-endian lengths (text, photo, fingerprint), then the data
		data := append([]byte{0x01, 0x00, 0x04, 0x00, 0x04, 0x00}, s.card...)
		data = append(data, Photo()...)
		return idcard.EncodeResponse(idcard.SW3OK, append(data, Fingerprint()...)...)
	}
	return idcard.EncodeResponse(0x21)
}

// Photo is the simulator's 1024-byte stand-in for a WLT photo.
func Photo() []byte {
	p := make([]byte, 1024)
	copy(p, "WLT-SIM")
	return p
}

// Fingerprint is the simulator's 1024-byte stand-in for two fingerprint
// templates.
func Fingerprint() []byte {
	p := make([]byte, 1024)
	copy(p, "FP-SIM")
	return p
}

// reply sends the answer, bent by the first matching fault.
func (s *IDCard) reply(cmd idcard.Command, frame []byte) {
	for i := range s.faults {
		f := s.faults[i]
		if f.On != 0 && f.On != cmd {
			continue
		}
		if s.faults[i].Times--; s.faults[i].Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		switch f.Kind {
		case FaultStatus:
			frame = idcard.EncodeResponse(f.SW3)
		case FaultBadChecksum:
			frame[len(frame)-1] ^= 0xFF
		case FaultSilence:
			return
		case FaultGarbage:
			frame = append([]byte{0x00, 0xAA, 0xAA, 0x13, 0x96, 0x69, 0xFF, 0xAA}, frame...)
		case FaultTruncate:
			frame = frame[:len(frame)/2]
		case FaultVanish:
			frame = frame[:len(frame)/2]
			s.write(frame)
			s.whenSent(s.unplug)
			return
		}
		break
	}
	s.write(frame)
}

// Sample cards: the default resident card, an elderly one, an expired one,
// foreigner and HK/Macao/Taiwan cards. Numbers carry valid check digits.
var (
	SampleResident = idcard.Card{Type: idcard.Resident, Name: "张三", Sex: idcard.SexMale, Nation: "01",
		BirthDate: date(1990, 3, 7), Address: "湖北省武汉市江岸区沿江大道100号", Number: mustNumber("42010219900307"),
		Authority: "武汉市公安局江岸分局", ValidFrom: date(2020, 1, 1), ValidTo: date(2040, 1, 1)}
	SampleElderly = idcard.Card{Type: idcard.Resident, Name: "李秀英", Sex: idcard.SexFemale, Nation: "01",
		BirthDate: date(1950, 6, 1), Address: "湖北省武汉市武昌区中山路1号", Number: mustNumber("42010619500601"),
		Authority: "武汉市公安局武昌分局", ValidFrom: date(2010, 5, 1), LongTerm: true}
	SampleExpired = idcard.Card{Type: idcard.Resident, Name: "王五", Sex: idcard.SexMale, Nation: "03",
		BirthDate: date(1985, 11, 20), Address: "湖北省武汉市洪山区珞喻路5号", Number: mustNumber("42011119851120"),
		Authority: "武汉市公安局洪山分局", ValidFrom: date(2005, 2, 1), ValidTo: date(2015, 2, 1)}
	SampleForeign = idcard.Card{Type: idcard.Foreign2023, Name: "安娜", NameEN: "SMITH, ANNA MARIA",
		Sex: idcard.SexFemale, Nationality: "GBR", BirthDate: date(1988, 8, 8), Number: mustNumber("91110019880808"),
		IssueCount: "00", ValidFrom: date(2024, 1, 1), ValidTo: date(2034, 1, 1)}
	SampleForeign2017 = idcard.Card{Type: idcard.Foreign2017, Name: "安娜", NameEN: "SMITH, ANNA",
		Sex: idcard.SexFemale, Nationality: "GBR", BirthDate: date(1988, 8, 8), Number: mustRaw("GBR420188080801"),
		Version: "20", Authority: "1500", ValidFrom: date(2018, 1, 1), ValidTo: date(2028, 1, 1)}
	SampleHKMOTW = idcard.Card{Type: idcard.HKMOTW, Name: "陈大文", Sex: idcard.SexMale,
		BirthDate: date(1979, 2, 3), Address: "湖北省武汉市江汉区解放大道9号", Number: mustNumber("81000019790203"),
		Authority: "武汉市公安局", ValidFrom: date(2019, 1, 1), ValidTo: date(2029, 1, 1),
		PassNumber: "H01234567", IssueCount: "01"}
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// mustNumber completes 14 leading digits with a sequence "123" and the check digit.
func mustNumber(first14 string) idcard.IDNumber {
	n := first14 + "123"
	c, err := idcard.CheckDigit(n)
	if err != nil {
		panic(err)
	}
	return mustRaw(n + string(c))
}

func mustRaw(s string) idcard.IDNumber {
	id, err := idcard.ParseIDNumber(s)
	if err != nil {
		panic(err)
	}
	return id
}
