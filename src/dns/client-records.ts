/**
 * The records that let clients and senders find what the web service serves
 * (issue 17): SRV (RFC 6186, RFC 8314: implicit TLS preferred), the
 * autoconfig / autodiscover / mta-sts names, the MTA-STS TXT (RFC 8461) and
 * TLS-RPT (RFC 8460). Pure.
 */
import type { Config } from '../config/config.js';
import { mtaStsPolicy, mtaStsTxt, tlsRptTxt } from '../web/mta-sts.js';
import type { DnsRecord } from './records.js';

/** Service, port key, priority: lower is preferred, so implicit TLS first and IMAP before POP3 (RFC 6186 3.4). */
const SRV: [string, keyof Config['ports'], number][] = [
  ['_submissions._tcp', 'submissions', 0],
  ['_submission._tcp', 'submission', 10],
  ['_imaps._tcp', 'imaps', 0],
  ['_imap._tcp', 'imap', 10],
  ['_pop3s._tcp', 'pop3s', 20],
];

/** What the policy asks of senders, per mode. */
const STS_MEANS = { testing: 'senders report, but do not require, TLS to', enforce: 'senders must use TLS to', none: 'no policy (withdrawn) for' } as const;

export function clientRecords(config: Config, domain: string): DnsRecord[] {
  const host = `${config.hostname}.`;
  const policy = mtaStsPolicy(config.mtaStsMode, config.hostname);
  return [
    ...SRV.map(([service, port, priority]): DnsRecord => ({
      domain, name: `${service}.${domain}.`, type: 'SRV', value: `${priority} 1 ${config.ports[port]} ${host}`,
      ...(service === '_submissions._tcp' ? { comment: 'SRV (RFC 6186, 8314): where mail clients find each service' } : {}),
    })),
    ...(['autoconfig', 'autodiscover', 'mta-sts'] as const).map((label): DnsRecord => ({
      domain, name: `${label}.${domain}.`, type: 'CNAME', value: host,
      ...(label === 'autoconfig' ? { comment: 'the web service: client autoconfiguration (Thunderbird, Outlook) and the MTA-STS policy' } : {}),
    })),
    { domain, name: `_mta-sts.${domain}.`, type: 'TXT', value: mtaStsTxt(policy), comment: `MTA-STS (mode ${config.mtaStsMode}): ${STS_MEANS[config.mtaStsMode]} ${config.hostname}; the id changes with the policy` },
    { domain, name: `_smtp._tls.${domain}.`, type: 'TXT', value: tlsRptTxt(domain), comment: 'TLS-RPT: where senders report TLS failures' },
  ];
}
