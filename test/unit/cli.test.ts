import test from 'ava';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildProgram } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';
import { spawnSync } from 'node:child_process';
import type { Engine } from '../../src/docker/engine.js';
import { projectLabels } from '../../src/model/labels.js';
import { FakeEngine } from '../helpers/fake-engine.js';

function capture(engine: Engine = new FakeEngine()): CliContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c) => { out += c; });
  stderr.on('data', (c) => { err += c; });
  return {
    env: {}, cwd: mkdtempSync(join(tmpdir(), 'mailctl-cli-')),
    stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    connect: async () => engine,
    out: () => out, err: () => err,
  };
}

test('--help lists every command with one line', async (t) => {
  const context = capture();
  const program = buildProgram(context);
  await t.throwsAsync(program.parseAsync(['node', 'mailctl', '--help']), { message: /outputHelp|\(outputHelp\)/ });
  for (const command of ['init', 'up', 'down', 'status', 'logs', 'add-user', 'list-users', 'build']) {
    t.regex(context.out(), new RegExp(`^  ${command}\\b`, 'm'), command);
  }
});

test('the entry point maps errors to exit codes and prints one line', (t) => {
  const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import=tsx', '-e',
    `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(['node', 'mailctl', ...${JSON.stringify(args)}], process.env); })`],
  { encoding: 'utf8', env: { ...process.env, ...env }, cwd: process.cwd() });

  const version = run(['--version']);
  t.is(version.status, 0);
  t.regex(version.stdout, /^\d+\.\d+\.\d+\n$/);

  const unknown = run(['frobnicate']);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /unknown command 'frobnicate'/);

  const badConfig = run(['status'], { MAIL_PORT_SMTP: 'twenty-five' });
  t.is(badConfig.status, 2);
  t.regex(badConfig.stderr, /MAIL_PORT_SMTP "twenty-five" is not a port number/);
  t.notRegex(badConfig.stderr, /at .*\.ts:\d+/, 'no stack trace');

  const badAddress = run(['add-user', 'not-an-address', '--password-stdin']);
  t.is(badAddress.status, 2);
  t.is(badAddress.stderr.trim().split('\n').length, 1);

  // Checked before the engine is asked: a name that is no service, or a path, is one clear line.
  for (const service of ['nonexistent', '../../x']) {
    const logs = run(['logs', service], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    t.is(logs.status, 2, service);
    t.regex(logs.stderr, /unknown service ".*": one of chasquid, dovecot, /);
    t.is(logs.stderr.trim().split('\n').length, 1);
  }

  const noYes = run(['down', '--volumes']);
  t.is(noYes.status, 2);
  t.regex(noYes.stderr, /add --yes to confirm/);

  const engineDown = run(['status'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
  t.is(engineDown.status, 1);
  t.regex(engineDown.stderr, /^mailctl: no Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock/);
  t.is(engineDown.stderr.trim().split('\n').length, 1);
});

test('--env-file is mailctl\'s, never node\'s: a file that sets NODE_OPTIONS runs nothing (found by a break-it session)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-envfile-'));
  writeFileSync(join(dir, 'evil.cjs'), `require('fs').writeFileSync(${JSON.stringify(join(dir, 'ran'))}, 'yes')`);
  writeFileSync(join(dir, 'alt.env'), `NODE_OPTIONS=--require=${join(dir, 'evil.cjs')}\nMAIL_DOMAIN=example.com\n`);
  const bin = join(process.cwd(), 'bin/mailctl.js');
  const r = spawnSync(bin, ['--env-file', join(dir, 'alt.env'), 'status'], { encoding: 'utf8', cwd: dir, env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
  t.is(r.status, 2, r.stderr);
  t.regex(r.stderr, /NODE_OPTIONS is not a setting mailctl knows/);
  t.false(existsSync(join(dir, 'ran')), 'node never loaded the file itself');
  const missing = spawnSync(bin, ['--env-file', join(dir, 'nope.env'), 'status'], { encoding: 'utf8', cwd: dir });
  t.is(missing.status, 2);
  t.regex(missing.stderr, /^mailctl: env file .*nope\.env does not exist/);
});

test('commands get the engine from their context: list-domains on the fake engine', async (t) => {
  const engine = new FakeEngine();
  engine.addContainer('p-chasquid', projectLabels('p', 'chasquid'), { '/var/lib/chasquid/domains/example.test/dkim:mail.pem': 'k', '/var/lib/chasquid/domains/other.test/aliases': '' });
  const context = capture(engine);
  writeFileSync(join(context.cwd, '.env'), 'MAIL_DOMAIN=example.test\nMAILCTL_PROJECT=p\nCERT_MODE=selfsigned\n');
  await buildProgram(context).parseAsync(['node', 'mailctl', 'list-domains', '--json']);
  t.deepEqual(JSON.parse(context.out()), [{ domain: 'example.test', main: true, dkimSelectors: ['mail'] }, { domain: 'other.test', main: false, dkimSelectors: [] }]);
});

test('a bad argument is refused before the engine is touched', async (t) => {
  let connected = false;
  const context = capture();
  context.connect = async () => { connected = true; return new FakeEngine(); };
  writeFileSync(join(context.cwd, '.env'), 'MAIL_DOMAIN=example.test\nCERT_MODE=selfsigned\n');
  await t.throwsAsync(buildProgram(context).parseAsync(['node', 'mailctl', 'del-user', 'not an address']), { message: /not|address/ });
  t.false(connected);
});

// Found by a break-it session of `compose --swarm`: each of these was taken, replaced, or hung.
for (const [what, output] of [['a device', '/dev/null'], ['a directory', '.'], ['a pseudo filesystem', '/proc/stack.yml'], ['a read-only pseudo filesystem', '/sys/stack.yml']] as const) {
  test(`compose -o refuses ${what} with one line, before the engine is touched`, async (t) => {
    let connected = false;
    const context = capture();
    context.connect = async () => { connected = true; return new FakeEngine(); };
    writeFileSync(join(context.cwd, '.env'), 'MAIL_DOMAIN=example.test\nCERT_MODE=selfsigned\nMAILCTL_PROJECT=p\n');
    const err = await t.throwsAsync(buildProgram(context).parseAsync(['node', 'mailctl', 'compose', '--swarm', '-o', output]));
    t.is((err as { exitCode?: number }).exitCode, 2, err?.message);
    t.notRegex(err!.message, /\n/);
    t.false(connected);
    if (output === '/dev/null') t.true(existsSync('/dev/null') && !statSync('/dev/null').isFile(), '/dev/null is still the device');
  });
}

test('compose --swarm refuses a MAIL_BIND address this host does not have, as up does', async (t) => {
  const context = capture();
  writeFileSync(join(context.cwd, '.env'), 'MAIL_DOMAIN=example.test\nCERT_MODE=selfsigned\nMAILCTL_PROJECT=p\nMAIL_BIND=192.0.2.99\nMAIL_SUBNET=192.0.2.0/24\n');
  const err = await t.throwsAsync(buildProgram(context).parseAsync(['node', 'mailctl', 'compose', '--swarm', '-o', join(context.cwd, 's.yml')]));
  t.regex(err!.message, /MAIL_BIND 192\.0\.2\.99 is not an address of this host/, 'MAIL_SUBNET gives the host no address on Swarm');
});
