"""Change notices: what a committed transaction changed, for views to refresh from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Origin = Literal["local", "sync"]


@dataclass(frozen=True)
class ChangeNotice:
    """Which tables and rows a commit changed, and who started it (a local edit or a sync)."""

    ids: Mapping[str, frozenset[str]]
    origin: Origin = "local"
    actor_id: str | None = None
    action: str = ""

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self.ids)

    def touches(self, *tables: str) -> bool:
        return any(t in self.ids for t in tables)


@dataclass
class ChangeCollector:
    """Accumulates changed ids during a transaction."""

    ids: dict[str, set[str]] = field(default_factory=dict)

    def add(self, table: str, row_id: str) -> None:
        self.ids.setdefault(table, set()).add(row_id)

    def notice(self, origin: Origin, actor_id: str | None, action: str) -> ChangeNotice:
        return ChangeNotice(
            {k: frozenset(v) for k, v in self.ids.items()}, origin, actor_id, action
        )


Listener = Callable[[ChangeNotice], None]
