// notify.js — /notifications: the kinds a signed-in citizen is told of by
// Web Push (this browser) and by SMS (a phone number, kept only while a
// booking or ticket needs it), and, with ?ticket=ID, push for one ticket
// without sign-in (notify-ticket.js).

import { call, lang, setLang, t, prefs } from '/p/portal.js';
import { optInForTicket, optOutForTicket, ticketFollowing, subscription, pushSupported, NotifyError } from '/p/notify-ticket.js';

const $ = (id) => document.getElementById(id);

const KIND = {
  confirmed: ['预约成功', 'Booking confirmed'],
  changed: ['预约改期', 'Booking moved'],
  cancelled: ['预约取消（含大厅停办）', 'Booking cancelled (also by a closure)'],
  reminder: ['预约前提醒', 'Reminder before the slot'],
  ahead: ['快到我了（前面还剩几人）', 'My turn is near (few ahead)'],
  called: ['叫到我的号（请到几号窗口）', 'Called to a window'],
  missed: ['过号或爽约', 'Missed (called and not there)'],
};

const TEXT = {
  title: ['消息提醒', 'Notifications'],
  home: ['首页', 'Home'],
  mine: ['我的预约', 'My bookings'],
  lang: ['English', '中文'],
  reading: ['阅读', 'Reading'],
  large: ['大字', 'Large text'],
  contrast: ['高对比度', 'High contrast'],
  intro: ['选择要提醒您的事，以及提醒的方式：浏览器推送或短信。', 'Choose what you are told of, and how: push to this browser, or text message.'],
  signinTitle: ['请先登录', 'Please sign in'],
  signinText: ['登录后才能为您的预约设置提醒。只想提醒一张号？请在号票页打开提醒。', 'Sign in to be told about your bookings. Only one ticket? Turn it on from the ticket page.'],
  signinLink: ['登录', 'Sign in'],
  ticketTitle: ['这张号的提醒', 'Alerts for this ticket'],
  ticketText: ['不用登录：快到您时、叫号时和过号时，本浏览器会提醒您。', 'No sign-in: this browser tells you when your turn is near, when you are called and if you missed it.'],
  ticketOn: ['开启这张号的提醒', 'Turn on alerts for this ticket'],
  ticketOff: ['关闭这张号的提醒', 'Turn off alerts for this ticket'],
  ticketIsOn: ['已开启：本浏览器会提醒您。', 'On: this browser will alert you.'],
  ticketIsOff: ['未开启。', 'Off.'],
  pushTitle: ['浏览器推送', 'Push to this browser'],
  pushText: ['不用手机号。本浏览器需允许通知。', 'No phone number needed. Allow notifications in this browser.'],
  pushLegend: ['推送这些消息', 'Push these'],
  pushOn: ['在本浏览器开启或更新推送', 'Turn on or update push here'],
  pushOff: ['关闭推送', 'Turn off push'],
  pushNone: ['推送未开启。', 'Push is off.'],
  pushHere: ['本浏览器已开启推送。', 'Push is on in this browser.'],
  pushElsewhere: (n) => [`已在 ${n} 个浏览器开启推送（不含本浏览器）。`, `Push is on in ${n} browser(s), not this one.`],
  smsTitle: ['短信', 'Text messages'],
  smsText: ['短信发到您填写的手机号。', 'Texts go to the number you give.'],
  smsLegend: ['短信通知这些消息', 'Text me these'],
  phone: ['手机号（11 位）', 'Mobile number (11 digits)'],
  phoneKept: (m) => [`已保存的号码：${m}（不改可留空）`, `Number kept: ${m} (leave empty to keep it)`],
  phoneNone: ['尚未保存号码。', 'No number kept.'],
  privacy: ['号码只在您有未办完的预约或号时保存；关闭短信或最后一个预约结束后即删除，不会显示完整号码。', 'The number is kept only while a booking or ticket of yours is open; it is deleted when you turn texts off or the last one is over, and never shown in full.'],
  smsSave: ['保存短信提醒', 'Save text alerts'],
  smsOff: ['关闭短信并删除号码', 'Turn texts off and delete the number'],
  smsUnavailable: ['本平台暂不发送短信，请用浏览器推送。', 'This platform sends no texts; please use push.'],
  saved: ['已保存。', 'Saved.'],
  pushSaved: ['已开启推送。', 'Push is on.'],
  pushRemoved: ['已关闭推送。', 'Push is off.'],
  smsRemoved: ['已关闭短信，号码已删除。', 'Texts are off; the number is deleted.'],
  errUnsupported: ['此浏览器不支持推送，请改用短信。', 'This browser cannot take push; please use texts.'],
  errDenied: ['您没有允许通知。请在浏览器设置里允许本网站通知后再试。', 'Notifications are blocked. Allow them for this site in the browser settings, then try again.'],
  errNoService: ['此浏览器现在连不上推送服务，请改用短信或稍后再试。', 'This browser cannot reach its push service now; use texts or try later.'],
  errNoServiceTicket: ['此浏览器现在连不上推送服务。请留意大厅叫号屏，或登录后改用短信。', 'This browser cannot reach its push service now. Watch the hall\'s display, or sign in and use texts.'],
  errPhone: ['手机号不对：请填写 11 位手机号，如 138 0013 8000。', 'That number is not right: give 11 digits, e.g. 138 0013 8000.'],
  errNoPhone: ['请填写手机号。', 'Please give a mobile number.'],
  errTicket: ['找不到这张号，或它已办结。', 'This ticket is not known, or it is over.'],
  errTooMany: ['开启的浏览器太多，请先关闭一个。', 'Too many browsers; turn one off first.'],
  errOther: ['没有成功，请稍后再试。', 'That did not work; please try again.'],
  needKinds: ['请至少选一项。', 'Choose at least one.'],
};

