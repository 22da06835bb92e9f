"""What the account services say about an account they refuse, each sentence under a stable
key: a :class:`~server.messages.Said`, English for the command line and the API, which the web
console says in Chinese (``setup.say.<key>`` in server/web/text.py) — on the people pages and
in a users file's problems alike."""

from __future__ import annotations

from typing import Any, Mapping

from server.messages import Said

ENGLISH: Mapping[str, str] = {
    # who belongs to a unit
    "liaison_without_unit": "a liaison must belong to a unit",
    "unit_not_for_role": "only liaisons belong to a unit",
    "staff_password_required": "is required: staff log in with their password (only inspectors' and liaisons' "
                               "phones are set up with a one-time code)",
    # a new password (server/auth/passwords.py)
    "password_too_short": "must be at least {minimum} characters long",
    # zxcvbn's warning and advice are English only: the console says what they all come to.
    "password_guessable": "is too easy to guess: {why}. {advice}",
    "password_leans_on_account": "is too easy to guess: It leans on the account's own name. {advice}",
    # a new account
    "username_taken": "A user named {username!r} already exists.",
}


def say(key: str, **values: Any) -> Said:
    return Said(key, ENGLISH[key], **values)
