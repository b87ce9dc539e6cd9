import test from 'ava';
import { classify, mayReload, mayRestart, ownsContainer, scopedListQuery } from '../../src/sidecar/policy.js';

const ours = { 'dev.mailctl.managed': 'true', 'dev.mailctl.project': 'p', 'dev.mailctl.service': 'chasquid' };

test('allowed: ping, list, inspect and restart, with or without an API version prefix', (t) => {
  t.deepEqual(classify('GET', '/_ping'), { kind: 'ping' });
  t.deepEqual(classify('GET', '/v1.41/containers/json?all=1'), { kind: 'list' });
  t.deepEqual(classify('GET', '/v1.41/containers/p-chasquid/json'), { kind: 'inspect', id: 'p-chasquid' });
  t.deepEqual(classify('POST', '/containers/abc123/restart?t=10'), { kind: 'restart', id: 'abc123' });
});

for (const [method, path] of [
  ['POST', '/containers/create'], ['POST', '/v1.41/containers/p-chasquid/exec'], ['POST', '/exec/abc/start'],
  ['DELETE', '/containers/p-chasquid'], ['POST', '/containers/p-chasquid/stop'], ['POST', '/containers/p-chasquid/kill'],
  ['POST', '/containers/p-dovecot/kill?signal=SIGKILL'], ['POST', '/containers/p-dovecot/kill?signal=SIGTERM'],
  ['POST', '/containers/p-dovecot/kill?signal=HUP&signal=KILL'],
  ['GET', '/images/json'], ['POST', '/images/create'], ['POST', '/build'], ['GET', '/volumes'], ['POST', '/volumes/create'],
  ['GET', '/containers/../images/json'], ['PUT', '/containers/p-chasquid/archive'], ['GET', '/containers/p-chasquid/archive'],
  ['POST', '/networks/create'], ['GET', '/containers/p-chasquid/logs'],
]) {
  test(`denied: ${method} ${path}`, (t) => {
    t.is(classify(method, path).kind, 'denied');
  });
}

test('the list is always scoped to the project label, whatever the caller filters', (t) => {
  const scoped = (url: string) => JSON.parse(new URLSearchParams(scopedListQuery(url, 'dev.mailctl.project=p').split('?')[1]).get('filters')!);
  t.deepEqual(scoped('/containers/json'), { label: ['dev.mailctl.project=p'] });
  t.deepEqual(scoped(`/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: ['dev.mailctl.project=other'] }))}`), { label: ['dev.mailctl.project=p'] });
  t.deepEqual(scoped(`/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: { 'x=1': true }, status: ['running'] }))}`), { label: ['x=1', 'dev.mailctl.project=p'], status: ['running'] });
});

test('SIGHUP, and only SIGHUP, is a reload', (t) => {
  t.deepEqual(classify('POST', '/v1.41/containers/p-dovecot/kill?signal=SIGHUP'), { kind: 'reload', id: 'p-dovecot' });
  t.deepEqual(classify('POST', '/containers/p-dovecot/kill?signal=HUP'), { kind: 'reload', id: 'p-dovecot' });
});

test('only this project\'s chasquid may be restarted, only its dovecot reloaded', (t) => {
  t.true(ownsContainer(ours, 'p'));
  t.true(mayRestart(ours, 'p'));
  t.false(mayRestart({ ...ours, 'dev.mailctl.service': 'dovecot' }, 'p'), 'dovecot reloads: no restart needed');
  t.true(mayReload({ ...ours, 'dev.mailctl.service': 'dovecot' }, 'p'));
  t.false(mayReload(ours, 'p'), 'chasquid cannot reload certificates');
  t.false(mayReload({ ...ours, 'dev.mailctl.service': 'dovecot' }, 'other'));
  t.false(mayRestart({ ...ours, 'dev.mailctl.service': 'dockerproxy' }, 'p'));
  t.false(mayRestart(ours, 'other'));
  t.false(mayRestart({ 'dev.mailctl.project': 'p', 'dev.mailctl.service': 'chasquid' }, 'p'), 'must be ours (managed label)');
  t.false(mayRestart(undefined, 'p'));
});
