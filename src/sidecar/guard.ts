/**
 * The guard: reads chasquid's and dovecot's logs (their json-file logs,
 * mounted read-only), counts failed logins per client address (abuse/), and
 * bans an address at the host's firewall (nftables, in the host's network
 * namespace, with NET_ADMIN and nothing else). Bans live in a file on its
 * volume and in the kernel, where they expire by themselves; `mailctl bans`
 * and `unban` talk to it through a socket inside its own container.
 *
 * The same file is the client: `guard bans`, `guard unban ADDRESS`, `guard health`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { networkInterfaces } from 'node:os';
import { FailureReader, parseJsonLogEntry } from '../abuse/auth-log.js';
import { BanBook, type Ban, type BanBookData } from '../abuse/ban-book.js';
import { canonicalIp, inNetwork, parseBanTarget } from '../names/ip.js';
import { addBans, dropTable, removeBan, renderTable } from '../abuse/nft.js';

const CONTROL = process.env.GUARD_CONTROL ?? '/run/mailctl-guard.sock';
const STATE = process.env.GUARD_STATE ?? '/var/lib/mailctl-guard/bans.json';
const POLL_MS = 500;

function nft(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => { err += c; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nft: ${err.trim() || `exit ${code}`}`))));
    child.stdin.end(script);
  });
}

/**
 * Follows one json-file log: from where the last guard left it (failures
 * while it was down still count), else from its end; a rotated or truncated
 * file is read again from its start.
 */
class LogFollower {
  private offset = -1;
  private inode = -1;
  private rest = '';
  constructor(readonly service: string, readonly path: string, saved?: { inode: number; offset: number }) {
    if (saved) ({ inode: this.inode, offset: this.offset } = saved);
  }

  get position(): { inode: number; offset: number } {
    return { inode: this.inode, offset: this.offset - Buffer.byteLength(this.rest) };
  }

  lines(): { text: string; at: number }[] {
    let st;
    try { st = statSync(this.path); } catch { return []; }
    if (this.offset < 0 || this.inode < 0) { this.offset = st.size; this.inode = st.ino; return []; }
    if (st.ino !== this.inode || st.size < this.offset) { this.offset = 0; this.inode = st.ino; this.rest = ''; }
    if (st.size === this.offset) return [];
    const fd = openSync(this.path, 'r');
    try {
      const size = Math.min(fstatSync(fd).size - this.offset, 4 << 20);
      const buf = Buffer.alloc(Math.max(0, size));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.rest + buf.subarray(0, n).toString('utf8');
      const parts = text.split('\n');
      this.rest = parts.pop() ?? '';
      return parts.map(parseJsonLogEntry).filter((e): e is { text: string; at: number } => e !== undefined);
    } finally {
      closeSync(fd);
    }
  }
}

function trustedCheck(networks: string[]): (ip: string) => boolean {
  return (ip) => {
    if (inNetwork(ip, '127.0.0.0/8') || ip === '::1') return true;
    if (networks.some((n) => inNetwork(ip, n))) return true;
    // The host's own addresses (the guard shares its network): a local client is never banned.
    return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => canonicalIp(a.address.split('%')[0]) === ip));
  };
}

