// visit.js — the words and reads the visit's pages share: a matter's
// outcome, the 好差评 levels, the hall's matters (checklists and rating
// options, from matters.list), and the refusals of the visit in people's words.
import { api, reasonWords } from './hallq.js';
import { Outcome, Reason } from './codes.js';

export const outcomeWords = {
  [Outcome.Done]: ['已办结', 'Done'],
  [Outcome.Accepted]: ['已受理', 'Accepted'],
  [Outcome.Incomplete]: ['材料不全', 'Materials incomplete'],
  [Outcome.Refused]: ['不予受理', 'Refused'],
};

// levels are the five levels of 政务服务"好差评", best first.
export const levels = [
  [5, '非常满意', 'Very satisfied'],
  [4, '满意', 'Satisfied'],
  [3, '基本满意', 'Basically satisfied'],
  [2, '不满意', 'Dissatisfied'],
  [1, '非常不满意', 'Very dissatisfied'],
];

Object.assign(reasonWords, {
  [Reason.UnknownMatter]: ['本大厅不办理这个事项', 'This hall does not handle that matter'],
  [Reason.MatterOnTicket]: ['这个事项已经在本号码上', 'That matter is already on this ticket'],
  [Reason.MatterNotOnTicket]: ['这个号码没有这个事项', 'This ticket does not carry that matter'],
  [Reason.MatterHasOutcome]: ['这个事项已有办理结果', 'That matter already has its outcome'],
  [Reason.MattersPending]: ['还有事项没有办理结果：请先记录结果、移除或转移', 'A matter has no outcome yet: record it, remove it or transfer'],
  [Reason.RatingNeedsReason]: ['请选择或写下不满意的原因', 'Please choose or write what went wrong'],
  [Reason.NoNotice]: ['这个号码没有一次性告知单', 'This ticket has no one-time notice'],
});

let matters = null;
// hallMatters reads the hall's matters once (they are public).
export async function hallMatters(token) {
  if (!matters) matters = await api('GET', 'matters', { token });
  return matters;
}

export const matterByCode = (hm, code) => (hm ? hm.matters.find((m) => m.code === code) : null);
