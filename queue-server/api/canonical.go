package api

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// canonicalFast is what reencodeJSON makes of the JSON text b — object
// members sorted by key, no space outside strings — computed without
// decoding b into Go values: members are reordered as byte ranges of b.
// It answers ok=false, and the caller re-encodes, for anything it does not
// take as it is: space outside strings, a key twice, strings that
// encoding/json writes differently (escapes, '<', '>', '&', invalid UTF-8,
// U+2028, U+2029), nesting deeper than maxCanonicalDepth, malformed text.
// Numbers stay as written, as the re-encoding (json.Number) keeps them.
// The body the kiosk sends (an encoded struct: its fields in declaration
// order) takes this path.
func canonicalFast(b []byte) ([]byte, bool) {
	out, i, ok := canonicalValue(b, 0, 0)
	if !ok || i != len(b) {
		return nil, false
	}
	return out, true
}

const maxCanonicalDepth = 64

// member is one name/value pair of an object, both as canonical bytes.
type member struct{ key, value []byte }

// canonicalValue scans the value at b[i:] and returns its canonical form
// (a sub-slice of b when it already is canonical) and the index after it.
func canonicalValue(b []byte, i, depth int) ([]byte, int, bool) {
	if i >= len(b) || depth > maxCanonicalDepth {
		return nil, i, false
	}
	start := i
	switch c := b[i]; {
	case c == '{':
		i++
		if i < len(b) && b[i] == '}' {
			return b[start : i+1], i + 1, true
		}
		var ms []member
		asIs := true
		for {
			j, ok := canonicalString(b, i)
			if !ok || j >= len(b) || b[j] != ':' {
				return nil, j, false
			}
			m := member{key: b[i:j]}
			if m.value, i, ok = canonicalValue(b, j+1, depth+1); !ok || i >= len(b) {
				return nil, i, false
			}
			if n := len(ms); n > 0 && compareKeys(ms[n-1], m) >= 0 {
				asIs = false
			}
			asIs = asIs && sameBytes(m.value, b, j+1, i)
			ms = append(ms, m)
			if b[i] == '}' {
				break
			}
			if b[i] != ',' {
				return nil, i, false
			}
			i++
		}
		i++
		if asIs {
			return b[start:i], i, true
		}
		slices.SortStableFunc(ms, compareKeys)
		out := make([]byte, 0, i-start)
		out = append(out, '{')
		for k, m := range ms {
			if k > 0 {
				if bytes.Equal(ms[k-1].key, m.key) {
					return nil, i, false // twice: the re-encoding keeps the last
				}
				out = append(out, ',')
			}
			out = append(append(append(out, m.key...), ':'), m.value...)
		}
		return append(out, '}'), i, true
	case c == '[':
		i++
		if i < len(b) && b[i] == ']' {
			return b[start : i+1], i + 1, true
		}
		var elems [][]byte
		asIs := true
		for {
			from := i
			v, next, ok := canonicalValue(b, i, depth+1)
			if !ok || next >= len(b) {
				return nil, next, false
			}
			asIs = asIs && sameBytes(v, b, from, next)
			elems, i = append(elems, v), next
			if b[i] == ']' {
				break
			}
			if b[i] != ',' {
				return nil, i, false
			}
			i++
		}
		i++
		if asIs {
			return b[start:i], i, true
		}
		out := make([]byte, 0, i-start)
		out = append(out, '[')
		out = append(out, bytes.Join(elems, []byte{','})...)
		return append(out, ']'), i, true
	case c == '"':
		j, ok := canonicalString(b, i)
		return b[start:j], j, ok
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		return b[start:j], j, validNumber(b[start:j])
	}
	return nil, i, false
}

// compareKeys orders members as encoding/json orders a map's keys: by the
// bytes of the key inside its quotes (a canonical key has no escapes).
func compareKeys(x, y member) int {
	return bytes.Compare(x.key[1:len(x.key)-1], y.key[1:len(y.key)-1])
}

// sameBytes: v is b[from:to] itself (the value was canonical as written).
func sameBytes(v, b []byte, from, to int) bool {
	return len(v) == to-from && (len(v) == 0 || &v[0] == &b[from])
}

func literal(b []byte, i int, word string) ([]byte, int, bool) {
	if bytes.HasPrefix(b[i:], []byte(word)) {
		return b[i : i+len(word)], i + len(word), true
	}
	return nil, i, false
}

// validNumber is JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s []byte) bool {
	i := 0
	digits := func() bool {
		n := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// canonicalString scans the string starting at b[i] (a '"') and returns
// the index after its closing quote, and whether encoding/json writes it
// back byte for byte.
func canonicalString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; j < len(b); {
		c := b[j]
		switch {
		case c == '"':
			return j + 1, true
		case c == '\\' || c < 0x20 || c == '<' || c == '>' || c == '&':
			return j, false
		case c < utf8.RuneSelf:
			j++
		default:
			r, n := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
				return j, false
			}
			j += n
		}
	}
	return len(b), false
}
