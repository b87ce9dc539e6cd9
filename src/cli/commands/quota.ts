import type { Command } from 'commander';
import { quotaArgument, quotaOf, setQuota, type QuotaUsage } from '../../accounts/quota.js';
import { humanSize } from '../../config/mailbox.js';
import { parseAddress } from '../../names/address.js';
import type { CliContext } from '../context.js';
import { action } from '../runner.js';

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
    .action(action(context, async (engine, config, _progress, input: string, size: string | undefined) => {
      const { address } = parseAddress(input);
      const usage = size === undefined ? await quotaOf(engine, config, address) : await setQuota(engine, config, address, size);
      return { json: usage, text: `${address}: ${usageText(usage)}` };
    }, (input: string, size: string | undefined) => {
      // Both arguments are checked before the engine is connected.
      parseAddress(input);
      if (size !== undefined) quotaArgument(size);
    }));
}
