import test from 'ava';
import { UsageError } from '../../src/core/errors.js';
import { normalizeDomain } from '../../src/names/validate.js';

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

