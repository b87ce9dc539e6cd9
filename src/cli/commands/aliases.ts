import type { Command } from 'commander';
import { parseAlias, parseTargets } from '../../accounts/aliases.js';
import { delAlias, listAliases, setAlias, type AliasView } from '../../accounts/changes.js';
import type { CliContext } from '../context.js';
import { action } from '../runner.js';

/** `a@d -> b@d` and, when the chain goes further, where it ends. */
function aliasLine(a: AliasView): string {
  const line = `${a.alias} -> ${a.targets.join(', ')}`;
  if (a.loop) return `${line}   LOOP: ${a.loop.join(' -> ')}`;
  const ends = (a.delivers ?? []).filter((e) => !a.targets.includes(e.address) || e.kind !== 'account');
  return ends.length ? `${line}   (ends at ${(a.delivers ?? []).map((e) => `${e.address}${e.kind === 'account' ? '' : ` [${e.kind}]`}`).join(', ')})` : line;
}

/** What a removal did to aliases that named what went (del-user, del-domain). */
export function aliasChangeLines(changes: { alias: string; targets?: string[]; why: string }[]): string[] {
  return changes.map((c) => (c.targets ? `${c.alias} -> ${c.targets.join(', ')} (${c.why})` : `removed alias ${c.alias} (${c.why})`));
}

export function register(program: Command, context: CliContext): void {
  program
    .command('add-alias')
    .description('make ALIAS deliver to TARGETs (*@domain: catch-all); replaces an existing alias')
    .argument('<alias>', 'e.g. postmaster@example.com or *@example.com')
    .argument('<target...>', 'addresses to deliver to')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, _p, alias: string, targets: string[]) => {
      const r = await setAlias(docker, config, alias, targets);
      return { json: r, text: aliasLine(r) };
    }, (alias: string, targets: string[]) => { parseAlias(alias); parseTargets(targets); }));

  program
    .command('del-alias')
    .description('remove an alias')
    .argument('<alias>', 'the alias')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, _p, alias: string) => {
      const a = await delAlias(docker, config, alias);
      return { json: { alias: a }, text: `removed ${a}` };
    }, (alias: string) => { parseAlias(alias); }));

  program
    .command('list-aliases')
    .description('list the aliases')
    .option('--json', 'print a JSON array, one object per alias')
    .action(action(context, async (docker, config) => {
      const aliases = await listAliases(docker, config);
      return { json: aliases, text: aliases.map(aliasLine).join('\n') };
    }));
}
