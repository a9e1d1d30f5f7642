"""Spark's hash partitioning reproduced in numpy, so that tasks can address partitions.

``repartition(n, col)`` sends a row to partition pmod(murmur3(col), n). A task that knows
where each of its values must land (a cooccur shard, an sgns block) computes the same
hash in numpy and tags its rows with a ``route``: an int that Spark's hash sends to the
wanted partition, so that each partition is one task's whole input.
"""

from __future__ import annotations

import numpy as np


def murmur3_int(values: np.ndarray, seed: int = 42) -> np.ndarray:
    """Spark's ``hash()`` of int values (Murmur3_x86_32.hashInt, seed 42), vectorised."""
    m = np.uint32(0xFFFFFFFF)

    def rotl(x, r):
        return (x << np.uint32(r)) | (x >> np.uint32(32 - r))

    with np.errstate(over="ignore"):
        k1 = values.astype(np.int64).astype(np.uint32) * np.uint32(0xCC9E2D51)
        k1 = rotl(k1, 15) * np.uint32(0x1B873593)
        h1 = rotl(np.uint32(seed) ^ k1, 13)
        h1 = h1 * np.uint32(5) + np.uint32(0xE6546B64)
        h1 ^= np.uint32(4)
        h1 ^= h1 >> np.uint32(16)
        h1 *= np.uint32(0x85EBCA6B)
        h1 ^= h1 >> np.uint32(13)
        h1 *= np.uint32(0xC2B2AE35)
        h1 ^= h1 >> np.uint32(16)
    return (h1 & m).view(np.int32)


def shard_of_ids(ids: np.ndarray, shards: int) -> np.ndarray:
    """``pmod(hash(id), shards)`` as Spark computes it, for int ids."""
    return np.mod(murmur3_int(ids).astype(np.int64), shards).astype(np.int32)


def shard_routes(shards: int) -> np.ndarray:
    """For each shard s, the smallest int r >= 0 with pmod(hash(r), shards) == s.

    ``repartition(shards, route)`` sends a row to partition pmod(murmur3(route), shards),
    so a row routed with ``routes[s]`` lands in partition s: one task per shard.
    """
    routes = np.full(shards, -1, np.int64)
    start, step = 0, max(1024, 16 * shards)
    while (routes < 0).any():
        candidates = np.arange(start, start + step, dtype=np.int64)
        hit = shard_of_ids(candidates, shards)
        for s in np.flatnonzero(routes < 0):
            found = np.flatnonzero(hit == s)
            if len(found):
                routes[s] = candidates[found[0]]
        start += step
    return routes.astype(np.int32)
