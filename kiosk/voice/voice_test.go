package voice

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hallq/kiosk/app"
)

// With espeak-ng installed (make deps), each prompt becomes real speech:
// a RIFF/WAVE file with samples in it.
func TestEspeakSpeaksPromptsToWAV(t *testing.T) {
	if !Available("") {
		t.Skip("espeak-ng is not installed (make deps installs it)")
	}
	wav := filepath.Join(t.TempDir(), "prompt.wav")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := Start(ctx, Options{WAVFile: wav})
	done := make(chan error, 1)
	run := e.run
	e.run = func(ctx context.Context, args ...string) error { err := run(ctx, args...); done <- err; return err }
	for _, p := range []app.Prompt{app.PromptInsertCard, app.PromptTakeTicket, app.PromptTakeCard, app.PromptChime} {
		os.Remove(wav)
		e.Say(p)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: espeak-ng did not finish", p)
		}
		b, err := os.ReadFile(wav)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("RIFF")) || !bytes.Contains(b[:16], []byte("WAVE")) || len(b) < 44+1000 {
			t.Fatalf("%s: not a WAV with speech (%d bytes)", p, len(b))
		}
	}
}

// A missing synthesizer is reported once and never blocks Say.
func TestMissingBinaryNeverBlocks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := Start(ctx, Options{Binary: filepath.Join(t.TempDir(), "no-espeak")})
	for range 100 {
		e.Say(app.PromptTakeCard)
	}
}
