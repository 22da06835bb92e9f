"""argon2id password hashing, tuned by settings (tests turn the cost down, production keeps it)."""

from __future__ import annotations

from typing import Any, Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8


def make_hasher(settings: Mapping[str, Any]) -> PasswordHasher:
    return PasswordHasher(time_cost=settings["ARGON2_TIME_COST"],
                          memory_cost=settings["ARGON2_MEMORY_KIB"],
                          parallelism=settings["ARGON2_PARALLELISM"])


def verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_strength(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if password.isdigit() or password.isalpha():
        return "must mix letters with digits or symbols"
    return None
