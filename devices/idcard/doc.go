// Package idcard drives a resident ID-card reader (the SAM module protocol over
// a serial link) and decodes what it reads: resident ID cards, foreigner
// permanent residence cards (2017 'I' and 2023 'Y') and Hong Kong / Macao /
// Taiwan resident permits ('J').
//
// The driver works on any io.ReadWriter (in production a serialport port, in
// tests a pseudo-terminal opened through the same serial library) and imports
// only the standard library, so the queue server can use IDNumber too.
//
// # ID numbers and the citizen key
//
// An IDNumber never prints in full: String, fmt verbs, JSON, text and slog all
// give the masked form (first 4 + asterisks + last 4). The raw number leaves
// the type only through Key and Seal:
//
//   - Key(secret): the citizen key, lowercase hex of
//     HMAC-SHA256(secret, normalised number), where the normalised number is the
//     card number with surrounding spaces removed and a final 'x' upper-cased
//     (all letters upper-cased). Only the queue server and the central
//     platform hold the secret and compute it, so online appointments,
//     quotas and the blacklist match.
//   - Seal(fn): hands the normalised number to fn, which must encrypt it. A
//     kiosk holds no secret (it can be stolen, and the number has too little
//     entropy to hide behind a key): it seals the number to the hall
//     server's public key, and the server derives the key.
//   - Masked(): for screens and tickets, e.g. 4201**********1234.
//
// # Errors
//
// Every error the reader returns carries a stable code (see Code): a
// *StatusError for each SW3 status of the module ("no_card",
// "select_failed", …), and sentinel errors for the link (ErrTimeout,
// ErrBadChecksum, ErrFrame, ErrDeviceGone) and the card (ErrExpired,
// ErrInvalidNumber, ErrText). The English message is for logs; the UI picks
// zh/en text from the code.
package idcard
