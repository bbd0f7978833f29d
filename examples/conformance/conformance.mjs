// conformance.mjs — a hallq client written from the hall's OpenAPI document
// alone (GET /api/v1/openapi.json), as a third party would: it finds every
// route by its x-operation, checks each reply's status and required fields
// against the document, and issues, calls and resumes over REST and the
// websocket (with the `ws` library, not the Go client).
//
//   HALLQ_URL=http://127.0.0.1:8080 HALLQ_TOKEN=hq_… node conformance.mjs
//
// HALLQ_TOKEN is an admin token (the server's bootstrap-token). It prints
// what it checked and exits 0, or prints the first mismatch and exits 1.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const base = (process.env.HALLQ_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const adminToken = process.env.HALLQ_TOKEN;
if (!adminToken) fail('set HALLQ_TOKEN to an admin token');

function fail(msg) {
  console.error(`conformance: FAIL: ${msg}`);
  process.exit(1);
}
function check(ok, msg) {
  if (!ok) fail(msg);
}
const newKey = () => randomBytes(12).toString('hex');

// ---- the document ----

const spec = await (await fetch(`${base}/api/v1/openapi.json`)).json();
check(spec.openapi?.startsWith('3.1'), `not an OpenAPI 3.1 document: ${spec.openapi}`);

// ops: x-operation → [{method, path, op}] (windows.set has one path per state)
const ops = {};
for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (!op['x-operation']) continue;
    (ops[op['x-operation']] ||= []).push({ method: method.toUpperCase(), path, op });
  }
}

function resolve(schema) {
  while (schema && schema.$ref) {
    schema = schema.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k], spec);
  }
  return schema;
}

// conforms checks a value against the schema's types, required fields,
// enums and closed objects — enough to notice a drifting server.
function conforms(value, schema, where) {
  schema = resolve(schema);
  if (!schema) return;
  const t = schema.type;
  const types = Array.isArray(t) ? t : t ? [t] : [];
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (types.length && !types.includes(kind) && !(kind === 'integer' && types.includes('number'))) {
    fail(`${where}: ${JSON.stringify(value)?.slice(0, 80)} is ${kind}, the document says ${types}`);
  }
  if (schema.enum) check(schema.enum.includes(value), `${where}: ${value} is not one of ${schema.enum}`);
  if ('const' in schema) check(value === schema.const, `${where}: ${value} is not ${schema.const}`);
  if (kind === 'object') {
    for (const r of schema.required || []) check(r in value, `${where}: required field ${r} missing`);
    for (const [k, v] of Object.entries(value)) {
      const ps = schema.properties?.[k];
      if (ps) conforms(v, ps, `${where}.${k}`);
      else check(schema.additionalProperties !== false, `${where}: field ${k} is not in the document`);
    }
  }
  if (kind === 'array' && schema.items) value.forEach((v, i) => conforms(v, schema.items, `${where}[${i}]`));
}

