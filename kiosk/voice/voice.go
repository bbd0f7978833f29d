// Package voice speaks the kiosk's short prompts (请刷身份证, 请取走号票,
// 请取回身份证) and the read chime through an offline synthesizer,
// espeak-ng, run as a command: no network, no service. One goroutine owns
// the queue, so a prompt never blocks the citizen flow and prompts never
// talk over each other; a prompt that arrives while the same one is
// still queued is dropped.
package voice

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"

	"hallq/kiosk/app"
)

// Espeak is a Voice that runs espeak-ng.
type Espeak struct {
	queue chan app.Prompt
	run   func(ctx context.Context, args ...string) error
	log   *slog.Logger
}

// Options tune the voice.
type Options struct {
	Binary  string // default "espeak-ng" from PATH
	Voice   string // espeak-ng voice, default "cmn" (Mandarin)
	Speed   int    // words per minute, default 140 (slower than espeak's 175, for elderly citizens)
	WAVFile string // write each prompt to this WAV file instead of the sound card (tests, a headless kiosk)
	Logger  *slog.Logger
}

// Available reports whether espeak-ng (or binary) can be run.
func Available(binary string) bool {
	if binary == "" {
		binary = "espeak-ng"
	}
	_, err := exec.LookPath(binary)
	return err == nil
}

// Start runs the voice until ctx ends.
func Start(ctx context.Context, o Options) *Espeak {
	if o.Binary == "" {
		o.Binary = "espeak-ng"
	}
	if o.Voice == "" {
		o.Voice = "cmn"
	}
	if o.Speed == 0 {
		o.Speed = 140
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	e := &Espeak{queue: make(chan app.Prompt, 4), log: o.Logger}
	e.run = func(ctx context.Context, args ...string) error {
		base := []string{"-v", o.Voice, "-s", fmt.Sprint(o.Speed)}
		if o.WAVFile != "" {
			base = append(base, "-w", o.WAVFile)
		}
		out, err := exec.CommandContext(ctx, o.Binary, append(base, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %.200s", o.Binary, err, out)
		}
		return nil
	}
	go e.loop(ctx)
	return e
}

// Say queues a prompt; it never blocks.
func (e *Espeak) Say(p app.Prompt) {
	select {
	case e.queue <- p:
	default: // the citizen is hearing prompts already
	}
}

func (e *Espeak) loop(ctx context.Context) {
	failed := false
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-e.queue:
			if err := e.run(ctx, Text(p)); err != nil && !failed && ctx.Err() == nil {
				failed = true // logged once: a kiosk without sound still works
				e.log.Warn("voice prompt not spoken", "prompt", string(p), "err", err)
			} else if err == nil {
				failed = false
			}
		}
	}
}

// Text is what espeak-ng says for a prompt: the prompt itself, and for
// the chime a short "叮" (espeak-ng has no tones of its own).
func Text(p app.Prompt) string {
	if p == app.PromptChime {
		return "叮"
	}
	return string(p)
}
