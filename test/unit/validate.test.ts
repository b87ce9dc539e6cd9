import test from 'ava';
import { UsageError } from '../../src/errors.js';
import { normalizeDomain, parseAddress } from '../../src/validate.js';

test('domains are lower-cased and internationalised names become punycode', (t) => {
  t.is(normalizeDomain('Example.COM'), 'example.com');
  t.is(normalizeDomain('bücher.example'), 'xn--bcher-kva.example');
  t.is(normalizeDomain('example.com.'), 'example.com');
});

for (const bad of ['', 'localhost', 'a..b', 'a/b.com', 'a b.com', 'exa\nmple.com', '-x.com', 'x-.com', '1.2.3.4', `${'a'.repeat(64)}.com`, `${'a.'.repeat(130)}com`]) {
  test(`domain ${JSON.stringify(bad).slice(0, 30)} is refused`, (t) => {
    t.throws(() => normalizeDomain(bad), { instanceOf: UsageError });
  });
}

test('addresses: local part lower-cased, domain normalised', (t) => {
  t.deepEqual(parseAddress('Alice@Bücher.Example'), { local: 'alice', domain: 'xn--bcher-kva.example', address: 'alice@xn--bcher-kva.example' });
  t.is(parseAddress('first.last+tag@example.com').address, 'first.last+tag@example.com');
});

for (const bad of ['alice', '@example.com', 'alice@', 'al ice@example.com', 'a..b@example.com', '.a@example.com', 'a/b@example.com', 'a:b@example.com', `${'a'.repeat(65)}@example.com`, 'alice@exa mple.com', 'alice@example.com\n']) {
  test(`address ${JSON.stringify(bad).slice(0, 30)} is refused`, (t) => {
    t.throws(() => parseAddress(bad), { instanceOf: UsageError });
  });
}
