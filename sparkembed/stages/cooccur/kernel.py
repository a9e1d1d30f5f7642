"""The counting kernel both cooccur drivers share (``counts``: Spark DataFrames in and out;
``files``: Arrow I/O inside the tasks): the vocabulary, the kernel's parameters, the map
side that turns token ids into packed partial sums, and the reduce side that sums one
shard.

Definitions (docs/cooccur.md has the long form):
- A pair is two in-vocabulary tokens of one ``tokens`` row (a sentence) at distance
  1..``window``. By default out-of-vocabulary (and subsampled) tokens are removed first,
  so words on either side of them become neighbours; ``keep_positions`` leaves their gaps
  in place (they count towards the distance but pair with nothing).
- Weight of a pair at distance d: ``1/d`` (harmonic, GloVe's) or ``1`` (uniform).
- Symmetric (default): every pair (a at i, b at j > i) adds its weight to (a, b) and to
  (b, a). Asymmetric: only to (a, b): ``row`` is the word, ``col`` a word to its right.
- Subsampling (hyperwords' ``--sub t``): a token of word w with frequency f(w) =
  count(w) / sum of vocab counts is dropped with probability 1 - sqrt(t / f(w)), decided
  by a hash of (seed, doc_id, sentence, position), so a run repeats exactly.

Exactness: harmonic weights are summed as integers scaled by lcm(1..window) and divided
once at the end, so every count is the correctly rounded value of its exact rational sum,
independent of partitioning and summation order (windows up to 22; beyond that the scale
would risk int64 overflow and plain float sums are used).

Why numpy inside the tasks rather than Spark SQL alone (``cooccurrence_counts_jvm`` in
bench/reference.py; docs/benchmarks.md compares them): Spark SQL must regroup every token
after the vocabulary join (a shuffle of the whole corpus, since posexplode loses the
array) and turns every pair occurrence into a Spark row for the hash aggregate; here pairs
stay in numpy arrays and are summed per partition before the only shuffle. The why of
each part: ``_Accumulator``, ``pack_by_shard`` and the drivers' shuffles.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkembed.config import CooccurConfig
from sparkembed.errors import SparkembedError
from sparkembed.partitioning import shard_of_ids, shard_routes
from sparkembed.vocabulary.subsample import kept, positions
from sparkembed.worker_memory import tune_worker_memory

MAX_EXACT_SCALE = 2**28  # lcm(1..22) = 232,792,560; lcm(1..23) is 23x that

# Tokens per numpy pass: big enough that the per-call costs (numpy call overheads)
# vanish, small enough to stay in a few hundred MB.
CHUNK_TOKENS = 1 << 20
# Pre-aggregated entries held per partition before they are merged, and after a merge
# before they are emitted (bounds the Python worker's memory to about 48 bytes each).
MERGE_ENTRIES = 12_000_000
FLUSH_ENTRIES = 6_000_000
# Entries per packed shuffle row (8 MB of keys) and rows per output Arrow batch.
EMIT_ROWS = 1 << 20
# Cells of the dense block for frequent pairs (float64), per vocabulary word: the larger
# the vocabulary, the smaller the share of pairs a block of fixed size takes, and every pair
# outside it costs a sort. Between 64 MB and 256 MB per Python worker.
DENSE_CELLS_PER_WORD = 32
DENSE_CELLS_MIN = 1 << 23
DENSE_CELLS_MAX = 1 << 25
# ``shards`` 0: a reduce task sorts its whole shard's partial sums (about 40 bytes each,
# about 0.6 per token and window position), so the shards follow tokens x window to keep
# a task near 1 GB; at least MIN_SHARDS, so that small corpora keep 16 files.
TOKEN_WINDOWS_PER_SHARD = 31_250_000
MIN_SHARDS = 16


def shard_count(cfg: CooccurConfig, tokens: int | None) -> int:
    """The shards of a run: ``cfg.shards``, or when 0, one per TOKEN_WINDOWS_PER_SHARD
    tokens x window of the input (``tokens``: its token count; None: unknown), at least
    MIN_SHARDS."""
    if cfg.shards:
        return cfg.shards
    if not tokens:
        return MIN_SHARDS
    return max(MIN_SHARDS, -(-tokens * cfg.window // TOKEN_WINDOWS_PER_SHARD))


def weight_scale(cfg: CooccurConfig) -> int:
    """Integer that every pair weight times it is an integer; 0: weights stay floats."""
    if cfg.weighting == "uniform":
        return 1
    scale = math.lcm(*range(1, cfg.window + 1))
    return scale if scale <= MAX_EXACT_SCALE else 0


@dataclass(frozen=True)
class Params:
    """What a task of either driver needs, fixed on the driver and shipped with the task."""

    vocab_size: int
    window: int
    harmonic: bool
    symmetric: bool
    keep_positions: bool
    subsample: bool
    scale: int  # 0: float weights
    # Buffer sizes, read on the driver so that tests can shrink them.
    dense_cells: int
    chunk_tokens: int
    merge_entries: int
    flush_entries: int
    emit_rows: int
    shards: int
    shard_of: np.ndarray  # vocab id -> its shard, pmod(murmur3(id), shards)
    routes: np.ndarray  # shard -> an int that Spark's repartition sends to that partition

    @classmethod
    def from_config(cls, cfg: CooccurConfig, vocab_size: int) -> Params:
        shards = shard_count(cfg, None)
        return cls(
            vocab_size=vocab_size,
            window=cfg.window,
            harmonic=cfg.weighting == "harmonic",
            symmetric=cfg.symmetric,
            keep_positions=cfg.keep_positions,
            subsample=cfg.subsample > 0,
            scale=weight_scale(cfg),
            dense_cells=min(
                DENSE_CELLS_MAX, max(DENSE_CELLS_MIN, DENSE_CELLS_PER_WORD * vocab_size)
            ),
            chunk_tokens=CHUNK_TOKENS,
            merge_entries=MERGE_ENTRIES,
            flush_entries=FLUSH_ENTRIES,
            emit_rows=EMIT_ROWS,
            shards=shards,
            shard_of=shard_of_ids(np.arange(vocab_size), shards),
            routes=shard_routes(shards),
        )


def require_columns(df: DataFrame, what: str, needed: dict[str, type]) -> None:
    """``df`` has each ``needed`` column with its kind of type (``list``: array<string>)."""
    fields = {f.name: f.dataType for f in df.schema.fields}
    for name, kind in needed.items():
        if name not in fields:
            raise SparkembedError(f"{what} has no column '{name}' (columns: {', '.join(fields)})")
        dt = fields[name]
        ok = (
            isinstance(dt, T.ArrayType) and isinstance(dt.elementType, T.StringType)
            if kind is list
            else isinstance(dt, kind)
        )
        if not ok:
            raise SparkembedError(f"{what}: column '{name}' has type {dt.simpleString()}")


def load_vocab(vocab_df: DataFrame) -> pa.Table:
    """The vocabulary on the driver (it is vocabulary-sized), checked: ids are 0..V-1."""
    require_columns(
        vocab_df, "vocab", {"id": T.IntegralType, "token": T.StringType, "count": T.NumericType}
    )
    vocab = vocab_df.select(
        F.col("id").cast("long").alias("id"), "token", F.col("count").cast("double").alias("count")
    ).toArrow()
    vocab = vocab.sort_by("id")
    ids = vocab.column("id").to_numpy()
    if len(ids) == 0:
        raise SparkembedError("vocab is empty")
    if ids[0] != 0 or ids[-1] != len(ids) - 1 or len(np.unique(ids)) != len(ids):
        raise SparkembedError(f"vocab ids must be 0..{len(ids) - 1} without gaps or repeats")
    tokens = vocab.column("token")
    if tokens.null_count:
        raise SparkembedError("vocab has a null token")
    if pc.count_distinct(tokens).as_py() != len(tokens):
        raise SparkembedError("vocab has a repeated token")
    return vocab


def runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and where each run starts."""
    if len(sorted_keys) == 0:
        return sorted_keys, np.empty(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return sorted_keys[starts], starts


def sum_by_key(
    keys: np.ndarray, weights: np.ndarray, presorted_runs: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted) and their summed weights.

    ``presorted_runs``: ``keys`` is a few sorted runs back to back; a stable sort (timsort)
    merges such runs instead of sorting from scratch as a quicksort-based argsort does.
    """
    if len(keys) == 0:
        return keys, weights
    packed = pack_key_weight(keys, weights)
    if packed is not None:
        # One sort of values instead of an argsort and two gathers: the gathers' random
        # reads cost more than the sort.
        both, weight_bits = packed
        both.sort(kind="stable" if presorted_runs else None)
        distinct, starts = runs(both >> np.int64(weight_bits))
        weights = both & np.int64((1 << weight_bits) - 1)
        return distinct, np.add.reduceat(weights, starts)
    order = np.argsort(keys, kind="stable" if presorted_runs else None)
    distinct, starts = runs(keys[order])
    return distinct, np.add.reduceat(weights[order], starts)


def pack_key_weight(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, int] | None:
    """(key << b | weight, b) as one int64 when non-negative integer keys and weights fit
    in 63 bits together (sorting it sorts by key), else None."""
    if weights.dtype.kind not in "iu" or keys.dtype.kind not in "iu":
        return None
    if keys.min() < 0 or weights.min() < 0:
        return None
    weight_bits = max(1, int(weights.max()).bit_length())
    if int(keys.max()).bit_length() + weight_bits > 63:
        return None
    both = keys.astype(np.int64) << np.int64(weight_bits)
    both |= weights
    return both, weight_bits


def _dense_row_lengths(vocab_size: int, cells: int) -> np.ndarray:
    """GloVe's dense block: row a holds cols < max_product // (a + 1), in at most ``cells``."""
    ranks = np.arange(1, vocab_size + 1, dtype=np.int64)
    lo, hi = 1, vocab_size * vocab_size
    while lo < hi:  # the largest max_product whose block fits
        mid = (lo + hi + 1) // 2
        if np.minimum(vocab_size, mid // ranks).sum() <= cells:
            lo = mid
        else:
            hi = mid - 1
    return np.minimum(vocab_size, lo // ranks)


class _Accumulator:
    """Pair weights of one partition: a dense block for frequent pairs, sorted runs for rare.

    Why it is built this way (docs/cooccur.md has the measurements): an argsort-based
    group-by of every pair is slow, and Zipf's law makes the frequent-word pairs most of
    the volume, so a GloVe-style dense block (``dense_cells``) takes most pairs with one
    memory-bound scatter-add. The rest is sorted per distance with np.sort (no argsort: one
    weight per distance, so run lengths are the counts) and merged with a stable sort,
    which merges sorted runs cheaply. Memory per worker: the dense block plus at most
    MERGE_ENTRIES sparse entries (16 bytes each).
    """

    def __init__(self, p: Params):
        self.p = p
        self.wtype = np.int64 if p.scale else np.float64
        self.rowlen = _dense_row_lengths(p.vocab_size, p.dense_cells)
        self.lookup = np.concatenate(([0], np.cumsum(self.rowlen)))
        # float64 holds integer sums exactly up to 2**53, and np.bincount sums in float64.
        self.dense = np.zeros(int(self.lookup[-1]), np.float64)
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.size = 0

    def add(self, shifts) -> Iterator[pa.RecordBatch]:
        v = self.p.vocab_size
        sparse = []
        for a, b, w in shifts:
            inside = b < self.rowlen[a]
            # In place: np.bincount would allocate (and page in) a block-sized result per
            # chunk, and numpy 2's ufunc.at is as fast per pair.
            cells = self.lookup[a[inside]] + b[inside]
            outside = ~inside
            keys = a[outside] * v + b[outside]
            if np.ndim(w) == 0:
                np.add.at(self.dense, cells, float(w))
                distinct, starts = runs(np.sort(keys))
                counts = np.diff(np.append(starts, len(keys)))
                sparse.append((distinct, (counts * w).astype(self.wtype)))
            else:
                np.add.at(self.dense, cells, w[inside].astype(np.float64))
                sparse.append(sum_by_key(keys, w[outside].astype(self.wtype)))
        if sparse:
            self.parts.append(self._merge(sparse))
            self.size += len(self.parts[-1][0])
        if self.size > self.p.merge_entries:
            merged = self._merge(self.parts)
            self.parts, self.size = [merged], len(merged[0])
            if self.size > self.p.flush_entries:
                yield from self._emit(*merged)
                self.parts, self.size = [], 0

    @staticmethod
    def _merge(parts) -> tuple[np.ndarray, np.ndarray]:
        keys = np.concatenate([k for k, _ in parts])
        weights = np.concatenate([w for _, w in parts])
        return sum_by_key(keys, weights, presorted_runs=True)

    def finish(self) -> Iterator[pa.RecordBatch]:
        if self.parts:
            yield from self._emit(*self._merge(self.parts))
        cells = np.flatnonzero(self.dense)
        if len(cells):
            rows = np.searchsorted(self.lookup, cells, side="right") - 1
            keys = rows * self.p.vocab_size + (cells - self.lookup[rows])
            weights = self.dense[cells]
            yield from self._emit(
                keys, np.rint(weights).astype(self.wtype) if self.p.scale else weights
            )

    def _emit(self, keys: np.ndarray, weights: np.ndarray) -> Iterator[pa.RecordBatch]:
        v = np.int64(self.p.vocab_size)
        rows = keys // v
        yield from pack_by_shard(self.p, keys, rows, weights)
        if self.p.symmetric:
            # Each pair was counted once, to the right; send its mirror image too and let
            # the reduce after the shuffle add (a, b) and (b, a) up (merging them here
            # would cost a full sort and saves few rows).
            cols = keys - rows * v
            yield from pack_by_shard(self.p, cols * v + rows, cols, weights)


PACKED_SCHEMA = (
    "route int, entries int, base long, key_bytes int, count_bytes int, keys binary, counts binary"
)
# Codec of the packed partial sums: zstd shrinks delta-coded keys and counts several times
# more than lz4 (Spark's shuffle codec) does the raw entries, fast enough per core, and the
# JVM's shuffle cost follows the bytes it moves (docs/cooccur.md).
PACK_CODEC = "zstd"
_U32 = np.int64(1) << np.int64(32)


def _narrow_keys(deltas: np.ndarray, vocab_size: int) -> np.ndarray:
    """Delta-coded keys as uint32 when that decodes exactly, else as they are (int64).

    uint32 deltas decode by a wrapping uint32 cumsum: exact when every key is below 2**32
    (V <= 65,536), or when the deltas are non-negative and small (a sorted chunk).
    """
    if vocab_size * vocab_size <= _U32:
        return deltas.astype(np.uint32)
    if len(deltas) and deltas.min() >= 0 and deltas.max() < _U32:
        return deltas.astype(np.uint32)  # decoded by a uint64 cumsum: nothing wraps
    return deltas


def _narrow_counts(weights: np.ndarray) -> np.ndarray:
    """Scaled integer counts as int32 when they fit (floats are kept as they are)."""
    if weights.dtype == np.int64 and len(weights) and weights.max() <= np.iinfo(np.int32).max:
        return weights.astype(np.int32) if weights.min() >= 0 else weights
    return weights


def pack_by_shard(
    p: Params, keys: np.ndarray, rows: np.ndarray, weights: np.ndarray
) -> Iterator[pa.RecordBatch]:
    """Partial sums as a few packed rows per shard chunk (``PACKED_SCHEMA``).

    ``keys``: row * V + col (sorting them sorts by (row, col)); ``rows``: their rows.
    Spark's per-row costs (Arrow -> UnsafeRow, shuffle serialisation, sort) would dominate
    the run with one (key, count) row per partial sum. One row carries up to
    ``emit_rows`` entries of one shard: keys delta-coded, narrowed to 4 bytes where that is
    exact (as counts are), then compressed (``PACK_CODEC``): half the bytes for zstd to
    compress than 8-byte keys and counts. ``route`` is an int whose Spark hash sends the
    row to partition ``shard`` (see ``shard_routes``).
    """
    shard = p.shard_of[rows]
    # Stable: each shard keeps its key order. numpy's stable argsort is a radix sort for
    # 16-bit ints (a timsort for int32): the shard ids are narrowed when they fit.
    if p.shards <= np.iinfo(np.int16).max:
        shard = shard.astype(np.int16)
    order = np.argsort(shard, kind="stable")
    bounds = np.searchsorted(shard[order], np.arange(p.shards + 1))
    keys = keys[order]
    weights = weights[order]
    for s in range(p.shards):
        for i in range(bounds[s], bounds[s + 1], p.emit_rows):
            j = min(i + p.emit_rows, bounds[s + 1])
            base = keys[i]  # the first delta is 0: only the key steps are coded
            deltas = _narrow_keys(np.diff(keys[i:j], prepend=base), p.vocab_size)
            counts = _narrow_counts(weights[i:j])
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array([p.routes[s]], pa.int32()),
                    pa.array([j - i], pa.int32()),
                    pa.array([base], pa.int64()),
                    pa.array([deltas.itemsize], pa.int32()),
                    pa.array([counts.itemsize], pa.int32()),
                    pa.array([pa.compress(deltas, codec=PACK_CODEC, asbytes=True)], pa.binary()),
                    pa.array([pa.compress(counts, codec=PACK_CODEC, asbytes=True)], pa.binary()),
                ],
                names=["route", "entries", "base", "key_bytes", "count_bytes", "keys", "counts"],
            )


def unpack(
    batches: Iterator[pa.RecordBatch], vocab_size: int, wtype
) -> tuple[np.ndarray, np.ndarray] | None:
    """Keys (row * V + col) and counts of packed rows (``pack_by_shard``), concatenated;
    None if none."""
    keys, weights = [], []
    # uint32 deltas: a wrapping uint32 sum when every key fits in 32 bits (see
    # _narrow_keys), else they are a sorted chunk's non-negative deltas: a uint64 sum.
    sum_type = np.uint32 if vocab_size * vocab_size <= _U32 else np.uint64
    count_types = {4: np.int32, 8: wtype}
    for batch in batches:
        columns = [batch.column(i).to_pylist() for i in (1, 2, 3, 4, 5, 6)]
        for entries, base, key_bytes, count_bytes, packed_keys, packed_counts in zip(
            *columns, strict=True
        ):
            k = pa.decompress(packed_keys, entries * key_bytes, codec=PACK_CODEC, asbytes=True)
            if key_bytes == 4:
                steps = np.cumsum(np.frombuffer(k, np.uint32), dtype=sum_type)
                if sum_type == np.uint32:  # wraps like the keys' uint32 deltas did
                    steps += np.uint32(base)
                    keys.append(steps.astype(np.int64))
                else:
                    keys.append(steps.astype(np.int64) + np.int64(base))
            else:
                keys.append(np.cumsum(np.frombuffer(k, np.int64)) + np.int64(base))
            w = pa.decompress(packed_counts, entries * count_bytes, codec=PACK_CODEC, asbytes=True)
            weights.append(np.frombuffer(w, count_types[count_bytes]).astype(wtype, copy=False))
    if not keys:
        return None
    return np.concatenate(keys), np.concatenate(weights)


def _chunk_pairs(
    p: Params,
    ids: np.ndarray,
    lengths: np.ndarray,
    row_hash: np.ndarray | None,
    keep_prob: np.ndarray | None,
) -> list[tuple[np.ndarray, np.ndarray, object]]:
    """Right-context pairs of sentences, one (rows, cols, weight) per shift 1..window.

    ``ids``: vocab id per token (-1 out of vocabulary), sentences back to back, each
    ``lengths[i]`` long. ``weight`` is one scalar for a whole shift unless
    ``keep_positions`` makes it vary.
    """
    sentence, position = positions(lengths)
    keep = kept(ids, sentence, position, row_hash, keep_prob) if p.subsample else ids >= 0
    ids = ids[keep].astype(np.int64)
    sentence = sentence[keep]
    if p.keep_positions:
        position = position[keep]
    shifts = []
    for shift in range(1, min(p.window, len(ids) - 1) + 1):
        valid = sentence[shift:] == sentence[:-shift]
        if p.keep_positions:
            distance = position[shift:] - position[:-shift]
            valid &= distance <= p.window
            distance = distance[valid]
        a, b = ids[:-shift][valid], ids[shift:][valid]
        if not p.harmonic:
            weight = 1
        elif p.keep_positions:
            weight = p.scale // distance if p.scale else 1.0 / distance
        else:
            weight = p.scale // shift if p.scale else 1.0 / shift
        shifts.append((a, b, weight))
    return shifts


def count_chunks(
    p: Params, chunks: Iterator[tuple], keep_prob: np.ndarray | None
) -> Iterator[pa.RecordBatch]:
    """Packed partial sums of one map task from its (ids, lengths, row_hash) chunks."""
    tune_worker_memory()
    acc = _Accumulator(p)
    for ids, lengths, row_hash in chunks:
        yield from acc.add(_chunk_pairs(p, ids, lengths, row_hash, keep_prob))
    yield from acc.finish()


def sum_shard(p: Params, batches: Iterator[pa.RecordBatch]):
    """One reduce task's packed partial sums -> (rows, cols, sums, counts) sorted by
    (row, col); rows and cols int32.

    ``sums`` are exact (scaled integers unless the weights are floats), ``counts`` the
    float64 cells. None when the task got nothing. The packed chunks are sorted runs (the
    mirrored half of symmetric counts excepted), which the stable sort merges cheaply.
    """
    tune_worker_memory()
    unpacked = unpack(batches, p.vocab_size, np.int64 if p.scale else np.float64)
    if unpacked is None:
        return None
    keys, sums = sum_by_key(*unpacked, presorted_runs=True)
    counts = sums / float(p.scale) if p.scale else sums.astype(np.float64)
    v = np.int64(p.vocab_size)
    rows = keys // v
    cols = keys - rows * v
    return rows.astype(np.int32), cols.astype(np.int32), sums, counts
