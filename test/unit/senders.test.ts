import test from 'ava';
import type { AccountsState } from '../../src/accounts/alias-graph.js';
import { abuseConfig, parseDuration, parseNetwork } from '../../src/config/abuse.js';
import {
  allowSender, denySender, forgetAccounts, parseSenderRules, renderSenderMap, renderSenderRules, sendersOf, type SenderRule,
} from '../../src/accounts/senders.js';
import { UsageError } from '../../src/core/errors.js';

const state = (aliases: Record<string, string[]> = {}): AccountsState => ({
  domains: ['a.test', 'xn--bcher-kva.test'],
  users: ['alice@a.test', 'bob@a.test', 'jos@xn--bcher-kva.test'],
  aliases: new Map(Object.entries(aliases)),
});

const mapLines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

test('an account sends as itself, as the aliases that reach it (through chains), and as what is allowed', (t) => {
  const s = state({ 'team@a.test': ['sales@a.test'], 'sales@a.test': ['alice@a.test', 'bob@a.test'], 'info@a.test': ['bob+info@a.test'], '*@a.test': ['alice@a.test'] });
  const rules: SenderRule[] = [{ kind: 'allow', user: 'alice@a.test', address: 'alice@gmail.example' }];
  t.deepEqual(sendersOf(s, rules, 'alice@a.test'), [
    { address: 'alice@a.test', via: 'own' },
    { address: 'team@a.test', via: 'alias' },
    { address: 'sales@a.test', via: 'alias' },
    { address: 'alice@gmail.example', via: 'allowed' },
  ], 'the catch-all gives no right to send as every name');
  t.deepEqual(sendersOf(s, rules, 'bob@a.test').map((x) => x.address), ['bob@a.test', 'team@a.test', 'sales@a.test', 'info@a.test']);
});

test('the map has every spelling the hook may meet: both forms of the domain, lower case; +tags of own addresses only', (t) => {
  const s = state({ 'hola@xn--bcher-kva.test': ['jos@xn--bcher-kva.test'] });
  const lines = mapLines(renderSenderMap(s, [], 1000));
  t.is(lines[0], 'limit\t1000');
  t.true(lines.includes('jos@xn--bcher-kva.test\thola@bücher.test\t+'));
  t.true(lines.includes('jos@bücher.test\tjos@xn--bcher-kva.test\t+'), 'chasquid gives AUTH_AS with the unicode domain');
  t.false(lines.some((l) => l.startsWith('alice@a.test\tjos')), 'nobody sends as another account');
  const allowed = mapLines(renderSenderMap(s, [{ kind: 'allow', user: 'alice@a.test', address: 'bob+news@a.test' }, { kind: 'allow', user: 'alice@a.test', address: 'me+x@gmail.example' }], 0));
  t.true(allowed.includes('alice@a.test\tbob+news@a.test'), 'an allowance is that address exactly (found by a break-it session)');
  t.false(allowed.some((l) => /^alice@a\.test\tbob@a\.test/.test(l)), 'not the mailbox behind its tag');
  t.true(allowed.includes('alice@a.test\tme+x@gmail.example'));
  t.is(allowed[0], 'limit\t0');
});

