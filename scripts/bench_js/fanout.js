// Fan-out: N sockets (guards) in one society room; one approval is emitted to that room;
// time from sending the resident's POST .../respond to the LAST socket receiving request_approved.
// The first WARMUP rounds (2) are run and reported but left out of the median: in them this one process
// runs its event handlers cold (on the 2-core machine both servers' first two rounds took 50-140 ms, the
// rest mostly 25-60), which says nothing about either server.
// Each round also reports `client_cpu_ms`, the CPU this process spent between the POST and the last
// socket's event: the one client reads all N sockets, and when that is near `last_ms` the round measured
// the client more than the server.
// Usage: node fanout.js FIXTURE.json BASE_URL[,BASE_URL2] SOCKETS ROUNDS   (prints one JSON line; WARMUP, SETTLE_MS)
const fs = require('fs');
const { io } = require('socket.io-client');
const [fixtureFile, bases, socketsArg, roundsArg] = process.argv.slice(2);
const fx = JSON.parse(fs.readFileSync(fixtureFile, 'utf8'));
const urls = bases.split(','), N = +socketsArg, ROUNDS = +(roundsArg || 5), WARMUP = +(process.env.WARMUP ?? 2);
const SETTLE_MS = +(process.env.SETTLE_MS ?? 300);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const connect = (url, token) => new Promise((resolve, reject) => {
  const s = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  s.once('connect', () => resolve(s)); s.once('connect_error', e => reject(new Error('connect_error: ' + e.message)));
});
const emitAck = (s, ev, msg) => new Promise(r => s.emit(ev, msg, r));
async function post(url, path, token, body, key) {
  const res = await fetch(url + path, { method: 'POST', body: JSON.stringify(body), headers: {
    'content-type': 'application/json', authorization: 'Bearer ' + token, ...(key ? { 'idempotency-key': key } : {}) } });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path} -> ${res.status} ${text}`);
  return JSON.parse(text);
}
(async () => {
  const socks = [];
  for (let i = 0; i < N; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 100); j++) {
      const g = fx.guards[j % fx.guards.length];
      batch.push(connect(urls[j % urls.length], g.token).then(async s => {
        const ack = await emitAck(s, 'join_room', { room_type: 'society', room_id: fx.society_id });
        if (!ack || !ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
        return s;
      }));
    }
    socks.push(...await Promise.all(batch));
  }
  const results = [];
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const r = fx.residents[round % fx.residents.length], g = fx.guards[0];
    const name = `fan-${process.pid}-${round}`;
    // The walk-in first. A server that tells the society's tablets about it (Gatehouse does; the peer tells only
    // the flat) sends N `visitor_request`s to these sockets. Both servers get the same SETTLE_MS after it before
    // the clock starts, so that the approval's N are not timed while this one process still reads those;
    // `walk_in_heard` says how many had come by then.
    let heard = 0;
    for (const s of socks) s.once('visitor_request', msg => { if ((msg.data || msg).name === name) heard++; });
    const visitor = await post(urls[0], '/v1/visitors', g.token, { flat_id: r.flat_id, name }, name);
    await new Promise(res => setTimeout(res, SETTLE_MS));
    for (const s of socks) s.removeAllListeners('visitor_request');
    const walkInHeard = heard;
    let remaining = N, t0 = 0, last = 0, cpu0 = null, cpu = null;
    const done = new Promise(resolve => {
      for (const s of socks) s.once('request_approved', msg => {
        const d = msg.data || msg; if (d.name !== name) return;
        last = now();
        if (--remaining === 0) { cpu = process.cpuUsage(cpu0); resolve(); }
      });
    });
    t0 = now(); cpu0 = process.cpuUsage();
    await post(urls[urls.length - 1], `/v1/visitors/${visitor.id}/respond`, r.token, { decision: 'approve' });
    const timeout = new Promise(resolve => setTimeout(resolve, 10000));
    await Promise.race([done, timeout]);
    results.push({ received: N - remaining, last_ms: remaining === 0 ? +(last - t0).toFixed(2) : null,
      client_cpu_ms: cpu ? +((cpu.user + cpu.system) / 1000).toFixed(2) : null, walk_in_heard: walkInHeard,
      warmup: round < WARMUP });
    for (const s of socks) s.removeAllListeners('request_approved');
    await new Promise(res => setTimeout(res, 300));
  }
  const counted = results.filter(x => !x.warmup && x.last_ms != null);
  const ok = counted.map(x => x.last_ms).sort((a, b) => a - b);
  const cpu = counted.map(x => x.client_cpu_ms).sort((a, b) => a - b);
  const median = xs => (xs.length ? xs[Math.floor(xs.length / 2)] : null);
  console.log(JSON.stringify({ sockets: N, rounds: ROUNDS, warmup_rounds: WARMUP, complete_rounds: ok.length,
    median_last_ms: median(ok), max_last_ms: ok.length ? ok[ok.length - 1] : null,
    median_client_cpu_ms: median(cpu), rounds_detail: results }));
  for (const s of socks) s.close();
  process.exit(0);
})().catch(e => { console.error(e); process.exit(1); });
