/**
 * MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the policy senders fetch from
 * https://mta-sts.<domain>/.well-known/mta-sts.txt, the `_mta-sts` TXT record
 * whose id tells them it changed, and where they send TLS reports. Pure.
 */
import { createHash } from 'node:crypto';
import type { MtaStsMode } from '../config/mta-sts.js';

/**
 * How long a sender keeps the policy: a day while testing (a mistake is soon
 * forgotten), two weeks when enforced (RFC 8461 3.2 advises weeks: a policy
 * protects only between fetches), a day for `none` (so a sender that cached
 * an enforced policy drops it soon).
 */
export const MAX_AGE: Record<MtaStsMode, number> = { testing: 86_400, enforce: 1_209_600, none: 86_400 };

/** The policy file (RFC 8461 3.2: CRLF lines). The same for every domain: they share MAIL_HOSTNAME as MX. */
export function mtaStsPolicy(mode: MtaStsMode, mxHost: string): string {
  const lines = ['version: STSv1', `mode: ${mode}`, ...(mode === 'none' ? [] : [`mx: ${mxHost}`]), `max_age: ${MAX_AGE[mode]}`];
  return `${lines.join('\r\n')}\r\n`;
}

/** The `id=` of the `_mta-sts` TXT record: derived from the policy text, so it changes exactly when the policy does. */
export function mtaStsId(policy: string): string {
  return createHash('sha256').update(policy).digest('hex').slice(0, 20);
}

export const mtaStsTxt = (policy: string) => `v=STSv1; id=${mtaStsId(policy)}`;

/** TLS reports go to the domain's postmaster (an alias every domain has). */
export const tlsRptTxt = (domain: string) => `v=TLSRPTv1; rua=mailto:postmaster@${domain}`;
