"""One half-step of GloVe's alternating least squares, for the rows of one CSR block.

With the other side's vectors ``c_j`` and biases ``b̃_j`` fixed, each row i of the counts
is an independent weighted ridge regression over its non-zeros x_ij:

    minimise  Σ_j f(x_ij) (w_i · c_j + b_i + b̃_j − log x_ij)²  +  ridge · |w_i|²

with f(x) = min(1, (x / x_max)^alpha). The bias is not penalised, so it is eliminated
from the rows with few non-zeros by weighted centring (b_i = ν − μ · w_i, μ and ν the
f-weighted means of c_j and of y_j = log x_ij − b̃_j), which leaves a ridge problem in
``d`` unknowns with the matrix S = √f ⊙ (C_rows − μ) (m × d) and target z = √f ⊙ (y − ν).
Both forms are positive definite thanks to the ridge:

- rows with more non-zeros than dimensions: the normal equations of the vector and the
  bias together (the weighted Gram matrix of [c_j, 1], ridge on the vector part only),
  the Gram matrix by float32 GEMM (where the flops are), a float64 Cholesky solve;
- rows with few non-zeros (most of a Zipfian vocabulary): the same solution from the
  m × m system (SSᵀ + ridge·I) α = z, w = Sᵀα, batched over rows padded to the same
  size (1, 2, 3, 4, 6, 8, 12, ...), in float64.

Every row's result depends only on that row's non-zeros and the fixed factor, so the
outcome does not depend on how rows are grouped into blocks or tasks.
"""

from __future__ import annotations

import math

import numpy as np

# Padded dual systems are gathered into float64 arrays of about this many bytes a batch.
_BATCH_BYTES = 32 << 20


def glove_weights(log_counts: np.ndarray, x_max: float, alpha: float) -> np.ndarray:
    """f(x) = min(1, (x / x_max)^alpha), from log x (float64)."""
    return np.minimum(1.0, np.exp(alpha * (log_counts.astype(np.float64) - math.log(x_max))))


class FixedSide:
    """The side held fixed in a half-step, laid out once per task for the row solves:
    ``design`` = [c_j, 1, 0] (n × (d + 2) float32; the last column is where a row's
    targets go, so one GEMM gives its Gram matrix and right-hand side) and the biases."""

    def __init__(self, vectors_and_bias: np.ndarray):
        n, width = vectors_and_bias.shape
        self.dim = width - 1
        self.design = np.zeros((n, width + 1), dtype=np.float32)
        self.design[:, : self.dim] = vectors_and_bias[:, : self.dim]
        self.design[:, self.dim] = 1.0
        self.bias = vectors_and_bias[:, self.dim].astype(np.float64)


