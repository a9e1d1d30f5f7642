"""What every trainer returns: one vector frame schema, its counts, extra metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainResult:
    vectors: Any  # DataFrame: token string, vector array<float>, count long, norm float
    counts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in the table's metadata
