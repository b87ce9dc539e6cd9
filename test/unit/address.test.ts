import test from 'ava';
import { alternateForms, parseAddress, parseTarget, withoutSuffix } from '../../src/names/address.js';
import { UsageError } from '../../src/core/errors.js';

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
  t.is(parseAddress('用户@example.com').address, '用户@example.com');
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

// Found by trying to break it (each went through add-user, then failed at RCPT, AUTH or delivery).
test('Greek: a capital sigma folds to σ as chasquid folds it; the final-ς spelling is another line', (t) => {
  const a = parseAddress('ΟΔΥΣΣΕΑΣ@example.com');
  t.is(a.local, 'οδυσσεασ');
  t.deepEqual(parseAddress('οδυσσεας@example.com').address, a.address, 'typed in lower case: the same account');
  t.deepEqual(alternateForms(a), ['οδυσσεας@example.com']);
  t.deepEqual(alternateForms(parseAddress('ΣΑΣ@bücher.example')).sort(), ['σας@bücher.example', 'σας@xn--bcher-kva.example', 'σασ@bücher.example'].sort());
});

test('right-to-left names follow the Bidi rule chasquid applies', (t) => {
  t.is(parseAddress('שלום@example.com').local, 'שלום');
  t.is(parseAddress('שלום2@example.com').local, 'שלום2');
  for (const bad of ['shalomשלום@example.com', '١٢٣@example.com', 'שלום-@example.com', 'سلام١2@example.com']) {
    t.throws(() => parseAddress(bad), { instanceOf: UsageError, message: /right-to-left/ }, bad);
  }
});

test('invisible characters are refused', (t) => {
  t.throws(() => parseAddress('x\u034fy@example.com'), { instanceOf: UsageError, message: /invisible/ });
  t.throws(() => parseAddress('x\u200dy@example.com'), { instanceOf: UsageError });
});

test('a served domain may not start a label with a non-ASCII letter (LMTP refuses it); a forwarding target may', (t) => {
  t.throws(() => parseAddress('ok@über.test'), { instanceOf: UsageError, message: /"über" starts with a non-ASCII character/ });
  t.throws(() => parseAddress('ok@日本.test'), { instanceOf: UsageError, message: /LMTP/ });
  t.is(parseAddress('ok@bücher.test').domain, 'xn--bcher-kva.test');
  t.is(parseTarget('friend@日本.jp').domain, 'xn--wgv71a.jp');
});