const tx = (k, ...a) => t(typeof TEXT[k] === 'function' ? TEXT[k](...a) : TEXT[k]);
const ticket = new URL(location.href).searchParams.get('ticket');
let state = null; // the central's Choices

function say(msg, bad) {
  $('note').textContent = msg;
  $('note').classList.toggle('bad', !!bad);
}

function explain(e) {
  if (e instanceof NotifyError) {
    return tx(e.reason === 'unsupported' ? 'errUnsupported' : e.reason === 'denied' ? 'errDenied' : ticket ? 'errNoServiceTicket' : 'errNoService');
  }
  switch (e && e.reason) {
    case 'bad_field':
      return tx(String(e.message).includes('phone') ? 'errPhone' : 'errOther');
    case 'no_phone':
      return tx('errNoPhone');
    case 'sms_off':
      return tx('smsUnavailable');
    case 'unknown_ticket':
    case 'ticket_over':
      return tx('errTicket');
    case 'too_many':
      return tx('errTooMany');
  }
  return tx('errOther');
}

function kindBoxes(box, channel, kinds, chosen) {
  box.replaceChildren(
    ...kinds.map((k) => {
      const l = document.createElement('label');
      const i = document.createElement('input');
      i.type = 'checkbox';
      i.name = channel;
      i.value = k;
      i.id = `${channel}-${k}`;
      i.checked = chosen.includes(k);
      l.append(i, ' ', t(KIND[k]));
      return l;
    }),
  );
}

const checked = (channel) => [...document.querySelectorAll(`input[name=${channel}]:checked`)].map((i) => i.value);

function renderStatic() {
  document.title = tx('title') + ' · hallq';
  for (const [id, key] of [['title', 'title'], ['home', 'home'], ['mine', 'mine'], ['lang', 'lang'], ['reading-label', 'reading'],
    ['large-label', 'large'], ['contrast-label', 'contrast'], ['intro', 'intro'], ['signin-title', 'signinTitle'],
    ['signin-text', 'signinText'], ['signin-link', 'signinLink'], ['ticket-title', 'ticketTitle'], ['ticket-text', 'ticketText'],
    ['ticket-on', 'ticketOn'], ['ticket-off', 'ticketOff'], ['push-title', 'pushTitle'], ['push-text', 'pushText'],
    ['push-legend', 'pushLegend'], ['push-on', 'pushOn'], ['push-off', 'pushOff'], ['sms-title', 'smsTitle'], ['sms-text', 'smsText'],
    ['sms-legend', 'smsLegend'], ['phone-label', 'phone'], ['phone-privacy', 'privacy'], ['sms-save', 'smsSave'], ['sms-off', 'smsOff']]) {
    $(id).textContent = tx(key);
  }
  $('lang').lang = lang() === 'zh' ? 'en' : 'zh-CN';
  $('nav').setAttribute('aria-label', t(['站点', 'Site']));
  $('large').checked = prefs.get('large');
  $('contrast').checked = prefs.get('contrast');
}

