import type { Command } from 'commander';
import { resolve } from 'node:path';
import { backup } from '../../ops/backup.js';
import { readBackup, restore, restoreEnvFile } from '../../ops/restore.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('backup')
    .description('write one archive of all data: mail, users, queue, DKIM keys, certificates, configuration')
    .argument('<file>', 'the archive to write (a .tar.gz; it holds keys: keep it private)')
    .option('--force', 'replace FILE if it exists')
    .option('--json', 'print the result as JSON')
    .action(runner(context, async ({ config, progress, engine }: Run, file: string, opts: { force?: boolean; json?: boolean }) => {
      const result = await backup(await engine(), config, resolve(context.cwd, file), opts, progress);
      if (opts.json) return printJson(context, result);
      context.stdout.write(`${result.file}: ${(result.bytes / 1e6).toFixed(1)} MB in ${result.seconds.toFixed(1)} s ` +
        `(${result.volumes.join(', ')}; mail paused ${result.pausedSeconds.toFixed(1)} s)\n`);
    }));

  program
    .command('restore')
    .description('bring a backup back into this stack (same or another project name), then start it')
    .argument('<file>', 'an archive made by `mailctl backup`')
    .option('--force', 'replace the data of a stack that already has users or mail')
    .option('--trust-backup', "on a new host, also adopt the backup's security-relevant settings (base image, mirror, ACME server, resolvers, trusted networks, bans)")
    .option('--json', 'print the result as JSON')
    .action(runner(context, async (run: Run, file: string, opts: { force?: boolean; json?: boolean; trustBackup?: boolean }) => {
      const started = Date.now();
      const path = resolve(context.cwd, file);
      const contents = await readBackup(path);
      let config = run.config;
      // A new host has no .env yet: the backup's configuration becomes it (less what it may not choose).
      const env = restoreEnvFile(contents, config, opts.trustBackup ?? false);
      const envWritten = env.written;
      if (envWritten) config = run.reloadConfig();
      const { progress, engine } = run;
      if (envWritten) progress.step(`wrote ${envWritten} from the backup`);
      for (const w of env.withheld) {
        context.stderr.write(`mailctl: not adopted from the backup: ${w.key}=${JSON.stringify(w.value).slice(1, -1)} (${w.why}; check it, then add it to .env${w.why === 'security-relevant' ? ' or restore with --trust-backup' : ''})\n`);
      }
      for (const d of env.differences) {
        context.stderr.write(`mailctl: note: the backup has ${d.key}=${d.backup ?? '(unset)'}; this site's .env, which is kept, has ${d.here ?? '(unset)'}\n`);
      }
      // The whole archive is read (and checked) first: that is part of the time a restore takes.
      const result = { ...(await restore(await engine(), config, path, contents, opts, progress)), seconds: (Date.now() - started) / 1000 };
      if (opts.json) return printJson(context, { ...result, envWritten, withheld: env.withheld, differences: env.differences });
      context.stdout.write(`restored ${result.fromProject} into ${result.project}: ${result.files} files, ${result.messages} messages ` +
        `in ${result.mailboxes.length} mailboxes, in ${result.seconds.toFixed(1)} s\n`);
    }));
}
