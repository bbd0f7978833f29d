package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hallq/queue-server/hall"
)

// The display board's notices and media (hall/board.go), managed from the
// dashboard: notices are posted and removed as JSON; an image or short
// video is uploaded as the raw request body with its Content-Type (checked
// against what the bytes are, and against the size limits), kept in the
// hall's data directory (board-media/<id>) and served from there to the
// boards, so they need no internet.

func (a *API) mediaDir() string { return filepath.Join(filepath.Dir(a.store.Path()), "board-media") }

func opNoticePost(c *call) (int, any, error) {
	var n hall.BoardNotice
	if err := c.decode(&n, false); err != nil {
		return 0, nil, err
	}
	if n.ID != "" {
		return 0, nil, hall.Errorf(hall.Invalid, "id is chosen by the hall: leave it out")
	}
	n.ID = hall.NewBoardID()
	n.Text.ZH, n.Text.EN = strings.TrimSpace(n.Text.ZH), strings.TrimSpace(n.Text.EN)
	_, err := c.a.svc.EditBoard(c.ctx, c.op(), func(b *hall.Board, now time.Time) error {
		if !n.Until.IsZero() && !n.Until.After(now) {
			return hall.Errorf(hall.Invalid, "until %s is already past", n.Until.Format(time.RFC3339))
		}
		b.Notices = append(b.Notices, n)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, n, nil
}

func opNoticeDelete(c *call) (int, any, error) {
	id := c.params["id"]
	return ok(c.a.svc.EditBoard(c.ctx, c.op(), func(b *hall.Board, _ time.Time) error {
		i := slices.IndexFunc(b.Notices, func(n hall.BoardNotice) bool { return n.ID == id })
		if i < 0 {
			return hall.Errorf(hall.NotFound, "no notice %q on the board", id)
		}
		b.Notices = slices.Delete(b.Notices, i, i+1)
		return nil
	}))
}

func opMediaDelete(c *call) (int, any, error) {
	id := c.params["id"]
	b, err := c.a.svc.EditBoard(c.ctx, c.op(), func(b *hall.Board, _ time.Time) error {
		i := slices.IndexFunc(b.Media, func(m hall.Media) bool { return m.ID == id })
		if i < 0 {
			return hall.Errorf(hall.NotFound, "no media %q on the board", id)
		}
		b.Media = slices.Delete(b.Media, i, i+1)
		return nil
	})
	if err == nil {
		if rm := os.Remove(filepath.Join(c.a.mediaDir(), id)); rm != nil && !errors.Is(rm, os.ErrNotExist) {
			c.a.log.Warn("board media file not removed", "id", id, "err", rm)
		}
	}
	return ok(b, err)
}

// opMediaUpload and opMediaGet answer the websocket: both are HTTP only.
func opMediaUpload(c *call) (int, any, error) {
	return 0, nil, hall.Errorf(hall.Invalid, "media is uploaded as the body of POST /api/v1/board/media")
}

func opMediaGet(c *call) (int, any, error) {
	return 0, nil, hall.Errorf(hall.Invalid, "media is a download: GET /api/v1/board/media/{id}")
}

// serveMediaUpload stores an uploaded image or video: the declared type
// must be one the board plays and what the bytes are; the size within the
// kind's limit. The file is in place before the board names it, and
// removed again when the configuration refuses it.
func serveMediaUpload(a *API, op *operation, w http.ResponseWriter, r *http.Request) {
	p, err := a.authenticate(bearer(r))
	if err == nil {
		err = a.authorize(op, &call{p: p})
	}
	if err != nil {
		a.writeError(w, op.name, err)
		return
	}
	m, err := a.receiveMedia(w, r)
	if err != nil {
		a.writeError(w, op.name, err)
		return
	}
	_, err = a.svc.EditBoard(r.Context(), hall.Op{Actor: p.Name}, func(b *hall.Board, _ time.Time) error {
		b.Media = append(b.Media, m)
		return nil
	})
	if err != nil {
		os.Remove(filepath.Join(a.mediaDir(), m.ID))
		a.writeError(w, op.name, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":%q,"name":%q,"type":%q,"size":%d,"seconds":%d}`, m.ID, m.Name, m.Type, m.Size, m.Seconds)
}

func (a *API) receiveMedia(w http.ResponseWriter, r *http.Request) (hall.Media, error) {
	declared := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])
	kind := hall.MediaTypes[declared]
	if kind == "" {
		return hall.Media{}, hall.Errorf(hall.Invalid, "Content-Type %q is not one the board plays: image/png, image/jpeg, image/webp, image/gif, video/mp4 or video/webm", declared)
	}
	limit := int64(hall.MaxImageBytes)
	if kind == "video" {
		limit = hall.MaxVideoBytes
	}
	m := hall.Media{ID: hall.NewBoardID(), Type: declared, Name: strings.TrimSpace(r.URL.Query().Get("name"))}
	if s := r.URL.Query().Get("seconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > hall.MaxImageSeconds {
			return hall.Media{}, hall.Errorf(hall.Invalid, "seconds must be 0 (10 s) to %d, got %q", hall.MaxImageSeconds, s)
		}
		m.Seconds = n
	}
	if err := os.MkdirAll(a.mediaDir(), 0o700); err != nil {
		return hall.Media{}, hall.Errorf(hall.Unavailable, "the media directory: %w", err)
	}
	tmp, err := os.CreateTemp(a.mediaDir(), ".upload-*")
	if err != nil {
		return hall.Media{}, hall.Errorf(hall.Unavailable, "the media directory: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone once renamed, or on any failure
	defer tmp.Close()
	body := http.MaxBytesReader(w, r.Body, limit)
	head := make([]byte, 512)
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return hall.Media{}, uploadError(err, kind, limit)
	}
	head = head[:n]
	if n == 0 {
		return hall.Media{}, hall.Errorf(hall.Invalid, "the upload is empty")
	}
	if got := strings.Split(http.DetectContentType(head), ";")[0]; got != declared {
		return hall.Media{}, hall.Errorf(hall.Invalid, "the file is %s, not the %s it was sent as", got, declared)
	}
	if _, err := tmp.Write(head); err != nil {
		return hall.Media{}, hall.Errorf(hall.Unavailable, "writing the media file: %w", err)
	}
	rest, err := io.Copy(tmp, body)
	if err != nil {
		return hall.Media{}, uploadError(err, kind, limit)
	}
	m.Size = int64(n) + rest
	if err := tmp.Sync(); err != nil {
		return hall.Media{}, hall.Errorf(hall.Unavailable, "writing the media file: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(a.mediaDir(), m.ID)); err != nil {
		return hall.Media{}, hall.Errorf(hall.Unavailable, "storing the media file: %w", err)
	}
	return m, nil
}

func uploadError(err error, kind string, limit int64) error {
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return hall.Errorf(hall.Invalid, "an %s may be at most %d MB", kind, limit>>20)
	}
	return hall.Errorf(hall.Invalid, "the upload did not arrive: %v", err)
}

// serveMediaGet sends a media file to a board (anyone on the hall network:
// the board's side panel shows it to the whole hall anyway), with ranges
// for video.
func serveMediaGet(a *API, op *operation, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	i := slices.IndexFunc(a.svc.Config().Board.Media, func(m hall.Media) bool { return m.ID == id })
	if i < 0 {
		a.writeError(w, op.name, hall.Errorf(hall.NotFound, "no media %q on the board", id))
		return
	}
	m := a.svc.Config().Board.Media[i]
	f, err := os.Open(filepath.Join(a.mediaDir(), m.ID))
	if err != nil {
		a.log.Error("board media file missing", "id", m.ID, "err", err)
		a.writeError(w, op.name, hall.Errorf(hall.NotFound, "media %q has no file", id))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", m.Type)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=86400, immutable") // an id names one file for good
	http.ServeContent(w, r, "", time.Time{}, f)
}

var boardMediaRoles = append([]string{public}, anyRole...)
