# Runs before each user's own Sieve script when SpamAssassin is on (dovecot.conf:
# sieve_script spam-to-junk). chasquid's post-data hook marks mail scored at
# least SPAM_TAG_SCORE (and below SPAM_REJECT_SCORE, which is refused) with
# X-Spam-Flag: YES. Such mail goes to Junk and the user's rules (vacation
# replies, redirects) do not run on it: no auto-reply to spam. A sender who
# writes the header themselves only files their own message into Junk.
require ["fileinto"];
if header :is "X-Spam-Flag" "YES" {
  fileinto "Junk";
  stop;
}
