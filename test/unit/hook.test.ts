import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderPostDataHook } from '../../src/render/hook.js';
import { stackSpecs } from '../../src/plan/services.js';
import { configFrom } from '../helpers/config.js';

const images = { chasquid: 'c', dovecot: 'd', spamassassin: 's', clamav: 'v', web: 'w' };

test('no filter, no hook: nothing runs per message', (t) => {
  t.is(renderPostDataHook({}), undefined);
  const chasquid = stackSpecs(configFrom(), { images }).find((s) => s.service === 'chasquid')!;
  t.false(chasquid.files.some((f) => f.path === '/etc/chasquid/hooks/post-data'));
});

test('spam: refused from the reject score, marked X-Spam-Flag between tag and reject; spamd unreachable passes unchecked', (t) => {
  const hook = renderPostDataHook({ spamd: { socket: '/run/mailctl-filters/spamd.sock', tag: 5, reject: 10 } })!;
  t.regex(hook, /spamc -x -c -t 60 -s 20971520 -U \/run\/mailctl-filters\/spamd\.sock/);
  t.regex(hook, /exit !\(s >= 10\)/);
  t.regex(hook, /exit !\(s >= 5\)/);
  t.regex(hook, /echo "spam detected \(score \$score, refused from 10\)"; exit 20/);
  t.regex(hook, /echo "X-Spam-Flag: YES"/);
  t.regex(hook, /echo "X-Spam-Status: unchecked \(spamd unavailable\)"/);
  t.notRegex(hook, /clamd/);
});

/** Runs the rendered hook with bash and a spamc that answers RESULT with STATUS: chasquid's view (exit code, stdout). */
function runHook(hook: string, result: string, status: number) {
  const dir = mkdtempSync(join(tmpdir(), 'hook-'));
  writeFileSync(join(dir, 'spamc'), `#!/bin/sh\ncat >/dev/null\necho '${result}'\nexit ${status}\n`, { mode: 0o755 });
  const r = spawnSync('bash', ['-c', hook], { input: 'Subject: x\n\nbody\n', env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() };
}

test('the hook compares scores as numbers against the two thresholds (real bash and awk)', (t) => {
  const hook = renderPostDataHook({ spamd: { socket: '/s', tag: 5, reject: 10.5 } })!;
  const verdict = (result: string, status = 0) => {
    const r = runHook(hook, result, status);
    return r.code === 20 ? 'refused' : /X-Spam-Flag: YES/.test(r.out) ? 'junk' : /unchecked/.test(r.out) ? 'unchecked' : /X-Spam-Status: No/.test(r.out) ? 'ham' : `? ${r.code} ${r.out}`;
  };
  t.is(verdict('-2.3/5.0'), 'ham');
  t.is(verdict('4.9/5.0'), 'ham');
  t.is(verdict('5.0/5.0', 1), 'junk');
  t.is(verdict('10.4/5.0', 1), 'junk');
  t.is(verdict('10.5/5.0', 1), 'refused');
  t.is(verdict('1000.0/5.0', 1), 'refused');
  t.is(verdict('0/0', 74), 'unchecked');
  t.regex(runHook(hook, '0/0', 74).out, /X-Spam-Status: unchecked \(spamd unavailable\)/, 'spamd down is said as such');
  // spamc answers 0/0 for what it skipped (over -s): never "ham" (found by a break-it session).
  t.is(verdict('0/0', 0), 'unchecked');
  t.regex(runHook(hook, '0/0', 0).out, /X-Spam-Status: unchecked \(too large to scan\)/);
  t.is(verdict('junk; rm -rf /', 0), 'unchecked', 'what is not a number is never handed to awk');
  t.regex(runHook(hook, '7.2/5.0', 1).out, /^X-Spam-Score: 7\.2\/5\.0\nX-Spam-Flag: YES\nX-Spam-Status: Yes, score=7\.2 tag=5 reject=10\.5$/);
});

test('a virus is refused (exit 20); clamd unreachable defers (exit 75), never a permanent refusal', (t) => {
  const hook = renderPostDataHook({ clamd: { socket: '/run/mailctl-filters/clamd/clamd.sock' } })!;
  t.regex(hook, /mailctl-clamd-scan \/run\/mailctl-filters\/clamd\/clamd\.sock/);
  t.regex(hook, /1\) echo "virus detected: \$virus"; exit 20 ;;/);
  t.regex(hook, /\*\) echo "virus scanner unavailable, try again later"; exit 75 ;;/);
  const exits = [...hook.matchAll(/exit (\d+)/g)].map((m) => m[1]);
  t.deepEqual([...new Set(exits)].sort(), ['0', '20', '75']);
});

test('filters on: their containers join the stack; chasquid gets the hook', (t) => {
  const specs = stackSpecs(configFrom({ SPAMASSASSIN: 'on', CLAMAV: 'on', MAILCTL_PROJECT: 'p' }), { images });
  t.deepEqual(specs.map((s) => s.name), ['p-dovecot', 'p-chasquid', 'p-spamassassin', 'p-clamav', 'p-web']);
  const hook = specs[1].files.find((f) => f.path === '/etc/chasquid/hooks/post-data');
  t.is(hook?.mode, 0o755);
  t.deepEqual(specs[3].mounts, [{ volume: 'p-clamav-db', target: '/var/lib/clamav' }, { volume: 'p-filter-sockets', target: '/run/mailctl-filters' }]);
  t.deepEqual(specs[2].ports, [], 'scanners are never published');
  t.true(specs[1].mounts.some((m) => m.volume === 'p-filter-sockets'), 'chasquid reaches them by unix socket');
  t.false(specs[0].mounts.some((m) => m.volume === 'p-filter-sockets'), 'dovecot does not');
});

test('SPAMASSASSIN / CLAMAV take on or off', (t) => {
  t.deepEqual(configFrom({ SPAMASSASSIN: 'on', CLAMAV: 'off' }).filters, { spamassassin: true, clamav: false });
  t.throws(() => configFrom({ CLAMAV: 'maybe' }), { message: /CLAMAV "maybe" is not on or off/ });
});