async function serve(): Promise<void> {
  const project = process.env.MAILCTL_PROJECT ?? '';
  const ports = (process.env.GUARD_PORTS ?? '').split(/\s+/).filter(Boolean).map(Number);
  const policy = {
    failures: Number(process.env.GUARD_FAILURES ?? 5),
    windowSeconds: Number(process.env.GUARD_WINDOW ?? 600),
    banSeconds: Number(process.env.GUARD_BAN_TIME ?? 3600),
  };
  const trusted = (process.env.GUARD_TRUSTED ?? '').split(',').filter(Boolean);
  let data: (BanBookData & { logs?: Record<string, { path: string; inode: number; offset: number }> }) | undefined;
  if (existsSync(STATE)) {
    try { data = JSON.parse(readFileSync(STATE, 'utf8')); } catch { console.log(`ignoring an unreadable ${STATE}`); }
  }
  const logs = (process.env.GUARD_LOGS ?? '').split(/\s+/).filter(Boolean).map((item) => {
    const [service, path] = item.split('=', 2);
    const saved = data?.logs?.[service];
    // The same file as before (a recreated container has another): go on where it was left.
    return new LogFollower(service, path, saved?.path === path ? saved : undefined);
  });
  if (!project || !ports.length || !logs.length) throw new Error('MAILCTL_PROJECT, GUARD_PORTS and GUARD_LOGS are needed');

  const book = new BanBook(policy, trustedCheck(trusted), data);
  const save = () => {
    const positions = Object.fromEntries(logs.map((l) => [l.service, { path: l.path, ...l.position }]));
    writeFileSync(`${STATE}.tmp`, JSON.stringify({ ...book.toJSON(Date.now()), logs: positions }), { mode: 0o600 });
    renameSync(`${STATE}.tmp`, STATE);
  };
  const now = Date.now();
  const kept = book.list(now);
  // The table and the bans in force in one transaction: no moment without them.
  await nft(renderTable(project, ports, kept.map((b) => ({ address: b.address, seconds: (b.until - now) / 1000 }))));
  save();
  console.log(`guarding ports ${ports.join(' ')}: ${policy.failures} failed logins in ${policy.windowSeconds}s ban an address for ${policy.banSeconds}s (${kept.length} bans in force)`);

  const reader = new FailureReader();
  const ban = async (b: Ban) => {
    const seconds = (b.until - Date.now()) / 1000;
    await nft(addBans(project, [{ address: b.address, seconds }]));
    save();
    console.log(`banned ${b.address} for ${Math.round(seconds)}s (ban ${b.count} this week): ${b.reason}`);
  };
  let busy = false;
  let saved = Date.now();
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      if (Date.now() - saved > 10_000) { save(); saved = Date.now(); }
      // dovecot first: its hash of an SMTP login is logged before chasquid's failure line.
      for (const log of [...logs].sort((a) => (a.service === 'dovecot' ? -1 : 1))) {
        for (const { text, at } of log.lines()) {
          const failures = log.service === 'dovecot' ? reader.dovecot(text, at) : reader.chasquid(text, at);
          for (const f of failures) {
            const ip = canonicalIp(f.ip);
            if (!ip) continue;
            const b = book.failure({ ...f, ip }, Date.now());
            if (b) await ban(b);
            else save();
          }
        }
      }
    } catch (err) {
      console.log(`error: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), POLL_MS);

  rmSync(CONTROL, { force: true });
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
    const url = new URL(req.url ?? '/', 'http://guard');
    if (req.method === 'GET' && url.pathname === '/health') return send(200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/bans') return send(200, book.list(Date.now()));
    if (req.method === 'POST' && url.pathname === '/unban') {
      const ip = parseBanTarget(url.searchParams.get('address') ?? '');
      if (!ip) return send(400, { message: 'not an IP address' });
      const lifted = book.unban(ip);
      if (!lifted || lifted.until <= Date.now()) return send(404, { message: `${ip} is not banned` });
      nft(removeBan(project, lifted.address)).catch((err) => console.log(`error: ${(err as Error).message}`)).finally(() => {
        save();
        console.log(`unbanned ${lifted.address}`);
        send(200, lifted);
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/teardown') {
      // `mailctl down`: nothing of the stack stays in the host's firewall (the bans stay in the file).
      nft(dropTable(project)).catch(() => {}).finally(() => send(200, { ok: true }));
      return;
    }
    send(404, { message: 'no such request' });
  });
  server.listen(CONTROL);

  // A restart keeps the table and its bans (the next guard remakes both at once); `down` drops it (/teardown).
  const stop = () => {
    clearInterval(timer);
    server.close();
    save();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function client(method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: CONTROL, method, path }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const [command, arg] = process.argv.slice(2);
  if (!command) return serve();
  const r = command === 'bans' ? await client('GET', '/bans')
    : command === 'unban' ? await client('POST', `/unban?address=${encodeURIComponent(arg ?? '')}`)
    : command === 'teardown' ? await client('POST', '/teardown')
    : command === 'health' ? await client('GET', '/health')
    : undefined;
  if (!r) { console.error('usage: guard [bans | unban ADDRESS | teardown | health]'); process.exit(2); }
  process.stdout.write(`${r.body}\n`);
  process.exit(r.status === 200 ? 0 : r.status === 404 ? 4 : r.status === 400 ? 2 : 1);
}

main().catch((err) => {
  console.error(`guard: ${(err as Error).message}`);
  process.exit(1);
});
