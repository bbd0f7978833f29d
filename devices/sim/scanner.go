package sim

// Scanner simulates a QR / barcode scanner that sends each code followed by
// a suffix.
type Scanner struct {
	*device
	suffix string
}

// ScannerOptions configure a scanner simulator.
type ScannerOptions struct {
	Suffix string // default "\r"
	Link   string // optional symlink path kept pointing at the terminal
	Baud   int    // pace the codes at this line rate (0: unpaced; scanners ship at 9600 or 115200)
}

// NewScanner starts a scanner simulator.
func NewScanner(opts ScannerOptions) (*Scanner, error) {
	if opts.Suffix == "" {
		opts.Suffix = "\r"
	}
	s := &Scanner{suffix: opts.Suffix}
	d, err := newDevice("scanner", opts.Link, opts.Baud, func([]byte) {}) // triggers are ignored
	if err != nil {
		return nil, err
	}
	s.device = d
	return s, nil
}

// Scan emits code and the suffix, as if a code was scanned.
func (s *Scanner) Scan(code string) error {
	return s.do(func() { s.write([]byte(code + s.suffix)) })
}

// Raw emits bytes exactly as given (noise, partial codes, other suffixes).
func (s *Scanner) Raw(b []byte) error {
	return s.do(func() { s.write(b) })
}
