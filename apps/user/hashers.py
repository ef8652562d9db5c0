"""The password hasher: Argon2id with parameters chosen for this shop's login budget.

Django's Argon2PasswordHasher (Argon2id since Django 3.2) defaults to 100 MiB, t=2, p=8, about
200 ms of CPU per login here: slower than the PBKDF2 it replaces. These are OWASP's first
recommended Argon2id setting (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1), measured at
about 23 ms of CPU per hash on the 2-core bench machine, so three workers on two cores can take
the tutorial's 29 logins/s with room to spare, while each guess still needs 19 MiB of memory.
docs/configuration.md says why. Changing a value here upgrades every stored hash on its owner's
next login (must_update compares the hash's own parameters with these).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class LuffyArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, m=19 MiB, t=2, p=1 (the algorithm name stays `argon2`: hashes read
    `argon2$argon2id$v=19$m=19456,t=2,p=1$...`)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
