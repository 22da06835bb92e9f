"""Notices by email over SMTP: one connection per batch, UTF-8 MIME that Chinese mail clients show right."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Mapping, Sequence

from server.notifications.channels import Message, SendFailed
from server.notifications.texts import SUBJECT_PREFIX


@dataclass(frozen=True)
class MailChannel:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailChannel:
        return cls(host=config["SMTP_HOST"], port=config["SMTP_PORT"], sender=config["SMTP_FROM"],
                   username=config["SMTP_USERNAME"], password=config["SMTP_PASSWORD"],
                   starttls=config["SMTP_STARTTLS"], timeout=config["SMTP_TIMEOUT"])

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = SUBJECT_PREFIX + message.subject
        mail["From"] = self.sender
        mail["To"] = Address(message.recipient.display_name, addr_spec=message.recipient.email)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.id}@{self._domain()}>"
        mail.set_content(message.text, charset="utf-8")
        return mail

    def _domain(self) -> str:
        return parseaddr(self.sender)[1].rpartition("@")[2] or "xuncha"

    def send(self, messages: Sequence[Message]) -> list[SendFailed | None]:
        results: list[SendFailed | None] = []
        try:
            with self._connect() as smtp:
                for message in messages:
                    results.append(self._send_one(smtp, message))
        except (OSError, smtplib.SMTPException) as exc:
            # The connection failed or broke: what was not confirmed is retried.
            failure = SendFailed(f"SMTP {self.host}:{self.port}: {exc}")
            results += [failure] * (len(messages) - len(results))
        return results

    def _send_one(self, smtp: smtplib.SMTP, message: Message) -> SendFailed | None:
        try:
            refused = smtp.send_message(self.compose(message))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            return SendFailed(f"SMTP refused the message: {exc}")
        except ValueError as exc:  # an address the email package cannot write
            return SendFailed(f"bad address: {exc}")
        if refused:
            return SendFailed(f"SMTP refused {', '.join(refused)}")
        return None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp
