package hall

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// The display board's notices and media (Config.Board): managers post
// notices (a marquee, zh/en, each shown from its start to its end time) and
// media (images and short videos the board plays in a side panel while no
// call is being announced). They are part of the hall's configuration, so a
// change is one config.changed event (audited, replayed to every board,
// kept across restarts) and the board needs no internet: the media files
// themselves lie in the hall's data directory, served by the hall server
// (api/board.go checks their size and content type).

// Limits of the board's content.
const (
	MaxNotices      = 20
	MaxNoticeRunes  = 200
	MaxMedia        = 20
	MaxImageBytes   = 5 << 20
	MaxVideoBytes   = 50 << 20
	MaxImageSeconds = 300
)

// MediaTypes are the content types the board plays, by kind.
var MediaTypes = map[string]string{
	"image/png": "image", "image/jpeg": "image", "image/webp": "image", "image/gif": "image",
	"video/mp4": "video", "video/webm": "video",
}

// Board is what the display boards show besides the calls.
type Board struct {
	Notices []BoardNotice `json:"notices,omitempty"`
	Media   []Media       `json:"media,omitempty"`
}

// BoardNotice is one marquee notice of the display boards.
type BoardNotice struct {
	ID    string    `json:"id"`
	Text  Text      `json:"text"`           // zh required
	From  time.Time `json:"from,omitzero"`  // shown from (zero: now)
	Until time.Time `json:"until,omitzero"` // until (zero: until removed)
}

// ShownAt reports whether the notice is on the boards at t.
func (n BoardNotice) ShownAt(t time.Time) bool {
	return (n.From.IsZero() || !t.Before(n.From)) && (n.Until.IsZero() || t.Before(n.Until))
}

// Media is one image or short video of the board's side panel.
type Media struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`    // what the manager called it
	Type    string `json:"type"`              // one of MediaTypes
	Size    int64  `json:"size"`              // bytes
	Seconds int    `json:"seconds,omitempty"` // an image shows this long (default 10); a video plays through
}

func (b Board) clone() Board {
	b.Notices, b.Media = slices.Clone(b.Notices), slices.Clone(b.Media)
	return b
}

func (b Board) validate(bad func(key, format string, args ...any)) {
	if len(b.Notices) > MaxNotices {
		bad("board.notices", "at most %d notices, got %d", MaxNotices, len(b.Notices))
	}
	ids := map[string]bool{}
	for i, n := range b.Notices {
		key := fmt.Sprintf("board.notices[%d]", i)
		switch {
		case !validBoardID(n.ID) || ids[n.ID]:
			bad(key+".id", "missing, malformed or duplicate %q", n.ID)
		case n.Text.ZH == "":
			bad(key+".text.zh", "missing")
		case utf8.RuneCountInString(n.Text.ZH) > MaxNoticeRunes || utf8.RuneCountInString(n.Text.EN) > MaxNoticeRunes:
			bad(key+".text", "at most %d characters in each language", MaxNoticeRunes)
		case !n.From.IsZero() && !n.Until.IsZero() && !n.Until.After(n.From):
			bad(key+".until", "must be after from")
		}
		ids[n.ID] = true
	}
	if len(b.Media) > MaxMedia {
		bad("board.media", "at most %d items, got %d", MaxMedia, len(b.Media))
	}
	for i, m := range b.Media {
		key := fmt.Sprintf("board.media[%d]", i)
		kind := MediaTypes[m.Type]
		switch {
		case !validBoardID(m.ID) || ids[m.ID]:
			bad(key+".id", "missing, malformed or duplicate %q", m.ID)
		case kind == "":
			bad(key+".type", "%q is not one of the image (png, jpeg, webp, gif) or video (mp4, webm) types", m.Type)
		case m.Size <= 0 || (kind == "image" && m.Size > MaxImageBytes) || (kind == "video" && m.Size > MaxVideoBytes):
			bad(key+".size", "must be 1 byte to %d MB for an %s", map[string]int{"image": MaxImageBytes >> 20, "video": MaxVideoBytes >> 20}[kind], kind)
		case m.Seconds < 0 || m.Seconds > MaxImageSeconds:
			bad(key+".seconds", "must be 0 (10 s) to %d", MaxImageSeconds)
		case utf8.RuneCountInString(m.Name) > 100:
			bad(key+".name", "at most 100 characters")
		}
		ids[m.ID] = true
	}
}

// validBoardID accepts the ids NewBoardID makes (and any short lowercase
// alphanumeric id): they name files in the data directory.
func validBoardID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// NewBoardID returns a new id for a notice or a media file.
func NewBoardID() string { return newID() }

// EditBoard changes the board's notices and media with edit, applied to the
// live configuration in the hall's loop (so no other change is lost), as
// one config.changed event; nothing changes when edit or the validation of
// the result fails.
func (s *Service) EditBoard(ctx context.Context, op Op, edit func(b *Board, now time.Time) error) (Board, error) {
	v, err := s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		cfg := st.cfg.Clone()
		if err := edit(&cfg.Board, now); err != nil {
			return Ref{}, err
		}
		if err := cfg.Validate(); err != nil {
			return Ref{}, Refusal(Invalid, ReasonInvalidConfig, "%s", joinErrors(err))
		}
		if err := st.updateConfig(cfg, now, op.Actor); err != nil {
			return Ref{}, err
		}
		return ConfigRef(), nil
	})
	if err != nil {
		return Board{}, err
	}
	c, _ := v.(Config)
	return c.Board, nil
}
