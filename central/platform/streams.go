package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream names.
const (
	HallsStream   = "HALLS"
	CentralStream = "CENTRAL"
)

// HallsSubjects are the subjects of stream HALLS.
var HallsSubjects = []string{"hall.*.events.>"}

// CentralSubjects are the subjects of stream CENTRAL.
var CentralSubjects = []string{"central.*.appointments", "central.*.remote-tickets", "central.*.ratings"}

// StreamOptions tune the streams. The duplicate window must cover the
// longest gap between a hall's first publish of an event and its re-publish
// after a crash (normally seconds; a hall that dies mid-batch and restarts
// days later re-publishes after the window, and consumers then drop the
// copy by the (hall-id, seq) rule).
type StreamOptions struct {
	DuplicateWindow time.Duration // HALLS; default 24h
	MaxAge          time.Duration // both streams; default 30 days
	Replicas        int           // default 1
}

// EnsureStreams creates or updates HALLS, CENTRAL and HALL_AUDIT (the
// halls' audit trails, hallaudit.go). It is idempotent.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = 24 * time.Hour
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 30 * 24 * time.Hour
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	for _, c := range []jetstream.StreamConfig{
		{
			Name:        HallsStream,
			Description: "every hall's committed events, in hall sequence order; Nats-Msg-Id <hall-id>:<seq>",
			Subjects:    HallsSubjects,
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
			MaxAge:      o.MaxAge,
			Duplicates:  o.DuplicateWindow,
			Replicas:    o.Replicas,
		},
		{
			Name:        CentralStream,
			Description: "appointments, remote ticket requests and online ratings for the halls",
			Subjects:    CentralSubjects,
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
			MaxAge:      o.MaxAge,
			Duplicates:  min(o.DuplicateWindow, o.MaxAge),
			Replicas:    o.Replicas,
		},
		hallAuditStream(o.DuplicateWindow, o.Replicas),
	} {
		if _, err := EnsureStream(ctx, js, c); err != nil {
			return fmt.Errorf("central: stream %s: %w", c.Name, err)
		}
	}
	return nil
}
