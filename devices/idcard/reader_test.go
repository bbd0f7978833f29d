package idcard_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"hallq/devices/idcard"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// MustSim starts an ID-card simulator, stopped at cleanup.
func MustSim(t testing.TB, opts sim.IDCardOptions) *sim.IDCard {
	t.Helper()
	s, err := sim.NewIDCard(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// MustReader opens path through the real serial library and starts a Reader.
func MustReader(t testing.TB, path string, opts idcard.Options) *idcard.Reader {
	t.Helper()
	port, err := serialport.Open(serialport.IDCardConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	if opts.ReplyTime == 0 {
		opts.ReplyTime = 500 * time.Millisecond
	}
	if opts.CardTime == 0 {
		opts.CardTime = 100 * time.Millisecond // the simulator reads at once unless told otherwise
	}
	r := idcard.NewReader(port, opts)
	t.Cleanup(func() { r.Close() })
	return r
}

func MustPlace(t testing.TB, s *sim.IDCard, c idcard.Card) {
	t.Helper()
	if err := s.Place(c); err != nil {
		t.Fatal(err)
	}
}

func MustInject(t testing.TB, s *sim.IDCard, f sim.Fault) {
	t.Helper()
	if err := s.Inject(f); err != nil {
		t.Fatal(err)
	}
}

var now = time.Date(2025, 6, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func TestSAMCommands(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{})
	ctx := context.Background()
	if err := r.ResetSAM(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SAMStatus(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := r.ReadSAMID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.String() == "" || id == (idcard.SAMID{}) {
		t.Errorf("SAM id %v", id)
	}
}

func TestReadCardEveryType(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{Now: func() time.Time { return now }})
	for _, want := range []idcard.Card{sim.SampleResident, sim.SampleElderly, sim.SampleForeign, sim.SampleForeign2017, sim.SampleHKMOTW} {
		MustPlace(t, s, want)
		got, err := r.ReadCard(context.Background())
		if err != nil {
			t.Fatalf("%v: %v", want.Type, err)
		}
		if got != want {
			t.Errorf("%v:\n got %+v\nwant %+v", want.Type, got, want)
		}
	}
	if a := sim.SampleElderly.Age(now); a != 75 {
		t.Errorf("elderly age %d", a)
	}
}

func TestExpiredCard(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{Now: func() time.Time { return now }})
	MustPlace(t, s, sim.SampleExpired)
	c, err := r.ReadCard(context.Background())
	if !errors.Is(err, idcard.ErrExpired) || idcard.Code(err) != "expired" {
		t.Fatalf("err = %v", err)
	}
	if c.Number != sim.SampleExpired.Number {
		t.Error("expired card not returned with the error")
	}
}

func TestNoCard(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{})
	found, err := r.FindCard(context.Background())
	if err != nil || found {
		t.Fatalf("FindCard = %v, %v", found, err)
	}
	_, err = r.ReadCard(context.Background())
	if idcard.Code(err) != "no_card" {
		t.Fatalf("ReadCard with no card: %v (code %s)", err, idcard.Code(err))
	}
}

func TestEveryStatusCode(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{})
	codes := map[string]bool{}
	for _, sw := range append(idcard.StatusCodes(), 0x55) {
		MustInject(t, s, sim.Fault{Kind: sim.FaultStatus, On: idcard.CmdSelectCard, SW3: sw})
		err := r.SelectCard(context.Background())
		var se *idcard.StatusError
		if !errors.As(err, &se) || se.SW3 != sw || se.Cmd != idcard.CmdSelectCard {
			t.Fatalf("SW3 %02X: %v", sw, err)
		}
		if code := idcard.Code(err); code == "" || code == "unknown" || codes[code] {
			t.Errorf("SW3 %02X: code %q missing or not unique", sw, code)
		} else {
			codes[code] = true
		}
		t.Logf("%02X %-20s %v", sw, idcard.Code(err), err)
	}
	if !codes["unknown_status"] || !codes["no_card"] || !codes["select_failed"] {
		t.Errorf("codes %v", codes)
	}
}

func TestFaults(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{ReplyTime: 300 * time.Millisecond, CardTime: 100 * time.Millisecond})
	MustPlace(t, s, sim.SampleResident)
	ctx := context.Background()
	for _, tc := range []struct {
		fault sim.Fault
		want  []error // nil: the read succeeds
		code  string
	}{
		{sim.Fault{Kind: sim.FaultGarbage}, nil, ""},
		{sim.Fault{Kind: sim.FaultGarbage, On: idcard.CmdReadText}, nil, ""},
		{sim.Fault{Kind: sim.FaultBadChecksum, On: idcard.CmdReadText}, []error{idcard.ErrBadChecksum}, "checksum"},
		{sim.Fault{Kind: sim.FaultSilence}, []error{idcard.ErrTimeout}, "timeout"},
		{sim.Fault{Kind: sim.FaultTruncate, On: idcard.CmdReadText}, []error{idcard.ErrFrame, idcard.ErrTimeout}, "frame"},
		{sim.Fault{Kind: sim.FaultTruncate, On: idcard.CmdFindCard}, []error{idcard.ErrFrame, idcard.ErrTimeout}, "frame"},
		{sim.Fault{Kind: sim.FaultStatus, On: idcard.CmdReadText, SW3: 0x41}, nil, "read_failed"},
	} {
		MustInject(t, s, tc.fault)
		c, err := r.ReadCard(ctx)
		for _, w := range tc.want {
			if !errors.Is(err, w) {
				t.Errorf("fault %+v: err = %v, want %v", tc.fault, err, w)
			}
		}
		if tc.code != "" && idcard.Code(err) != tc.code {
			t.Errorf("fault %+v: code %q, want %q (%v)", tc.fault, idcard.Code(err), tc.code, err)
		}
		if tc.want == nil && tc.code == "" && (err != nil || c.Number != sim.SampleResident.Number) {
			t.Errorf("fault %+v: %v", tc.fault, err)
		}
		// The reader recovers on the next exchange.
		if _, err := r.ReadCard(ctx); err != nil {
			t.Fatalf("after fault %+v: %v", tc.fault, err)
		}
	}
}

