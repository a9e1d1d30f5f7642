"""The skip-gram trainer with partitioned parameters: DIR/tokens, DIR/vocab -> vectors.

Skip-gram with negative sampling as word2vec.c and gensim train it: a reduced window drawn
per word, word2vec's frequent-word subsampling, ``negative`` draws with probability ~
count^0.75, a learning rate falling linearly over the whole run. Scheduled so that no
process holds the whole model and no copy of it is averaged (DSGD, Gemulla et al., KDD
2011; the design of apache/spark PR #37967):

- The vocabulary's words are dealt into K buckets by a seeded hash of their id. Bucket b's
  word vectors W_b and context vectors C_b are files in the stage's scratch folder (raw
  little-endian float32 rows, in the order of the bucket's ids).
- Each epoch, one Spark pass turns the corpus (its token ids, made once) into (input
  word, output word) pairs drawn afresh (subsampling and windows are hashes of the
  token's place and the epoch) and writes them into K x K blocks by the buckets of their
  two words, as sorted pieces per task (no shuffle). Within a block the pairs are ordered
  by a hash of their place: the trainer merges the pieces, so the order is the same
  whatever the partitioning.
- Then K rounds (S sweeps of K rounds with ``sweeps`` S, each training one slice of every
  block, in order): in round r, task k trains block (k, (k + r) mod K) in a JVM loop
  (``java/src/sparkembed/SgnsBlock.java``), the only task that holds W_k and
  C_(k + r) mod K in that round, and writes both back. Each pair of an epoch is trained
  once, and every word meets every bucket of contexts once per epoch. Negatives are drawn
  from the context bucket the task holds.

The driver holds the vocabulary's ids, counts and buckets; the tasks hold two buckets and
one block. The vectors depend on the input, the seed and K only, not on executors, cores
or how the tokens table is split into files.
"""

from __future__ import annotations

import itertools
import posixpath
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np

from sparkembed.config import SgnsConfig, TrainConfig
from sparkembed.errors import SparkembedError
from sparkembed.linalg.factors import VECTOR_ROWS_SCHEMA, FactorSpace
from sparkembed.stages.train.result import TrainResult, log, vector_frame
from sparkembed.vocabulary.lookup import TokenIds
from sparkembed.vocabulary.subsample import (
    keep_probability,
    kept,
    positions,
    row_hash_column,
    uniform_from_hash,
)

IDS_SCHEMA = "row_hash long, ids binary"
PIECES_SCHEMA = "block int, pairs long"
# Tokens per numpy pass of the pair generator.
CHUNK_TOKENS = 1 << 20
# Pairs a pair task holds before it writes them out as pieces (8 bytes a pair).
PIECE_PAIRS = 1 << 25
# A task holds a bucket of W or C in one Java float array.
MAX_BUCKET_FLOATS = 2**31 - 9
VECTOR_BATCH_FLOATS = 1 << 22  # of a vector-table batch: 16 MB of float32
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Salts of the draws: each purpose and epoch draws from its own stream.
_SUBSAMPLE, _WINDOW, _ORDER, _BUCKET, _NEGATIVE, _INIT = range(1, 7)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64 values."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def salt(seed: int, purpose: int, epoch: int = 0) -> int:
    """A 64-bit value, as a signed int64, per (seed, purpose, epoch)."""
    x = np.array([(seed * 1_000_003 + purpose) * 65_537 + epoch], dtype=np.uint64)
    return int(mix64(x).view(np.int64)[0])


def partitions_for(cfg: SgnsConfig, slots: int, words: int) -> int:
    """K: ``cfg.partitions``, or one per task slot; at most the number of words."""
    k = cfg.partitions or max(1, slots)
    return max(1, min(k, words))


def sweeps_for(cfg: SgnsConfig, k: int) -> int:
    """S: ``cfg.sweeps``, or 2K up to 8 and at least K (1 with one bucket). On the
    real-text benchmark, analogies came within 0.01 of one bucket's with S = 4 at K = 2,
    8 at K = 4 and 8 at K = 8, and not with S = K at K = 2 and 4 (docs/train.md)."""
    if cfg.sweeps:
        return cfg.sweeps
    return 1 if k == 1 else max(k, min(2 * k, 8))


