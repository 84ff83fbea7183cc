"""What a mail failure means: a refusal that no retry will change (5xx), or an error worth retrying.

One rule for every email the product sends (receipts, invitations, reminders, digests): the SMTP server's
5xx answers (a refused recipient, sender or message) are permanent and fail the email at once, with the
server's answer kept for the officers; anything else (4xx, a dropped connection, a server that cannot be
reached, a time-out) is transient and retried.
"""

from __future__ import annotations

import smtplib

MAX_ERROR_LENGTH = 2000


def _code_and_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def mail_error_is_permanent(error: BaseException) -> bool:
    """True for a 5xx refusal (of the recipient, the sender or the message)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPServerDisconnected)
    return False


def mail_error_text(error: BaseException) -> str:
    """The server's answer ("550 5.1.1 No such user"), or what went wrong reaching it, for the row's last error."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{address}: {_code_and_text(code, message)}" for address, (code, message) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        text = _code_and_text(error.smtp_code, error.smtp_error)
    elif isinstance(error, ConnectionRefusedError):
        text = f"The mail server could not be reached (connection refused): {error}"
    elif isinstance(error, TimeoutError):
        text = f"The mail server did not answer in time: {error}"
    else:
        text = str(error) or type(error).__name__
        if isinstance(error, OSError):
            text = f"The mail server could not be reached: {text}"
    return (text or type(error).__name__)[:MAX_ERROR_LENGTH]
