package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/forward"
)

// PublishAppointment publishes a new, changed or cancelled appointment to
// a hall. Its message id is "<hall>:appt:<booking id>:<content hash>": the
// same content sent twice is stored once, a change is a new message.
func PublishAppointment(ctx context.Context, js jetstream.JetStream, hallID string, a forward.Appointment) (*jetstream.PubAck, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	return publish(ctx, js, forward.AppointmentsSubject(hallID), hallID+":appt:"+a.BookingID+":"+hex.EncodeToString(sum[:8]), body)
}

// PublishRemoteTicket asks a hall to issue a remote ticket (线上取号). Its
// message id is "<hall>:rt:<request id>"; the hall also uses the request
// id as the idempotency key, so even a copy outside the duplicate
// window never issues twice on the same day.
func PublishRemoteTicket(ctx context.Context, js jetstream.JetStream, hallID string, r forward.RemoteTicket) (*jetstream.PubAck, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return publish(ctx, js, forward.RemoteTicketsSubject(hallID), hallID+":rt:"+r.RequestID, body)
}

func publish(ctx context.Context, js jetstream.JetStream, subject, msgID string, body []byte) (*jetstream.PubAck, error) {
	m := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	return js.PublishMsg(ctx, m)
}
