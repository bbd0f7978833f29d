// home.js — the portal's home (/): find the matter to book (search in
// Chinese or English over the catalogue) and the three steps of booking.

import { $, el, fill } from '/assets/js/hallq.js';
import { t } from '/p/portal.js';
import { bookable, header, matters, me, search } from '/p/citizen.js';

let query = '';
let list = [];

function render() {
  header(render);
  const found = search(list, query);
  const input = el('input', { id: 'search', type: 'search', value: query, autocomplete: 'off',
    placeholder: t({ zh: '例如：护照、身份证、户口', en: 'e.g. passport, ID card, household' }),
    oninput: (e) => { query = e.target.value; drawList(found.length); } });
  fill($('#main'),
    el('h1', {}, t({ zh: '网上预约办事', en: 'Book a visit online' })),
    el('p', { class: 'lead' }, t({ zh: '先看要带什么，再选人少的大厅和时间。到大厅后在自助机刷身份证或扫预约二维码即可取号。',
      en: 'See what to bring, then pick a less busy hall and a time. At the hall, swipe your ID card or scan the booking QR code at the kiosk.' })),
    el('section', { class: 'card', 'aria-labelledby': 'find-h' },
      el('h2', { id: 'find-h' }, t({ zh: '您要办什么？', en: 'What do you need to do?' })),
      el('label', { for: 'search' }, t({ zh: '搜索事项', en: 'Search' })),
      input,
      el('ul', { id: 'matters', class: 'matters' })),
    el('section', { class: 'card steps', 'aria-labelledby': 'steps-h' },
      el('h2', { id: 'steps-h' }, t({ zh: '怎么预约', en: 'How booking works' })),
      el('ol', {},
        el('li', {}, t({ zh: '选事项，看办事指南（要带的材料、费用、办结时限）', en: 'Choose the matter and read its guide (what to bring, fees, time limit)' })),
        el('li', {}, t({ zh: '选大厅：能看到现在排队人数和最近的空闲时段', en: 'Choose a hall: see how many are waiting now and the next free times' })),
        el('li', {}, t({ zh: '选日期和时段，登录后确认，保存预约二维码', en: 'Choose a day and time, sign in, confirm and keep the booking QR code' })))));
  drawList();
  const i = $('#search');
  if (document.activeElement === document.body && query) i.focus();
}

function drawList() {
  const found = search(list, query);
  fill($('#matters'), found.length
    ? found.map((m) => el('li', {},
        el('a', { class: 'button matter', href: '/book?m=' + encodeURIComponent(m.code), 'data-matter': m.code },
          t(m.name), bookable(m) ? null : el('span', { class: 'tag' }, t({ zh: '无需预约', en: 'no booking needed' })))))
    : [el('li', { class: 'empty' }, t({ zh: '没有找到，换个词试试。', en: 'Nothing found; try another word.' }))]);
}

(async () => {
  await me().catch(() => null);
  list = await matters().catch(() => []);
  render();
})();
