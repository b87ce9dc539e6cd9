/**
 * The submission hook (images/chasquid/mailctl-sender-check) run as chasquid
 * runs it: environment, message on stdin, exit code and last line. Every case
 * a break-it session found is here.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AccountsState } from '../../src/accounts/alias-graph.js';
import { renderSenderMap, type SenderRule } from '../../src/accounts/senders.js';

const HOOK = resolve(import.meta.dirname, '../../images/chasquid/mailctl-sender-check');
const state: AccountsState = {
  domains: ['x.test', 'xn--bcher-kva.test'],
  users: ['alice@x.test', 'bob@x.test', 'jos@xn--bcher-kva.test'],
  aliases: new Map([['team@x.test', ['alice@x.test']]]),
};
const rules: SenderRule[] = [{ kind: 'allow', user: 'alice@x.test', address: 'bob+news@x.test' }];

function setup(limit = 1000) {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-hook-'));
  writeFileSync(join(dir, 'senders'), renderSenderMap(state, rules, limit));
  return dir;
}

function hook(dir: string, env: Record<string, string>, message: string) {
  const r = spawnSync('perl', [HOOK], {
    input: message, encoding: 'utf8',
    env: { PATH: process.env.PATH, MAILCTL_SENDER_MAP: join(dir, 'senders'), MAILCTL_SENT_DIR: join(dir, 'sent'), RCPT_TO: 'someone@elsewhere.test', ...env },
  });
  return { code: r.status, reply: r.stdout.trim().split('\n').pop() ?? '' };
}

const dir = setup();
const as = (user: string, from: string, headers: string) => hook(dir, { AUTH_AS: user, MAIL_FROM: from }, `${headers}\r\nSubject: t\r\n\r\nbody\r\n`);

test('own address, any case and +tag, an alias, the unicode domain: accepted', (t) => {
  for (const [from, header] of [['alice@x.test', 'From: Alice <alice@x.test>'], ['Alice+Lists@X.TEST', 'From: alice+lists@x.test'],
    ['team@x.test', 'From: "Team, the" <team@x.test>'], ['bob+news@x.test', 'From: bob+news@x.test']]) {
    t.is(as('alice@x.test', from, header).code, 0, from);
  }
  t.is(as('jos@bücher.test', 'jos@xn--bcher-kva.test', 'From: jos@bücher.test').code, 0);
  t.is(as('alice@x.test', '<>', 'From: alice@x.test').code, 0, 'a null envelope sender (chasquid passes "<>") carries no address to own');
});

test('someone else: refused with 5.7.1 and the rule', (t) => {
  const r = as('alice@x.test', 'bob@x.test', 'From: alice@x.test');
  t.is(r.code, 20);
  t.is(r.reply, '5.7.1 alice@x.test may not send as bob@x.test (envelope sender): not one of their addresses');
  t.regex(as('alice@x.test', 'alice@x.test', 'From: Bob <bob@x.test>').reply, /may not send as bob@x\.test \(header From\)/);
});

test('an allowance of a tagged address is that address only', (t) => {
  t.is(as('alice@x.test', 'bob@x.test', 'From: bob@x.test').code, 20);
  t.is(as('alice@x.test', 'bob+other@x.test', 'From: bob+other@x.test').code, 20);
});

test('header tricks: quoted local parts, several Froms, groups, hidden second addresses, Sender', (t) => {
  for (const header of [
    'From: <"bob+"alice@x.test>', 'From: "bob+"alice@x.test', 'From: <"bob@evil.test"alice@x.test>',
    'From: alice@x.test\r\nFrom: alice@x.test', 'From: alice@x.test, bob@x.test', 'From: <alice@x.test> bob@x.test',
    'From: friends: alice@x.test;', 'From: alice@x.test (comment', 'Subject: no from at all',
    'From: alice@x.test\r\nSender: bob@x.test', 'From: alice@x.test\r\nResent-From: bob@x.test',
    'From: alice@x.test,\r\n bob@x.test',
  ]) {
    t.is(as('alice@x.test', 'alice@x.test', header).code, 20, header);
  }
  t.is(as('alice@x.test', 'alice@x.test', 'From: "Bob <bob@x.test>, really" <alice@x.test>').code, 0, 'a display name is not an address');
  t.is(as('alice@x.test', 'alice@x.test', 'From: alice@x.test (bob@x.test)').code, 0, 'nor is a comment');
  t.is(as('alice@x.test', 'alice@x.test', 'From: alice@x.test\r\nReply-To: bob@x.test').code, 0, 'Reply-To may name anyone');
});

test('what goes back to the client is printable and short', (t) => {
  const r = as('alice@x.test', `\u0007${'é'.repeat(300)}@x.test`, 'From: alice@x.test');
  t.is(r.code, 20);
  t.regex(r.reply, /^[\x20-\x7e]+$/);
  t.true(r.reply.length < 220);
});

test('the daily limit counts recipients; a message over it is deferred, one bigger than it refused', (t) => {
  const limited = setup(5);
  const send = (rcpts: number) => hook(limited, { AUTH_AS: 'alice@x.test', MAIL_FROM: 'alice@x.test', RCPT_TO: Array.from({ length: rcpts }, (_, i) => `r${i}@e.test`).join(' ') }, 'From: alice@x.test\r\n\r\nx\r\n');
  t.is(send(3).code, 0);
  t.is(send(2).code, 0);
  const over = send(1);
  t.is(over.code, 75);
  t.regex(over.reply, /^4\.7\.0 alice@x\.test has sent 5 of 5 messages today/);
  t.is(send(6).code, 20, 'never deliverable under this limit');
  t.regex(readFileSync(join(limited, 'sent', Buffer.from('alice@x.test').toString('hex')), 'utf8'), /^\d{4}-\d\d-\d\d 5\n$/);
});

test('no map (a stack not set up yet): deferred, never passed unchecked', (t) => {
  const r = hook(mkdtempSync(join(tmpdir(), 'mailctl-hook-')), { AUTH_AS: 'alice@x.test', MAIL_FROM: 'alice@x.test' }, 'From: alice@x.test\r\n\r\n');
  t.is(r.code, 75);
});

test("dovecot's Sieve sender: <> (vacation) or an account's own address (redirect), headers unchecked; nothing else, and no person gets this", (t) => {
  const sieve = 'mailctl+sieve@mail.x.test';
  const vacation = 'From: Alice <alice@x.test>\r\nAuto-Submitted: auto-replied';
  t.is(as(sieve, '<>', vacation).code, 0);
  t.is(as(sieve, 'alice@x.test', 'From: someone@outside.test').code, 0, 'a redirect keeps the original From');
  t.is(as(sieve, 'alice@x.test', 'From: someone@outside.test').code, 0);
  t.is(as(sieve, 'Bob+x@X.test', 'From: someone@outside.test').code, 0);
  for (const from of ['ceo@outside.test', 'team@x.test', 'nobody@x.test']) {
    const r = as(sieve, from, vacation);
    t.is(r.code, 20, from);
    t.regex(r.reply, /not an account of this server/);
  }
  // A vacation reply's From (a script's :from) stays within this server's domains (found by a break-it session).
  const outsideFrom = as(sieve, '<>', 'From: Bank <alerts@bank.test>\r\nAuto-Submitted: auto-replied');
  t.is(outsideFrom.code, 20);
  t.regex(outsideFrom.reply, /a vacation reply may not be from alerts@bank\.test: not an address of this server/);
  // A redirect is sent as its user: a From in this server's domains that is not theirs would be DKIM-signed
  // for whoever forged it on port 25 (found by a break-it session); their own, and outside ones, pass.
  const forged = as(sieve, 'alice@x.test', 'From: Bob <bob@x.test>');
  t.is(forged.code, 20);
  t.regex(forged.reply, /a redirect by alice@x\.test may not carry the From bob@x\.test: not one of their addresses/);
  t.is(as(sieve, 'alice@x.test', 'From: Alice <Alice+news@X.test>').code, 0, 'their own address, any case and +tag');
  t.is(as(sieve, 'alice@x.test', 'From: Bob <bob@x.test>, someone@outside.test').code, 20, 'every address of the From');
  // Names that only look alike are checked as people. (Any domain after mailctl+sieve@ is the Sieve
  // sender's shape: no account name may hold a "+", and dovecot authenticates that shape only
  // against the Sieve sender's own passdb, which holds the one name.)
  for (const user of ['xmailctl+sieve@x.test', 'mailctl+sieve@a@x.test', 'mailctl+sievex@x.test', 'mailctl@x.test']) {
    t.is(as(user, '<>', 'From: ceo@outside.test').code, 20, user);
  }
});
