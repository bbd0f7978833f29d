// remote.js — remote ticket taking on the citizen's phone (/remote, 线上取号):
// the services that may be taken remotely and are issuing now, the ID
// number, and on success the ticket's status page /t/{id}. The number goes
// to the hall server only, which keeps nothing but its protected key. The
// browser keeps a claim (128 random bits) that alone gets the same ticket
// back on a retry: someone else who types the same number does not.
import { $, el, fill, api } from './hallq.js';
import { ClientErrorCode, ErrorCode, Reason } from './codes.js';

let lang = localStorage.getItem('hallq.lang') === 'en' ? 'en' : 'zh';
let services = null; // null until loaded
let failure = null; // { code, reason } of the last refusal
let chosen = '';
let busy = false;

// claim is this browser's secret for its remote tickets (see the top).
function claim() {
  let c = localStorage.getItem('hallq.remote.claim');
  if (!/^[0-9a-f]{32}$/.test(c || '')) {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    c = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    localStorage.setItem('hallq.remote.claim', c);
  }
  return c;
}

const words = {
  zh: { title: '线上取号', pick: '选择业务', id: '居民身份证号码', submit: '取号', busy: '正在取号…', toggle: 'English',
    privacy: '号码仅用于生成加密标识，不会保存。', none: '现在没有可以线上取号的业务，请到大厅自助机取号。',
    waiting: (n) => `${n} 人等候`, wait: (s) => (s < 0 ? '' : s < 60 ? '即将叫号' : `约 ${Math.round(s / 60)} 分钟`),
    refusals: {
      pick: '请先选择业务。',
      invalid_id_number: '身份证号码有误，请核对 18 位号码。',
      remote_not_allowed: '这项业务不能线上取号，请到大厅自助机取号。',
      citizen_limit: '您今天在这项业务的取号次数已满。',
      service_quota: '这项业务今天的号已经取完。',
      numbers_exhausted: '这项业务今天的号已经取完。',
      closed: '这项业务现在不在取号时间。',
      blacklisted: '暂时无法为您取号，请到大厅咨询工作人员。',
      not_available: '暂时无法用这个号码线上取号，请到大厅自助机取号或咨询工作人员。',
      remote_share: '这项业务今天的线上取号名额已满，请到大厅自助机取号。',
      real_name_required: '本大厅已接入省政务平台，请在省平台实名登录后线上取号。',
      too_many_requests: '取号太频繁，请稍后再试。',
      network: '网络不通，请稍后再试。',
      other: '取号没有成功，请稍后再试或到大厅取号。',
    } },
  en: { title: 'Take a ticket', pick: 'Choose a service', id: 'Resident ID card number', submit: 'Take a ticket', busy: 'Taking a ticket…', toggle: '中文',
    privacy: 'Used only to derive a protected key, never stored.', none: 'No service can be taken remotely right now. Please take a ticket at a kiosk in the hall.',
    waiting: (n) => `${n} waiting`, wait: (s) => (s < 0 ? '' : s < 60 ? 'any moment' : `about ${Math.round(s / 60)} min`),
    refusals: {
      pick: 'Please choose a service first.',
      invalid_id_number: 'That ID number is not valid. Please check the 18 characters.',
      remote_not_allowed: 'This service cannot be taken remotely. Please use a kiosk in the hall.',
      citizen_limit: 'You have reached today\'s limit of tickets for this service.',
      service_quota: 'This service has no tickets left today.',
      numbers_exhausted: 'This service has no tickets left today.',
      closed: 'This service is not issuing tickets now.',
      blacklisted: 'We cannot issue you a ticket here. Please ask the staff in the hall.',
      not_available: 'No remote ticket can be taken with this number now. Please use a kiosk in the hall or ask staff.',
      remote_share: 'Today\'s remote tickets for this service are gone. Please use a kiosk in the hall.',
      real_name_required: 'This hall takes remote tickets on the province\'s citizen portal, after real-name sign-in.',
      too_many_requests: 'Too many tickets from this connection. Please try again later.',
      network: 'No connection. Please try again.',
      other: 'The ticket could not be taken. Please try again or take one in the hall.',
    } },
};

function refusal(w) {
  if (!failure) return '';
  const r = w.refusals;
  if (failure.code === ErrorCode.Closed) return r.closed;
  if (failure.code === ClientErrorCode.Network) return r.network;
  return r[failure.reason] || r[failure.code] || r.other;
}

function render() {
  const w = words[lang];
  const zh = lang === 'zh';
  document.documentElement.lang = zh ? 'zh-CN' : 'en';
  document.title = `${w.title} · hallq`;
  $('#title').textContent = w.title;
  const toggle = $('#lang');
  toggle.textContent = w.toggle;
  toggle.lang = zh ? 'en' : 'zh-CN';
  $('#services-label').textContent = w.pick;
  $('#id-label').textContent = w.id;
  $('#privacy').textContent = w.privacy;
  $('#submit').textContent = busy ? w.busy : w.submit;
  $('#submit').disabled = busy || services === null || services.length === 0;
  $('#error').textContent = refusal(w);
  if (services === null) return;
  $('#none').hidden = services.length > 0;
  $('#none').textContent = services.length ? '' : w.none;
  fill($('#services'), services.map((s) => {
    const id = `svc-${s.code}`;
    const facts = [w.waiting(s.waiting), w.wait(s.estimated_wait_s)].filter(Boolean).join(' · ');
    return el('div', { class: 'choice' },
      el('input', { type: 'radio', name: 'service', id, value: s.code, checked: s.code === chosen, onchange: () => { chosen = s.code; } }),
      el('label', { for: id }, el('span', { class: 'code', text: s.code }), ' ', (s.name && s.name[lang]) || s.code,
        el('span', { class: 'facts-line', text: facts })));
  }));
}

async function load() {
  try {
    const all = await api('GET', 'services');
    services = all.filter((s) => s.remote && s.issuing);
    if (!services.some((s) => s.code === chosen)) chosen = services.length === 1 ? services[0].code : '';
    failure = null;
  } catch (e) {
    services = services || [];
    failure = { code: e.code, reason: e.reason };
  }
  render();
}

$('#take').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!chosen) {
    failure = { code: ErrorCode.Invalid, reason: 'pick' };
    render();
    return;
  }
  const input = $('#id-number');
  busy = true;
  failure = null;
  render();
  try {
    const t = await api('POST', 'remote-tickets', { body: { service: chosen, id_number: input.value, claim: claim() } });
    input.value = '';
    location.assign('/t/' + encodeURIComponent(t.id));
    return;
  } catch (e) {
    failure = { code: e.code, reason: e.reason };
    if (e.reason === Reason.InvalidIdNumber) input.focus();
  }
  busy = false;
  render();
});

$('#lang').addEventListener('click', () => {
  lang = lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('hallq.lang', lang);
  render();
});
render();
load();
