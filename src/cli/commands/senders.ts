import type { Command } from 'commander';
import { changeSender } from '../../accounts/changes.js';
import { parseAddress, parseTarget } from '../../names/address.js';
import type { CliContext } from '../context.js';
import { action } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  for (const kind of ['allow', 'deny'] as const) {
    program
      .command(`${kind}-sender`)
      .description(kind === 'allow'
        ? 'let an account send as another address (on 587/465 each account sends only as itself and its aliases)'
        : 'take back an address an account may send as (an allowance, or an alias that delivers to it)')
      .argument('<user>', 'the account, e.g. alice@example.com')
      .argument('<address>', 'the address, e.g. team@example.com')
      .option('--json', 'print the result as JSON')
      .action(action(context, async (docker, config, _p, user: string, address: string) => {
        const r = await changeSender(docker, config, kind, user, address);
        const text = `${r.user} ${kind === 'allow' ? 'may now' : 'may no longer'} send as ${r.address}\n${r.user} sends as: ${r.senders.map((s) => s.address).join(', ')}`;
        return { json: r, text };
      }, (user: string, address: string) => { parseAddress(user); parseTarget(address); }));
  }
}
