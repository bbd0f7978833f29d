// sw.js — the portal's service worker (scope /): it shows the Web Push
// notifications the central sends (central/notify: {id, kind, title,
// body, url}) and opens the page a notification names when it is clicked.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

// Only a page of this site is opened.
function safeURL(u) {
  return typeof u === 'string' && u.startsWith('/') && !u.startsWith('//') ? u : '/';
}

// tell lets open pages know a message arrived (a page may refresh what it shows).
function tell(msg) {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => list.forEach((c) => c.postMessage(msg)));
}

self.addEventListener('push', (e) => {
  let d = {};
  try {
    d = e.data ? e.data.json() : {};
  } catch {
    d = { title: e.data ? e.data.text() : '' };
  }
  const urgent = d.kind === 'called';
  const title = d.title || '消息提醒 Notification';
  const opts = {
    body: d.body || '',
    tag: d.id || d.kind || 'hallq',
    renotify: urgent,
    requireInteraction: urgent,
    data: { url: safeURL(d.url), kind: d.kind || '' },
  };
  const shown = self.registration.showNotification(title, opts).then(
    () => tell({ type: 'hallq-push', shown: true, title, body: opts.body, url: opts.data.url, urgent }),
    (err) => tell({ type: 'hallq-push', shown: false, error: String(err) }),
  );
  e.waitUntil(shown);
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const url = new URL(safeURL(e.notification.data && e.notification.data.url), self.location.origin).href;
  e.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
      for (const c of list) if (c.url === url && 'focus' in c) return c.focus();
      return self.clients.openWindow(url);
    }),
  );
});
