// Package platform is hallq's province platform core: durable views of
// every hall, kept in NATS JetStream, and the central's HTTP API.
//
//   - EnsureStreams creates, idempotently, the streams HALLS (every hall's
//     events, hall.*.events.>, with a duplicate window) and CENTRAL
//     (bookings and remote ticket requests for the halls). A hall on the
//     HTTPS sink POSTs its events instead (POST /api/v1/halls/{id}, signed
//     with its -hall-secrets secret); the API publishes each to HALLS as the
//     hall's NATS sink would, so everything downstream is the same
//     (hallevents_http.go).
//   - HALL_AUDIT (also made by EnsureStreams) keeps every hall's security
//     audit trail append-only; an AuditChecker in each process judges each
//     record with the hall's own audit.Check into bucket central_hall_audit,
//     and the API serves a hall's head and records to staff and takes
//     records over HTTPS (hallaudit.go, hallaudit_http.go).
//   - EnsureBuckets creates the KV buckets of the views; an Applier (one
//     per central process, any number of processes) applies HALLS into
//     them exactly once: halls are hashed into partitions, each held by one
//     process through a lease, each hall's entry written by compare-and-set
//     together with its (hall, epoch, seq) bookkeeping. Gaps, duplicates,
//     restores and superseded events are counted and alerted.
//   - Views is a process's read copy of the hall entries (a KV watcher);
//     Server serves the API from it and from the ticket bucket: the public
//     hall list and ticket status, the staff hall detail, reports (JSON and
//     CSV), alerts and metrics. Other parts add routes with Server.Handle,
//     staff sign-in with an Authenticator, next free slots with a SlotSource.
//   - Start and Main run a central process: an embedded NATS server by
//     default, or joined to a cluster (-nats URLs, credentials, TLS).
//   - View is the in-memory test oracle the hall's forwarder tests use.
//   - PublishAppointment and PublishRemoteTicket send work to a hall;
//     CitizenKey and MaskID implement the province's citizen key scheme.
//
// The process holds nothing JetStream does not: kill it at any moment and
// another serves the same answers. The hall server never links this
// package (see the dependency rules). The wire contract and the API are
// documented in docs/central.md.
package platform
