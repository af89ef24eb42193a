// The visitor flow, second by second. Residents' sockets (official socket.io-client) join their flat rooms and
// a gate tablet (the first guard) its society's room, as in the apps; guards POST /v1/visitors at a steady RATE per second for SECONDS, whether or not earlier ones were answered;
// a request's latency runs from its POST leaving to its resident's socket receiving `visitor_request`.
// Prints one JSON line: the run's totals and percentiles, `started_at` (ms since the epoch, to line the run up
// with what the server did then) and `timeline`: per second of sending, the requests sent then and the
// p50/p99/max of those answered.
// With ROUNDTRIP=1 each resident approves the request the moment it hears it, and `roundtrip` times the POST
// leaving to the tablet hearing `request_approved`: the guard's whole wait. The sender is the same timer either
// way, so the client spends its CPU on requests and events, not on spinning for the next send.
// The client warms its own HTTP code before the clock (see warmClient); `client_cpu_ms` is its CPU from the first
// send to the end of the drain.
// Usage: node flow_timeline.js FIXTURE.json BASE_URL RATE SECONDS   (DRAIN_MS: wait for late events, 3000)
const fs = require('fs');
const http = require('http');
const { io } = require('socket.io-client');

const [fixturePath, baseUrl, rateArg, secondsArg] = process.argv.slice(2);
const fixture = JSON.parse(fs.readFileSync(fixturePath, 'utf8'));
const rate = Number(rateArg), seconds = Number(secondsArg), drainMs = Number(process.env.DRAIN_MS || 3000);
const roundtrip = process.env.ROUNDTRIP === '1';
const clock = () => performance.now();
const round2 = x => (x == null ? null : Math.round(x * 100) / 100);

// Nearest rank: the smallest value with at least p% of the values at or below it.
function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    received: sorted.length,
    p50: round2(percentile(sorted, 50)), p95: round2(percentile(sorted, 95)),
    p99: round2(percentile(sorted, 99)), max: round2(sorted.at(-1)),
  };
}

function openSocket(token) {
  return new Promise((resolve, reject) => {
    const socket = io(baseUrl, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', err => reject(new Error(`socket refused: ${err.message}`)));
  });
}

async function join(socket, roomType, roomId) {
  const ack = await socket.timeout(30000).emitWithAck('join_room', { room_type: roomType, room_id: roomId });
  if (!ack?.ok) throw new Error(`join_room refused: ${JSON.stringify(ack)}`);
}

// name -> {sentAt, second, latency, roundtrip}; filled in by the residents' and the tablet's sockets.
const requests = new Map();

async function online() {
  const sockets = [];
  for (let i = 0; i < fixture.residents.length; i += 50) {
    const batch = fixture.residents.slice(i, i + 50).map(async resident => {
      const socket = await openSocket(resident.token);
      await join(socket, 'flat', resident.flat_id);
      socket.on('visitor_request', message => {
        const visitor = message.data || message;
        const entry = requests.get(visitor.name);
        if (!entry || entry.latency != null) return;
        entry.latency = clock() - entry.sentAt;
        if (roundtrip) approve(resident.token, visitor.id);
      });
      return socket;
    });
    sockets.push(...(await Promise.all(batch)));
  }
  const tablet = await openSocket(fixture.guards[0].token);
  await join(tablet, 'society', fixture.society_id);
  tablet.on('request_approved', message => {
    const entry = requests.get((message.data || message).name);
    if (entry && entry.roundtrip == null) entry.roundtrip = clock() - entry.sentAt;
  });
  return [...sockets, tablet];
}

// Node loads and compiles its fetch (undici) on first use: the first request stalls this process for tens of
// milliseconds (72 ms seen on the 2-core machine), and the next few hundred run cold code. Done inside the clock,
// that lands in the first second of whichever server runs, as a tail neither caused. So the client warms its own
// HTTP code first, against a server of its own: the server under test sees nothing of it.
async function warmClient() {
  const local = http.createServer((req, res) => req.resume().on('end', () => res.end('{}')));
  await new Promise(resolve => local.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${local.address().port}/v1/visitors`;
  const post = () => fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer warm-up' }, body: '{}',
  }).then(res => res.arrayBuffer());
  for (let i = 0; i < 30; i++) await Promise.all(Array.from({ length: 10 }, post));
  local.closeAllConnections();
  local.close();
}

const errors = {};
const countError = key => { errors[key] = (errors[key] || 0) + 1; };

function approve(token, visitorId) {
  fetch(`${baseUrl}/v1/visitors/${visitorId}/respond`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ decision: 'approve' }),
  })
    .then(res => { if (res.status !== 200) countError(`respond_${res.status}`); return res.arrayBuffer(); })
    .catch(err => countError(err.cause?.code || err.message));
}

function register(k, start) {
  const resident = fixture.residents[k % fixture.residents.length];
  const guard = fixture.guards[k % fixture.guards.length];
  const name = `tl-${process.pid}-${k}`;
  requests.set(name, { sentAt: clock(), second: Math.floor((clock() - start) / 1000), latency: null, roundtrip: null });
  fetch(`${baseUrl}/v1/visitors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${guard.token}`, 'idempotency-key': name },
    body: JSON.stringify({ flat_id: resident.flat_id, name, purpose: 'delivery' }),
  })
    .then(res => { if (res.status !== 201) countError(`create_${res.status}`); return res.arrayBuffer(); })
    .catch(err => countError(err.cause?.code || err.message));
}

// Send each request at its own moment (k / rate seconds after the start), catching up after a late timer.
function sendAll() {
  const total = Math.round(rate * seconds), start = clock();
  let sent = 0;
  return new Promise(resolve => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((clock() - start) / 1000) * rate) + 1);
      while (sent < due) register(sent++, start);
      if (sent >= total) return resolve({ total, sendSeconds: (clock() - start) / 1000 });
      setTimeout(tick, Math.max(0, ((sent / rate) * 1000) - (clock() - start)));
    };
    tick();
  });
}

function timeline() {
  const seconds = [];
  for (const { second, latency } of requests.values()) {
    seconds[second] ??= { sent: 0, latencies: [] };
    seconds[second].sent += 1;
    if (latency != null) seconds[second].latencies.push(latency);
  }
  // Array.from, not map: a second in which nothing was sent (a stalled client) is a hole map would keep.
  return Array.from(seconds, (s, second) => ({ second, sent: s?.sent ?? 0, ...summary(s?.latencies ?? []) }));
}

(async () => {
  await warmClient();
  const sockets = await online();
  console.log('clock'); // scripts/bench reads the machine's CPU counters now and at the result line
  const startedAt = Date.now(), cpuBefore = process.cpuUsage();
  const { total, sendSeconds } = await sendAll();
  await new Promise(resolve => setTimeout(resolve, drainMs));
  const cpu = process.cpuUsage(cpuBefore);
  const heard = key => [...requests.values()].filter(r => r[key] != null).map(r => r[key]);
  console.log(JSON.stringify({
    rate, seconds, sent: total, send_secs: round2(sendSeconds), started_at: startedAt,
    client_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    ...summary(heard('latency')), ...(roundtrip ? { roundtrip: summary(heard('roundtrip')) } : {}),
    errors, timeline: timeline(),
  }));
  sockets.forEach(socket => socket.close());
  process.exit(0);
})().catch(err => { console.error(err); process.exit(1); });
