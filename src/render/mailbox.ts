/**
 * The mailbox part of dovecot.conf (dovecot 2.4, Pigeonhole 2.4): special-use
 * folders, Sieve at delivery with ManageSieve, spam filed into Junk, quotas.
 * Pure.
 */
import type { Config } from '../config/config.js';
import { formatSize } from '../config/mailbox.js';
import { RELAY_PASSWD, SENDMAIL, SPAM_TO_JUNK_SIEVE, QUOTA_WARNING } from '../model/layout.js';

/** The folders every account has from its first login, with their RFC 6154 flags. */
export const SPECIAL_USE = ['Drafts', 'Sent', 'Trash', 'Junk', 'Archive'] as const;

/**
 * The account dovecot sends Sieve's mail with (vacation replies, redirects)
 * through chasquid's submission port: a "+" no account name may have
 * (accounts/address.ts), so no person can be it; chasquid's sender check
 * knows it by that shape (images/chasquid/mailctl-sender-check).
 */
export const sieveSender = (config: Config) => `mailctl+sieve@${config.hostname}`;
export const SIEVE_SENDER_PATTERN = 'mailctl+sieve@*';

/**
 * The Sieve sender authenticates (chasquid asks dovecot) but has no userdb
 * entry: no IMAP, POP3 or ManageSieve login and no mail to it. Its passdb is
 * the first: a person's login skips it (the filter) and ends at the
 * accounts' passdb, the last, so a failure is logged as one line ending in
 * the password's hash, as the guard reads it (not "- trying the next passdb").
 */
export function renderSieveSenderPassdb(): string {
  return `passdb sieve-sender {
  driver = passwd-file
  passwd_file_path = ${RELAY_PASSWD}
  passdb_username_filter = ${SIEVE_SENDER_PATTERN}
}`;
}

export function renderMailboxConf(config: Config): string {
  const folders = SPECIAL_USE.map((name) => `  mailbox ${name} {
    special_use = \\${name}
    auto = subscribe
  }`).join('\n');
  const quota = config.mailbox.quotaBytes ? formatSize(config.mailbox.quotaBytes) : 'unlimited';
  const spamToJunk = config.filters.spamassassin
    ? `
# SpamAssassin on: mail chasquid's hook marked X-Spam-Flag: YES (scored at least
# SPAM_TAG_SCORE, below SPAM_REJECT_SCORE) goes to Junk, before the user's own
# script (which may still move it). Compiled into the image (sievec).
sieve_script spam-to-junk {
  type = before
  driver = file
  path = ${SPAM_TO_JUNK_SIEVE}
}
`
    : '';
  return `# Special-use folders (RFC 6154), created and subscribed at an account's first
# login, so every client finds the same Sent, Trash, Junk, Drafts and Archive.
namespace inbox {
  inbox = yes
${folders}
}
# user+tag@: "+" is the tag separator. chasquid delivers user+tag@ to user@
# without the tag, so Sieve's envelope :detail is empty; address :detail on
# the To: header works.
recipient_delimiter = +
# fileinto a folder that does not exist yet creates it.
lda_mailbox_autocreate = yes

mail_plugins {
  quota = yes
}
protocol imap {
  mail_plugins {
    imap_quota = yes
  }
}
protocol lmtp {
  mail_plugins {
    sieve = yes
  }
}

# Quota: MAIL_QUOTA for every account, unless \`mailctl quota\` gave it its own
# (the userdb field quota_storage_size in the passwd-file). Kept by dovecot
# in ~/Maildir/maildirsize (Maildir++ quota), a line added as mail is saved
# or expunged. The count driver re-reads every folder's size at each
# delivery: measured, a burst to one mailbox was delivered at 117 messages/s
# with it and 207/s with this (217/s with no quota at all).
quota_storage_size = ${quota}
quota "User quota" {
  driver = maildir
  # One message to the user when a save takes the mailbox past 90%.
  warning warn-90 {
    quota_storage_percentage = 90
    execute quota-warning {
      args = 90 %{user}
    }
  }
}
# A full mailbox refuses at RCPT with 452 4.2.2 (temporary): chasquid keeps
# the message queued and retries (its mda-lmtp treats any LMTP refusal as
# temporary) for 20 hours, so mail arrives once the owner makes room; only
# then does the sender get a bounce.
lmtp_rcpt_check_quota = yes
quota_full_tempfail = yes
service quota-warning {
  executable = script ${QUOTA_WARNING}
  user = vmail
  unix_listener quota-warning {
    user = vmail
    group = vmail
    mode = 0600
  }
}

# Sieve at delivery: the user's scripts in ~/sieve, managed over ManageSieve.
sieve_script personal {
  driver = file
  path = ~/sieve
  active_path = ~/.dovecot.sieve
}
# Scripts are outside the mail quota: bounded here (a person needs a few).
sieve_quota_script_count = 32
sieve_quota_storage_size = 1M
sieve_max_script_size = 256k
# No enotify: its notify :from would send mail as any address through the Sieve
# sender (found by a break-it session); vacation and redirect are what users need.
sieve_extensions {
  enotify = no
}
${spamToJunk}
# Vacation replies and redirects leave through chasquid's submission port,
# logged in as ${sieveSender(config)}; a redirect is sent as the user.
sendmail_path = ${SENDMAIL}
sieve_redirect_envelope_from = recipient
# Its passdb comes before the accounts' (renderSieveSenderPassdb, in dovecot.conf).

# ManageSieve (RFC 5804): STARTTLS, then the same logins as IMAP.
service managesieve-login {
  inet_listener sieve {
    port = ${config.ports.managesieve}
  }
}
`;
}
