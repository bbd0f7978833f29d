// Package catalog keeps the province's matter catalogue (事项 and their
// 办事指南, the types of internal/catalog) versioned in JetStream and
// publishes each version to the halls.
//
// The current version is the KV entry "current" of bucket CATALOG (its
// history keeps the last versions: a change is an event). A new version
// is written with compare-and-set on the revision it replaces, so two
// editors never both become version n+1. Every version is then published
// whole, as one JSON catalog.Catalog, on subject central.catalog (stream
// CATALOG_OUT) with Nats-Msg-Id catalog@<version>: a re-publish of the
// same version is stored once, and a hall reads the last message.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"

	cat "hallq/internal/catalog"
)

// Names in JetStream.
const (
	Bucket  = "CATALOG"
	Stream  = "CATALOG_OUT"
	Subject = "central.catalog"
)

// ErrChanged: someone published another version since the one named.
var ErrChanged = errors.New("catalog: another version was published since that one")

// InvalidError is a catalogue that does not validate; nothing was stored.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// Store is the versioned catalogue.
type Store struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
}

// Open creates or binds the bucket and the halls' stream.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	replicas = max(replicas, 1)
	kv, err := platform.OpenKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "the matter catalogue; key current, history = the last versions",
		History: 64, Storage: jetstream.FileStorage, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: bucket %s: %w", Bucket, err)
	}
	if _, err := platform.EnsureStream(ctx, js, jetstream.StreamConfig{
		Name: Stream, Description: "each catalogue version, whole, for the halls; Nats-Msg-Id catalog@<version>",
		Subjects: []string{Subject}, Storage: jetstream.FileStorage, MaxMsgsPerSubject: 16,
		Duplicates: 24 * time.Hour, Replicas: replicas,
	}); err != nil {
		return nil, fmt.Errorf("catalog: stream %s: %w", Stream, err)
	}
	return &Store{js: js, kv: kv}, nil
}

// Current is the current version (version 0 with no matters before the
// first is published).
func (s *Store) Current(ctx context.Context) (cat.Catalog, error) {
	e, err := s.kv.Get(ctx, "current")
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return cat.Catalog{Matters: []cat.Matter{}}, nil
	}
	if err != nil {
		return cat.Catalog{}, err
	}
	var c cat.Catalog
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return cat.Catalog{}, fmt.Errorf("catalog: current: %w", err)
	}
	return c, nil
}

// Publish makes matters the next version after base (the version the
// editor started from; ErrChanged if it is no longer current), stores it
// and publishes it to the halls. A validation error names the matter and
// field; nothing is stored then.
func (s *Store) Publish(ctx context.Context, base uint64, matters []cat.Matter, now time.Time) (cat.Catalog, error) {
	cur, err := s.Current(ctx)
	if err != nil {
		return cat.Catalog{}, err
	}
	if cur.Version != base {
		return cat.Catalog{}, fmt.Errorf("%w (you edited version %d, the current one is %d)", ErrChanged, base, cur.Version)
	}
	if matters == nil {
		matters = []cat.Matter{}
	}
	c := cat.Catalog{Version: base + 1, PublishedAt: now.Format(time.RFC3339), Matters: matters}
	if err := c.Validate(); err != nil {
		return cat.Catalog{}, &InvalidError{Err: err}
	}
	body, err := json.Marshal(c)
	if err != nil {
		return cat.Catalog{}, err
	}
	if base == 0 {
		_, err = s.kv.Create(ctx, "current", body)
	} else {
		var e jetstream.KeyValueEntry
		if e, err = s.kv.Get(ctx, "current"); err == nil {
			var was cat.Catalog
			if json.Unmarshal(e.Value(), &was) == nil && was.Version != base {
				return cat.Catalog{}, ErrChanged
			}
			_, err = s.kv.Update(ctx, "current", body, e.Revision())
		}
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return cat.Catalog{}, ErrChanged
	}
	if err != nil {
		return cat.Catalog{}, err
	}
	return c, s.Announce(ctx, c)
}

// Announce publishes version c to the halls (idempotent per version).
func (s *Store) Announce(ctx context.Context, c cat.Catalog) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: Subject, Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, "catalog@"+strconv.FormatUint(c.Version, 10))
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("catalog: publishing version %d: %w", c.Version, err)
	}
	return nil
}

// Versions are the kept versions (the bucket keeps the last 64), newest
// first.
func (s *Store) Versions(ctx context.Context) ([]cat.Catalog, error) {
	es, err := s.kv.History(ctx, "current")
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return []cat.Catalog{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]cat.Catalog, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- {
		var c cat.Catalog
		if json.Unmarshal(es[i].Value(), &c) == nil {
			out = append(out, c)
		}
	}
	return out, nil
}
