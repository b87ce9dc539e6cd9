import test from 'ava';
import { NO_LOGINS_SOCKET, renderChasquidConf, renderSubmissionConf } from '../../src/render/chasquid.js';
import { renderDovecotConf } from '../../src/render/dovecot.js';
import { configFrom } from '../helpers/config.js';

const config = configFrom({ MAIL_DOMAIN: 'example.com', MAIL_HOSTNAME: 'mx.example.com' });

test('dovecot: listeners for chasquid on the shared socket directory, owned by chasquid, 0660', (t) => {
  const conf = renderDovecotConf(config);
  for (const [name, path] of [['auth-chasquid-userdb', '/run/mailctl/auth-chasquid-userdb'], ['auth-chasquid-client', '/run/mailctl/auth-chasquid-client'], ['lmtp-chasquid', '/run/mailctl/lmtp']]) {
    t.true(conf.includes(`unix_listener ${name} {\n    path = ${path}\n    mode = 0660\n    user = chasquid\n    group = chasquid\n  }`), name);
  }
  t.regex(conf, /service auth \{\n {2}unix_listener auth-chasquid-userdb/);
  t.regex(conf, /service lmtp \{\n {2}unix_listener lmtp-chasquid/);
});

test('dovecot: 2.4 syntax, passwd-file virtual users, maildir under /var/mail', (t) => {
  const conf = renderDovecotConf(config);
  t.regex(conf, /^dovecot_config_version = 2\.4\.0$/m);
  t.regex(conf, /^passdb passwd-file \{\n {2}passwd_file_path = \/etc\/mailctl\/users\/passwd\n.*\n {2}passdb_username_filter = \* !mailctl\+sieve@\*\n\}/m);
  t.regex(conf, /^userdb passwd-file \{\n {2}passwd_file_path = \/etc\/mailctl\/users\/passwd/m);
  t.regex(conf, /^mail_driver = maildir$/m);
  t.regex(conf, /^mail_home = \/var\/mail\/%\{user \| domain\}\/%\{user \| username\}$/m);
  t.regex(conf, /^protocols = imap pop3 lmtp sieve$/m);
  t.regex(conf, /^lmtp_user_concurrency_limit = 64$/m, 'a burst to one mailbox is not deferred');
});

test('dovecot: TLS from the certificates volume; no plaintext auth outside TLS', (t) => {
  const conf = renderDovecotConf(config);
  t.regex(conf, /^ssl = required$/m);
  t.regex(conf, /^ssl_server_cert_file = \/etc\/mailctl\/certs\/mx\.example\.com\/fullchain\.pem$/m);
  t.regex(conf, /^ssl_server_key_file = \/etc\/mailctl\/certs\/mx\.example\.com\/privkey\.pem$/m);
  t.regex(conf, /^auth_allow_cleartext = no$/m);
  t.regex(conf, /inet_listener imaps \{\n {4}port = 993\n {4}ssl = yes/);
  t.regex(conf, /inet_listener pop3s \{\n {4}port = 995\n {4}ssl = yes/);
});

test('chasquid, port 25: recipients looked up in dovecot, no logins, no submission ports', (t) => {
  const conf = renderChasquidConf(config);
  t.regex(conf, /^hostname: "mx\.example\.com"$/m);
  t.regex(conf, /^dovecot_auth: true$/m);
  t.regex(conf, /^dovecot_userdb_path: "\/run\/mailctl\/auth-chasquid-userdb"$/m);
  t.true(conf.includes(`dovecot_client_path: "${NO_LOGINS_SOCKET}"`), 'AUTH on 25 never reaches dovecot');
  t.regex(conf, /^smtp_address: ":25"$/m);
  t.notRegex(conf, /^submission/m);
  t.regex(conf, /^data_dir: "\/var\/lib\/chasquid"$/m);
});

test('chasquid, submission: 587 and 465, logins through dovecot, a queue of its own', (t) => {
  const conf = renderSubmissionConf(config);
  t.regex(conf, /^hostname: "mx\.example\.com"$/m);
  t.regex(conf, /^dovecot_client_path: "\/run\/mailctl\/auth-chasquid-client"$/m);
  t.regex(conf, /^submission_address: ":587"$/m);
  t.regex(conf, /^submission_over_tls_address: ":465"$/m);
  t.notRegex(conf, /^smtp_address/m);
  t.regex(conf, /^data_dir: "\/var\/lib\/chasquid\/submission"$/m);
  t.regex(conf, /^drop_characters: ""$/m);
});

test('chasquid: delivery through the per-recipient wrapper, then mda-lmtp to dovecot with the full address', (t) => {
  for (const conf of [renderChasquidConf(config), renderSubmissionConf(config)]) {
    const args = [...conf.matchAll(/^mail_delivery_agent_args: (.*)$/gm)].map((m) => JSON.parse(m[1]));
    t.deepEqual(args, ['%to%', '--addr_network', 'unix', '--addr', '/run/mailctl/lmtp', '-f', '%from%', '-d', '%to%']);
    t.regex(conf, /^mail_delivery_agent_bin: "\/usr\/local\/bin\/mailctl-deliver"$/m);
  }
  t.regex(renderChasquidConf(config), /^max_queue_items: 1000$/m, 'a burst from the internet waits in the queue, not in 451s');
  t.notRegex(renderSubmissionConf(config), /^max_queue_items/m);
});

test('rendering is deterministic', (t) => {
  t.is(renderDovecotConf(config), renderDovecotConf(configFrom({ MAIL_DOMAIN: 'example.com', MAIL_HOSTNAME: 'mx.example.com' })));
  t.is(renderChasquidConf(config), renderChasquidConf(config));
});

test('addresses: chasquid keeps dots and strips only a +tag; dovecot filters no username characters', (t) => {
  const chasquid = renderChasquidConf(config);
  t.regex(chasquid, /^drop_characters: ""$/m, 'first.last@ is looked up as first.last@, not firstlast@');
  t.regex(chasquid, /^suffix_separators: "\+"$/m);
  t.regex(renderDovecotConf(config), /^auth_username_chars =$/m, 'unicode and every character mailctl allows reach the passwd-file');
});

test('the mail domain is in no generated file: changing it recreates nothing', (t) => {
  const other = configFrom({ MAIL_DOMAIN: 'other.example', MAIL_HOSTNAME: 'mx.example.com' });
  t.is(renderDovecotConf(other), renderDovecotConf(config));
  t.is(renderChasquidConf(other), renderChasquidConf(config));
  t.is(renderSubmissionConf(other), renderSubmissionConf(config));
});

test('listening: MAIL_BIND addresses and the configured ports, in the daemons themselves', (t) => {
  const local = configFrom({ MAIL_BIND: '127.0.0.1,::1', MAIL_PORT_SMTP: '2525', MAIL_PORT_IMAPS: '1993' });
  const chasquid = renderChasquidConf(local);
  t.deepEqual([...chasquid.matchAll(/^smtp_address: "(.*)"$/gm)].map((m) => m[1]), ['127.0.0.1:2525', '[::1]:2525']);
  t.deepEqual([...renderSubmissionConf(local).matchAll(/^submission_over_tls_address: "(.*)"$/gm)].map((m) => m[1]), ['127.0.0.1:465', '[::1]:465']);
  const dovecot = renderDovecotConf(local);
  t.regex(dovecot, /^listen = 127\.0\.0\.1, ::1$/m);
  t.regex(dovecot, /inet_listener imaps \{\n {4}port = 1993\n {4}ssl = yes/);
  // A wildcard is every address of both families: one dual-stack socket in Go, two listeners in dovecot.
  const all = configFrom({ MAIL_BIND: '0.0.0.0,::' });
  t.deepEqual([...renderChasquidConf(all).matchAll(/^smtp_address: "(.*)"$/gm)].map((m) => m[1]), [':25']);
  t.regex(renderDovecotConf(all), /^listen = \*, ::$/m);
});

test('dovecot.conf carries nothing that changes without changing its meaning: another MAIL_DOMAIN, same hostname, same file', (t) => {
  const a = renderDovecotConf(configFrom({ MAIL_DOMAIN: 'example.com', MAIL_HOSTNAME: 'mx.example.net' }));
  const b = renderDovecotConf(configFrom({ MAIL_DOMAIN: 'example.org', MAIL_HOSTNAME: 'mx.example.net' }));
  t.is(a, b);
});