def _stored(x):
    """``x`` as the float32 values the trainer keeps (the cost is that of these)."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def dual_widths(cap: int) -> np.ndarray:
    """The padded sizes of the dual systems: 1, 2, 3, 4, 6, 8, 12, ... up to ``cap`` (steps
    of at most 1.5x: a system costs ~width³, so less padding than powers of two)."""
    sizes = {1 << k for k in range(cap.bit_length())} | {3 << k for k in range(cap.bit_length())}
    return np.array(sorted(x for x in sizes if x <= cap), dtype=np.int64)


def dual_cap(dim: int) -> int:
    """Rows with at most this many non-zeros take the dual (m × m) system."""
    return 1 << int(math.floor(math.log2(max(dim, 1))))


def solve_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    log_counts: np.ndarray,
    fixed: FixedSide,
    *,
    x_max: float,
    alpha: float,
    ridge: float,
    with_cost: bool = True,
) -> tuple[np.ndarray, float]:
    """``(theta, cost)`` for the rows of a CSR block of log counts.

    ``fixed``: the other side's vectors and biases (n_cols of them). ``theta``: rows × (d + 1), the vector then the bias of each row as float32 values
    (zeros for a row without entries); ``cost``: the rows' share of the objective at those
    values, ridge included (0 without ``with_cost``, which saves a pass over the rows).
    """
    n_rows, dim = len(indptr) - 1, fixed.dim
    theta = np.zeros((n_rows, dim + 1))
    if n_rows == 0:
        return theta, 0.0
    weights = glove_weights(log_counts, x_max, alpha)
    targets = log_counts.astype(np.float64) - fixed.bias[indices]
    sizes = np.diff(indptr)
    cap = dual_cap(dim)
    cost = 0.0
    small = (sizes > 0) & (sizes <= cap)
    widths = dual_widths(cap)
    padded = np.zeros(n_rows, dtype=np.int64)
    padded[small] = widths[np.searchsorted(widths, sizes[small])]
    for width in np.unique(padded[small]):
        rows = np.flatnonzero(padded == width)
        per_batch = max(1, _BATCH_BYTES // (int(width) * dim * 8))
        for first in range(0, len(rows), per_batch):
            batch = rows[first : first + per_batch]
            cost += _solve_dual(
                batch, int(width), indptr, indices, weights, targets, fixed, ridge, theta
            )
    for i in np.flatnonzero(sizes > cap):
        lo, hi = indptr[i], indptr[i + 1]
        cost += _solve_primal(
            i, indices[lo:hi], weights[lo:hi], targets[lo:hi], fixed, ridge, theta, with_cost
        )
    return theta, cost


def _solve_dual(rows, width, indptr, indices, weights, targets, fixed, ridge, theta) -> float:
    """Rows of at most ``width`` non-zeros, padded to ``width`` with zero weights."""
    sizes = indptr[rows + 1] - indptr[rows]
    slot = np.arange(width)
    real = slot[None, :] < sizes[:, None]
    at = np.where(real, indptr[rows][:, None] + slot[None, :], 0)
    f = np.where(real, weights[at], 0.0)
    y = np.where(real, targets[at], 0.0)
    a = fixed.design[indices[at], :-2].astype(np.float64)  # batch × width × d
    total = f.sum(axis=1)
    mu = (f[:, None, :] @ a)[:, 0, :] / total[:, None]
    nu = (f * y).sum(axis=1) / total
    root = np.sqrt(f)
    s = root[:, :, None] * (a - mu[:, None, :])
    z = root * (y - nu[:, None])
    k = s @ s.transpose(0, 2, 1)
    k[:, slot, slot] += ridge
    dual = np.linalg.solve(k, z[:, :, None])  # batch × width × 1
    w = _stored((s.transpose(0, 2, 1) @ dual)[:, :, 0])
    bias = _stored(nu - (mu * w).sum(axis=1))
    theta[rows, :-1] = w
    theta[rows, -1] = bias
    residual = (a @ w[:, :, None])[:, :, 0] + bias[:, None] - y
    return float((f * residual * residual).sum() + ridge * (w * w).sum())


def _solve_primal(i, cols, f, y, fixed, ridge, theta, with_cost: bool) -> float:
    """One row with more non-zeros than dimensions: the (d + 1) × (d + 1) normal equations
    of [c_j, 1] (the bias unpenalised), uncentred. The gathered rows [c_j, 1, y_j] are
    scaled by √f in place, so one symmetric product gives the Gram matrix and the
    right-hand side together: this is where the trainer spends its time, most of it in
    moving the gathered rows, so they are read as few times as possible."""
    from scipy.linalg import lapack

    dim = fixed.dim
    a = fixed.design[cols]  # m × (d + 2): [c_j, 1, 0]
    a[:, dim + 1] = y
    a *= np.sqrt(f).astype(np.float32)[:, None]
    both = (a.T @ a).astype(np.float64)  # the flops: one float32 product
    gram, rhs = both[: dim + 1, : dim + 1], both[: dim + 1, dim + 1]
    gram[np.arange(dim), np.arange(dim)] += ridge
    _, solution, info = lapack.dposv(gram, rhs)
    if info != 0:  # not positive definite in floating point: least squares
        solution = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    solution = _stored(solution)
    theta[i] = solution
    if not with_cost:
        return 0.0
    # √f ⊙ (c·w + b − y), from the scaled rows
    residual = (a[:, : dim + 1] @ solution.astype(np.float32)).astype(np.float64)
    residual -= a[:, dim + 1]
    w = solution[:dim]
    return float(residual @ residual + ridge * (w @ w))
