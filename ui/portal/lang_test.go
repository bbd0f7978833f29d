package portal_test

import (
	"testing"
	"time"

	"hallq/internal/browsertest"
)

// The language a citizen lands in and keeps: a link with ?lang=en (an
// SMS, a QR code) opens the page in English and the address drops it; the
// switch on the page then holds across a reload, a link to another page,
// Back, and the waits page (follow.js); a new link with ?lang= wins again.
func TestLanguageLinkThenSwitchHolds(t *testing.T) {
	w := mustBookWorld(t)
	b := mustBkBrowser(t)
	tb := b.tab(t, "en", "phone")
	lang := func(want, h1 string) {
		t.Helper()
		tb.WaitFor(3*time.Second, `document.documentElement.lang === '`+want+`' && !!document.querySelector('main h1')`)
		tb.see("main h1", h1)
	}
	noLangInAddress := func() {
		t.Helper()
		tb.WaitFor(time.Second, `!new URL(location.href).searchParams.has('lang')`)
	}

	tb.Open(w.URL + "/?lang=en")
	lang("en", "Book a visit online")
	noLangInAddress()

	tb.click("#lang") // 中文
	lang("zh-CN", "网上预约办事")
	tb.Reload()
	lang("zh-CN", "网上预约办事")

	tb.click(`nav a[href="/bookings"]`)
	tb.WaitFor(3*time.Second, `location.pathname === '/bookings'`)
	lang("zh-CN", "我的预约")
	tb.click("#lang") // English, here
	lang("en", "My bookings")
	tb.Reload()
	lang("en", "My bookings")
	browsertest.Eval[bool](tb, `(history.back(), true)`)
	tb.WaitFor(3*time.Second, `location.pathname === '/'`)
	lang("en", "Book a visit online")

	tb.Open(w.URL + "/waits?lang=zh") // another link, another language
	tb.WaitFor(3*time.Second, `document.documentElement.lang === 'zh-CN'`)
	tb.WaitText(3*time.Second, "#title", "各大厅实时等候")
	noLangInAddress()
	tb.click("#lang")
	tb.WaitFor(3*time.Second, `document.documentElement.lang === 'en' && document.querySelector('#title').textContent !== '各大厅实时等候'`)
	tb.Reload()
	tb.WaitFor(3*time.Second, `document.documentElement.lang === 'en' && document.querySelector('#title').textContent !== '各大厅实时等候'`)
	tb.Open(w.URL + "/book")
	lang("en", "What do you need to do?")
}
