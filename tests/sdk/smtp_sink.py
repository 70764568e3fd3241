"""The SMTP server of Herald's black-box tests: aiosmtpd's Mailbox (every message accepted is
written to a maildir), except that it refuses `RCPT TO` addresses whose local part starts with
`bounce` with `550 5.1.1`, as a mail server refuses a mailbox that does not exist.

python -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Mailbox MAILDIR   (with this folder on PYTHONPATH)
"""

from aiosmtpd.handlers import Mailbox as _Mailbox


class Mailbox(_Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("bounce"):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
