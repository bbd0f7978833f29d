// clerkvisit.js — the visit's matters on the clerk console (一票到底): the
// current ticket's matters with their outcomes, adding a matter the hall
// handles, removing one still open, and recording each one's outcome —
// done (办结), accepted with its case number (受理), materials incomplete
// with the missing materials ticked on its checklist (材料不全: the
// one-time notice), refused with the reason (不予受理).
import { $, el, fill, both } from './hallq.js';
import { Action, Outcome } from './codes.js';
import { visitConsole } from './clerk.js';
import { outcomeWords, hallMatters, matterByCode } from './visit.js';

let hm = null;
let outcomeFor = ''; // the matter code the outcome dialog is for

async function load() {
  if (hm) return;
  try {
    hm = await hallMatters(visitConsole.token());
  } catch {
    return; // drawn without the list; the next render asks again
  }
  render();
}

function render() {
  const t = visitConsole.current();
  $('#visit').hidden = !t;
  if (!t) return;
  if (!hm) {
    load();
    return;
  }
  const on = new Set((t.matters || []).map((m) => m.code));
  const picked = $('#matter-add').value; // every event redraws: the clerk's pick stays while it is offered
  fill($('#matter-add'), el('option', { value: '', text: '选择事项 Choose a matter' }),
    hm.matters.filter((m) => !on.has(m.code)).map((m) => el('option', { value: m.code,
      text: `${m.name.zh}${m.name.en ? ' ' + m.name.en : ''}（${m.services.join('/')}）` })));
  if (picked && !on.has(picked)) $('#matter-add').value = picked;
  $('#matter-add-btn').disabled = false;
  const ms = t.matters || [];
  fill($('#matters'), ms.length ? ms.map((m) => matterRow(t, m)) : el('li', { class: 'empty', text: '尚未添加事项 · No matter added yet' }));
}

function matterRow(t, m) {
  const here = m.services.includes(t.service);
  const label = `${m.name.zh}${m.name.en ? ' ' + m.name.en : ''}`;
  const result = m.outcome ? both(outcomeWords[m.outcome]) + (m.case_number ? ` · ${m.case_number}` : '') +
    (m.missing && m.missing.length ? ` · 缺 ${m.missing.map((x) => x.zh).join('、')}` : '') + (m.reason ? ` · ${m.reason}` : '')
    : here ? '待办理 · To handle' : `在 ${m.services.join('/')} 办理 · At ${m.services.join('/')}`;
  return el('li', { 'data-matter': m.code },
    el('span', { class: 'matter-name', text: label }), ' ',
    el('span', { class: 'matter-outcome', text: result }), ' ',
    !m.outcome && here ? el('button', { type: 'button', 'aria-label': `办理结果 Outcome ${label}`, onclick: () => openOutcome(m.code) }, '办理结果 Outcome') : null,
    !m.outcome ? el('button', { type: 'button', class: 'secondary', 'aria-label': `移除 Remove ${label}`,
      onclick: () => visitConsole.act('移除事项 Remove a matter', Action.RemoveMatter, t, { matter: m.code }) }, '移除 Remove') : null);
}

$('#matter-add-btn').addEventListener('click', () => {
  const t = visitConsole.current();
  const code = $('#matter-add').value;
  if (t && code) visitConsole.act('添加事项 Add a matter', Action.AddMatter, t, { matter: code });
});

function openOutcome(code) {
  const m = matterByCode(hm, code);
  if (!m) return;
  outcomeFor = code;
  $('#outcome-matter').textContent = m.name.zh;
  for (const r of document.querySelectorAll('#outcome-form input[name=outcome]')) r.checked = r.value === Outcome.Done;
  $('#outcome-case').value = '';
  $('#outcome-reason').value = '';
  fill($('#outcome-missing-list'), m.materials.map((mat, i) => el('p', { class: 'check' },
    el('input', { type: 'checkbox', id: `missing-${i}`, value: String(i) }),
    el('label', { for: `missing-${i}`, text: `${mat.name.zh}${mat.name.en ? ' ' + mat.name.en : ''}` }))));
  outcomeFields();
  visitConsole.openDialog($('#outcome-dialog'));
}

// outcomeFields shows the field the chosen outcome needs.
function outcomeFields() {
  const o = document.querySelector('#outcome-form input[name=outcome]:checked').value;
  $('#outcome-case-field').hidden = o !== Outcome.Accepted;
  $('#outcome-missing').hidden = o !== Outcome.Incomplete;
  $('#outcome-reason-field').hidden = o !== Outcome.Refused;
}
for (const r of document.querySelectorAll('#outcome-form input[name=outcome]')) r.addEventListener('change', outcomeFields);

$('#outcome-dialog').addEventListener('close', () => {
  const t = visitConsole.current();
  if ($('#outcome-dialog').returnValue !== 'ok' || !t || !outcomeFor) return;
  const outcome = document.querySelector('#outcome-form input[name=outcome]:checked').value;
  const body = { matter: outcomeFor, outcome };
  if (outcome === Outcome.Accepted) body.case_number = $('#outcome-case').value.trim();
  if (outcome === Outcome.Refused) body.reason = $('#outcome-reason').value.trim();
  if (outcome === Outcome.Incomplete) body.missing = [...document.querySelectorAll('#outcome-missing-list input:checked')].map((c) => Number(c.value));
  visitConsole.act('办理结果 Outcome', Action.Outcome, t, body);
});

visitConsole.onRender.push(render);