// A driver that believes the line runs at 115200 gives up on a reader set to
// 9600 (the 1295-byte reply takes 1.35 s); told the real rate, it waits long
// enough. Short replies fit either way.
func TestSlowLinkNeedsTheConfiguredBaud(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	s := MustSim(t, sim.IDCardOptions{Baud: 9600})
	MustPlace(t, s, sim.SampleResident)
	port, err := serialport.Open(serialport.IDCardConfig(s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	// 0.11 s of wire at 115200 + 0.6 s: well short of the 1.35 s the reply takes
	r := idcard.NewReader(port, idcard.Options{Baud: 115200, ReplyTime: 600 * time.Millisecond, CardTime: time.Millisecond})
	ctx := context.Background()
	if err := r.SelectCard(ctx); err != nil { // short replies still fit
		t.Fatal(err)
	}
	if _, _, err := r.ReadText(ctx); !errors.Is(err, idcard.ErrTimeout) {
		t.Fatalf("slow read: %v", err)
	}
	// The reader is still sending the reply the driver gave up on; the next
	// exchange waits for the line to go quiet instead of taking the tail for
	// its reply.
	if found, err := r.FindCard(ctx); err != nil || !found {
		t.Fatalf("find after a late reply: %v %v", found, err)
	}
	r.Close()
	port.Close()
	r9600 := MustReader(t, s.Path(), idcard.Options{Baud: 9600, ReplyTime: time.Second, CardTime: 100 * time.Millisecond})
	if _, err := r9600.ReadCard(ctx); err != nil {
		t.Fatalf("read at the configured 9600 baud: %v", err)
	}
}

// A card read at 9600 baud with a reader that takes 0.7 s to read the card:
// 1.35 s of reply on the wire plus the card time, well past the old fixed 2 s
// for the whole exchange, succeeds with the default options.
func TestReadCardAt9600WithCardTime(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	s := MustSim(t, sim.IDCardOptions{Baud: 9600, ReadTime: 700 * time.Millisecond})
	MustPlace(t, s, sim.SampleResident)
	port, err := serialport.Open(serialport.Config{Path: s.Path(), Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	// ReplyTime: this test is about the paced wire and the card time; the
	// simulator shares a loaded machine's cores and once answered a find
	// 331 ms late, past the 300 ms a real reader's own reply is allowed
	// (that limit has tests of its own).
	r := idcard.NewReader(port, idcard.Options{Baud: 9600, ReplyTime: 5 * time.Second, Now: func() time.Time { return now }})
	t.Cleanup(func() { r.Close() })
	start := time.Now()
	c, err := r.ReadCard(context.Background())
	if err != nil || c.Number != sim.SampleResident.Number {
		t.Fatalf("read at 9600: %v", err)
	}
	// The simulator really paced it: find, select and read replies plus the
	// card time cannot take less than this.
	least := sim.WireTime(10+15+10+19+10+1295, 9600) + 700*time.Millisecond
	if took := time.Since(start); took < least {
		t.Fatalf("read took %v, less than the %v of wire and card time: not paced", took, least)
	}
	if in, out := s.Traffic(); in != 30 || out != 15+19+1295 {
		t.Errorf("traffic in %d out %d", in, out)
	}
}

// The reader vanishes halfway through the 1295-byte reply: the driver reports
// it at once (device gone, or a frame cut short), never a card.
func TestReaderVanishesMidFrame(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	link := filepath.Join(t.TempDir(), "idcard")
	s := MustSim(t, sim.IDCardOptions{Link: link, Baud: 9600})
	MustPlace(t, s, sim.SampleResident)
	port := serialport.OpenReconnecting(serialport.Config{Path: link, Baud: 9600})
	t.Cleanup(func() { port.Close() })
	// ReplyTime: the read must get as far as the text (where the reader
	// vanishes) however loaded the machine; a simulator late past the
	// default 300 ms once failed the select instead, the fault then fired
	// during the recovery loop and nothing plugged it back
	r := idcard.NewReader(port, idcard.Options{Baud: 9600, CardTime: 100 * time.Millisecond, ReplyTime: 5 * time.Second})
	t.Cleanup(func() { r.Close() })
	MustInject(t, s, sim.Fault{Kind: sim.FaultVanish, On: idcard.CmdReadText})
	start := time.Now()
	_, err := r.ReadCard(context.Background())
	if code := idcard.Code(err); code != "device_gone" && code != "frame" {
		t.Fatalf("reader vanished mid-frame: %v (code %q)", err, code)
	}
	if !errors.Is(err, idcard.ErrDeviceGone) && !errors.Is(err, idcard.ErrFrame) {
		t.Fatalf("err = %v", err)
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err := s.Plug(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := r.ReadCard(context.Background()); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no recovery after plug: %v", err)
		}
	}
}

// Readers answer the combined text+photo+fingerprint read (30 10) that
// common third-party clients send: three lengths, then the data.
func TestReadTextPhotoFingerprint(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	MustPlace(t, s, sim.SampleResident)
	r := MustReader(t, s.Path(), idcard.Options{})
	ctx := context.Background()
	if err := r.SelectCard(ctx); err != nil {
		t.Fatal(err)
	}
	sw3, data, err := r.Exchange(ctx, idcard.CmdReadTextFP)
	if err != nil || sw3 != idcard.SW3OK {
		t.Fatalf("30 10: sw3 %02X, %v", sw3, err)
	}
	if len(data) != 6+idcard.TextLen+1024+1024 || data[0] != 0x01 || data[1] != 0 || data[2] != 0x04 || data[4] != 0x04 {
		t.Fatalf("30 10 reply: %d bytes, lengths % X", len(data), data[:min(6, len(data))])
	}
	c, err := idcard.DecodeText(data[6 : 6+idcard.TextLen])
	if err != nil || c.Number != sim.SampleResident.Number {
		t.Fatalf("text from 30 10: %v", err)
	}
	if !bytes.Equal(data[6+idcard.TextLen:6+idcard.TextLen+1024], sim.Photo()) || !bytes.Equal(data[6+idcard.TextLen+1024:], sim.Fingerprint()) {
		t.Fatal("photo or fingerprint misplaced")
	}
}

// MustEvent waits (with a generous bound) for the next Watch event.
func MustEvent(t testing.TB, ch <-chan idcard.Event) idcard.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}
	return idcard.Event{}
}

// MustPolls waits until the simulator has answered n more requests.
func MustPolls(t testing.TB, s *sim.IDCard, n int) {
	t.Helper()
	want := s.Requests() + n
	deadline := time.Now().Add(10 * time.Second)
	for s.Requests() < want {
		if time.Now().After(deadline) {
			t.Fatalf("simulator saw fewer than %d requests", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWatchDebounce(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := r.Watch(ctx, 10*time.Millisecond)

	MustPlace(t, s, sim.SampleResident)
	if e := MustEvent(t, events); e.Kind != idcard.CardPresent || e.Err != nil || e.Card.Number != sim.SampleResident.Number {
		t.Fatalf("event %v %v", e.Kind, e.Err)
	}
	MustPolls(t, s, 10) // the card stays: no second report
	select {
	case e := <-events:
		t.Fatalf("card left on the reader reported again: %v", e.Kind)
	default:
	}
	MustInject(t, s, sim.Fault{Kind: sim.FaultStatus, On: idcard.CmdFindCard, SW3: 0x80}) // one missed poll
	MustPolls(t, s, 5)
	select {
	case e := <-events:
		t.Fatalf("a single missed poll reported: %v", e.Kind)
	default:
	}
	s.Remove()
	if e := MustEvent(t, events); e.Kind != idcard.CardRemoved {
		t.Fatalf("event %v", e.Kind)
	}
	MustPlace(t, s, sim.SampleExpired)
	if e := MustEvent(t, events); e.Kind != idcard.CardPresent || !errors.Is(e.Err, idcard.ErrExpired) {
		t.Fatalf("expired card event %v %v", e.Kind, e.Err)
	}
	MustInject(t, s, sim.Fault{Kind: sim.FaultSilence, Times: 1})
	s.Remove()
	if e := MustEvent(t, events); e.Kind != idcard.ReaderError || idcard.Code(e.Err) != "timeout" {
		t.Fatalf("event %v %v", e.Kind, e.Err)
	}
	if e := MustEvent(t, events); e.Kind != idcard.ReaderReady { // the next poll is answered
		t.Fatalf("event %v", e.Kind)
	}
	if e := MustEvent(t, events); e.Kind != idcard.CardRemoved {
		t.Fatalf("event %v", e.Kind)
	}
	cancel()
	for range events { // closes after cancel
	}
}

func TestReconnectAfterUnplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "idcard")
	s := MustSim(t, sim.IDCardOptions{Link: link})
	port := serialport.OpenReconnecting(serialport.IDCardConfig(link))
	t.Cleanup(func() { port.Close() })
	r := idcard.NewReader(port, idcard.Options{ReplyTime: 300 * time.Millisecond, CardTime: 100 * time.Millisecond})
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	MustPlace(t, s, sim.SampleResident)
	if _, err := r.ReadCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Unplug(); err != nil {
		t.Fatal(err)
	}
	_, err := r.ReadCard(ctx)
	if code := idcard.Code(err); code != "device_gone" && code != "timeout" {
		t.Fatalf("unplugged: %v", err)
	}
	t.Logf("unplugged: %v", err)
	if err := s.Plug(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := r.ReadCard(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after plug: %v", err)
		}
	}
}

func TestSilentReaderNeverBlocks(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	MustInject(t, s, sim.Fault{Kind: sim.FaultSilence, Times: -1})
	r := MustReader(t, s.Path(), idcard.Options{ReplyTime: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := r.ReadCard(ctx); !errors.Is(err, idcard.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
}

// A fault of one poll — half a reply then nothing, a reply with a bad
// checksum — is over when the next poll is answered: Watch says so
// (ReaderReady) without a card being placed. The kiosk's health report
// used to say "reader error" from then until the next card.
func TestWatchReportsTheReaderReadyAfterAFault(t *testing.T) {
	s := MustSim(t, sim.IDCardOptions{})
	r := MustReader(t, s.Path(), idcard.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := r.Watch(ctx, 10*time.Millisecond)
	MustPolls(t, s, 2)
	for _, f := range []sim.Fault{{Kind: sim.FaultTruncate, On: idcard.CmdFindCard}, {Kind: sim.FaultBadChecksum, On: idcard.CmdFindCard}} {
		MustInject(t, s, f)
		if e := MustEvent(t, events); e.Kind != idcard.ReaderError {
			t.Fatalf("fault %v: event %v %v, want a reader error", f.Kind, e.Kind, e.Err)
		}
		if e := MustEvent(t, events); e.Kind != idcard.ReaderReady {
			t.Fatalf("fault %v: event %v %v after the reader answered again, want reader ready", f.Kind, e.Kind, e.Err)
		}
	}
	MustPolls(t, s, 5) // healthy polls report nothing
	select {
	case e := <-events:
		t.Fatalf("a healthy idle reader reported %v", e.Kind)
	default:
	}
	// A card that cannot be read keeps the reader failing (no ready in
	// between) until it is taken away.
	if err := s.PlaceUnreadable(sim.SampleResident); err != nil {
		t.Fatal(err)
	}
	for range 5 { // a poll each
		if e := MustEvent(t, events); e.Kind != idcard.ReaderError {
			t.Fatalf("an unreadable card on the reader: event %v %v", e.Kind, e.Err)
		}
	}
	s.Remove()
	for e := MustEvent(t, events); e.Kind != idcard.ReaderReady; e = MustEvent(t, events) {
		if e.Kind != idcard.ReaderError {
			t.Fatalf("event %v while an unreadable card lay on the reader", e.Kind)
		}
	}
}

// A kiosk restarted in the middle of a card read (a systemd restart) opens
// the port while the reader is still sending the old process's reply: the
// new driver's first poll waits for that tail to pass instead of timing out
// on it, and it is answered.
func TestStaleReplyOnTheLineAtOpenIsDrained(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	s := MustSim(t, sim.IDCardOptions{Baud: 9600})
	MustPlace(t, s, sim.SampleResident)
	old, err := serialport.Open(serialport.IDCardConfig(s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	req := idcard.EncodeRequest(idcard.CmdReadText) // 1295 bytes of reply: 1.35 s at 9600
	if _, err := old.Write(req); err != nil {
		t.Fatal(err)
	}
	MustPolls(t, s, 1)
	old.Close() // the old process is gone; its reply is still on the wire
	r := MustReader(t, s.Path(), idcard.Options{Baud: 9600, ReplyTime: 300 * time.Millisecond})
	if found, err := r.FindCard(context.Background()); err != nil || !found {
		t.Fatalf("the first poll after a restart mid-reply: %v %v", found, err)
	}
}

// The same restart while the reader is still reading the card for the old
// process (silent, so the line is quiet when the new one asks): the card's
// long text+photo reply arrives first and is skipped as no answer to "find
// card"; the poll's own answer follows it.
func TestAReplyTooLongForTheCommandIsSkipped(t *testing.T) {
	t.Parallel() // waits on the paced wire, not the CPU
	s := MustSim(t, sim.IDCardOptions{Baud: 9600, ReadTime: 600 * time.Millisecond})
	MustPlace(t, s, sim.SampleResident)
	old, err := serialport.Open(serialport.IDCardConfig(s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Write(idcard.EncodeRequest(idcard.CmdReadText)); err != nil {
		t.Fatal(err)
	}
	MustPolls(t, s, 1)
	old.Close()
	// the reply time covers the card time left: the text reply starts within it
	r := MustReader(t, s.Path(), idcard.Options{Baud: 9600, ReplyTime: 2 * time.Second})
	if found, err := r.FindCard(context.Background()); err != nil || !found {
		t.Fatalf("the first poll while the old process's card read is answered: %v %v", found, err)
	}
}
