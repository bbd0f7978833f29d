package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/nats-io/nats.go/jetstream"
)

// PushSub is a browser's push subscription (PushSubscription.toJSON()).
type PushSub struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

func (s PushSub) check() error {
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return fmt.Errorf("subscription.endpoint must be an https URL")
	}
	if len(s.Endpoint) > 2048 {
		return fmt.Errorf("subscription.endpoint is longer than 2048 characters")
	}
	if k, err := b64(s.Keys.P256dh); err != nil || len(k) != 65 || k[0] != 4 {
		return fmt.Errorf("subscription.keys.p256dh must be an uncompressed P-256 point, base64url")
	}
	if k, err := b64(s.Keys.Auth); err != nil || len(k) != 16 {
		return fmt.Errorf("subscription.keys.auth must be 16 bytes, base64url")
	}
	return nil
}

func b64(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

// vapid is the platform's VAPID key pair (RFC 8292), base64url.
type vapid struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

const vapidKey = "_vapid"

// loadVAPID reads the shared key pair, making it when no process has yet:
// of two processes starting together the first Create wins and both use it.
func loadVAPID(ctx context.Context, kv jetstream.KeyValue) (vapid, error) {
	for range 3 {
		e, err := kv.Get(ctx, vapidKey)
		if err == nil {
			var v vapid
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return v, fmt.Errorf("notify: the stored VAPID key is unreadable: %w", err)
			}
			return v, nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return vapid{}, err
		}
		priv, pub, err := webpush.GenerateVAPIDKeys()
		if err != nil {
			return vapid{}, err
		}
		body, _ := json.Marshal(vapid{Public: pub, Private: priv})
		if _, err := kv.Create(ctx, vapidKey, body); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return vapid{}, err
		}
	}
	return vapid{}, errors.New("notify: the VAPID key could not be read")
}

// pushSender sends Web Push messages (RFC 8030), encrypted aes128gcm
// (RFC 8291) and signed with VAPID (RFC 8292), by webpush-go.
type pushSender struct {
	v       vapid
	subject string // the VAPID contact, mailto: or https:
	hc      *http.Client
}

// errGone is a push subscription the push service no longer knows.
var errGone = errors.New("push: the subscription is gone")

// pushPayload is what the service worker (ui/portal/static/sw.js) reads.
type pushPayload struct {
	ID    string `json:"id"`
	Kind  Kind   `json:"kind"`
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"`
}

func (p *pushSender) send(ctx context.Context, sub PushSub, id string, k Kind, m Message, topic string, ttl int) error {
	body, _ := json.Marshal(pushPayload{ID: id, Kind: k, Title: m.Title, Body: m.Body, URL: m.URL})
	s := &webpush.Subscription{Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.Keys.P256dh, Auth: sub.Keys.Auth}}
	urgency := webpush.UrgencyNormal
	if k == Called || k == Ahead {
		urgency = webpush.UrgencyHigh
	}
	resp, err := webpush.SendNotificationWithContext(ctx, body, s, &webpush.Options{
		HTTPClient: p.hc, Subscriber: p.subject, VAPIDPublicKey: p.v.Public, VAPIDPrivateKey: p.v.Private,
		TTL: ttl, Topic: topic, Urgency: urgency,
	})
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return errGone
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("push: the push service answered %d", resp.StatusCode)
	case resp.StatusCode >= 400:
		return errPermanent{fmt.Sprintf("push: the push service refused the message (%d)", resp.StatusCode)}
	}
	return nil
}