@dataclass(frozen=True)
class Buckets:
    """The vocabulary's words (ids 0..n-1) dealt into ``k`` buckets."""

    k: int
    of: np.ndarray  # id -> bucket (int32)
    local: np.ndarray  # id -> its index in its bucket (int32): ids ascending
    sizes: np.ndarray  # words per bucket

    @classmethod
    def deal(cls, n: int, k: int, seed: int) -> Buckets:
        ids = np.arange(n, dtype=np.int64)
        u = uniform_from_hash(np.full(n, salt(seed, _BUCKET), dtype=np.int64), ids)
        of = np.minimum((u * k).astype(np.int64), k - 1)
        sizes = np.bincount(of, minlength=k)
        order = np.lexsort((ids, of))
        local = np.empty(n, dtype=np.int64)
        local[order] = np.arange(n) - (np.cumsum(sizes) - sizes)[of[order]]
        return cls(k, of.astype(np.int32), local.astype(np.int32), sizes)

    def ids(self, b: int) -> np.ndarray:
        """The ids of bucket ``b``, ascending (its rows' order)."""
        return np.flatnonzero(self.of == b).astype(np.int32)


def index_bits(words: int) -> int:
    """Bits of an index into a bucket of ``words`` words."""
    return max(1, (int(words) - 1).bit_length())


@dataclass(frozen=True)
class PairParams:
    """What the pair pass's tasks need besides the broadcast per-id arrays."""

    k: int
    window: int
    subsample: bool
    index_bits: int  # of the largest bucket: see ``pack_pairs``
    chunk_tokens: int = CHUNK_TOKENS
    piece_pairs: int = PIECE_PAIRS


def pack_pairs(keys: np.ndarray, ins: np.ndarray, outs: np.ndarray, bits: int) -> np.ndarray:
    """One int64 per pair whose order is the block's training order: the top 63 - 2 *
    ``bits`` bits of the pair's 64-bit ``keys``, then its input's and its output's index in
    their buckets (``bits`` each). Ties of the shortened key fall to (input, output), so
    the order is total and needs one sort; equal values are equal pairs."""
    shift = np.uint64(64 - (63 - 2 * bits))
    b = np.uint64(bits)
    top = (keys >> shift) << (b + b)
    return (top | (ins.astype(np.uint64) << b) | outs.astype(np.uint64)).view(np.int64)


