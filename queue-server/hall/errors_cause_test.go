package hall

import (
	"errors"
	"io"
	"io/fs"
	"testing"
)

// An error formatted with %w is kept as the cause of Errorf's and
// Refusal's *Error: errors.Is and errors.As reach it, and the message reads
// as before. Without %w there is no cause.
func TestErrorKeepsItsCause(t *testing.T) {
	e := Errorf(Unavailable, "cannot read events: %w", io.ErrUnexpectedEOF)
	if !errors.Is(e, io.ErrUnexpectedEOF) || e.Message != "cannot read events: unexpected EOF" {
		t.Fatalf("Errorf: Is %v, message %q", errors.Is(e, io.ErrUnexpectedEOF), e.Message)
	}
	pe := &fs.PathError{Op: "open", Path: "hall.db", Err: fs.ErrPermission}
	r := Refusal(Unavailable, ReasonStorage, "could not save the change: %w", pe)
	var got *fs.PathError
	if !errors.As(r, &got) || got != pe || !errors.Is(r, fs.ErrPermission) || r.Reason != string(ReasonStorage) {
		t.Fatalf("Refusal: As %v, Is %v, reason %q", got, errors.Is(r, fs.ErrPermission), r.Reason)
	}
	if ErrorCode(r) != Unavailable {
		t.Fatalf("the code is %s, want the outer error's", ErrorCode(r))
	}
	if c := Errorf(Invalid, "limit must be 1 to %d (%v)", 1000, io.EOF).Unwrap(); c != nil {
		t.Fatalf("%%v keeps a cause: %v", c)
	}
}
