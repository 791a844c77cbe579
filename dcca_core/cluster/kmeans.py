"""K-means (Lloyd's algorithm) in PyTorch: a drop-in for ``sklearn.cluster.KMeans``.

The objective is the within-cluster sum of squares (inertia), sum_i ||x_i - mu_c(i)||^2 (Lloyd
1982). Seeding is sklearn's greedy k-means++ (Arthur & Vassilvitskii 2007, 2 + ln k local trials)
fed by the same NumPy random stream, so with the same ``random_state`` the seeds usually coincide
with sklearn's, and so do the partitions.

Each run does exactly what sklearn's Lloyd does: E-step, M-step, stop when no label changed or the
total squared centre shift is <= ``tol`` x the mean feature variance, then one last E-step; empty
clusters take the points farthest from their centres. Only the way the E-step finds each point's
nearest centre differs, in three exact layers:

1. Elkan's bounds (Elkan 2003): an upper bound on each point's distance to its centre and a lower
   bound to every other centre, moved by the centre shifts, keep every point that provably stays;
2. a low-dimensional filter: with an orthonormal basis V of the data's main directions,
   ||x - c||^2 = ||V^T(x - c)||^2 + ||q_x - q_c||^2 and (r_x - r_c)^2 <= ||q_x - q_c||^2 <= (r_x + r_c)^2
   (q = residual, r = its norm); cluster means are smooth, r_c is small, and m = 64 coordinates
   settle most of the remaining points;
3. exact float32 distances ||x||^2 - 2 x.c + ||c||^2 for the rest.

Points settled by (1) or (2) get the label plain Lloyd would give them (up to float32 rounding in
near-ties, with a 1e-5 relative safety margin), so the iterations are Lloyd's, only cheaper. The
``n_init`` runs advance side by side so that their small operations are batched. Data are centred
once and held as float32 on the device; centre sums are float64 and updated with the points that
moved; temporaries are bounded by ``chunk_bytes``; ``inertia_`` is recomputed exactly in float64
from the input.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..utils import accumulator_device, check_2d, get_device

__all__ = ["KMeans", "kmeans_plusplus"]

_DEFAULT_CHUNK_BYTES = 2 * 2**20  # small blocks stay in cache and in the allocator's free lists


class ConvergenceWarning(UserWarning):
    """Fewer distinct clusters than asked for (duplicate points, or too many clusters)."""


def check_random_state(seed: Any) -> np.random.RandomState | np.random.Generator:
    """None → NumPy's global RandomState (seeded by `set_seed`), int → RandomState(int), as sklearn."""
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        if seed < 0 or seed >= 2**32:
            raise ValueError(f"random_state must be in [0, 2**32), got {seed}")
        return np.random.RandomState(int(seed))
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    raise ValueError(f"random_state must be None, an int, a RandomState or a Generator, got {seed!r}")


def _as_2d(X: Any, name: str = "X") -> torch.Tensor:
    """The shared 2-D check without the finiteness pass, which KMeans does itself."""
    return check_2d(X, name, finite=False)


@dataclass
class _Data:
    """The centred float32 copy of X on the device, with what every run needs."""

    Xc: torch.Tensor  # (n, d) float32, X - mean
    x_sq: torch.Tensor  # (n,) float32, ||x_c||^2 for the matmul trick
    x_sq64: torch.Tensor  # (n,) float64, the same, exact (on the accumulation device)
    x_norm: torch.Tensor  # (n,) float32, ||x_c||
    sq_total: float  # sum_i ||x_c,i||^2 in float64 (for the cheap per-run inertia)
    mean: torch.Tensor  # (d,) float64 on the accumulation device
    rows: int  # rows per chunk of a (rows, d) float64 temporary
    filter: _Filter | None = None


@dataclass
class _State:
    """Everything Lloyd keeps per run r (first index): centres, labels, Elkan's bounds, sums."""

    C: torch.Tensor  # (R, k, d) float64 centres (centred coordinates)
    labels: torch.Tensor  # (R, n) int64
    upper: torch.Tensor  # (R, n) float32, >= distance to the own centre
    lower: torch.Tensor  # (R, k, n) float32, <= distance to each other centre; +inf for the own one
    sums: torch.Tensor  # (R, k, d) float64, sum of the points of each cluster
    counts: torch.Tensor  # (R, k) float64, cluster sizes
    shift: torch.Tensor  # (R, k) float64, how far each centre moved in the last M-step


@dataclass
class _Centres:
    """Float32 copies of the centres of the runs in an E-step, with their squared norms."""

    C32: torch.Tensor  # (S, k, d)
    c_sq: torch.Tensor  # (S, k)
    c_norm: torch.Tensor | None = None  # (S,) largest centre norm per run


