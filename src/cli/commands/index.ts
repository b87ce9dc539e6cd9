import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { register as build } from './build.js';
import { register as up } from './up.js';
import { register as init } from './init.js';
import { register as down } from './down.js';
import { register as status } from './status.js';
import { register as logs } from './logs.js';
import { register as renew } from './renew.js';
import { register as dns } from './dns.js';
import { register as users } from './users.js';
import { register as senders } from './senders.js';
import { register as domains } from './domains.js';
import { register as aliases } from './aliases.js';
import { register as backupRestore } from './backup-restore.js';
import { register as doctor } from './doctor.js';
import { register as upgradeCompose } from './upgrade-compose.js';
import { register as bans } from './bans.js';
import { register as quota } from './quota.js';

/** Every command, in the order `--help` lists them. */
export function registerCommands(program: Command, context: CliContext): void {
  for (const register of [init, up, down, status, logs, users, senders, domains, aliases, quota, bans, dns, renew, doctor, backupRestore, upgradeCompose, build]) register(program, context);
}