async function renderChoices() {
  const c = state;
  kindBoxes($('push-kinds'), 'push', c.kinds, c.push.length || c.devices ? c.push : c.kinds);
  kindBoxes($('sms-kinds'), 'sms', c.kinds, c.sms);
  $('push-state').textContent = c.this_device ? tx('pushHere') : c.devices ? tx('pushElsewhere', c.devices) : tx('pushNone');
  $('push-off').hidden = !c.devices;
  $('phone-kept').textContent = c.phone ? tx('phoneKept', c.phone) : tx('phoneNone');
  $('sms-off').hidden = !c.phone && !c.sms.length;
  for (const id of ['sms-save', 'phone', 'sms-kinds']) $(id).toggleAttribute('disabled', !c.sms_available);
  if (!c.sms_available) $('sms-text').textContent = tx('smsUnavailable');
}

async function endpoint() {
  try {
    const s = pushSupported() ? await subscription(false) : null;
    return s ? s.endpoint : '';
  } catch {
    return '';
  }
}

async function load() {
  renderStatic();
  if (ticket) {
    $('intro').hidden = true;
    $('ticket').hidden = false;
    let on = false;
    try {
      on = await ticketFollowing(ticket);
    } catch (e) {
      if (e.reason) say(explain(e), true);
    }
    $('ticket-state').textContent = tx(on ? 'ticketIsOn' : 'ticketIsOff');
    $('ticket-off').hidden = !on;
    return;
  }
  try {
    state = await call('GET', 'notifications', { query: { endpoint: await endpoint() } });
  } catch (e) {
    if (e.status === 401) {
      $('signin').hidden = false;
      $('signin-link').href = '/auth/login?next=' + encodeURIComponent('/notifications');
      return;
    }
    say(explain(e), true);
    return;
  }
  $('choices').hidden = false;
  renderChoices();
}

async function act(button, f) {
  button.disabled = true;
  say('');
  try {
    await f();
  } catch (e) {
    say(explain(e), true);
  } finally {
    button.disabled = false;
  }
}

$('lang').addEventListener('click', () => {
  setLang(lang() === 'zh' ? 'en' : 'zh', () => (state ? (renderStatic(), renderChoices()) : load()));
});
$('large').addEventListener('change', (e) => prefs.set('large', e.target.checked));
$('contrast').addEventListener('change', (e) => prefs.set('contrast', e.target.checked));

$('ticket-on').addEventListener('click', (e) =>
  act(e.target, async () => {
    await optInForTicket(ticket);
    $('ticket-state').textContent = tx('ticketIsOn');
    $('ticket-off').hidden = false;
    say(tx('pushSaved'));
  }),
);
$('ticket-off').addEventListener('click', (e) =>
  act(e.target, async () => {
    await optOutForTicket(ticket);
    $('ticket-state').textContent = tx('ticketIsOff');
    $('ticket-off').hidden = true;
    say(tx('pushRemoved'));
  }),
);

$('push-on').addEventListener('click', (e) =>
  act(e.target, async () => {
    const kinds = checked('push');
    if (!kinds.length) return say(tx('needKinds'), true);
    const sub = await subscription(true);
    state = await call('PUT', 'notifications/push', { body: { subscription: sub.toJSON(), kinds, lang: lang() } });
    renderChoices();
    say(tx('pushSaved'));
  }),
);
$('push-off').addEventListener('click', (e) =>
  act(e.target, async () => {
    const sub = pushSupported() ? await subscription(false).catch(() => null) : null;
    // This browser's subscription when it has one; otherwise every browser of the citizen.
    state = await call('DELETE', 'notifications/push', { body: sub ? { endpoint: sub.endpoint } : {} });
    if (sub) await sub.unsubscribe().catch(() => {});
    renderChoices();
    say(tx('pushRemoved'));
  }),
);
$('sms-save').addEventListener('click', (e) =>
  act(e.target, async () => {
    const kinds = checked('sms');
    if (!kinds.length) return say(tx('needKinds'), true);
    const phone = $('phone').value.trim();
    state = await call('PUT', 'notifications/sms', { body: { phone: phone || undefined, kinds, lang: lang() } });
    $('phone').value = '';
    renderChoices();
    say(tx('saved'));
  }),
);
$('sms-off').addEventListener('click', (e) =>
  act(e.target, async () => {
    state = await call('DELETE', 'notifications/sms');
    renderChoices();
    say(tx('smsRemoved'));
  }),
);

load();
