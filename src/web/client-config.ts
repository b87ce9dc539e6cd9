/**
 * What mail clients fetch to configure themselves, one file per domain, from
 * the configuration alone. Pure: tested as text (test/unit/web.test.ts).
 *
 * - Thunderbird (and K-9, FairEmail, Evolution): config-v1.1.xml
 *   (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat);
 *   the client puts its own address where %EMAILADDRESS% is.
 * - Outlook: the POX autodiscover response (responseschema 2006a). Static: it
 *   names no LoginName, so Outlook uses the address the user typed.
 * - Apple: a configuration profile (com.apple.mail.managed) with no password;
 *   the web server puts the address where ADDRESS_PLACEHOLDER is, from a
 *   request it has checked (src/web/nginx.ts).
 * Every server is MAIL_HOSTNAME; implicit TLS is offered first (RFC 8314),
 * STARTTLS second. Logins are the full address.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';

/** What nginx replaces with the checked address in a profile. */
export const ADDRESS_PLACEHOLDER = '@@MAILCTL_ADDRESS@@';

/** The published ports and the name clients connect to. */
export interface MailEndpoints {
  hostname: string;
  ports: Pick<Config['ports'], 'submission' | 'submissions' | 'imap' | 'imaps' | 'pop3s'>;
}

export const endpointsOf = (config: Config): MailEndpoints => ({ hostname: config.hostname, ports: config.ports });

/** Domain names are checked before they get here ([a-z0-9.-], punycode); escaping is a second line of defence. */
export const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function thunderbirdAutoconfig(domain: string, mail: MailEndpoints): string {
  const d = xmlEscape(domain);
  const h = xmlEscape(mail.hostname);
  const server = (tag: 'incomingServer' | 'outgoingServer', type: string, port: number, socket: 'SSL' | 'STARTTLS') => [
    `    <${tag} type="${type}">`,
    `      <hostname>${h}</hostname>`,
    `      <port>${port}</port>`,
    `      <socketType>${socket}</socketType>`,
    '      <authentication>password-cleartext</authentication>',
    '      <username>%EMAILADDRESS%</username>',
    `    </${tag}>`,
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${d}">`,
    `    <domain>${d}</domain>`,
    `    <displayName>${d}</displayName>`,
    `    <displayShortName>${d}</displayShortName>`,
    ...server('incomingServer', 'imap', mail.ports.imaps, 'SSL'),
    ...server('incomingServer', 'imap', mail.ports.imap, 'STARTTLS'),
    ...server('incomingServer', 'pop3', mail.ports.pop3s, 'SSL'),
    ...server('outgoingServer', 'smtp', mail.ports.submissions, 'SSL'),
    ...server('outgoingServer', 'smtp', mail.ports.submission, 'STARTTLS'),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}

/** The answer to Outlook's POST (whatever address it asks about: every account of the domain has the same servers). */
export function autodiscoverXml(mail: MailEndpoints): string {
  const protocol = (type: 'IMAP' | 'POP3' | 'SMTP', port: number, encryption: 'SSL' | 'TLS') => [
    '      <Protocol>',
    `        <Type>${type}</Type>`,
    `        <Server>${xmlEscape(mail.hostname)}</Server>`,
    `        <Port>${port}</Port>`,
    '        <DomainRequired>off</DomainRequired>',
    '        <SPA>off</SPA>',
    '        <SSL>on</SSL>',
    `        <Encryption>${encryption}</Encryption>`,
    '        <AuthRequired>on</AuthRequired>',
    ...(type === 'SMTP' ? ['        <UsePOPAuth>off</UsePOPAuth>', '        <SMTPLast>off</SMTPLast>'] : []),
    '      </Protocol>',
  ];
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">',
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    ...protocol('IMAP', mail.ports.imaps, 'SSL'),
    ...protocol('POP3', mail.ports.pop3s, 'SSL'),
    ...protocol('SMTP', mail.ports.submissions, 'SSL'),
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}

/** A stable UUID (RFC 4122 layout, version 5 style) from a name: the same profile keeps its identity. */
export function nameUuid(name: string): string {
  const h = createHash('sha1').update(`mailctl:${name}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The Apple profile, with ADDRESS_PLACEHOLDER for the account's address; no password in it (the device asks). */
export function appleProfile(domain: string, mail: MailEndpoints): string {
  const d = xmlEscape(domain);
  const a = ADDRESS_PLACEHOLDER;
  const id = `${domain.split('.').reverse().join('.')}.mailctl`;
  const key = (k: string, v: string, type = 'string') => [`      <key>${k}</key>`, type === 'bool' ? `      <${v}/>` : `      <${type}>${v}</${type}>`];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>PayloadContent</key>',
    '  <array>',
    '    <dict>',
    ...key('EmailAccountDescription', d),
    ...key('EmailAccountName', a),
    ...key('EmailAccountType', 'EmailTypeIMAP'),
    ...key('EmailAddress', a),
    ...key('IncomingMailServerAuthentication', 'EmailAuthPassword'),
    ...key('IncomingMailServerHostName', xmlEscape(mail.hostname)),
    ...key('IncomingMailServerPortNumber', String(mail.ports.imaps), 'integer'),
    ...key('IncomingMailServerUseSSL', 'true', 'bool'),
    ...key('IncomingMailServerUsername', a),
    ...key('OutgoingMailServerAuthentication', 'EmailAuthPassword'),
    ...key('OutgoingMailServerHostName', xmlEscape(mail.hostname)),
    ...key('OutgoingMailServerPortNumber', String(mail.ports.submissions), 'integer'),
    ...key('OutgoingMailServerUseSSL', 'true', 'bool'),
    ...key('OutgoingMailServerUsername', a),
    ...key('OutgoingPasswordSameAsIncomingPassword', 'true', 'bool'),
    ...key('PayloadDescription', `Mail account ${a}`),
    ...key('PayloadDisplayName', `${d} mail`),
    ...key('PayloadIdentifier', `${id}.account.${a}`),
    ...key('PayloadType', 'com.apple.mail.managed'),
    ...key('PayloadUUID', nameUuid(`${domain}/account`)),
    ...key('PayloadVersion', '1', 'integer'),
    '    </dict>',
    '  </array>',
    '  <key>PayloadDescription</key>',
    `  <string>Mail settings for ${a}</string>`,
    '  <key>PayloadDisplayName</key>',
    `  <string>${d} mail</string>`,
    '  <key>PayloadIdentifier</key>',
    `  <string>${id}.${a}</string>`,
    '  <key>PayloadRemovalDisallowed</key>',
    '  <false/>',
    '  <key>PayloadType</key>',
    '  <string>Configuration</string>',
    '  <key>PayloadUUID</key>',
    `  <string>${nameUuid(`${domain}/profile`)}</string>`,
    '  <key>PayloadVersion</key>',
    '  <integer>1</integer>',
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
