#!/usr/bin/env python3
"""Mail checks with Python's own clients (imaplib, poplib), for the test rig.

  mailcheck fetch PROTO HOST USER SUBJECT   wait until a message whose Subject
                                            contains SUBJECT is in USER's inbox
  mailcheck raw PROTO HOST USER SUBJECT     like fetch, but print the whole message
  mailcheck count PROTO HOST USER           print the number of messages
  mailcheck login PROTO HOST USER           exit 0 if the login works
  mailcheck imap-plain-refused HOST USER    exit 0 if LOGIN without TLS is refused
  mailcheck send N CONCURRENCY HOST PORT TO PREFIX
                                            send N messages (Subject PREFIX-i) with
                                            smtplib; print the numbers that got 250
  mailcheck probe SECONDS HOST:PORT...      greet each every 100 ms (TLS on 465/993/995);
                                            print the longest window without a greeting
                                            and how many connections were refused
                                            (SECONDS may be a file: probe until it exists)
  mailcheck sendloop HOST PORT TO PREFIX STOPFILE
                                            send PREFIX-0, PREFIX-1, ... one at a time until
                                            STOPFILE exists; like an MTA, retry a message
                                            until it gets 250; print what was accepted

PROTO: imap (143 + STARTTLS), imaps (993), pop3 (110 + STLS), pop3s (995).
The password is read from stdin. TLS must chain to /ca/ca.crt or $MAILCHECK_CA (names are
checked separately, with openssl s_client -verify_hostname).
"""
import email
import os
import imaplib
import poplib
import ssl
import sys
import time

CA = os.environ.get("MAILCHECK_CA", "/ca/ca.crt")


def tls_context():
    ctx = ssl.create_default_context(cafile=CA)
    ctx.check_hostname = False  # connected by container name; verified with openssl
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def open_mailbox(proto, host, user, password):
    """Log in; return (list_subjects, close)."""
    if proto in ("imap", "imaps"):
        if proto == "imaps":
            conn = imaplib.IMAP4_SSL(host, 993, ssl_context=tls_context(), timeout=10)
        else:
            conn = imaplib.IMAP4(host, 143, timeout=10)
            conn.starttls(ssl_context=tls_context())
        conn.login(user, password)

        def subjects():
            conn.select("INBOX", readonly=True)
            _, data = conn.search(None, "ALL")
            out = []
            for num in data[0].split():
                _, msg = conn.fetch(num, "(BODY.PEEK[])")
                parsed = email.message_from_bytes(msg[0][1])
                parsed.raw = msg[0][1]  # exactly as stored: DKIM verification needs the bytes
                out.append(parsed)
            return out

        return subjects, conn.logout
    if proto in ("pop3", "pop3s"):
        def connect():
            if proto == "pop3s":
                c = poplib.POP3_SSL(host, 995, context=tls_context(), timeout=10)
            else:
                c = poplib.POP3(host, 110, timeout=10)
                c.stls(context=tls_context())
            c.user(user)
            c.pass_(password)
            return c

        connect().quit()  # fail early on a bad login

        def subjects():
            c = connect()  # POP3 shows the mailbox as it was at login
            out = []
            for i in range(1, len(c.list()[1]) + 1):
                out.append(email.message_from_bytes(b"\r\n".join(c.top(i, 0)[1])))
            c.quit()
            return out

        return subjects, lambda: None
    sys.exit(f"unknown protocol {proto}")


TLS_PORTS = {"465", "993", "995"}


def greets(host, port):
    """'ok' if the service sends its greeting (220 / * OK / +OK) within 1 s
    (inside TLS on 465, 993 and 995), 'refused' if the connection was refused,
    else 'failed'."""
    import socket
    try:
        with socket.create_connection((host, int(port)), timeout=1) as s:
            s.settimeout(1)
            if str(port) in TLS_PORTS:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                with ctx.wrap_socket(s) as t:
                    first = t.recv(64)
            else:
                first = s.recv(64)
            return "ok" if first[:3] in (b"220", b"* O", b"+OK") else "failed"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "failed"


def until(limit):
    """A number of seconds from now, or the appearance of a file."""
    try:
        end = time.time() + float(limit)
        return lambda: time.time() >= end
    except ValueError:
        return lambda: os.path.exists(limit)


