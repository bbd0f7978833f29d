package booking

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// errNoChange, returned by an update function, leaves the entry as it is.
var errNoChange = errors.New("no change")

// update is a compare-and-set loop over one KV entry of JSON type T: read
// it (the zero T when absent), let fn change it, write it on the revision
// read; when another writer came first, read again. fn must be a pure
// function of the value it is given (it runs again on every retry).
func update[T any](ctx context.Context, kv jetstream.KeyValue, key string, fn func(v *T, exists bool) error) (T, error) {
	for attempt := 0; ; attempt++ {
		var v T
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return v, err
		default:
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return v, err
			}
			rev = e.Revision()
		}
		if err := fn(&v, rev != 0); err != nil {
			if errors.Is(err, errNoChange) {
				return v, nil
			}
			return v, err
		}
		body, err := json.Marshal(v)
		if err != nil {
			return v, err
		}
		if rev == 0 {
			_, err = kv.Create(ctx, key, body)
		} else {
			_, err = kv.Update(ctx, key, body, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			// Someone else wrote first: back off a random while, doubling
			// up to 64 ms as the contention lasts, so a rush does not
			// spin, and read again.
			d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
			select {
			case <-ctx.Done():
				return v, ctx.Err()
			case <-time.After(d):
			}
			continue
		}
		return v, err
	}
}

// get reads one KV entry of JSON type T.
func get[T any](ctx context.Context, kv jetstream.KeyValue, key string) (T, uint64, error) {
	var v T
	e, err := kv.Get(ctx, key)
	if err != nil {
		return v, 0, err
	}
	return v, e.Revision(), json.Unmarshal(e.Value(), &v)
}
