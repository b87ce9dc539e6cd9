/**
 * The host firewall's part in a ban, as nftables scripts. Pure. One table of
 * the stack's own (two stacks never touch each other's), with a set per
 * family whose elements expire by themselves (IPv6: whole /64s), and chains
 * that drop packets from those addresses to the mail ports, and the replies
 * to them (logins already queued when the ban came are still answered by the
 * daemons: the answers must not reach the guesser). Mail ports only, never
 * SSH: an admin who mistypes a password must still reach the machine.
 */

/** nft identifiers: letters, digits and "_". */
export const tableName = (project: string) => `mailctl_${project.replace(/[^A-Za-z0-9]/g, '_')}`;

/**
 * Make (or remake) the table with the bans in force, in one nft transaction:
 * a restarted guard never leaves a moment without them.
 */
export function renderTable(project: string, ports: readonly number[], bans: readonly { address: string; seconds: number }[] = []): string {
  const table = tableName(project);
  const dports = [...new Set(ports)].sort((a, b) => a - b).join(', ');
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  set banned4 { type ipv4_addr; flags timeout; }',
    '  set banned6 { type ipv6_addr; flags interval, timeout; }',
    '  chain input {',
    '    type filter hook input priority filter - 10; policy accept;',
    `    ip saddr @banned4 tcp dport { ${dports} } drop`,
    `    ip6 saddr @banned6 tcp dport { ${dports} } drop`,
    '  }',
    '  chain output {',
    '    type filter hook output priority filter - 10; policy accept;',
    `    ip daddr @banned4 tcp sport { ${dports} } drop`,
    `    ip6 daddr @banned6 tcp sport { ${dports} } drop`,
    '  }',
    '}',
    '',
  ].join('\n') + addBans(project, bans);
}

const setOf = (ip: string) => (ip.includes(':') ? 'banned6' : 'banned4');

export function addBans(project: string, bans: readonly { address: string; seconds: number }[]): string {
  return bans.map((b) => `add element inet ${tableName(project)} ${setOf(b.address)} { ${b.address} timeout ${Math.max(1, Math.ceil(b.seconds))}s }\n`).join('');
}

export function removeBan(project: string, address: string): string {
  return `delete element inet ${tableName(project)} ${setOf(address)} { ${address} }\n`;
}

export function dropTable(project: string): string {
  return `table inet ${tableName(project)}\ndelete table inet ${tableName(project)}\n`;
}
