// Package forward is the hall's link to the central platform (省级"互联网+
// 公安政务服务"平台), in both directions.
//
// Hall → central: a Forwarder drains the store's outbox in sequence order
// and hands every committed hall event to the central platform exactly
// once, in order, however long the hall was cut off. Two sinks exist,
// chosen by Config: NATS JetStream (the default) and an HTTPS endpoint.
//
//   - NATS: each event is published to hall.<hall-id>.events.<type>
//     (see Subject) with header Nats-Msg-Id = "<hall-id>:<seq>@<epoch>"
//     (see EpochMsgID; "<hall-id>:<seq>" for a store made before epochs).
//     Publishes are pipelined (async, one batch in flight); at the start
//     and after any failure the first event goes alone until the stream has
//     stored it, so an event can never be stored ahead of an earlier one
//     that failed. The outbox is marked forwarded up to the highest
//     contiguously acknowledged seq; the next batch is read from the log
//     while one is in flight, and sent after that mark. A
//     crash between publish and mark re-publishes; the stream's duplicate
//     window drops the copy. Beyond that window, central consumers rely on
//     the rule "(hall-id, epoch, seq) is unique, increasing within an
//     epoch, and a new epoch replaces the old" (docs/central.md).
//   - HTTPS: batches are POSTed as JSON, signed with HMAC-SHA256
//     (X-Hallq-Signature) and carrying Idempotency-Key
//     "<hall-id>:<first>-<last>@<epoch>"; a batch never spans two epochs. 2xx acknowledges; 5xx, 408, 429 and
//     transport errors are retried with back-off, and so are 401 and 403
//     (the hall's credentials are refused: every batch would be, so none is
//     set aside, and the sink counts as not connected); any other 4xx moves
//     the batch aside as a dead letter (store.PutDeadLetter), raises an
//     alert in Stats and lets the queue continue.
//
// The audit trail (package audit) goes the same way beside the events: an
// AuditForwarder reads audit.log from the durable forwarded mark
// (audit.MarkFile) and sends each record once, in order, over the same
// sink — NATS subject AuditSubject with Nats-Msg-Id AuditMsgID, or signed
// HTTPS batches (AuditBatch) to Config.AuditHTTPSURL, never set aside —
// moving the mark after each acknowledgement (audit.go).
//
// The forwarder never blocks the hall: the server calls Notify after each
// commit (non-blocking), and a slow ticker covers anything missed. While the
// central platform is unreachable it backs off exponentially with jitter.
// Forwarded entries older than Config.Retention are compacted.
//
// Central → hall: RunBookings consumes the hall's durable JetStream
// consumer on stream CENTRAL (subjects central.<hall-id>.appointments and
// central.<hall-id>.remote-tickets), stores bookings through
// hall.Service.UpsertBooking and issues remote tickets (线上取号) through
// hall.Service.Issue, acknowledging each message only after the hall has
// committed it. Invalid messages are terminated, never redelivered forever.
//
// Wire formats are documented in docs/central.md. This package and package
// central are the only importers of nats.go.
package forward
