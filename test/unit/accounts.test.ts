import test from 'ava';
import { parsePasswd } from '../../src/accounts/passwd.js';
import { checkPassword, passwordFromStdin } from '../../src/accounts/password.js';
import { UsageError } from '../../src/core/errors.js';

test('passwd-file: addresses and domains, never hashes', (t) => {
  const users = parsePasswd('bob@b.test:{ARGON2ID}$argon2id$x::::::\n\n# comment\nalice@a.test:{ARGON2ID}$y::::::\n');
  t.deepEqual(users, [{ address: 'bob@b.test', domain: 'b.test' }, { address: 'alice@a.test', domain: 'a.test' }], 'in the order they were added');
  t.false(JSON.stringify(users).includes('argon'));
  t.deepEqual(parsePasswd(''), []);
});

test('passwd-file: the unicode spelling of an IDN account is one account, not two', (t) => {
  const text = 'u@xn--bcher-kva.test:{ARGON2ID}h::::::\nu@bücher.test:{ARGON2ID}h::::/var/mail/xn--bcher-kva.test/u::user=u@xn--bcher-kva.test\n';
  t.deepEqual(parsePasswd(text), [{ address: 'u@xn--bcher-kva.test', domain: 'xn--bcher-kva.test', unicode: 'u@bücher.test' }]);
});

test('--password-stdin: one trailing newline is not part of the password', (t) => {
  t.is(passwordFromStdin('correct horse\n'), 'correct horse');
  t.is(passwordFromStdin('correct horse\r\n'), 'correct horse');
  t.is(passwordFromStdin('correct horse'), 'correct horse');
  t.is(passwordFromStdin(' spaced out  \n'), ' spaced out  ');
});

test('empty, short, multi-line and control-character passwords are refused', (t) => {
  t.throws(() => passwordFromStdin('\n'), { instanceOf: UsageError, message: /empty/ });
  t.throws(() => checkPassword('short'), { instanceOf: UsageError, message: /too short/ });
  t.throws(() => passwordFromStdin('first line\nsecond line\n'), { instanceOf: UsageError, message: /newline/ });
  t.throws(() => checkPassword('tab\there12'), { instanceOf: UsageError });
});
