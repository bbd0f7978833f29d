// notify-ticket.js — Web Push for one ticket, without sign-in: the module
// the ticket page (/t/{ticket}) can use, and /notifications?ticket=ID.
// optInForTicket asks the browser's permission, subscribes it with the
// central's VAPID key and tells the central to push "few ahead", "called"
// and "missed" for that ticket alone.

import { call, lang } from '/p/portal.js';

/** pushSupported says whether this browser can take Web Push at all. */
export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** registration is the portal's service worker (/sw.js, scope /), registered once. */
export async function registration() {
  await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  return navigator.serviceWorker.ready;
}

function keyBytes(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** pushTimeout is how long the browser's push service may take to subscribe. */
export const pushTimeout = 8000;

/** NotifyError is a browser-side refusal: no support, permission denied, no push service. */
export class NotifyError extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

/** subscription returns this browser's push subscription, making one when asked. */
export async function subscription(create) {
  if (!pushSupported()) throw new NotifyError('unsupported', 'this browser has no Web Push');
  const reg = await registration();
  let sub = await reg.pushManager.getSubscription();
  if (sub || !create) return sub;
  const perm = await Notification.requestPermission();
  if (perm !== 'granted') throw new NotifyError('denied', 'notifications are not allowed for this site');
  const { public_key: key } = await call('GET', 'notifications/vapid-key');
  // A browser whose push service cannot be reached (Chrome's is abroad)
  // may never answer: after pushTimeout the page says so.
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the push service did not answer')), pushTimeout);
  });
  try {
    sub = await Promise.race([reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }), late]);
  } catch (e) {
    throw new NotifyError('no_push_service', String((e && e.message) || e));
  } finally {
    clearTimeout(timer);
  }
  return sub;
}

/** optInForTicket turns on push for ticket id in this browser; it returns the central's reply. */
export async function optInForTicket(ticketId) {
  const sub = await subscription(true);
  return call('PUT', `tickets/${encodeURIComponent(ticketId)}/notifications`, { body: { subscription: sub.toJSON(), lang: lang() } });
}

/** optOutForTicket stops it. */
export async function optOutForTicket(ticketId) {
  const sub = await subscription(false);
  if (!sub) return { following: false };
  return call('DELETE', `tickets/${encodeURIComponent(ticketId)}/notifications`, { body: { endpoint: sub.endpoint } });
}

/** ticketFollowing says whether this browser follows ticket id. */
export async function ticketFollowing(ticketId) {
  const sub = pushSupported() ? await subscription(false) : null;
  if (!sub) return false;
  const r = await call('GET', `tickets/${encodeURIComponent(ticketId)}/notifications`, { query: { endpoint: sub.endpoint } });
  return r.following;
}
