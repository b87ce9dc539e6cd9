#!/usr/bin/env python3
"""Python's imaplib as a mail client for the mailbox tests (run on the host).

  imap-client.py HOST CA USER list              LIST RETURN (SPECIAL-USE) and LSUB, as JSON
  imap-client.py HOST CA USER quota             GETQUOTAROOT INBOX, as JSON
  imap-client.py HOST CA USER subjects FOLDER   the Subject of every message in FOLDER, as JSON
  imap-client.py HOST CA USER message FOLDER SUBJECT   the headers of the first message with SUBJECT

The password is read from stdin. TLS on 993, chained to CA (connected by address: no name check).
"""
import email
import json
import imaplib
import ssl
import sys

host, ca, user, what = sys.argv[1:5]
args = sys.argv[5:]
password = sys.stdin.readline().rstrip("\n")
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
m = imaplib.IMAP4_SSL(host, 993, ssl_context=ctx)
m.login(user, password)


def text(b):
    return b.decode() if isinstance(b, bytes) else str(b)


if what == "list":
    typ, data = m._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
    listed = [text(x) for x in m.untagged_responses.pop("LIST", [])]
    typ, subscribed = m.lsub()
    print(json.dumps({"list": listed, "lsub": [text(x) for x in subscribed if x]}))
elif what == "quota":
    typ, data = m.getquotaroot("INBOX")
    print(json.dumps({"status": typ, "response": [[text(y) for y in x] for x in data]}))
elif what == "subjects":
    m.select('"%s"' % args[0], readonly=True)
    typ, data = m.search(None, "ALL")
    subjects = []
    for num in data[0].split():
        typ, msg = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects.append(str(email.message_from_bytes(msg[0][1]).get("Subject", "")))
    print(json.dumps(subjects))
elif what == "message":
    m.select('"%s"' % args[0], readonly=True)
    typ, data = m.search(None, "SUBJECT", '"%s"' % args[1])
    nums = data[0].split()
    if not nums:
        sys.exit(1)
    typ, msg = m.fetch(nums[0], "(BODY.PEEK[HEADER])")
    sys.stdout.write(msg[0][1].decode("utf-8", "replace"))
m.logout()
