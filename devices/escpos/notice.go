package escpos

import (
	"context"
	"time"
)

// Notice is a one-time notice (一次性告知单): for each matter of a visit
// whose materials were incomplete, what the citizen must still bring, so
// one more visit is enough (最多跑一次).
type Notice struct {
	HallName string
	Number   string    // the ticket it belongs to, e.g. A023
	Day      string    // the visit's day, YYYY-MM-DD
	At       time.Time // when printed, in the hall's time zone
	Matters  []NoticeMatter
	Footer   string
}

// NoticeMatter is one matter of a notice.
type NoticeMatter struct {
	NameZH, NameEN string
	Missing        []string // the missing materials, each "中文 English"
}

// EncodeNotice lays out n for printer m. It is pure, like Encode.
func EncodeNotice(n Notice, m Model) []byte {
	var b buf
	b.cmd(CmdInit...).cmd(CmdChineseOn...).align(AlignCenter)
	if n.HallName != "" {
		b.bold(true).line(n.HallName).bold(false)
	}
	b.bold(true).size(2, 2).line("一次性告知单").size(1, 1).bold(false).line("One-time notice")
	b.line("号码 Ticket " + n.Number + " · " + n.Day)
	b.align(AlignLeft).feed(1)
	for _, mt := range n.Matters {
		name := mt.NameZH
		if mt.NameEN != "" {
			name += " " + mt.NameEN
		}
		b.bold(true).line("事项 Matter: " + name).bold(false)
		b.line("还缺少以下材料 Still missing:")
		for _, x := range mt.Missing {
			b.line("  □ " + x)
		}
		b.feed(1)
	}
	b.line("带齐以上材料后再来即可办理。").line("Bring these and the matter can be done at your next visit.")
	if !n.At.IsZero() {
		b.line("打印时间 " + n.At.Format("2006-01-02 15:04"))
	}
	if n.Footer != "" {
		b.line(n.Footer)
	}
	if m.Cutter {
		b.feed(4).cmd(CmdPartialCut...)
	} else {
		b.feed(6)
	}
	return b.Bytes()
}

// PrintNotice prints a one-time notice the way Print prints a ticket.
func (p *Printer) PrintNotice(ctx context.Context, n Notice) error {
	return p.PrintJob(ctx, "notice "+n.Number, EncodeNotice(n, p.model))
}
