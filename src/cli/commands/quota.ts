import type { Command } from 'commander';
import { parseAddress } from '../../accounts/address.js';
import { connectEngine } from '../../docker/engine.js';
import { humanSize } from '../../mailbox/config.js';
import { quotaArgument, quotaOf, setQuota, type QuotaUsage } from '../../mailbox/quota.js';
import { configFor, printJson, type CliContext } from '../context.js';

/** "1.2 MiB of 5.0 GiB (0%)", or "1.2 MiB (no limit)". */
export const usageText = (u: QuotaUsage) =>
  u.limitBytes === undefined ? `${humanSize(u.usedBytes)} (no limit)` : `${humanSize(u.usedBytes)} of ${humanSize(u.limitBytes)} (${u.percent}%)`;

export function register(program: Command, context: CliContext): void {
  program
    .command('quota')
    .description("show an account's mailbox usage and quota, or set its own quota")
    .argument('<address>', 'the account')
    .argument('[size]', 'its own quota: 5G, 500M, 100k; 0 for no limit; default for MAIL_QUOTA')
    .option('--json', 'print the usage as JSON')
    .action(async (input: string, size: string | undefined, opts: { json?: boolean }, command: Command) => {
      const config = configFor(command, context);
      // Both arguments are checked before anything is asked of the engine.
      const { address } = parseAddress(input);
      if (size !== undefined) quotaArgument(size);
      const docker = await connectEngine();
      const usage = size === undefined ? await quotaOf(docker, config, address) : await setQuota(docker, config, address, size);
      if (opts.json) return printJson(context, usage);
      context.stdout.write(`${address}: ${usageText(usage)}\n`);
    });
}
