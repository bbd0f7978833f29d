package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// OpenKV creates or updates a KV bucket and returns it with reads that
// see every acknowledged write: Get asks the bucket's stream leader.
//
// A KV bucket answers Get from any replica by default (JetStream's direct
// get), and a replica may trail the leader: a follower that restarted
// serves reads once it is 90 % caught up, and any follower is a moment
// behind. Read-your-writes matters here — a ticket's status asked for right
// after the hall's event was applied, a sign-in looked up by the callback
// that follows its start, a compare-and-set that must read the revision it
// will be checked against — so every part of the central opens its
// buckets through OpenKV. Watches, puts and the rest are the bucket's own.
//
// A bucket that exists with this configuration is bound, not updated:
// nats-server races a stream update with a consumer being created on the
// stream (a watcher, another process's durable consumer), and every
// process opening its buckets at start would update them all.
func OpenKV(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	return answered(ctx, func(ctx context.Context) (jetstream.KeyValue, error) {
		kv, err := js.KeyValue(ctx, cfg.Bucket)
		if err == nil {
			var same bool
			if same, err = kvMatches(ctx, kv, cfg); err != nil {
				return nil, err
			} else if same {
				return &leaderKV{KeyValue: kv, nc: js.Conn(), stream: "KV_" + cfg.Bucket, prefix: "$KV." + cfg.Bucket + "."}, nil
			}
		}
		if err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, err
		}
		if kv, err = js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			return nil, err
		}
		return &leaderKV{KeyValue: kv, nc: js.Conn(), stream: "KV_" + cfg.Bucket, prefix: "$KV." + cfg.Bucket + "."}, nil
	})
}

// tryFor is how long one JetStream API request of OpenKV, BindKV or
// EnsureStream may go unanswered before it is asked again. On a cluster a
// request can go unanswered — a node rejoining, a leader moving, the meta
// leader busy — and the caller's whole deadline (a process's start) went on
// that one request: a central start on a loaded 3-node cluster failed
// creating a stream, a node that rejoined failed opening its bucket.
const tryFor = 10 * time.Second

// answered runs f, each try with its own deadline of tryFor, until it is
// answered (with a result or an error other than no answer) or ctx ends.
// Every f here is safe to send again: it looks before it creates, and a
// create that went through unanswered is found by the next look.
func answered[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	for {
		tctx, cancel := context.WithTimeout(ctx, tryFor)
		v, err := f(tctx)
		cancel()
		if err == nil || ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)) {
			return v, err
		}
	}
}

// kvMatches reports whether the bucket's stream already has what cfg asks.
func kvMatches(ctx context.Context, kv jetstream.KeyValue, cfg jetstream.KeyValueConfig) (bool, error) {
	st, err := kv.Status(ctx)
	if err != nil {
		return false, err
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return false, nil
	}
	sc := bs.StreamInfo().Config
	orDefault := func(v, unset int64) int64 {
		if v == 0 {
			return unset
		}
		return v
	}
	return sc.MaxMsgsPerSubject == orDefault(int64(cfg.History), 1) && sc.MaxAge == cfg.TTL && sc.Replicas == max(cfg.Replicas, 1) &&
		sc.Storage == cfg.Storage && sc.Description == cfg.Description && sc.MaxBytes == orDefault(cfg.MaxBytes, -1) &&
		int64(sc.MaxMsgSize) == orDefault(int64(cfg.MaxValueSize), -1), nil
}

// EnsureStream creates a stream, or updates it when it lacks what cfg
// asks for; one that already has it is left alone (see OpenKV: an update
// races consumers being created). A field left at its zero value in cfg
// means the server's default and is not compared.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return answered(ctx, func(ctx context.Context) (jetstream.Stream, error) { return ensureStream(ctx, js, cfg) })
}

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if s, err = js.CreateStream(ctx, cfg); err == nil || !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return s, err
		}
		s, err = js.Stream(ctx, cfg.Name) // another process made it meanwhile
	}
	if err != nil {
		return nil, err
	}
	if streamHas(s.CachedInfo().Config, cfg) {
		return s, nil
	}
	return js.UpdateStream(ctx, cfg)
}

