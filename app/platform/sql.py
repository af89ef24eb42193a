"""Statements written with named placeholders (`:flat_id`), for the big ones a reader must follow.

asyncpg takes `$1, $2 …`; a `Statement` numbers its names once, at import, and
`args(**values)` puts the values in that order, refusing a missing or unknown
name. Casts (`::uuid`) and quoted text are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_TOKENS = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([a-z_][a-z0-9_]*)")


class Statement:
    __slots__ = ("names", "sql")

    def __init__(self, text: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return match.group(0)  # a quoted string
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        self.sql = _TOKENS.sub(number, text)
        self.names = tuple(names)

    def args(self, **values: Any) -> list[Any]:
        """The values in placeholder order; TypeError names any placeholder left out or value not used."""
        missing = [n for n in self.names if n not in values]
        unknown = sorted(set(values) - set(self.names))
        if missing or unknown:
            raise TypeError(f"statement arguments: missing {missing}, unknown {unknown}")
        return [values[n] for n in self.names]


def assignments(columns: Iterable[str], first: int) -> str:
    """`a = $first, b = $first+1, ...` for an UPDATE of the given columns (names from a repository's fixed
    list, never from input), whose values follow the statement's first `first - 1` arguments."""
    return ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, start=first))


def prefix_search(param: str) -> str:
    """A tsquery of every word in the text parameter `param`, each as a prefix ("choc" finds "chocolate"),
    all required. The lexemes come from to_tsvector and are quoted, so nothing typed is read as tsquery
    syntax; text with no words gives NULL, which matches nothing."""
    return f"""(SELECT to_tsquery('simple', string_agg(quote_literal(w) || ':*', ' & '))
             FROM unnest(tsvector_to_array(to_tsvector('simple', {param}::text))) AS w)"""


def like_prefix(text: str) -> str:
    """`text` as the start of a LIKE pattern, its own % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