@dataclass
class _Run:
    centers: torch.Tensor  # (k, d) float64, centred coordinates
    labels: torch.Tensor  # (n,) int64
    inertia: float
    n_iter: int


def _chunks(n: int, rows: int):
    """Consecutive slices of at most `rows` rows covering range(n)."""
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def _sq_dists(x: torch.Tensor, x_sq: torch.Tensor, c32: torch.Tensor, c_sq: torch.Tensor) -> torch.Tensor:
    """Squared distances ||x||^2 - 2 x.c + ||c||^2 in float32, clamped at 0 (rounding)."""
    d2 = torch.addmm(c_sq.unsqueeze(0), x, c32.T, alpha=-2.0)
    d2.add_(x_sq.unsqueeze(1))
    return d2.clamp_(min=0.0)


def _draw_seeds(
    rng: np.random.RandomState | np.random.Generator, init: str, n: int, k: int, n_runs: int
) -> list[tuple[Any, ...]]:
    """All random numbers the initialisations need, drawn run after run in sklearn's order.

    k-means++ uses one `choice` then k-1 `uniform(size=2 + int(ln k))` per run, whatever the data,
    so drawing them up front consumes the stream exactly as sklearn's sequential runs do.
    """
    p = np.full(n, 1.0 / n)
    trials = 2 + int(np.log(k))
    draws = []
    for _ in range(n_runs):
        if init == "random":
            draws.append((np.asarray(rng.choice(n, size=k, replace=False, p=p), dtype=np.int64),))
        else:
            first = int(rng.choice(n, p=p))
            draws.append(
                (first, np.stack([rng.uniform(size=trials) for _ in range(k - 1)]) if k > 1 else np.zeros((0, trials)))
            )
    return draws


def kmeans_plusplus(Xc: torch.Tensor, x_sq: torch.Tensor, draws: list[tuple[int, np.ndarray]]) -> torch.Tensor:
    """Greedy k-means++ for several runs at once, step for step as sklearn's `_kmeans_plusplus`.

    Each new centre is the best (lowest potential) of `2 + int(ln k)` candidates drawn with
    probability proportional to D(x)^2 (Arthur & Vassilvitskii 2007, sec. 2.2 and 6). `draws` holds
    each run's first index and its (k-1, trials) uniforms; the candidates of all runs share one
    matmul. Returns the chosen row indices, (runs, k).
    """
    dev, n = Xc.device, Xc.shape[0]
    runs = len(draws)
    first = torch.as_tensor([f for f, _ in draws], dtype=torch.long, device=dev)
    uniforms = torch.as_tensor(np.stack([u for _, u in draws]), dtype=torch.float64, device=dev)
    chosen = [first]
    closest = _sq_dists(Xc, x_sq, Xc[first], x_sq[first]).double().T.contiguous()  # (runs, n)
    pot = closest.sum(1)
    every = torch.arange(runs, device=dev)
    for step in range(uniforms.shape[1]):
        rand = uniforms[:, step, :] * pot.unsqueeze(1)  # (runs, trials)
        cand = torch.searchsorted(torch.cumsum(closest, 1), rand).clamp_(max=n - 1)
        flat = cand.flatten()
        d2 = _sq_dists(Xc, x_sq, Xc[flat], x_sq[flat]).double()
        d2 = d2.T.reshape(runs, cand.shape[1], n)
        torch.minimum(d2, closest.unsqueeze(1), out=d2)
        pots = d2.sum(2)
        best = pots.argmin(1)
        pot = pots[every, best]
        closest = d2[every, best].contiguous()
        chosen.append(cand[every, best])
    return torch.stack(chosen, 1)


@dataclass
class _Filter:
    """An orthonormal basis V of the data's main directions, the projections and residual norms.

    For any centre c, with p = V^T x, q = x - V p and the same for c,
    ||x - c||^2 = ||p_x - p_c||^2 + ||q_x - q_c||^2, and (r_x - r_c)^2 <= ||q_x - q_c||^2 <= (r_x + r_c)^2
    with r = ||q||. Cluster means are smooth, so r_c is small and these bounds usually settle a
    point's nearest centre from m << d coordinates; only the unsettled points get exact distances.
    """

    V64: torch.Tensor  # (d, m) float64, orthonormal, on the accumulation device
    Pr: torch.Tensor  # (n, m + 1) float32: V^T x_c, then r = ||x_c - V V^T x_c||


