package forward

import (
	"testing"

	"hallq/queue-server/hall"
)

// Every forwarded event names how the hall keys citizens, so a province of
// another scheme can refuse it (central/platform keyscheme.go).
func TestEventsNameTheirKeyScheme(t *testing.T) {
	for scheme, want := range map[string]string{"": KeySchemeSHA256, KeySchemeSHA256: KeySchemeSHA256, KeySchemeSM3: KeySchemeSM3} {
		s := &natsSink{cfg: &Config{HallID: "420102-01", KeyScheme: scheme}}
		m, err := s.msg(&hall.Event{Seq: 7, Type: hall.EvTicketIssued})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get(HeaderKeyScheme); got != want {
			t.Errorf("KeyScheme %q: header %q, want %q", scheme, got, want)
		}
	}
}