test('allow-sender and deny-sender: allowances come and go, aliases can be taken back and given again', (t) => {
  const s = state({ 'team@a.test': ['alice@a.test'] });
  let rules = allowSender(s, [], 'alice@a.test', 'boss@a.test');
  t.deepEqual(rules, [{ kind: 'allow', user: 'alice@a.test', address: 'boss@a.test' }]);
  t.throws(() => allowSender(s, rules, 'alice@a.test', 'boss@a.test'), { instanceOf: UsageError, message: /already send as boss@a\.test \(allowed before\)/ });
  t.throws(() => allowSender(s, rules, 'alice@a.test', 'team@a.test'), { message: /an alias that delivers to them/ });
  t.throws(() => allowSender(s, rules, 'nobody@a.test', 'x@a.test'), { message: /nobody@a\.test is not an account/ });
  rules = denySender(s, rules, 'alice@a.test', 'team@a.test');
  t.false(sendersOf(s, rules, 'alice@a.test').some((x) => x.address === 'team@a.test'));
  t.false(mapLines(renderSenderMap(s, rules, 1)).includes('alice@a.test\tteam@a.test'));
  rules = allowSender(s, rules, 'alice@a.test', 'team@a.test');
  t.deepEqual(sendersOf(s, rules, 'alice@a.test').find((x) => x.address === 'team@a.test'), { address: 'team@a.test', via: 'alias' });
  rules = denySender(s, rules, 'alice@a.test', 'boss@a.test');
  t.deepEqual(rules, []);
  t.throws(() => denySender(s, rules, 'alice@a.test', 'alice@a.test'), { message: /own address/ });
  t.throws(() => denySender(s, rules, 'alice@a.test', 'carol@a.test'), { message: /may not send as carol@a\.test already/ });
});

test('a removed account takes its rules along, and nobody keeps a right to send as it', (t) => {
  const rules: SenderRule[] = [
    { kind: 'allow', user: 'alice@a.test', address: 'bob@a.test' },
    { kind: 'allow', user: 'bob@a.test', address: 'x@elsewhere.example' },
    { kind: 'allow', user: 'alice@a.test', address: 'y@elsewhere.example' },
  ];
  t.deepEqual(forgetAccounts(rules, ['bob@a.test']), [rules[2]]);
});

test('the rules file round-trips and skips what it cannot read', (t) => {
  const rules: SenderRule[] = [{ kind: 'allow', user: 'a@a.test', address: 'b@b.test' }, { kind: 'deny', user: 'a@a.test', address: 'c@a.test' }];
  t.deepEqual(parseSenderRules(renderSenderRules(rules)), rules);
  t.deepEqual(parseSenderRules('allow a@a.test\nallow a b c d\n# allow x y\nfoo a b\n'), []);
});

test('abuse settings: defaults, durations, networks, and one clear problem per bad value', (t) => {
  const problems: string[] = [];
  const defaults = abuseConfig({}, problems);
  t.deepEqual(problems, []);
  t.is(defaults.sendLimit, 1000);
  t.deepEqual({ ...defaults.bans }, { enabled: true, failures: 5, windowSeconds: 600, banSeconds: 3600, trustedNetworks: [] });
  const set = abuseConfig({ MAIL_SEND_LIMIT: '0', MAIL_BAN: 'off', MAIL_BAN_FAILURES: '3', MAIL_BAN_WINDOW: '90s', MAIL_BAN_TIME: '2d', MAIL_TRUSTED_NETWORKS: '192.0.2.0/24, 2001:db8::1' }, problems);
  t.deepEqual(problems, []);
  t.is(set.sendLimit, 0);
  t.deepEqual({ ...set.bans }, { enabled: false, failures: 3, windowSeconds: 90, banSeconds: 172800, trustedNetworks: ['192.0.2.0/24', '2001:db8::1/128'] });
  abuseConfig({ MAIL_SEND_LIMIT: '-1', MAIL_BAN: 'maybe', MAIL_BAN_FAILURES: '0', MAIL_BAN_WINDOW: '10 minutes', MAIL_BAN_TIME: '0', MAIL_TRUSTED_NETWORKS: '10.0.0.0/33,host.example' }, problems);
  t.is(problems.length, 7);
  t.regex(problems.join('\n'), /MAIL_BAN_WINDOW "10 minutes" is not a duration: write e\.g\. 90s, 10m, 1h or 2d/);
  t.regex(problems.join('\n'), /MAIL_TRUSTED_NETWORKS "10\.0\.0\.0\/33" is not an address or network/);
  t.is(parseDuration('10m'), 600);
  t.is(parseDuration('0s'), undefined);
  t.is(parseNetwork('::1'), '::1/128');
  t.is(parseNetwork('1.2.3.4/8/9'), undefined);
});
