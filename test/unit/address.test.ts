import test from 'ava';
import { alternateForms, parseAddress, parseTarget, withoutSuffix } from '../../src/accounts/address.js';
import { UsageError } from '../../src/errors.js';

test('accounts: local part NFC and lower-cased, domain punycode; the unicode domain is another spelling', (t) => {
  const a = parseAddress('Alice@Bücher.Example');
  t.deepEqual(a, { local: 'alice', domain: 'xn--bcher-kva.example', address: 'alice@xn--bcher-kva.example', unicodeDomain: 'bücher.example' });
  t.deepEqual(alternateForms(a), ['alice@bücher.example']);
  t.deepEqual(parseAddress('alice@xn--bcher-kva.example'), a, 'either spelling is the same account');
  t.deepEqual(alternateForms(parseAddress('bob@example.com')), []);
});

test('accepted shapes: dotted, hyphen, underscore, digits, mixed case, unicode letters', (t) => {
  t.is(parseAddress('first.last@example.com').address, 'first.last@example.com');
  t.is(parseAddress('Mary-Jane_2@Example.COM').address, 'mary-jane_2@example.com');
  t.is(parseAddress('_service@example.com').address, '_service@example.com');
  t.is(parseAddress('JOSÉ@example.com').address, 'josé@example.com');
  t.is(parseAddress('jose\u0301@example.com').address, 'josé@example.com', 'NFD becomes NFC, as chasquid normalises it');
  t.is(parseAddress('用户@例子.测试').address, '用户@xn--fsqu00a.xn--0zwm56d');
});

const refused: [string, RegExp][] = [
  ['shop+x@example.com', /suffix separator/],
  ["o'brien@example.com", /"'" is not allowed/],
  ['a$b@example.com', /"\$" is not allowed/],
  ['a|b@example.com', /"\|" is not allowed/],
  ['a*b@example.com', /"\*" is not allowed/],
  ['#hash@example.com', /"#" is not allowed/],
  ['a%b@example.com', /"%" is not allowed/],
  ['a:b@example.com', /":" is not allowed/],
  ['a/b@example.com', /"\/" is not allowed/],
  ['al ice@example.com', /U\+0020 is not allowed/],
  ['alice@example.com\n', /not a valid domain/],
  ['a\nb@example.com', /U\+000A/],
  ['-lead@example.com', /must start with/],
  ['.a@example.com', /must start with/],
  ['a.@example.com', /dots/],
  ['a..b@example.com', /dots/],
  ['ｆｕｌｌ@example.com', /compatibility character/],
  ['😀@example.com', /not allowed/],
  [`${'a'.repeat(65)}@example.com`, /longer than 64/],
  ['alice', /not a mail address/],
  ['@example.com', /empty/],
  ['alice@', /not a valid domain/],
  ['alice@exa mple.com', /not a valid domain/],
];
for (const [bad, reason] of refused) {
  test(`account ${JSON.stringify(bad).slice(0, 30)} is refused with its reason`, (t) => {
    t.throws(() => parseAddress(bad), { instanceOf: UsageError, message: reason });
  });
}

test('alias targets: addresses with an optional +tag, never pipes, files or comments', (t) => {
  t.is(parseTarget('Someone+Lists@Example.org').address, 'someone+lists@example.org');
  for (const bad of ['|cat@example.com', '/tmp/x@example.com', '#x@example.com', '"quoted"@example.com', 'a,b@example.com', 'no-at-sign']) {
    t.throws(() => parseTarget(bad), { instanceOf: UsageError }, bad);
  }
});

test('a +tag delivers to the account', (t) => {
  t.is(withoutSuffix('user+tag@example.com'), 'user@example.com');
  t.is(withoutSuffix('user+a+b@example.com'), 'user@example.com');
  t.is(withoutSuffix('user@example.com'), 'user@example.com');
});
