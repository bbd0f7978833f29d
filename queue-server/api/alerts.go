package api

import (
	"fmt"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Alert is something a hall manager should act on, in words. Alerts are
// computed here, once, with the hall's thresholds (config alerts.*), so
// every dashboard shows the same ones.
type Alert struct {
	Key      string `json:"key"`      // stable while the condition lasts, e.g. "printer:kiosk-1"
	Kind     string `json:"kind"`     // wait_over, no_open_window, pause_over, kiosk_silent, kiosk_offline, printer, reader, scanner, set_aside, pending_offline
	Severity string `json:"severity"` // critical (act now) or warning
	Subject  string `json:"subject"`  // service code, window number or kiosk name
	ZH       string `json:"zh"`
	EN       string `json:"en"`
}

// printerWords say a printer state the way a manager acts on it.
var printerWords = map[string][3]string{ // severity, zh, en
	"paper_low":  {"warning", "打印纸即将用完，请准备换纸", "paper is running low; have a roll ready"},
	"paper_out":  {"critical", "打印机缺纸，无法出票，请换纸", "out of paper, cannot print tickets; load paper"},
	"cover_open": {"critical", "打印机盖未关好，无法出票", "printer cover is open, cannot print tickets"},
	"offline":    {"critical", "打印机无响应，无法出票", "printer does not respond, cannot print tickets"},
	"absent":     {"critical", "未检测到打印机，无法出票", "no printer found, cannot print tickets"},
}

var readerWords = map[string][3]string{
	"absent": {"critical", "未检测到身份证读卡器，需身份证的业务无法取号", "ID card reader missing; services that need an ID card cannot issue"},
	"error":  {"critical", "身份证读卡器故障，需身份证的业务无法取号", "ID card reader fails; services that need an ID card cannot issue"},
}

var scannerWords = map[string][3]string{
	"absent": {"warning", "未检测到扫码器，预约二维码无法扫描（可刷身份证签到）", "code scanner missing; booking QR codes cannot be scanned (check-in by ID card still works)"},
	"error":  {"warning", "扫码器故障，预约二维码无法扫描", "code scanner fails; booking QR codes cannot be scanned"},
}

// alerts lists the hall's alerts now, the critical ones first.
func (a *API) alerts(o hall.Overview, devs []wire.DeviceHealth, cfg hall.Config, now, wall time.Time) []Alert {
	var crit, warn []Alert
	add := func(al Alert) {
		if al.Severity == "critical" {
			crit = append(crit, al)
		} else {
			warn = append(warn, al)
		}
	}
	th := cfg.Alerts
	for _, s := range o.Services {
		if s.Waiting > 0 && s.OpenWindows == 0 {
			add(Alert{Key: "no_open_window:" + s.Code, Kind: "no_open_window", Severity: "critical", Subject: s.Code,
				ZH: fmt.Sprintf("%s %s：有 %d 人等候，但没有开放的窗口", s.Code, s.Name.ZH, s.Waiting),
				EN: fmt.Sprintf("%s %s: %d waiting but no window open for it", s.Code, s.Name.EN, s.Waiting)})
		}
		if w := time.Duration(s.LongestWaitS) * time.Second; w > th.WaitOver.D() {
			add(Alert{Key: "wait_over:" + s.Code, Kind: "wait_over", Severity: "warning", Subject: s.Code,
				ZH: fmt.Sprintf("%s %s：最长已等候 %d 分钟（阈值 %d 分钟）", s.Code, s.Name.ZH, int(w.Minutes()), int(th.WaitOver.D().Minutes())),
				EN: fmt.Sprintf("%s %s: longest wait %d min (threshold %d min)", s.Code, s.Name.EN, int(w.Minutes()), int(th.WaitOver.D().Minutes()))})
		}
	}
	for _, w := range o.Windows {
		if w.Status != hall.WindowPaused || w.Since.IsZero() {
			continue
		}
		if p := now.Sub(w.Since); p > th.PauseOver.D() {
			reason := ""
			if w.PauseReason != "" {
				reason = "（" + w.PauseReason + "）"
			}
			add(Alert{Key: fmt.Sprintf("pause_over:%d", w.Number), Kind: "pause_over", Severity: "warning", Subject: fmt.Sprint(w.Number),
				ZH: fmt.Sprintf("%s 已暂停 %d 分钟%s", w.Name.ZH, int(p.Minutes()), reason),
				EN: fmt.Sprintf("%s paused for %d min%s", w.Name.EN, int(p.Minutes()), reason)})
		}
	}
	for _, d := range devs {
		k := d.Kiosk
		device := func(kind string, words map[string][3]string, state string) {
			if w, ok := words[state]; ok {
				add(Alert{Key: kind + ":" + k, Kind: kind, Severity: w[0], Subject: k, ZH: "自助机 " + k + "：" + w[1], EN: "Kiosk " + k + ": " + w[2]})
			}
		}
		if silent := wall.Sub(d.ReportedAt); silent > th.KioskSilent.D() {
			add(Alert{Key: "kiosk_silent:" + k, Kind: "kiosk_silent", Severity: "critical", Subject: k,
				ZH: fmt.Sprintf("自助机 %s 已 %s 没有联系服务器（断网、断电或程序停止）", k, words(silent, true)),
				EN: fmt.Sprintf("Kiosk %s has not reached the server for %s (network, power or program down)", k, words(silent, false))})
			continue // its last device states are stale
		}
		if !d.Online {
			add(Alert{Key: "kiosk_offline:" + k, Kind: "kiosk_offline", Severity: "warning", Subject: k,
				ZH: "自助机 " + k + "：与服务器的连接不稳定，正在离线取号", EN: "Kiosk " + k + ": its link to the server is unsteady; it issues offline"})
		}
		device("printer", printerWords, d.Printer)
		device("reader", readerWords, d.Reader)
		device("scanner", scannerWords, d.Scanner)
		if d.SetAside > 0 {
			add(Alert{Key: "set_aside:" + k, Kind: "set_aside", Severity: "critical", Subject: k,
				ZH: fmt.Sprintf("自助机 %s：今天有 %d 张离线票被服务器拒收并搁置，持票群众不在队列中，请到自助机旁核对", k, d.SetAside),
				EN: fmt.Sprintf("Kiosk %s: %d offline ticket(s) were refused by the server and set aside today; their holders are not in the queue — check at the kiosk", k, d.SetAside)})
		}
		if d.Pending > 0 {
			add(Alert{Key: "pending_offline:" + k, Kind: "pending_offline", Severity: "warning", Subject: k,
				ZH: fmt.Sprintf("自助机 %s：%d 张离线票尚未交给服务器", k, d.Pending),
				EN: fmt.Sprintf("Kiosk %s: %d offline ticket(s) not yet handed over", k, d.Pending)})
		}
	}
	return append(append(make([]Alert, 0, len(crit)+len(warn)), crit...), warn...)
}

func words(d time.Duration, zh bool) string {
	switch {
	case d >= time.Hour && zh:
		return fmt.Sprintf("%d 小时 %d 分钟", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	case zh:
		return fmt.Sprintf("%d 分钟", max(int(d.Minutes()), 1))
	}
	return fmt.Sprintf("%d min", max(int(d.Minutes()), 1))
}

func opAlerts(c *call) (int, any, error) {
	o, err := c.a.svc.Overview(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	return ok(c.a.alerts(o, c.a.devices.list(), c.a.svc.Config(), c.a.svc.Now(), time.Now()), nil)
}