def epoch_pairs(
    p: PairParams,
    ids: np.ndarray,
    lengths: np.ndarray,
    row_hash: np.ndarray,
    keep_prob: np.ndarray | None,
    epoch_salts: tuple[int, int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, outputs, keys) of the skip-gram pairs of sentences laid back to back.

    ``ids``: vocabulary ids (-1: left out), ``lengths`` tokens per sentence, ``row_hash``
    one per sentence. As gensim: subsampled tokens are removed first; each kept token,
    as the output (centre) word, draws a reach in 1..window and pairs with every kept
    token within it as the input word. ``keys``: uint64 hashes of the pair's place, which
    order a block (``pack_pairs``).
    """
    sub_salt, window_salt, order_salt = epoch_salts
    sentence, position = positions(lengths)
    if p.subsample:
        keep = kept(ids, sentence, position, row_hash ^ np.int64(sub_salt), keep_prob)
    else:
        keep = ids >= 0
    ids, sentence, position = ids[keep].astype(np.int32), sentence[keep], position[keep]
    reach = 1 + (
        uniform_from_hash((row_hash ^ np.int64(window_salt))[sentence], position) * p.window
    ).astype(np.int64)
    place = mix64(
        (row_hash ^ np.int64(order_salt)).view(np.uint64)[sentence]
        + position.astype(np.uint64) * _GOLDEN
    )
    ins, outs, keys = [], [], []
    for shift in range(1, min(p.window, len(ids) - 1) + 1):
        same = sentence[shift:] == sentence[:-shift]
        for centre_left in (True, False):
            if centre_left:  # centre at i, input at i + shift
                at = np.flatnonzero(same & (reach[:-shift] >= shift))
                centre, other, offset = at, at + shift, shift
            else:  # centre at i + shift, input at i
                at = np.flatnonzero(same & (reach[shift:] >= shift))
                centre, other, offset = at + shift, at, -shift
            ins.append(ids[other])
            outs.append(ids[centre])
            keys.append(mix64(place[centre] + np.uint64(offset + p.window + 1)))
    if not ins:
        empty = np.zeros(0, np.int32)
        return empty, empty, np.zeros(0, np.uint64)
    return np.concatenate(ins), np.concatenate(outs), np.concatenate(keys)


def _ids_fn(vocab_bc, n_words: int):
    """mapInArrow: tokens rows -> (row_hash, ids as int32 bytes), the vocabulary's words
    only (-1 for the rest); once per run, persisted."""

    def run(batches):
        import pyarrow as pa
        import pyarrow.compute as pc

        token_ids = TokenIds(vocab_bc.value)
        for batch in batches:
            lists = batch.column(0)
            lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
            ids = token_ids(lists.flatten())
            ids[ids >= n_words] = -1
            ids = ids.astype(np.int32)
            bounds = np.concatenate(([0], np.cumsum(lengths))) * 4
            data = pa.py_buffer(ids.tobytes())
            values = pa.Array.from_buffers(
                pa.binary(), len(lengths), [None, pa.py_buffer(bounds.astype(np.int32)), data]
            )
            yield pa.RecordBatch.from_arrays([batch.column(1), values], ["row_hash", "ids"])

    return run


def binary_values(column) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of an Arrow binary or large binary column, without a copy: value
    i is bytes[offsets[i] - offsets[0] : offsets[i + 1] - offsets[0]]."""
    import pyarrow as pa

    if len(column) == 0:
        return np.zeros(1, np.int64), np.zeros(0, np.uint8)
    wide = np.int64 if pa.types.is_large_binary(column.type) else np.int32
    offsets = np.frombuffer(
        column.buffers()[1],
        wide,
        count=len(column) + 1,
        offset=column.offset * np.dtype(wide).itemsize,
    ).astype(np.int64)
    data = np.frombuffer(column.buffers()[2], np.uint8, count=int(offsets[-1] - offsets[0]),
                         offset=int(offsets[0]))  # fmt: skip
    return offsets, data


def _pairs_fn(p: PairParams, arrays_bc, epoch_salts, folder: str):
    """mapInArrow: (row_hash, ids) rows -> one epoch's pairs, written as pieces: each
    block's packed pairs (``pack_pairs``), sorted, in ``folder/<block>/<task>-<n>.pairs``
    (little-endian int64), every ``p.piece_pairs`` pairs and at the end; yields (block,
    pairs) per piece. A block's training order is the merge of its pieces, so it does not
    depend on how the corpus is split into tasks; a retried task writes the same pieces."""

    def run(batches):
        import pyarrow as pa
        from pyspark import TaskContext

        task = TaskContext.get().partitionId()
        bucket_of, local, keep_prob = arrays_bc.value
        held: dict[int, list[np.ndarray]] = {}
        written = 0

        def add(parts):
            lengths = np.concatenate([x[0] for x in parts])
            ids = np.concatenate([x[1] for x in parts])
            row_hash = np.concatenate([x[2] for x in parts])
            ins, outs, keys = epoch_pairs(p, ids, lengths, row_hash, keep_prob, epoch_salts)
            block = bucket_of[ins].astype(np.int64) * p.k + bucket_of[outs]
            packed = pack_pairs(keys, local[ins], local[outs], p.index_bits)
            # A stable sort of 16-bit values is a radix sort: one pass for K <= 255.
            small = np.uint16 if p.k * p.k <= 1 << 16 else np.int64
            order = np.argsort(block.astype(small), kind="stable")
            packed = packed[order]
            bounds = np.searchsorted(block[order], np.arange(p.k * p.k + 1))
            for b in np.flatnonzero(np.diff(bounds)):
                held.setdefault(int(b), []).append(packed[bounds[b] : bounds[b + 1]])
            return len(packed)

        def flush():
            nonlocal written
            for b, parts in sorted(held.items()):
                piece = np.sort(np.concatenate(parts)).astype("<i8", copy=False)
                _write_bytes(f"{folder}/{b}/{task:05d}-{written:04d}.pairs", piece.tobytes())
                yield pa.RecordBatch.from_pydict(
                    {
                        "block": pa.array([b], pa.int32()),
                        "pairs": pa.array([len(piece)], pa.int64()),
                    }
                )
            held.clear()
            written += 1

        parts, pending, holding = [], 0, 0
        for batch in batches:
            offsets, data = binary_values(batch.column(1))
            ids = data.view(np.int32)
            parts.append((np.diff(offsets) // 4, ids, batch.column(0).to_numpy()))
            pending += len(ids)
            if pending >= p.chunk_tokens:
                holding += add(parts)
                parts, pending = [], 0
                if holding >= p.piece_pairs:
                    yield from flush()
                    holding = 0
        if parts:
            add(parts)
        yield from flush()

    return run


def _vector_rows_fn(words: str, contexts: str | None, ids_folder: str, dim: int):
    """mapInArrow: bucket numbers -> (id, vector, norm) of their words (W, or W + C)."""
    rows_per_batch = max(1, VECTOR_BATCH_FLOATS // dim)

    def run(batches):
        import pyarrow as pa

        from sparkembed.arrowio import arrow_location

        def read(path, dtype):
            fs, p = arrow_location(path)
            with fs.open_input_stream(p) as f:
                return np.frombuffer(f.read(), dtype)

        for batch in batches:
            for b in batch.column(0).to_pylist():
                ids = read(f"{ids_folder}/{b}.ids", np.int32)
                w = read(f"{words}/{b}.f32", np.float32).reshape(len(ids), dim)
                c = None
                if contexts is not None:
                    c = read(f"{contexts}/{b}.f32", np.float32).reshape(len(ids), dim)
                # A bucket may hold gigabytes: batches of a few million floats each.
                for at in range(0, len(ids), rows_per_batch):
                    x = w[at : at + rows_per_batch]
                    x = x + c[at : at + rows_per_batch] if c is not None else x
                    norms = np.linalg.norm(x.astype(np.float64), axis=1).astype(np.float32)
                    offsets = np.arange(0, x.size + 1, dim, dtype=np.int32)
                    vectors = pa.ListArray.from_arrays(
                        pa.array(offsets), pa.array(np.ascontiguousarray(x).ravel())
                    )
                    yield pa.RecordBatch.from_arrays(
                        [
                            pa.array(ids[at : at + rows_per_batch], pa.int32()),
                            vectors,
                            pa.array(norms),
                        ],
                        ["id", "vector", "norm"],
                    )

    return run


def _qualified(path: str) -> str:
    """A path the JVM's Hadoop FileSystem reads as the same file pyarrow does."""
    if urlparse(path).scheme:
        return path
    return "file://" + posixpath.abspath(path)


def _write_bytes(path: str, data: bytes) -> None:
    """Writes a hidden file beside ``path``, then renames it into place (readers skip names
    that start with a dot)."""
    import uuid

    from sparkembed.arrowio import arrow_location

    fs, p = arrow_location(path)
    folder = posixpath.dirname(p)
    fs.create_dir(folder, recursive=True)
    tmp = f"{folder}/.{posixpath.basename(p)}.{uuid.uuid4().hex}"
    with fs.open_output_stream(tmp) as f:
        f.write(data)
    fs.move(tmp, p)


def _one_row_partitions(spark, values: list, name: str):
    """A frame of one column ``name``, one value a partition, built in the JVM: no Python
    worker starts for a round's handful of rows."""
    from pyspark.sql import functions as F

    literal = F.array(*[F.lit(v) for v in values])
    return spark.range(0, len(values), 1, len(values)).select(
        F.element_at(literal, (F.col("id") + 1).cast("int")).alias(name)
    )


def _round_specs(
    buckets: Buckets, t: int, previous, folder, pairs_folder, block_pairs, bits, ids_folder,
    dim, seed, cfg: SgnsConfig, sweeps: int,
) -> list[tuple[int, str]]:  # fmt: skip
    """(task, spec) of round ``t`` of the run (r = t mod K within its sweep, sweep s = t //
    K mod S within its epoch): task w trains slice s of S of block (w, (w + r) mod K),
    reading the buckets of the round before (``previous``; None: the initial vectors) and
    writing its two buckets and its done file into ``folder``, then deleting what it read
    (the block's pairs after its last slice); the learning rate falls linearly over the
    round's share of the run."""
    k = buckets.k
    r, rounds = t % k, cfg.epochs * k * sweeps
    alphas = [cfg.alpha - (cfg.alpha - cfg.min_alpha) * (x / rounds) for x in (t, t + 1)]
    specs = []
    for w in range(k):
        c = (w + r) % k
        spec = {
            "dim": dim,
            "n_words": int(buckets.sizes[w]),
            "n_contexts": int(buckets.sizes[c]),
            "words": _qualified(f"{previous[0]}/{w}.f32") if previous else "",
            "contexts": _qualified(f"{previous[1]}/{c}.f32") if previous else "",
            "word_ids": _qualified(f"{ids_folder}/{w}.ids"),
            "init_seed": salt(seed, _INIT),
            "pairs": _qualified(f"{pairs_folder}/{w * k + c}"),
            "block_pairs": int(block_pairs[w * k + c]),
            "index_bits": bits,
            "slice": f"{(t // k) % sweeps}/{sweeps}",
            "weights": _qualified(f"{ids_folder}/{c}.weights"),
            "negative": cfg.negative,
            "alpha_from": repr(alphas[0]),
            "alpha_to": repr(alphas[1]),
            "seed": salt(seed, _NEGATIVE, t * k + w),
            "words_out": _qualified(f"{folder[0]}/{w}.f32"),
            "contexts_out": _qualified(f"{folder[1]}/{c}.f32"),
            "done": _qualified(f"{folder[0]}/{w}.done"),
        }
        specs.append((w, "\n".join(f"{key}={v}" for key, v in spec.items())))
    return specs


def train_sgns(
    tokens,
    vocab,
    train: TrainConfig,
    cfg: SgnsConfig,
    *,
    scratch: str | None = None,
    quiet: bool = False,
) -> TrainResult:
    """Skip-gram vectors of the words of ``vocab`` with count >= ``cfg.min_count``.

    tokens: ``doc_id string, sentence int, tokens array<string>, ...``; vocab: ``id int,
    token string, count long, ...``, ids ranked by count (0: most frequent).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from sparkembed.jvm.udfs import sgns_block_function
    from sparkembed.session import task_slots

    spark = tokens.sparkSession
    sc = spark.sparkContext
    words = (
        vocab.where(F.col("count") >= cfg.min_count)
        .select("id", "token", "count")
        .orderBy("id")
        .toArrow()
    )
    n = words.num_rows
    if n == 0:
        raise SparkembedError(f"sgns: no word has count >= sgns.min_count ({cfg.min_count})")
    if words.column("id").to_numpy()[-1] != n - 1:
        raise SparkembedError("sgns: the vocabulary's ids are not ranked by count (0..n-1)")
    if train.dim > n:
        raise SparkembedError(f"train.dim {train.dim} exceeds the {n:,} words of sgns")
    block_fn = sgns_block_function(spark)
    k = partitions_for(cfg, task_slots(spark), n)
    dim, seed = train.dim, train.seed
    counts = words.column("count").to_numpy().astype(np.float64)
    buckets = Buckets.deal(n, k, seed)
    if int(buckets.sizes.max()) * dim > MAX_BUCKET_FLOATS:
        fits = next(
            x
            for x in itertools.count(max(k + 1, -(-n * dim // MAX_BUCKET_FLOATS)))
            if int(Buckets.deal(n, x, seed).sizes.max()) * dim <= MAX_BUCKET_FLOATS
        )
        raise SparkembedError(
            f"sgns: {n:,} words x dim {dim} in {k} buckets: the largest, "
            f"{int(buckets.sizes.max()):,} words, does not fit one Java array "
            f"({MAX_BUCKET_FLOATS:,} floats); set sgns.partitions to {fits} or more"
        )
    space = FactorSpace(spark, scratch)
    try:
        root = space.new("sgns")
        ids_folder = f"{root}/buckets"
        weights = counts**cfg.ns_exponent
        for b in range(k):
            ids = buckets.ids(b)
            _write_bytes(f"{ids_folder}/{b}.ids", ids.tobytes())
            _write_bytes(f"{ids_folder}/{b}.weights", weights[ids].tobytes())
        keep_prob = keep_probability(counts, cfg.sample, "word2vec") if cfg.sample > 0 else None
        arrays_bc = sc.broadcast((buckets.of, buckets.local, keep_prob))
        vocab_bc = sc.broadcast(words.column("token").combine_chunks())
        corpus = (
            tokens.select("tokens", row_hash_column(seed).alias("row_hash"))
            .mapInArrow(_ids_fn(vocab_bc, n), IDS_SCHEMA)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        bits = index_bits(int(buckets.sizes.max()))
        p = PairParams(k, cfg.window, cfg.sample > 0, bits, CHUNK_TOKENS, PIECE_PAIRS)
        sweeps = sweeps_for(cfg, k)
        rounds = k * sweeps
        log(
            f"sgns: {n:,} words x {dim}, {k} buckets, {cfg.epochs} epochs of {rounds} rounds", quiet
        )
        previous: tuple[str, str] | None = None
        pairs_per_epoch, pieces_per_epoch, loss_per_epoch = [], [], []
        for epoch in range(cfg.epochs):
            pairs_folder = f"{root}/pairs-{epoch}"
            started = time.perf_counter()
            salts = (
                salt(seed, _SUBSAMPLE, epoch),
                salt(seed, _WINDOW, epoch),
                salt(seed, _ORDER, epoch),
            )
            written = corpus.mapInArrow(
                _pairs_fn(p, arrays_bc, salts, pairs_folder), PIECES_SCHEMA
            ).toArrow()
            block_pairs = np.bincount(
                written.column("block").to_numpy(),
                weights=written.column("pairs").to_numpy(),
                minlength=k * k,
            ).astype(np.int64)
            epoch_pairs_total = int(block_pairs.sum())
            pairs_seconds = time.perf_counter() - started
            epoch_loss, loss_pairs, task_seconds = 0.0, 0, 0.0
            for r in range(rounds):
                t = epoch * rounds + r
                folder = (f"{root}/words-{t}", f"{root}/contexts-{t}")
                specs = _round_specs(
                    buckets, t, previous, folder, pairs_folder, block_pairs, bits, ids_folder,
                    dim, seed, cfg, sweeps,
                )  # fmt: skip
                tasks = _one_row_partitions(spark, [text for _, text in specs], "spec")
                stats = tasks.select(F.expr(f"{block_fn}(spec)").alias("s")).collect()
                epoch_loss += sum(float(row["s"][1]) for row in stats)
                loss_pairs += sum(int(row["s"][2]) for row in stats)
                task_seconds = max(task_seconds, max(float(row["s"][3]) for row in stats))
                if previous:
                    space.drop(previous[0])
                    space.drop(previous[1])
                previous = folder
            space.drop(pairs_folder)
            pairs_per_epoch.append(epoch_pairs_total)
            pieces_per_epoch.append(written.num_rows)
            loss_per_epoch.append(epoch_loss / max(loss_pairs, 1))
            log(
                f"sgns: epoch {epoch + 1}/{cfg.epochs}: {epoch_pairs_total:,} pairs, "
                f"loss {loss_per_epoch[-1]:.4f} per pair; pairs {pairs_seconds:.1f} s, rounds "
                f"{time.perf_counter() - started - pairs_seconds:.1f} s (slowest task "
                f"{task_seconds:.1f} s)",
                quiet,
            )
        corpus.unpersist()
        rows = _one_row_partitions(spark, list(range(k)), "bucket").mapInArrow(
            _vector_rows_fn(previous[0], previous[1] if cfg.add_context else None, ids_folder, dim),
            VECTOR_ROWS_SCHEMA,
        )
        vectors = vector_frame(vocab.where(F.col("id") < n), rows)
        if scratch is None:  # the frame reads the bucket files: keep it, then clean up
            vectors = vectors.persist()
            vectors.count()
            space.close()
        counts_out = {"words": n, "pairs": sum(pairs_per_epoch), "partitions": k}
        extra = {
            "partitions": k,
            "sweeps": sweeps,
            "pairs_per_epoch": pairs_per_epoch,
            "pieces_per_epoch": pieces_per_epoch,
            "loss_per_epoch": [round(x, 6) for x in loss_per_epoch],
        }
        return TrainResult(vectors, counts_out, extra)
    except BaseException:
        space.close()
        raise
