"""Hybrid logical clock stamps: order events across desks even when wall clocks disagree.

A stamp is ``(wall_ms, counter, node)`` encoded as a fixed-width string so that string order is
stamp order. Remote stamps far in the future are clamped (ARCHITECTURE.md, Sync 4).
"""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.domain.clock import Clock

MAX_DRIFT_MS = 5 * 60 * 1000


@dataclass(frozen=True, order=True)
class Stamp:
    wall_ms: int
    counter: int
    node: str

    def encode(self) -> str:
        return f"{self.wall_ms:015d}-{self.counter:05d}-{self.node}"

    @staticmethod
    def decode(text: str) -> Stamp:
        wall, counter, node = text.split("-", 2)
        return Stamp(int(wall), int(counter), node)


class HybridClock:
    def __init__(self, clock: Clock, node: str) -> None:
        self._clock = clock
        self._node = node
        self._last = Stamp(0, 0, node)

    def _wall(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def tick(self) -> Stamp:
        wall = self._wall()
        if wall > self._last.wall_ms:
            self._last = Stamp(wall, 0, self._node)
        else:
            self._last = Stamp(self._last.wall_ms, self._last.counter + 1, self._node)
        return self._last

    def observe(self, remote: Stamp) -> Stamp:
        """Merge a stamp received from elsewhere; a stamp too far ahead is clamped to now+drift."""
        wall = self._wall()
        remote_wall = min(remote.wall_ms, wall + MAX_DRIFT_MS)
        top = max(wall, remote_wall, self._last.wall_ms)
        if top == self._last.wall_ms == remote_wall:
            counter = max(self._last.counter, remote.counter) + 1
        elif top == self._last.wall_ms:
            counter = self._last.counter + 1
        elif top == remote_wall:
            counter = remote.counter + 1
        else:
            counter = 0
        self._last = Stamp(top, counter, self._node)
        return self._last
