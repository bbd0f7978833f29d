// Package platform is the reference central platform for hallq: what the
// province side of the link looks like, in enough detail to test the hall
// against and to run a demo.
//
//   - EnsureStreams creates, idempotently, the streams HALLS (every hall's
//     events, hall.*.events.>, with a duplicate window) and CENTRAL
//     (appointments and remote ticket requests for the halls).
//   - View consumes HALLS into a multi-hall picture — per hall today's
//     tickets issued and served, mean wait, ratings, last seq and lag — and
//     checks that every hall's sequence numbers arrive exactly once and in
//     order, reporting gaps and duplicates (the test oracle). It serves
//     GET /halls as JSON.
//   - PublishAppointment and PublishRemoteTicket send work to a hall.
//   - CitizenKey and MaskID implement the province's citizen key scheme.
//   - Main runs it all as a command (the central binary, package main in
//     central/), with an embedded NATS server from hallq/central/natsembed.
//     The hall server never links this package (see the dependency rules).
//
// The wire contract is documented in docs/central.md.
package platform
