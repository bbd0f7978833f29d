package api

// Configuration and the hall's day: the hall configuration, closing the
// day, the store's backup and the dead letters of forwarding.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hallq/queue-server/hall"
)

// tagged is a result served with an ETag (REST) that encodes as its value.
type tagged struct {
	v    any
	etag string
}

func (t tagged) MarshalJSON() ([]byte, error) { return json.Marshal(t.v) }

// opConfig returns the configuration; REST adds its version as the ETag.
func opConfig(c *call) (int, any, error) {
	cfg := c.a.svc.Config()
	return ok(tagged{v: cfg, etag: cfg.Version()}, nil)
}

// opConfigUpdate replaces the whole hall configuration (the JSON of
// docs/config.md); unknown keys are refused like in a file. With if_match
// (REST: the If-Match header) it replaces only that version.
func opConfigUpdate(c *call) (int, any, error) {
	var cfg hall.Config
	if err := c.decode(&cfg, false); err != nil {
		return 0, nil, err
	}
	cfg, err := c.a.svc.UpdateConfigIf(c.ctx, c.op(), cfg, strings.Trim(c.params["if_match"], `"`))
	if err != nil {
		return 0, nil, err
	}
	c.a.log.Info("hall configuration changed", "by", c.p.Name)
	return ok(tagged{v: cfg, etag: cfg.Version()}, nil)
}

func opDayClose(c *call) (int, any, error) {
	return ok(map[string]bool{"closed": true}, c.a.svc.CloseDay(c.ctx, c.op()))
}

// opDayPreview says what a day close now would expire and carry over.
func opDayPreview(c *call) (int, any, error) { return ok(c.a.svc.DayClosePreview(c.ctx)) }

// deadLetter is a dead letter as listed: the batch's range, when and why
// the central refused it (the body stays in the store).
type deadLetter struct {
	First  uint64    `json:"first"`
	Last   uint64    `json:"last"`
	Events uint64    `json:"events"`
	At     time.Time `json:"at"`
	Status int       `json:"status,omitempty"`
	Reason string    `json:"reason"`
}

func opDeadLetters(c *call) (int, any, error) {
	dls, err := c.a.store.DeadLetters(1000)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "read dead letters: %w", err)
	}
	out := make([]deadLetter, 0, len(dls))
	for _, d := range dls {
		out = append(out, deadLetter{First: d.First, Last: d.Last, Events: d.Last - d.First + 1, At: d.At, Status: d.Status, Reason: d.Reason})
	}
	return ok(out, nil)
}

func opDeadLetterResend(c *call) (int, any, error) {
	first, err := strconv.ParseUint(c.params["first"], 10, 64)
	if err != nil || first == 0 {
		return 0, nil, hall.Errorf(hall.Invalid, "the dead letter is named by its first seq, a positive number, not %q", c.params["first"])
	}
	if c.a.resend == nil {
		return 0, nil, hall.Refusal(hall.Conflict, hall.ReasonNotForwarding, "this hall does not forward to a central platform")
	}
	if err := c.a.resend(c.ctx, first); err != nil {
		return 0, nil, err
	}
	c.a.log.Info("dead letter re-sent", "first", first, "by", c.p.Name)
	return ok(map[string]uint64{"resent": first}, nil)
}

// serveBackup answers GET /api/v1/backup with a copy of the store.
func serveBackup(a *API, op *operation, w http.ResponseWriter, r *http.Request) {
	p, err := a.authenticate(bearer(r))
	c := &call{p: p, ip: a.clientIP(r)}
	if err == nil {
		err = a.authorize(op, c)
	}
	a.audit(op, c, err)
	if err != nil {
		a.writeError(w, op.name, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"hall-%s.db\"", time.Now().Format("20060102-150405")))
	if _, err := a.store.Backup(w); err != nil {
		a.log.Error("backup failed", "err", err)
	}
}

// opBackup answers the backup operation over the websocket: the copy is a
// download, GET /api/v1/backup (its authorization is the same table entry).
func opBackup(c *call) (int, any, error) {
	return 0, nil, hall.Errorf(hall.Invalid, "the backup is a download: GET /api/v1/backup")
}
