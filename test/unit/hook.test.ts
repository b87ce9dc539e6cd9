import test from 'ava';
import { renderPostDataHook } from '../../src/render/hook.js';
import { stackSpecs } from '../../src/spec/services.js';
import { configFrom } from '../helpers/config.js';

const images = { chasquid: 'c', dovecot: 'd', spamassassin: 's', clamav: 'v', web: 'w' };

test('no filter, no hook: nothing runs per message', (t) => {
  t.is(renderPostDataHook({}), undefined);
  const chasquid = stackSpecs(configFrom(), { images }).find((s) => s.service === 'chasquid')!;
  t.false(chasquid.files.some((f) => f.path === '/etc/chasquid/hooks/post-data'));
});

test('spam is refused (exit 20); spamd unreachable passes the message marked unchecked', (t) => {
  const hook = renderPostDataHook({ spamd: { socket: '/run/mailctl-filters/spamd.sock' } })!;
  t.regex(hook, /spamc -x -c -t 60 -U \/run\/mailctl-filters\/spamd\.sock/);
  t.regex(hook, /1\) echo "spam detected"; exit 20 ;;/);
  t.regex(hook, /\*\) echo "X-Spam-Status: unchecked \(spamd unavailable\)" ;;/);
  t.notRegex(hook, /clamd/);
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
