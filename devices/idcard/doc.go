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
// give the masked form (first 4 + asterisks + last 4). The kiosk turns the
// number into two values and then forgets it:
//
//   - Key(secret): the citizen key, lowercase hex of
//     HMAC-SHA256(secret, normalised number), where the normalised number is the
//     card number with surrounding spaces removed and a final 'x' upper-cased
//     (all letters upper-cased). The queue server and the central platform
//     compute the same key with the same secret, so online appointments,
//     quotas and the blacklist match without the raw number leaving the kiosk.
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