def probe(limit, targets):
    """Probe every 100 ms; report per target the longest run of failures."""
    import json
    state = {t: {"down_since": None, "longest_ms": 0, "failures": 0, "refused": 0, "probes": 0} for t in targets}
    done = until(limit)
    while not done():
        tick = time.time()
        for t in targets:
            st = state[t]
            st["probes"] += 1
            answer = greets(*t.rsplit(":", 1))
            if answer == "ok":
                if st["down_since"] is not None:
                    st["longest_ms"] = max(st["longest_ms"], int((tick - st["down_since"]) * 1000))
                    st["down_since"] = None
            else:
                st["failures"] += 1
                st["refused"] += answer == "refused"
                if st["down_since"] is None:
                    st["down_since"] = tick
        time.sleep(max(0, 0.1 - (time.time() - tick)))
    for st in state.values():
        if st["down_since"] is not None:
            st["longest_ms"] = max(st["longest_ms"], int((time.time() - st["down_since"]) * 1000))
        del st["down_since"]
    print(json.dumps(state))
    return 0


def send(n, concurrency, host, port, to, prefix):
    """Each message on its own connection; a refused or broken session is just not counted."""
    import json
    import smtplib
    import threading
    accepted, lock, next_i = [], threading.Lock(), [0]

    def worker():
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= n:
                return
            body = f"From: load@sender.test\r\nTo: {to}\r\nSubject: {prefix}-{i}\r\n\r\nmessage {i}\r\n"
            try:
                with smtplib.SMTP(host, int(port), timeout=30) as s:
                    s.sendmail("load@sender.test", [to], body)
                with lock:
                    accepted.append(i)
            except (OSError, smtplib.SMTPException):
                pass

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(sorted(accepted)))
    return 0


def sendloop(host, port, to, prefix, stopfile):
    """One message at a time; a refused or failed attempt is retried after 200 ms."""
    import json
    import smtplib
    accepted, attempts, failures, i = [], 0, 0, 0
    while not os.path.exists(stopfile):
        body = f"From: loop@sender.test\r\nTo: {to}\r\nSubject: {prefix}-{i}\r\n\r\nmessage {i}\r\nEND-OF-MESSAGE\r\n"
        attempts += 1
        try:
            with smtplib.SMTP(host, int(port), timeout=30) as s:
                s.sendmail("loop@sender.test", [to], body)
            accepted.append(i)
            i += 1
        except (OSError, smtplib.SMTPException):
            failures += 1
        time.sleep(0.2)
    print(json.dumps({"accepted": accepted, "attempts": attempts, "failed_attempts": failures}))
    return 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "send":
        return send(int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:8])
    if cmd == "probe":
        return probe(sys.argv[2], sys.argv[3:])
    if cmd == "sendloop":
        return sendloop(*sys.argv[2:7])
    password = sys.stdin.readline().rstrip("\n")
    if cmd == "imap-plain-refused":
        host, user = sys.argv[2:4]
        conn = imaplib.IMAP4(host, 143, timeout=10)
        caps = conn.capabilities
        try:
            conn.login(user, password)
        except imaplib.IMAP4.error as err:
            print(f"refused: {err}; capabilities: {' '.join(caps)}")
            return 0
        print("LOGIN without TLS was accepted")
        return 1
    proto, host, user = sys.argv[2:5]
    try:
        subjects, close = open_mailbox(proto, host, user, password)
    except (imaplib.IMAP4.error, poplib.error_proto) as err:
        print(f"login failed: {err}")
        return 1
    if cmd == "login":
        close()
        print("login ok")
        return 0
    if cmd == "count":
        print(len(subjects()))
        close()
        return 0
    if cmd in ("fetch", "raw"):
        want = sys.argv[5]
        deadline = time.time() + 30
        while time.time() < deadline:
            for msg in subjects():
                if want in (msg.get("Subject") or ""):
                    if cmd == "raw":
                        sys.stdout.buffer.write(getattr(msg, "raw", None) or msg.as_bytes())
                    else:
                        print("".join(f"{k}: {v}\n" for k, v in msg.items()))
                    close()
                    return 0
            time.sleep(0.5)
        print(f"no message with subject {want!r} for {user} after 30s")
        close()
        return 1
    sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main())
