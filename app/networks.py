"""The walking networks the service holds, one per city, loaded at start-up."""

from __future__ import annotations

from threading import Lock
from typing import Any


class NetworkRegistry:
    """City code -> loaded walking network. Replaced atomically on re-import."""

    def __init__(self) -> None:
        self._networks: dict[str, Any] = {}
        self._lock = Lock()

    def set(self, city_code: str, network: Any) -> None:
        with self._lock:
            self._networks = {**self._networks, city_code: network}

    def get(self, city_code: str) -> Any | None:
        return self._networks.get(city_code)

    def node_counts(self) -> dict[str, int]:
        return {code: int(getattr(net, "node_count", 0)) for code, net in self._networks.items()}
