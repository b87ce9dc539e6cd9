/**
 * The architecture as rules the code keeps (README, Architecture): folders
 * import only from folders above them; only src/docker imports dockerode;
 * no file in src is over 300 lines.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = join(import.meta.dirname, '../../src');
const ORDER = ['core', 'names', 'model', 'config', 'render', 'web', 'docker', 'images', 'runtime', 'dns', 'accounts', 'abuse', 'certs', 'plan', 'stack', 'ops', 'doctor', 'cli', 'sidecar'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}
const files = sources(SRC).map((path) => ({ path, rel: relative(SRC, path), text: readFileSync(path, 'utf8') }));
const folderOf = (rel: string) => rel.split('/')[0];

test('every folder of src is in the README\'s order', (t) => {
  t.deepEqual([...new Set(files.map((f) => folderOf(f.rel)))].filter((f) => !ORDER.includes(f)), []);
});

test('a folder imports only from folders above it (no two folders import each other)', (t) => {
  const backwards: string[] = [];
  for (const f of files) {
    for (const [, spec] of f.text.matchAll(/from '(\.[^']+)'/g)) {
      const target = folderOf(relative(SRC, normalize(join(dirname(f.path), spec))));
      if (ORDER.indexOf(target) > ORDER.indexOf(folderOf(f.rel))) backwards.push(`${f.rel} -> ${target}`);
    }
  }
  t.deepEqual(backwards, []);
});

test('only src/docker talks to dockerode', (t) => {
  t.deepEqual(files.filter((f) => /from 'dockerode'/.test(f.text) && folderOf(f.rel) !== 'docker').map((f) => f.rel), []);
});

test('no file in src is over 300 lines', (t) => {
  t.deepEqual(files.filter((f) => f.text.split('\n').length > 301).map((f) => `${f.rel}: ${f.text.split('\n').length - 1}`), []);
});
