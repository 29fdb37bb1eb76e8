"""What a username may look like, for local accounts and for names given to outside identities.

Lower-case letters, digits, '.', '_' and '-', 3 to 64 long, starting and ending with a letter or
digit. Names are folded once (`fold_username`: Unicode NFKC and case folding) and that folded
form is the key for lookup, uniqueness and every limiter, so "Alice", "alice" and the fullwidth
"ａｌｉｃｅ" are one account, one limiter key, and look-alike characters cannot make a second one. ':' is reserved for outside
identities ("github:octocat"), so a local account can never take such a name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from ainimal_zookeeper.errors import InvalidInput

__all__ = ["RESERVED_USERNAMES", "external_username", "fold_username", "limiter_key", "normalize_username"]

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")
# Outside names may keep '@' and '+': a verified email is the unique name Google gives.
_NOT_ALLOWED = re.compile(r"[^a-z0-9._@+-]+")
#: Names with a meaning of their own: the anonymous viewer and the no_auth local operator.
RESERVED_USERNAMES = frozenset({"anonymous", "local", "system"})


def fold_username(raw: str) -> str:
    """Any string folded the way usernames compare: NFKC, case-folded, NFKC again, trimmed.

    (NFKC after case folding too: folding can yield characters that NFKC composes.)
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).casefold()).strip()


def limiter_key(raw: str) -> str:
    """The key a limiter counts a sign-in attempt under: the folded name, for valid and invalid
    names alike (so limits do not reveal which accounts exist), bounded in length."""
    return fold_username(raw[:256])[:128]


def normalize_username(raw: str) -> str:
    """The canonical form of a local username.

    Raises:
        InvalidInput: when the name breaks the rules or is reserved.
    """
    if not isinstance(raw, str) or len(raw) > 256:
        raise InvalidInput("a username is a string of 3 to 64 characters")
    name = fold_username(raw)
    if not _USERNAME.match(name):
        raise InvalidInput(
            "a username is 3 to 64 characters: lower-case letters, digits, '.', '_' and '-', starting and "
            f"ending with a letter or digit; got {raw[:64]!r}"
        )
    if name in RESERVED_USERNAMES:
        raise InvalidInput(f"the username {name!r} is reserved: choose another")
    return name


def external_username(provider: str, suggestion: str | None, subject: str) -> str:
    """A local name for an outside identity: "<provider>:<login>", or a hash of the subject.

    The suggestion (a unique login such as GitHub's, or a verified email) is folded into the
    username alphabet (plus '@' and '+'); when nothing usable is left, a short hash of the
    provider's subject is used.
    """
    folded = _NOT_ALLOWED.sub("-", fold_username((suggestion or "")[:256])).strip("-._")[:64]
    if len(folded) < 1:
        folded = "u" + hashlib.sha256(subject.encode()).hexdigest()[:12]
    return f"{provider}:{folded}"
