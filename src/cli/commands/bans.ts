import type { Command } from 'commander';
import { parseBanTarget } from '../../names/ip.js';
import { listBans, unban } from '../../abuse/bans.js';
import { UsageError } from '../../core/errors.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

const duration = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${s} s`);

export function register(program: Command, context: CliContext): void {
  program
    .command('bans')
    .description('list the client addresses banned for failed logins, with why and until when')
    .option('--json', 'print a JSON array, one object per ban')
    .action(runner(context, async ({ config, engine }: Run, opts: { json?: boolean }) => {
      const bans = await listBans(await engine(), config);
      if (opts.json) return printJson(context, bans);
      if (!bans.length) return void context.stdout.write('no address is banned\n');
      context.stdout.write(bans.map((b) => `${b.address}  ${duration(b.secondsLeft)} left (until ${b.until}; ban ${b.count} this week)  ${b.reason}`).join('\n') + '\n');
    }));

  program
    .command('unban')
    .description('lift the ban of a client address')
    .argument('<address>', 'the IPv4 address or IPv6 /64 as `mailctl bans` lists it (or any address in that /64)')
    .option('--json', 'print the lifted ban as JSON')
    .action(runner(context, async ({ config, engine }: Run, address: string, opts: { json?: boolean }) => {
      if (!parseBanTarget(address)) throw new UsageError(`"${address}" is not an IP address: give the address \`mailctl bans\` lists, e.g. 198.51.100.7 or 2001:db8::7`);
      const lifted = await unban(await engine(), config, address);
      if (opts.json) return printJson(context, lifted);
      context.stdout.write(`unbanned ${lifted.address} (was: ${lifted.reason})\n`);
    }));
}