func streamHas(have, want jetstream.StreamConfig) bool {
	var h, w map[string]any
	hb, _ := json.Marshal(have)
	wb, _ := json.Marshal(want)
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(wb, &w) != nil {
		return false
	}
	for k, v := range w {
		switch x := v.(type) {
		case nil:
			continue
		case float64:
			if x == 0 {
				continue
			}
		case string:
			if x == "" {
				continue
			}
		case bool:
			if !x {
				continue
			}
		case []any:
			if len(x) == 0 {
				continue
			}
		case map[string]any:
			if len(x) == 0 {
				continue
			}
		}
		if !reflect.DeepEqual(v, h[k]) {
			return false
		}
	}
	return true
}

// BindKV binds an existing bucket (jetstream.ErrBucketNotFound when
// missing) with OpenKV's reads, without updating its configuration.
func BindKV(ctx context.Context, js jetstream.JetStream, bucket string) (jetstream.KeyValue, error) {
	return answered(ctx, func(ctx context.Context) (jetstream.KeyValue, error) {
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			return nil, err
		}
		return &leaderKV{KeyValue: kv, nc: js.Conn(), stream: "KV_" + bucket, prefix: "$KV." + bucket + "."}, nil
	})
}

type leaderKV struct {
	jetstream.KeyValue
	nc             *nats.Conn
	stream, prefix string
}

// Get reads the key's last entry from the stream leader (the JetStream
// API's message get, not the direct get any replica answers).
func (kv *leaderKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	return kv.get(ctx, key, map[string]any{"last_by_subj": kv.prefix + key})
}

// GetRevision reads one revision of the key from the stream leader.
func (kv *leaderKV) GetRevision(ctx context.Context, key string, rev uint64) (jetstream.KeyValueEntry, error) {
	return kv.get(ctx, key, map[string]any{"seq": rev})
}

func (kv *leaderKV) get(ctx context.Context, key string, q map[string]any) (jetstream.KeyValueEntry, error) {
	if key == "" || key[0] == '.' || key[len(key)-1] == '.' {
		return nil, jetstream.ErrInvalidKey
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	req, _ := json.Marshal(q)
	m, err := kv.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+kv.stream, req)
	if err != nil {
		return nil, fmt.Errorf("kv %s: get %s: %w", kv.Bucket(), key, err)
	}
	var res struct {
		Message *struct {
			Subject string    `json:"subject"`
			Seq     uint64    `json:"seq"`
			Hdrs    []byte    `json:"hdrs"`
			Data    []byte    `json:"data"`
			Time    time.Time `json:"time"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &res); err != nil {
		return nil, fmt.Errorf("kv %s: get %s: %w", kv.Bucket(), key, err)
	}
	if res.Error != nil {
		if res.Error.Code == 404 {
			return nil, jetstream.ErrKeyNotFound
		}
		return nil, fmt.Errorf("kv %s: get %s: %s (%d)", kv.Bucket(), key, res.Error.Description, res.Error.ErrCode)
	}
	if res.Message == nil {
		return nil, fmt.Errorf("kv %s: get %s: an empty answer", kv.Bucket(), key)
	}
	if res.Message.Subject != kv.prefix+key {
		return nil, jetstream.ErrKeyNotFound // that revision is another key's
	}
	e := &entry{bucket: kv.Bucket(), key: key, value: res.Message.Data, rev: res.Message.Seq, created: res.Message.Time, op: jetstream.KeyValuePut}
	if len(res.Message.Hdrs) > 0 {
		h, err := nats.DecodeHeadersMsg(res.Message.Hdrs)
		if err != nil {
			return nil, fmt.Errorf("kv %s: get %s: headers: %w", kv.Bucket(), key, err)
		}
		switch h.Get("KV-Operation") {
		case "DEL", "PURGE":
			return nil, jetstream.ErrKeyNotFound // as the bucket's own Get
		}
	}
	return e, nil
}

type entry struct {
	bucket, key string
	value       []byte
	rev         uint64
	created     time.Time
	op          jetstream.KeyValueOp
}

func (e *entry) Bucket() string                  { return e.bucket }
func (e *entry) Key() string                     { return e.key }
func (e *entry) Value() []byte                   { return e.value }
func (e *entry) Revision() uint64                { return e.rev }
func (e *entry) Created() time.Time              { return e.created }
func (e *entry) Delta() uint64                   { return 0 }
func (e *entry) Operation() jetstream.KeyValueOp { return e.op }
