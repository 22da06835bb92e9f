"""argon2id password hashing, tuned by settings (tests turn the cost down, production keeps it),
and the policy every new password meets.

The policy is zxcvbn's estimate, not a hand-made rule of letters and digits: its frequency
lists (common passwords, words, names) and patterns (repeats, sequences, keyboard walks, dates)
are maintained with the package, and it says why a password is weak in words a user can act on.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any, Iterable, Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from server.auth.messages import say
from server.messages import Said

MIN_PASSWORD_LENGTH = 8
#: zxcvbn's score from 0 (guessable in a few tries) to 4; 3 is "safely unguessable: moderate
#: protection from an offline attack" — the hashes are argon2id, and logins are throttled.
MIN_SCORE = 3
#: zxcvbn refuses longer input (its matching is quadratic); a longer password is judged by its start.
_ESTIMATE_CHARS = 72
#: zxcvbn keeps the user inputs of a call in a module-level dictionary: one estimate at a time.
_ESTIMATE_LOCK = threading.Lock()
#: No 0/O, 1/l/I: generated passwords are read off a screen and typed on phones.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 14


def _leans_on(password: str, user_inputs: Iterable[str]) -> bool:
    lowered = password.lower()
    return any(len(i) >= 3 and i.lower() in lowered for i in user_inputs if i)


def make_hasher(settings: Mapping[str, Any]) -> PasswordHasher:
    return PasswordHasher(time_cost=settings["ARGON2_TIME_COST"],
                          memory_cost=settings["ARGON2_MEMORY_KIB"],
                          parallelism=settings["ARGON2_PARALLELISM"])


def verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def estimate(secret: str, user_inputs: Iterable[str] = ()) -> dict[str, Any]:
    """zxcvbn's estimate of ``secret``: ``score``, ``guesses_log10`` and ``feedback``."""
    with _ESTIMATE_LOCK:
        return zxcvbn(secret[:_ESTIMATE_CHARS], user_inputs=[i for i in user_inputs if i])


def check_strength(password: str, user_inputs: Iterable[str] = ()) -> Said | None:
    """Why a new password is refused (a sentence of :mod:`server.auth.messages`), or None when
    it is acceptable.

    ``user_inputs``: the account's username, name and e-mail, which a password must not lean on.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return say("password_too_short", minimum=MIN_PASSWORD_LENGTH)
    result = estimate(password, user_inputs)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    # Below the score zxcvbn always has advice (at least "Add another word or two").
    advice = " ".join(feedback["suggestions"])
    if not feedback["warning"] and _leans_on(password, user_inputs):
        return say("password_leans_on_account", advice=advice)
    return say("password_guessable", why=(feedback["warning"] or "This password is easy to guess.").rstrip("."),
               advice=advice)


def generate() -> str:
    """A strong password (one the policy takes) for someone to be told once: an imported account
    without one, a reset from the console."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))
        if check_strength(candidate) is None:
            return candidate
