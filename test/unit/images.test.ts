import test from 'ava';
import { chmodSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextHash, imageRef, parseImageNames, readContext } from '../../src/images/context.js';
import { UsageError } from '../../src/core/errors.js';
import { aptSources, suiteFor } from '../../src/images/base.js';

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-ctx-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

test('the same context on the same base hashes the same, whatever the directory', (t) => {
  const a = readContext(context({ Dockerfile: 'FROM x\n', 'sub/file': 'y' }));
  const b = readContext(context({ 'sub/file': 'y', Dockerfile: 'FROM x\n' }));
  t.is(contextHash(a, 'sha256:base'), contextHash(b, 'sha256:base'));
  t.deepEqual(a.map((f) => f.path), ['Dockerfile', 'sub/file']);
});

test('content, file names, the executable bit and the base id all change the hash', (t) => {
  const dir = context({ Dockerfile: 'FROM x\n', hook: 'echo' });
  const base = contextHash(readContext(dir), 'sha256:base');
  t.not(contextHash(readContext(dir), 'sha256:other'), base);
  chmodSync(join(dir, 'hook'), 0o755);
  t.not(contextHash(readContext(dir), 'sha256:base'), base);
  t.not(contextHash(readContext(context({ Dockerfile: 'FROM x\n', hook: 'echo!' })), 'sha256:base'), base);
  t.not(contextHash(readContext(context({ Dockerfile: 'FROM x\n', hook2: 'echo' })), 'sha256:base'), base);
});

test('image references carry the hash', (t) => {
  t.is(imageRef('dovecot', 'abcdef0123456789'), 'mailctl/dovecot:abcdef012345');
});

test('service arguments: none means all, unknown is a usage error', (t) => {
  t.deepEqual(parseImageNames([]), ['chasquid', 'dovecot', 'certbot', 'dockerproxy', 'spamassassin', 'clamav', 'guard', 'web']);
  t.deepEqual(parseImageNames(['dovecot']), ['dovecot']);
  t.throws(() => parseImageNames(['postfix']), { instanceOf: UsageError, message: /unknown service "postfix"/ });
});

test('only Debian images can be bootstrapped; the base gets updates and security sources', (t) => {
  t.is(suiteFor('debian:trixie-slim'), 'trixie');
  t.is(suiteFor('docker.io/library/debian:bookworm'), 'bookworm');
  t.is(suiteFor('ubuntu:24.04'), undefined);
  t.is(aptSources('http://deb.debian.org/debian', 'trixie'),
    'deb http://deb.debian.org/debian trixie main\ndeb http://deb.debian.org/debian trixie-updates main\ndeb http://deb.debian.org/debian-security trixie-security main\n');
});