// call runs an operation by its name over REST, checks the reply against
// the document, and returns {status, body}.
async function call(name, { token = adminToken, params = {}, body, idem, expect } = {}) {
  const candidates = ops[name];
  check(candidates, `the document has no operation ${name}`);
  // windows.set has one path per state; every other operation has one path
  const route = candidates.find((c) => !params.state || c.path.endsWith(`/${params.state}`));
  check(route, `${name}: no path for ${JSON.stringify(params)}`);
  let path = route.path;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (k === 'state') continue;
    if (path.includes(`{${k}}`)) path = path.replace(`{${k}}`, encodeURIComponent(v));
    else query.set(k, v);
  }
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idem) headers['Idempotency-Key'] = idem;
  const qs = query.size ? `?${query}` : '';
  const res = await fetch(base + path + qs, { method: route.method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  const declared = route.op.responses[String(res.status)];
  check(declared, `${route.method} ${path}: status ${res.status} is not in the document (${text.slice(0, 200)})`);
  const schema = declared.content?.['application/json']?.schema;
  if (schema && json !== undefined) conforms(json, schema, `${name} ${res.status}`);
  if (expect !== undefined) check(res.status === expect, `${name}: ${res.status} ${text.slice(0, 300)}, want ${expect}`);
  return { status: res.status, body: json };
}

// ---- a websocket client from the frame schemas ----

// epoch: the welcome's epoch that lastSeq was counted in (a resume from
// another epoch, or none on a store that has one, gets a resync).
function connect(token, lastSeq = 0, epoch = undefined) {
  const url = base.replace(/^http/, 'ws') + '/ws';
  const ws = new WebSocket(url);
  const frames = [];
  const waiters = [];
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    const schema = { hello: 'HelloFrame', welcome: 'WelcomeFrame', event: 'EventFrame', services: 'ServicesFrame', resync: 'ResyncFrame', reply: 'ReplyFrame', error: 'ErrorFrame' }[f.type];
    check(schema, `unknown frame type ${f.type}`);
    conforms(f, { $ref: `#/components/schemas/${schema}` }, `${f.type} frame`);
    frames.push(f);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (match, what) => {
    const deadline = Date.now() + 60000; // generous: a busy machine is slow, not broken
    for (;;) {
      const i = frames.findIndex(match);
      if (i >= 0) return frames.splice(i, 1)[0];
      check(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
    }
  };
  const opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  let n = 0;
  return {
    ws, frames, next,
    async hello() {
      await opened;
      ws.send(JSON.stringify({ type: 'hello', token, last_seq: lastSeq, epoch }));
      return next((f) => f.type === 'welcome', 'welcome');
    },
    send(op, params, body, idem) {
      const id = `r${++n}`;
      ws.send(JSON.stringify({ type: 'request', id, op, params, body, idempotency_key: idem }));
      return id;
    },
    reply(id) { return next((f) => f.type === 'reply' && f.id === id, `the reply to ${id}`); },
    close() { ws.close(); },
  };
}

// ---- the run ----

const log = (s) => console.log(`conformance: ok: ${s}`);
const { body: windows } = await call('windows.list', { expect: 200 });
const { body: services } = await call('services.list', { expect: 200 });
// a service a walk-in takes without an ID card, and a window that serves it first
const svc = services.find((s) => !s.requires_id && s.issuing && windows.some((w) => w.services[0] === s.code));
check(svc, 'no issuing service without ID served first by a window');
const service = svc.code;
const win = windows.find((w) => w.services[0] === service);
const kiosk = (await call('tokens.create', { body: { name: 'node-kiosk', role: 'kiosk' }, expect: 201 })).body.token;
const clerk = (await call('tokens.create', { body: { name: 'node-clerk', role: 'clerk', window: win.number }, expect: 201 })).body.token;
const display = (await call('tokens.create', { body: { name: 'node-board', role: 'display' }, expect: 201 })).body.token;
log('tokens created');

// issue, retry with the same key, reuse the key for another request
const key = newKey();
const t1 = (await call('tickets.issue', { token: kiosk, body: { service }, idem: key, expect: 201 })).body;
const again = (await call('tickets.issue', { token: kiosk, body: { service }, idem: key, expect: 201 })).body;
check(again.id === t1.id, `a retry with the same key issued ${again.id}, not ${t1.id}`);
const reused = await call('tickets.issue', { token: kiosk, body: { service, channel: 'priority' }, idem: key, expect: 422 });
check(reused.body.error.reason === 'idempotency_key_reused', `reuse: ${JSON.stringify(reused.body)}`);
check(!('masked_id' in t1), 'a kiosk received a masked ID');
const t2 = (await call('tickets.issue', { token: kiosk, body: { service }, idem: newKey(), expect: 201 })).body;
log(`issued ${t1.number} and ${t2.number}; the retry returned the same ticket; the reused key got 422`);

// a board follows the stream from the start
const board = connect(display);
const welcome = await board.hello();
check(Number.isInteger(welcome.seq), `welcome without seq: ${JSON.stringify(welcome)}`);
const resync = await board.next((f) => f.type === 'resync', 'resync');
let seen = resync.overview.seq;

// the clerk opens, calls, and pipelines complete + call next on one connection
const desk = connect(clerk);
await desk.hello();
const open = await desk.reply(desk.send('windows.set', { window: win.number, state: 'open' }, undefined, newKey()));
check(open.status === 200 && open.result.status === 'open', `open: ${JSON.stringify(open)}`);
const first = await desk.reply(desk.send('windows.call', { window: String(win.number) }, undefined, newKey()));
check(first.status === 200 && first.result.id === t1.id, `call: ${JSON.stringify(first).slice(0, 300)}`);
const start = await desk.reply(desk.send('tickets.action', { id: t1.id, action: 'start' }, undefined, newKey()));
check(start.status === 200 && start.result.status === 'serving', `start: ${JSON.stringify(start).slice(0, 300)}`);
const done = desk.send('tickets.action', { id: t1.id, action: 'complete' }, undefined, newKey());
const next = desk.send('windows.call', { window: String(win.number) }, undefined, newKey());
const r1 = await desk.next((f) => f.type === 'reply', 'a reply');
const r2 = await desk.next((f) => f.type === 'reply', 'a reply');
check(r1.id === done && r2.id === next, `pipelined replies came as ${r1.id}, ${r2.id}`);
check(r1.status === 200 && r2.status === 200 && r2.result.id === t2.id, `pipelined: ${JSON.stringify([r1.status, r2.status, r2.error])}`);
const unknown = await desk.reply(desk.send('no.such.op', {}));
check(unknown.status === 404, `unknown op: ${JSON.stringify(unknown)}`);
log('opened, called, started, completed and called next (pipelined, in order); an unknown op got 404');

// the board saw each call, gap-free
const calls = [];
while (calls.length < 2) {
  const f = await board.next((x) => x.type === 'event', 'an event');
  check(f.event.seq === seen + 1, `event seq ${f.event.seq} after ${seen}: a gap or a repeat`);
  seen = f.event.seq;
  if (f.event.type === 'ticket.called') calls.push(f.event.ticket.number);
}
check(calls[0] === t1.number && calls[1] === t2.number, `the board saw calls ${calls}`);
board.close();
desk.close();
log(`the board saw ${calls.join(', ')} called, gap-free up to seq ${seen}`);

// resume: while the board is away, more happens; it comes back with last_seq
await call('tickets.action', { token: clerk, params: { id: t2.id, action: 'start' }, idem: newKey(), expect: 200 });
await call('tickets.action', { token: clerk, params: { id: t2.id, action: 'complete' }, idem: newKey(), expect: 200 });
const back = connect(display, seen, welcome.epoch);
const w2 = await back.hello();
const missed = [];
while (seen < w2.seq) {
  const f = await back.next((x) => x.type === 'event' || x.type === 'resync', 'a replayed event');
  check(f.type === 'event', 'resumed with a resync instead of the events missed');
  check(f.event.seq === seen + 1, `replayed seq ${f.event.seq} after ${seen}`);
  seen = f.event.seq;
  missed.push(f.event.type);
}
check(missed.includes('ticket.completed'), `the resumed board missed the completion: ${missed}`);
back.close();
log(`resumed from seq ${seen - missed.length}: replayed ${missed.join(', ')}`);

// the events page agrees, and an empty page keeps last_seq
const page = (await call('events.list', { params: { after: String(seen) }, expect: 200 })).body;
check(page.events.length === 0 && page.last_seq === seen, `empty events page: ${JSON.stringify(page)}`);
log(`an empty events page has last_seq ${page.last_seq}`);
console.log('conformance: PASS');
process.exit(0);
