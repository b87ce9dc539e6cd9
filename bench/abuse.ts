/**
 * The abuse measurements of `make bench`: what the sender check costs per
 * submitted message, the guard's memory, and the seconds from the failed
 * login that reaches the limit to the ban (both times from the containers'
 * own log timestamps).
 */
import { docker, run } from '../test/helpers/e2e.js';
import { remoteClient, removeRemoteClient } from '../test/helpers/netns.js';

type Add = (k: string, v: string) => void;

async function logTimes(container: string, pattern: RegExp): Promise<number[]> {
  const r = await run('docker', ['logs', '-t', container]);
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => pattern.test(l)).map((l) => Date.parse(l.slice(0, l.indexOf(' '))));
}

export async function measureAbuse(project: string, server: string, imapsPort: number, user: string, add: Add): Promise<void> {
  // The hook as chasquid runs it: a 1 KB message, envelope and From owned; against the cost of starting /bin/true.
  const loop = (cmd: string) => [
    'msg=$(mktemp); { printf "From: %s\\r\\nSubject: bench\\r\\n\\r\\n" "$U"; head -c 1000 /dev/zero | tr "\\0" a; } > "$msg"',
    `s=$(date +%s%N); for i in $(seq 300); do AUTH_AS=$U MAIL_FROM=$U ${cmd} < "$msg" > /dev/null; done; e=$(date +%s%N)`,
    'echo $(( (e - s) / 300000 ))',
  ].join('; ');
  const exec = (cmd: string) => run('docker', ['exec', '-e', `U=${user}`, `${project}-chasquid`, 'bash', '-c', loop(cmd)]);
  const hook = Number((await exec('/usr/local/bin/mailctl-sender-check')).stdout.trim());
  const bare = Number((await exec('/bin/true')).stdout.trim());
  add('sender check per submitted message (300 runs of the hook, 1 KB) / a bare process start', `${(hook / 1000).toFixed(2)} ms / ${(bare / 1000).toFixed(2)} ms`);
  add('mail on 25: processes per message with no filter', '0 (the port 25 instance has no post-data hook)');

  const guard = `${project}-guard`;
  const stats = await docker.getContainer(guard).stats({ stream: false });
  add('memory after start: guard', `${Math.round((stats.memory_stats.usage - (stats.memory_stats.stats?.cache ?? 0)) / 2 ** 20)} MiB`);

  // Five distinct wrong passwords over IMAPS from a namespace of our own, in parallel.
  const client = await remoteClient('mcbench', 240);
  try {
    await client.exec(['ip', 'route', 'add', 'default', 'via', client.hostV4]);
    await Promise.all([1, 2, 3, 4, 5].map((i) => client.exec(['curl', '-sS', '-k', '--max-time', '30', `imaps://${server}:${imapsPort}/`, '-u', `${user}:bench-guess-${i}`])));
    await new Promise((r) => setTimeout(r, 3000));
    const failures = await logTimes(`${project}-dovecot`, new RegExp(`auth\\(.*,${client.v4.replace(/\./g, '\\.')},.*Password mismatch`));
    const banned = await logTimes(guard, new RegExp(`banned ${client.v4.replace(/\./g, '\\.')} `));
    if (failures.length >= 5 && banned.length) {
      add('seconds from the 5th failed login (dovecot\'s log line) to the ban (the guard\'s)', `${((banned[0] - failures[4]) / 1000).toFixed(2)} s`);
    } else {
      add('seconds from the 5th failed login to the ban', `not measured (${failures.length} failures, ${banned.length} bans logged)`);
    }
  } finally {
    await removeRemoteClient('mcbench');
  }
}
