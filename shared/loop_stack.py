"""The loop stack: every owner's layer, the one playing and the ones waiting for their bar.

The server keeps the authoritative stack; each client keeps a mirror fed by
``layer`` messages, which is what its scheduler reads. A layer plays from its
``starts_at_bar`` until a later layer of the same owner starts.
"""

from __future__ import annotations

from shared.messages import Layer


class LoopStack:
    def __init__(self) -> None:
        # owner -> {starts_at_bar: layer}; at most one layer per owner per bar.
        self._by_owner: dict[int, dict[int, Layer]] = {}

    @property
    def owners(self) -> tuple[int, ...]:
        return tuple(sorted(self._by_owner))

    def schedule(self, layer: Layer) -> None:
        """Add a layer; it replaces one of the same owner that starts on the same bar."""
        self._by_owner.setdefault(layer.owner, {})[layer.starts_at_bar] = layer

    def remove(self, owner: int) -> None:
        self._by_owner.pop(owner, None)

    def layer_at(self, owner: int, bar: int) -> Layer | None:
        """The layer of ``owner`` playing during ``bar``, if any."""
        started = [b for b in self._by_owner.get(owner, {}) if b <= bar]
        return self._by_owner[owner][max(started)] if started else None

    def layers_at(self, bar: int) -> dict[int, Layer]:
        """Every owner's layer playing during ``bar``."""
        playing = {owner: self.layer_at(owner, bar) for owner in self._by_owner}
        return {owner: layer for owner, layer in playing.items() if layer is not None}

    def pending(self, bar: int) -> tuple[Layer, ...]:
        """Layers that start after ``bar``, in (bar, owner) order."""
        later = [lay for by_bar in self._by_owner.values() for b, lay in by_bar.items() if b > bar]
        return tuple(sorted(later, key=lambda lay: (lay.starts_at_bar, lay.owner)))

    def latest(self, owner: int) -> Layer | None:
        """The newest layer of ``owner``, playing or pending."""
        by_bar = self._by_owner.get(owner)
        return by_bar[max(by_bar)] if by_bar else None

    def prune(self, bar: int) -> None:
        """Forget layers that no longer play at or after ``bar``."""
        for owner, by_bar in self._by_owner.items():
            playing = self.layer_at(owner, bar)
            keep = playing.starts_at_bar if playing else bar
            self._by_owner[owner] = {b: lay for b, lay in by_bar.items() if b >= keep}

    def all(self) -> tuple[Layer, ...]:
        """Every layer held, in (owner, bar) order: what a snapshot carries."""
        return tuple(
            layer
            for owner in sorted(self._by_owner)
            for _, layer in sorted(self._by_owner[owner].items())
        )
