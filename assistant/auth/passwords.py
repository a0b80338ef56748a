"""Password policy for agent accounts, applied wherever a password is set.

A password is refused when it is shorter than 12 characters, contains the username, or is a
common (breached) password: the 30,000 most frequent passwords of public breach dumps that the
`zxcvbn` package ships, compared case-insensitively, with digits and punctuation at either end
stripped (e.g. "Password2024!" is "password", refused).
"""

from __future__ import annotations

import functools
import string

MIN_LENGTH = 12
_EDGES = string.digits + string.punctuation + string.whitespace


class WeakPassword(ValueError):
    """The password breaks the policy; the message says which rule, never the password."""


@functools.cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # bundled with the package: nothing is downloaded

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, username: str) -> None:
    """Raise WeakPassword unless `password` meets the policy for account `username`."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must have at least {MIN_LENGTH} characters")
    lowered = password.lower()
    name = username.strip().lower()
    if len(name) >= 3 and name in lowered:
        raise WeakPassword("password must not contain the username")
    core = lowered.strip(_EDGES)
    if lowered in common_passwords() or (len(core) >= 3 and core in common_passwords()):
        raise WeakPassword("password is on the list of common (breached) passwords; choose another")