def _build_filter(data: _Data, m: int, acc: torch.device, sample: int = 4096) -> _Filter:
    """Basis from a randomised range finder with one power iteration (Halko et al. 2011, alg. 4.4).

    Run on at most `sample` evenly spaced rows with a fixed seed: the basis only has to capture the
    main directions (it changes speed, never the bounds' validity), and this keeps it cheap.
    """
    Xc = data.Xc
    dev = Xc.device
    Xs = Xc[:: max(1, Xc.shape[0] // sample)]
    gen = torch.Generator(device="cpu").manual_seed(0)
    omega = torch.randn(Xc.shape[1], m, generator=gen).to(dev)

    def orth(a: torch.Tensor) -> torch.Tensor:
        return torch.linalg.qr(a.detach().to("cpu", torch.float64)).Q.to(dev, torch.float32)

    V = orth(Xs.T @ orth(Xs @ omega))
    V = orth(Xs.T @ orth(Xs @ V))
    P = Xc @ V
    # r^2 = ||x||^2 - ||p||^2: exact for orthonormal V, errors ~1e-7 ||x||^2 are inside the margin
    p_sq = P.to(data.x_sq64.device, torch.float64).square().sum(1)
    r = (data.x_sq64 - p_sq).clamp_(min=0).sqrt_().to(dev, torch.float32)
    return _Filter(V64=V.to(acc, torch.float64), Pr=torch.cat([P, r.unsqueeze(1)], 1))


_FILTER_MARGIN = 1e-5  # relative slack on the filter's squared bounds, covers float32 rounding (~1e-7)
_BOUND_MARGIN = 1e-5  # relative slack on Elkan's bounds, covers their float32 drift over iterations
_SUM_ROWS = 1024  # rows per float32 partial sum before it is added to the float64 centre sums
_BOUNDS_BYTES = 256 * 2**20  # memory for the lower bounds of the runs that advance side by side


class KMeans:
    """K-means clustering (Lloyd's algorithm), sklearn's API, defaults and k-means++ seeding.

    Parameters mirror ``sklearn.cluster.KMeans``; ``device`` picks where the work runs ("auto":
    cuda → mps → cpu), ``chunk_bytes`` bounds each temporary distance block, and ``filter_dim``
    sets the size of the exact low-dimensional filter ("auto": 64 with >= 256 features and >= 1,024
    samples, else off; None: off; it changes speed, not results). Fitted attributes (NumPy, like
    sklearn): ``cluster_centers_`` (k, d) float64, ``labels_`` (n,) int64, ``inertia_`` (exact
    float64 within-cluster sum of squares), ``n_iter_`` (iterations of the best run).
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | np.ndarray = "k-means++",
        n_init: int | str = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = None,
        device: str = "auto",
        chunk_bytes: int = _DEFAULT_CHUNK_BYTES,
        filter_dim: int | str | None = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.chunk_bytes = chunk_bytes
        self.filter_dim = filter_dim

    def __repr__(self) -> str:
        init = self.init if isinstance(self.init, str) else "array"
        return (
            f"KMeans(n_clusters={self.n_clusters}, init={init!r}, n_init={self.n_init}, "
            f"max_iter={self.max_iter}, tol={self.tol}, random_state={self.random_state!r}, "
            f"device={self.device!r})"
        )

    # ----------------------------------------------------------------- validation
    def _check_params(self) -> int:
        """Validate hyper-parameters; return the effective number of initialisations."""

        def is_int(v: Any) -> bool:
            return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)

        if not is_int(self.n_clusters) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be an integer >= 1, got {self.n_clusters!r}")
        if not is_int(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if not isinstance(self.tol, numbers.Real) or not math.isfinite(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if not is_int(self.chunk_bytes) or self.chunk_bytes < 1:
            raise ValueError(f"chunk_bytes must be a positive integer, got {self.chunk_bytes!r}")
        if not (
            self.filter_dim is None or self.filter_dim == "auto" or (is_int(self.filter_dim) and self.filter_dim >= 1)
        ):
            raise ValueError(f"filter_dim must be None, 'auto' or a positive integer, got {self.filter_dim!r}")
        if isinstance(self.init, str) and self.init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++', 'random' or an array of centres, got {self.init!r}")
        n_init = self.n_init
        if isinstance(n_init, str) and n_init == "auto":
            n_init = 10 if (isinstance(self.init, str) and self.init == "random") else 1
        if not is_int(n_init) or n_init < 1:
            raise ValueError(f"n_init must be an integer >= 1 or 'auto', got {self.n_init!r}")
        if not isinstance(self.init, str) and n_init != 1:
            warnings.warn(
                f"explicit initial centres given: running once, not n_init={n_init} times", RuntimeWarning, stacklevel=3
            )
            n_init = 1
        return int(n_init)

    def _check_fitted(self, X: Any) -> torch.Tensor:
        """Input for predict/transform/score: fitted estimator, 2-D, same number of features."""
        if not hasattr(self, "cluster_centers_"):
            raise ValueError("this KMeans is not fitted yet; call fit(X) first")
        Xt = _as_2d(X)
        if Xt.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {Xt.shape[1]} features, but KMeans was fitted with {self.n_features_in_}")
        return Xt

    # ----------------------------------------------------------------- data preparation
    def _prepare(self, Xt: torch.Tensor, mean: torch.Tensor | None, device: torch.device) -> _Data:
        """Centre X in float64 (on its mean unless given), keep it as float32 on the device; reject NaN/inf."""
        n, d = Xt.shape
        acc = accumulator_device(device)
        rows = max(1, min(n, self.chunk_bytes // (8 * d)))
        if mean is None:
            total = torch.zeros(d, dtype=torch.float64, device=acc)
            for s in _chunks(n, rows):
                total += Xt[s].to(acc).sum(0, dtype=torch.float64)
            _check_finite(Xt, total, rows)
            mean = total / n
        Xc = torch.empty((n, d), dtype=torch.float32, device=device)
        x_sq64 = torch.empty(n, dtype=torch.float64, device=acc)
        for s in _chunks(n, rows):
            x32 = (Xt[s].to(device=acc, dtype=torch.float64) - mean).to(torch.float32)
            Xc[s] = x32.to(device)
            x_sq64[s] = x32.double().square().sum(1)  # exact squares of float32 values
        sq_total = float(x_sq64.sum())
        if not math.isfinite(sq_total):
            _check_finite(Xt, torch.tensor([sq_total]), rows)
        return _Data(
            Xc=Xc,
            x_sq=x_sq64.to(device, torch.float32),
            x_sq64=x_sq64,
            x_norm=x_sq64.sqrt().to(device, torch.float32),
            sq_total=sq_total,
            mean=mean,
            rows=rows,
        )

    def _filter_dim(self, n: int, d: int) -> int | None:
        """Size of the low-dimensional filter for n samples of d features (None: no filter)."""
        if self.filter_dim == "auto":
            return 64 if d >= 256 and n >= 1024 else None
        if self.filter_dim is None or self.filter_dim * 2 > d:
            return None
        return int(self.filter_dim)

    # ----------------------------------------------------------------- E-steps
    def _first_estep(self, data: _Data, C: torch.Tensor):
        """Exact distances from every point to every centre of R runs at once (one matmul per chunk).

        Returns labels (R, n), the distance to the own centre (R, n) and to each centre (R, k, n)
        with +inf for the own one: the exact starting values of Elkan's bounds.
        """
        R, k, d = C.shape
        dev, n = data.Xc.device, data.Xc.shape[0]
        flat = C.reshape(R * k, d)
        c32 = flat.to(dev, torch.float32)
        c_sq = flat.square().sum(1).to(dev, torch.float32)
        labels = torch.empty((R, n), dtype=torch.long, device=dev)
        upper = torch.empty((R, n), dtype=torch.float32, device=dev)
        lower = torch.empty((R, k, n), dtype=torch.float32, device=dev)
        rows = max(1, min(n, self.chunk_bytes // (8 * R * k)))
        for s in _chunks(n, rows):
            dist = _sq_dists(data.Xc[s], data.x_sq[s], c32, c_sq).sqrt_().T.reshape(R, k, -1)
            up, lab = dist.min(1)
            labels[:, s], upper[:, s] = lab, up
            lower[:, :, s] = dist.scatter_(1, lab.unsqueeze(1), math.inf)
        return labels, upper, lower

    def _estep(self, data: _Data, st: _State, sel: torch.Tensor) -> torch.Tensor:
        """One E-step for the runs `sel` (indices) with their current centres; returns changes per run.

        Three layers, each exact: (1) Elkan's bounds, moved by the centre shifts, keep a point whose
        distance to its centre cannot exceed its distance to any other (Elkan 2003, lemmas 1-2);
        (2) the low-dimensional filter settles most of the rest (see `_Filter`); (3) exact float32
        distances for what is left. All runs are handled together, as (run, point) pairs. Labels,
        bounds, sums and counts are updated in place.
        """
        dev = data.Xc.device
        R, k = st.shift.shape
        whole = sel.numel() == R
        sel_d, sel_a = sel.to(dev), sel.to(st.C.device)
        labels = st.labels if whole else st.labels.index_select(0, sel_d)
        upper = st.upper if whole else st.upper.index_select(0, sel_d)
        lower = st.lower if whole else st.lower.index_select(0, sel_d)
        C = st.C if whole else st.C.index_select(0, sel_a)  # (S, k, d) float64
        S = C.shape[0]
        shift = (st.shift if whole else st.shift.index_select(0, sel_a)).to(dev, torch.float32)
        upper += shift.gather(1, labels)
        lower -= shift.unsqueeze(2)
        c_sq64 = C.square().sum(2)
        cc = (c_sq64.unsqueeze(1) + c_sq64.unsqueeze(2) - 2.0 * torch.bmm(C, C.transpose(1, 2))).clamp_(min=0.0)
        cc.diagonal(dim1=1, dim2=2).fill_(math.inf)
        half = (0.5 * cc.amin(2).sqrt()).to(dev, torch.float32)  # (S, k)
        cen = _Centres(C32=C.to(dev, torch.float32), c_sq=c_sq64.to(dev, torch.float32))
        cen.c_norm = cen.c_sq.amax(1).sqrt()
        # (1) the bounds; the margin covers float32 drift of the bounds over many iterations
        keep = torch.maximum(half.gather(1, labels), lower.amin(1))
        slack = (data.x_norm.unsqueeze(0) + cen.c_norm.unsqueeze(1)).mul_(_BOUND_MARGIN)
        run, pt = torch.nonzero(upper + slack > keep, as_tuple=True)  # sorted by run
        changed = torch.zeros(S, dtype=torch.long, device=dev)
        if pt.numel():
            old = labels[run, pt]
            rest_run, rest_pt = run, pt
            if data.filter is not None:
                rest_run, rest_pt = self._filter_pairs(data, C, cen, labels, upper, lower, run, pt)
            self._exact_pairs(data, cen, labels, upper, lower, rest_run, rest_pt)
            moved = labels[run, pt] != old
            if bool(moved.any()):
                mrun, mpt = run[moved], pt[moved]
                self._move(data, st, sel_a.index_select(0, mrun.to(sel_a.device)), mpt, old[moved], labels[mrun, mpt])
                changed = torch.bincount(mrun, minlength=S)
        if not whole:
            st.labels.index_copy_(0, sel_d, labels)
            st.upper.index_copy_(0, sel_d, upper)
            st.lower.index_copy_(0, sel_d, lower)
        return changed.cpu()

    def _pair_rows(self, width: int) -> int:
        """How many (run, point) pairs fit a temporary block of `width` float32 values each."""
        return max(1, self.chunk_bytes // (4 * width))

    @staticmethod
    def _segments(run: torch.Tensor, S: int) -> list[tuple[int, int, int]]:
        """(run, start, stop) of each run's stretch in `run`, which is sorted."""
        ends = torch.cumsum(torch.bincount(run, minlength=S), 0).tolist()
        out, start = [], 0
        for r, stop in enumerate(ends):
            if stop > start:
                out.append((r, start, stop))
            start = stop
        return out

    def _store(
        self,
        labels: torch.Tensor,
        upper: torch.Tensor,
        lower: torch.Tensor,
        run: torch.Tensor,
        pt: torch.Tensor,
        lab: torch.Tensor,
        up: torch.Tensor,
        dist_t: torch.Tensor,
    ) -> None:
        """Write labels, upper bounds and the (pairs, k) lower bounds (own column set to inf)."""
        n, k = labels.shape[1], lower.shape[1]
        flat = run * n + pt
        labels.view(-1).index_copy_(0, flat, lab)
        upper.view(-1).index_copy_(0, flat, up)
        dist_t.scatter_(1, lab.unsqueeze(1), math.inf)
        cols = (run * (k * n) + pt).unsqueeze(1) + torch.arange(k, device=run.device) * n
        lower.view(-1).index_copy_(0, cols.flatten(), dist_t.flatten())

    def _filter_pairs(
        self,
        data: _Data,
        C: torch.Tensor,
        cen: _Centres,
        labels: torch.Tensor,
        upper: torch.Tensor,
        lower: torch.Tensor,
        run: torch.Tensor,
        pt: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer 2: settle pairs with the filter's bounds; return the pairs still open."""
        f = data.filter
        dev = data.Xc.device
        S, k, _ = C.shape
        pc = torch.matmul(C, f.V64)  # (S, k, m)
        rc = (C - torch.matmul(pc, f.V64.T)).norm(dim=2, keepdim=True)
        w = torch.cat([torch.cat([-2 * pc, 2 * rc], 2), torch.cat([-2 * pc, -2 * rc], 2)], 1).to(dev, torch.float32)
        bias = torch.cat([cen.c_sq, cen.c_sq], 1)  # (S, 2k)
        open_run, open_pt = [], []
        for s in _chunks(pt.numel(), self._pair_rows(2 * k + f.Pr.shape[1] + 8)):
            r_s, p_s = run[s], pt[s]
            prs = f.Pr.index_select(0, p_s)
            bounds = torch.empty((p_s.numel(), 2 * k), dtype=torch.float32, device=dev)
            for r, a, b in self._segments(r_s, S):
                torch.addmm(bias[r], prs[a:b], w[r].T, out=bounds[a:b])
            xs = data.x_sq.index_select(0, p_s)
            bounds.add_(xs.unsqueeze(1)).clamp_(min=0.0)
            hi_best, best = bounds[:, :k].min(1)
            lo = bounds[:, k:]
            thr = hi_best + _FILTER_MARGIN * (xs + cen.c_norm.index_select(0, r_s).square())
            settled = (lo < thr.unsqueeze(1)).sum(1) <= 1
            ok = torch.nonzero(settled).flatten()
            self._store(
                labels,
                upper,
                lower,
                r_s.index_select(0, ok),
                p_s.index_select(0, ok),
                best.index_select(0, ok),
                hi_best.index_select(0, ok).sqrt_(),
                lo.index_select(0, ok).sqrt_(),
            )
            no = torch.nonzero(~settled).flatten()
            open_run.append(r_s.index_select(0, no))
            open_pt.append(p_s.index_select(0, no))
        return torch.cat(open_run), torch.cat(open_pt)

    def _exact_pairs(
        self,
        data: _Data,
        cen: _Centres,
        labels: torch.Tensor,
        upper: torch.Tensor,
        lower: torch.Tensor,
        run: torch.Tensor,
        pt: torch.Tensor,
    ) -> None:
        """Layer 3: exact float32 distances ||x||^2 - 2 x.c + ||c||^2 for the remaining pairs."""
        dev = data.Xc.device
        S, k = cen.c_sq.shape
        for s in _chunks(pt.numel(), self._pair_rows(data.Xc.shape[1] + 2 * k)):
            r_s, p_s = run[s], pt[s]
            xs = data.Xc.index_select(0, p_s)
            dist = torch.empty((p_s.numel(), k), dtype=torch.float32, device=dev)
            for r, a, b in self._segments(r_s, S):
                torch.addmm(cen.c_sq[r], xs[a:b], cen.C32[r].T, alpha=-2.0, out=dist[a:b])
            dist.add_(data.x_sq.index_select(0, p_s).unsqueeze(1)).clamp_(min=0.0).sqrt_()
            up, lab = dist.min(1)
            self._store(labels, upper, lower, r_s, p_s, lab, up, dist)

    # ----------------------------------------------------------------- M-step bookkeeping
    def _cluster_sums(self, data: _Data, labels: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sum and size of every cluster of every run: (R, k, d) and (R, k) float64."""
        R, n = labels.shape
        dev, acc = data.Xc.device, data.mean.device
        sums = torch.zeros((R, k, data.Xc.shape[1]), dtype=torch.float64, device=acc)
        offsets = (torch.arange(R, device=dev) * k).unsqueeze(1)
        for s in _chunks(n, _SUM_ROWS):
            onehot = torch.zeros((R * k, s.stop - s.start), dtype=torch.float32, device=dev)
            onehot.scatter_(0, labels[:, s] + offsets, 1.0)
            sums += (onehot @ data.Xc[s]).view(R, k, -1).to(device=acc, dtype=torch.float64)
        counts = torch.stack([torch.bincount(row, minlength=k) for row in labels]).to(acc, torch.float64)
        return sums, counts

    def _move(
        self, data: _Data, st: _State, runs: torch.Tensor, idx: torch.Tensor, old: torch.Tensor, new: torch.Tensor
    ) -> None:
        """Points `idx` of runs `runs` (sorted) moved from clusters `old` to `new`: update sums, sizes.

        Float32 partial sums over at most `_SUM_ROWS` rows, accumulated in float64.
        """
        R, k = st.counts.shape
        dev, acc = data.Xc.device, st.sums.device
        ones = torch.ones(idx.numel(), dtype=torch.float64, device=acc)
        runs_a = runs.to(acc)
        st.counts.view(-1).index_add_(0, runs_a * k + new.to(acc), ones)
        st.counts.view(-1).index_add_(0, runs_a * k + old.to(acc), -ones)
        for s in _chunks(idx.numel(), _SUM_ROWS):
            signed = torch.zeros((k, s.stop - s.start), dtype=torch.float32, device=dev)
            signed.scatter_(0, new[s].unsqueeze(0), 1.0).scatter_(0, old[s].unsqueeze(0), -1.0)
            rows = data.Xc.index_select(0, idx[s])
            for r, a, b in self._segments(runs[s].to(dev), R):
                st.sums[r] += (signed[:, a:b] @ rows[a:b]).to(device=acc, dtype=torch.float64)

    def _relocate_empty(self, data: _Data, st: _State, r: int) -> torch.Tensor:
        """New centres for run r when some clusters are empty: each takes a point far from its centre.

        As sklearn's `_relocate_empty_clusters`: labels are left alone; the donor cluster's centre is
        recomputed without the point and the empty cluster's centre becomes the point.
        """
        C, labels = st.C[r], st.labels[r]
        sums, counts = st.sums[r].clone(), st.counts[r].clone()
        empty = torch.nonzero(counts == 0).flatten().tolist()
        c32 = C.to(data.Xc.device, torch.float32)
        dist = torch.empty(data.Xc.shape[0], dtype=torch.float32, device=data.Xc.device)
        for s in _chunks(data.Xc.shape[0], data.rows):
            dist[s] = (data.Xc[s] - c32[labels[s]]).square().sum(1)
        far = torch.topk(dist, len(empty)).indices.tolist()
        for e, f in zip(empty, far, strict=False):
            x = data.Xc[f].to(device=sums.device, dtype=torch.float64)
            donor = int(labels[f])
            sums[donor] -= x
            counts[donor] -= 1
            sums[e] = x
            counts[e] = 1
        new = sums / counts.clamp(min=1).unsqueeze(1)
        keep = counts == 0
        new[keep] = C[keep]
        return new

    # ----------------------------------------------------------------- Lloyd, all runs side by side
    def _lloyd(self, data: _Data, C: torch.Tensor, tol: float) -> list[_Run]:
        """Lloyd iterations for R runs from centres C (R, k, d), float64, centred coordinates.

        Per run, as sklearn's `_kmeans_single_lloyd`: E-step, M-step; stop when the labels did not
        change (strict convergence) or the squared centre shift is <= tol, then (unless strict) one
        more E-step so that the labels belong to the returned centres; at most `max_iter` iterations.
        """
        R, k, _ = C.shape
        labels, upper, lower = self._first_estep(data, C)
        sums, counts = self._cluster_sums(data, labels, k)
        st = _State(
            C=C.clone(),
            labels=labels,
            upper=upper,
            lower=lower,
            sums=sums,
            counts=counts,
            shift=torch.zeros((R, k), dtype=torch.float64, device=C.device),
        )
        moved = [data.Xc.shape[0]] * R
        n_iter = [0] * R
        active = list(range(R))
        it = 0
        while active:
            sel = []
            for r in active:
                if it > 0 and moved[r] == 0:
                    n_iter[r] = it + 1  # strict convergence: the centres cannot move
                else:
                    sel.append(r)
            if not sel:
                break
            idx = torch.as_tensor(sel, device=st.C.device)
            new_c = st.sums[idx] / st.counts[idx].clamp(min=1).unsqueeze(2)
            for j, r in enumerate(sel):
                if bool((st.counts[r] == 0).any()):
                    new_c[j] = self._relocate_empty(data, st, r)
            shift = (new_c - st.C[idx]).norm(dim=2)
            st.C[idx] = new_c
            st.shift[idx] = shift
            changes = self._estep(data, st, idx.cpu()).tolist()
            total_shift = shift.square().sum(1).tolist()
            active = []
            for j, r in enumerate(sel):
                moved[r] = changes[j]
                if total_shift[j] <= tol or it + 1 == self.max_iter:
                    n_iter[r] = it + 1  # that E-step was the final one
                else:
                    active.append(r)
            it += 1
        runs = []
        for r in range(R):
            C_r, S_r, n_r = st.C[r], st.sums[r], st.counts[r]
            # sum ||x||^2 - 2 sum_j c_j.S_j + sum_j n_j ||c_j||^2 in float64: only to rank the runs
            inertia = data.sq_total - 2.0 * float((C_r * S_r).sum()) + float((n_r * C_r.square().sum(1)).sum())
            runs.append(_Run(centers=C_r, labels=st.labels[r], inertia=inertia, n_iter=n_iter[r]))
        return runs

    # ----------------------------------------------------------------- public API
    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Cluster X (n_samples, n_features): the best of `n_init` runs by inertia; returns self."""
        n_init = self._check_params()
        Xt = _as_2d(X)
        n, d = Xt.shape
        if self.n_clusters > n:
            raise ValueError(f"n_clusters={self.n_clusters} is larger than n_samples={n}")
        k = int(self.n_clusters)
        device = get_device(self.device)
        rng = check_random_state(self.random_state)
        init_centers = None
        if not isinstance(self.init, str):
            init_centers = _as_2d(self.init, "init").to(torch.float64)
            if tuple(init_centers.shape) != (k, d):
                raise ValueError(f"init has shape {tuple(init_centers.shape)}, expected ({k}, {d})")
            if not torch.isfinite(init_centers).all():
                raise ValueError("init contains NaN or infinity")
        data = self._prepare(Xt, None, device)
        acc = data.mean.device
        m = self._filter_dim(n, d)
        if m is not None:
            data.filter = _build_filter(data, m, acc)
        # sklearn's tolerance: tol times the mean of the per-feature variances
        tol = float(self.tol) * data.sq_total / (n * d)
        if init_centers is not None:
            C = (init_centers.to(acc) - data.mean).unsqueeze(0)
        else:
            draws = _draw_seeds(rng, self.init, n, k, n_init)
            if self.init == "k-means++":
                idx = kmeans_plusplus(data.Xc, data.x_sq, draws)
            else:
                idx = torch.as_tensor(np.stack([d_[0] for d_ in draws]), device=data.Xc.device)
            C = data.Xc[idx.flatten()].to(device=acc, dtype=torch.float64).view(n_init, k, d)
        best: _Run | None = None
        # Elkan's lower bounds take runs x k x n float32: advance as many runs together as fit _BOUNDS_BYTES
        together = max(1, _BOUNDS_BYTES // (4 * k * n))
        for start in range(0, C.shape[0], together):
            for run in self._lloyd(data, C[start : start + together], tol):
                if best is None or (run.inertia < best.inertia and not _same_clustering(run.labels, best.labels)):
                    best = run
        assert best is not None
        centers = best.centers + data.mean
        self.cluster_centers_ = centers.cpu().numpy()
        self.labels_ = best.labels.cpu().numpy().astype(np.int64)
        self.inertia_ = _exact_inertia(Xt, centers, best.labels, data.rows)
        self.n_iter_ = best.n_iter
        self.n_features_in_ = d
        self._mean = data.mean
        distinct = int(np.unique(self.labels_).size)
        if distinct < k:
            warnings.warn(
                f"only {distinct} distinct clusters found for n_clusters={k}; X may have duplicate points",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _labels_of(self, Xt: torch.Tensor) -> tuple[torch.Tensor, _Data]:
        """Nearest fitted centre of each row, computed as during fit (float32, centred, exact distances)."""
        device = get_device(self.device)
        data = self._prepare(Xt, self._mean, device)
        C = torch.as_tensor(self.cluster_centers_, dtype=torch.float64, device=self._mean.device) - self._mean
        return self._first_estep(data, C.unsqueeze(0))[0][0], data

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest cluster centre for each row of X (NumPy int64)."""
        labels, _ = self._labels_of(self._check_fitted(X))
        return labels.cpu().numpy().astype(np.int64)

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return `labels_`."""
        return self.fit(X).labels_

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of every row to every centre, (n, k) float64 NumPy."""
        Xt = self._check_fitted(X)
        acc = self._mean.device
        C = torch.as_tensor(self.cluster_centers_, dtype=torch.float64, device=acc) - self._mean
        out = torch.empty((Xt.shape[0], C.shape[0]), dtype=torch.float64)
        rows = max(1, self.chunk_bytes // (8 * (Xt.shape[1] + C.shape[0])))
        for s in _chunks(Xt.shape[0], rows):
            xs = Xt[s].to(device=acc, dtype=torch.float64) - self._mean
            if not torch.isfinite(xs).all():
                raise ValueError("X contains NaN or infinity")
            out[s] = torch.cdist(xs, C).cpu()
        return out.numpy()

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return distances to the centres."""
        return self.fit(X).transform(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of X's inertia under the fitted centres (higher is better, as sklearn)."""
        Xt = self._check_fitted(X)
        labels, data = self._labels_of(Xt)
        centers = torch.as_tensor(self.cluster_centers_, dtype=torch.float64, device=self._mean.device)
        return -_exact_inertia(Xt, centers, labels, data.rows)


def _check_finite(Xt: torch.Tensor, summary: torch.Tensor, rows: int) -> None:
    """Raise when X holds NaN/inf; `summary` (a sum over X) is non-finite only if X may."""
    if bool(torch.isfinite(summary).all()):
        return
    for s in _chunks(Xt.shape[0], rows):
        if not bool(torch.isfinite(Xt[s]).all()):
            raise ValueError("X contains NaN or infinity")
    raise ValueError("X has values too large to sum in float64")


def _exact_inertia(Xt: torch.Tensor, centers: torch.Tensor, labels: torch.Tensor, rows: int) -> float:
    """sum_i ||x_i - c_{label_i}||^2 from the input itself, in float64 (chunked)."""
    total = torch.zeros((), dtype=torch.float64, device=centers.device)
    for s in _chunks(Xt.shape[0], rows):
        xs = Xt[s].to(device=centers.device, dtype=torch.float64)
        total += (xs - centers[labels[s].to(centers.device)]).square().sum()
    return float(total)


def _same_clustering(a: torch.Tensor, b: torch.Tensor) -> bool:
    """True when two labelings are the same partition up to a renaming of the clusters."""
    pairs = torch.unique(a * (int(b.max()) + 1) + b)
    return pairs.numel() == torch.unique(a).numel() == torch.unique(b).numel()
