/**
 * backup's unpause and restore's stop, against an engine that fails them:
 * the failure is reported with the state it leaves, never swallowed.
 */
import test from 'ava';
import { unpauseAll } from '../../src/ops/backup.js';
import { stopServices } from '../../src/ops/restore.js';
import type { Engine } from '../../src/docker/engine.js';
import { OperationalError } from '../../src/errors.js';
import type { Progress } from '../../src/progress.js';
import { configFrom } from '../helpers/config.js';

const engineError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode, json: { message } });
const progress = { step: () => {}, detail: () => {}, stop: () => {} } as unknown as Progress;

function fakeEngine(behaviour: Record<string, { unpause?: Error; stop?: Error; paused?: boolean; state?: string; service?: string }>) {
  const calls: string[] = [];
  const engine = {
    getContainer: (id: string) => ({
      unpause: async () => { calls.push(`unpause ${id}`); if (behaviour[id].unpause) throw behaviour[id].unpause; },
      stop: async () => { calls.push(`stop ${id}`); if (behaviour[id].stop) throw behaviour[id].stop; },
      inspect: async () => ({ State: { Paused: behaviour[id].paused ?? false } }),
    }),
    listContainers: async () => Object.entries(behaviour).map(([id, b]) => ({
      Id: id, Names: [`/p-${b.service}`], State: b.state ?? 'running',
      Labels: { 'dev.mailctl.managed': 'true', 'dev.mailctl.project': 'p', 'dev.mailctl.service': b.service },
    })),
  };
  return { engine: engine as unknown as Engine, calls };
}

test('backup: every writer is thawed even when one fails, and the one still frozen is named', async (t) => {
  const { engine, calls } = fakeEngine({
    c1: { unpause: engineError(500, 'cgroup freezer: device busy'), paused: true },
    c2: {},
    c3: { unpause: engineError(409, 'Container c3 is not paused'), paused: false },
  });
  const failed = await unpauseAll(engine, [{ id: 'c1', name: 'p-chasquid' }, { id: 'c2', name: 'p-dovecot' }, { id: 'c3', name: 'p-certbot' }]);
  t.deepEqual(calls, ['unpause c1', 'unpause c2', 'unpause c3'], 'the others are thawed all the same');
  t.is(failed.length, 1);
  t.regex(failed[0], /^p-chasquid could not be unpaused \(.*device busy/);
});

test('restore: a container that will not stop stops the restore before any volume is emptied', async (t) => {
  const { engine, calls } = fakeEngine({
    a: { service: 'chasquid' },
    b: { service: 'dovecot', stop: engineError(500, 'tried to kill container, but did not receive an exit event') },
    c: { service: 'certbot', state: 'exited' },
  });
  const err = await t.throwsAsync(stopServices(engine, configFrom({ MAILCTL_PROJECT: 'p' }), progress), { instanceOf: OperationalError });
  t.regex(err!.message, /could not stop p-dovecot \(.*did not receive an exit event\): nothing was restored and no data was touched; the containers stopped so far are p-chasquid/);
  t.deepEqual(calls, ['stop a', 'stop b']);
  const gone = fakeEngine({ a: { service: 'chasquid', stop: engineError(404, 'No such container') }, b: { service: 'dovecot', stop: engineError(304, '') } });
  await t.notThrowsAsync(stopServices(gone.engine, configFrom({ MAILCTL_PROJECT: 'p' }), progress), 'gone or already stopped is fine');
});
