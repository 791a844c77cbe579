"""The Lloyd iterations behind `KMeans`: data preparation, the three exact E-step layers, the M-step.

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
near-ties, with a 1e-5 relative safety margin), so the iterations are Lloyd's, only cheaper; this is
also why ``algorithm="lloyd"`` and ``"elkan"`` give the same result. The ``n_init`` runs advance side
by side so that their small operations are batched. Data are centred once, scaled by a power of two
when their magnitude would over- or underflow float32 (exact, so ordinary data are untouched), and
held as float32 on the device; centre sums are float64 and updated with the points that moved;
temporaries are bounded by ``chunk_bytes``. Sample weights enter the sums, the sizes and the inertia.
Rows may be sharded over processes (`Comm`): E-steps are local, sums, sizes and shifts all-reduced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..utils import accumulator_device
from ._distributed import Comm

_FILTER_MARGIN = 1e-5  # relative slack on the filter's squared bounds, covers float32 rounding (~1e-7)
_BOUND_MARGIN = 1e-5  # relative slack on Elkan's bounds, covers their float32 drift over iterations
_SUM_ROWS = 1024  # rows per float32 partial sum before it is added to the float64 centre sums
BOUNDS_BYTES = 256 * 2**20  # memory for the lower bounds of the runs that advance side by side
_SAFE = (2.0**-30, 2.0**30)  # |X - mean| within this range needs no scaling for float32 squares


def chunks(n: int, rows: int):
    """Consecutive slices of at most `rows` rows covering range(n)."""
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def sq_dists(x: torch.Tensor, x_sq: torch.Tensor, c32: torch.Tensor, c_sq: torch.Tensor) -> torch.Tensor:
    """Squared distances ||x||^2 - 2 x.c + ||c||^2 in float32, clamped at 0 (rounding)."""
    d2 = torch.addmm(c_sq.unsqueeze(0), x, c32.T, alpha=-2.0)
    d2.add_(x_sq.unsqueeze(1))
    return d2.clamp_(min=0.0)


@dataclass
class Filter:
    """An orthonormal basis V of the data's main directions, the projections and residual norms.

    For any centre c, with p = V^T x, q = x - V p and the same for c,
    ||x - c||^2 = ||p_x - p_c||^2 + ||q_x - q_c||^2, and (r_x - r_c)^2 <= ||q_x - q_c||^2 <= (r_x + r_c)^2
    with r = ||q||. Cluster means are smooth, so r_c is small and these bounds usually settle a
    point's nearest centre from m << d coordinates; only the unsettled points get exact distances.
    """

    V64: torch.Tensor  # (d, m) float64, orthonormal, on the accumulation device
    Pr: torch.Tensor  # (n, m + 1) float32: V^T x_c, then r = ||x_c - V V^T x_c||


@dataclass
class Data:
    """The centred, scaled float32 copy of the (local) rows of X on the device, with what every run needs."""

    Xc: torch.Tensor  # (n, d) float32, (X - mean) / scale
    x_sq: torch.Tensor  # (n,) float32, ||x_c||^2 for the matmul trick
    x_sq64: torch.Tensor  # (n,) float64, the same, exact (on the accumulation device)
    x_norm: torch.Tensor  # (n,) float32, ||x_c||
    sq_total: float  # sum_i ||x_c,i||^2 over all processes in float64 (for the tolerance)
    sq_total_w: float  # sum_i w_i ||x_c,i||^2 over all processes (for the cheap per-run inertia)
    mean: torch.Tensor  # (d,) float64 on the accumulation device
    scale: float  # a power of two; Xc = (X - mean) / scale
    rows: int  # rows per chunk of a (rows, d) float64 temporary
    weight: torch.Tensor | None  # (n,) float64 sample weights on the accumulation device (None: all 1)
    comm: Comm
    filter: Filter | None = None


@dataclass
class State:
    """Everything Lloyd keeps per run r (first index): centres, labels, Elkan's bounds, sums."""

    C: torch.Tensor  # (R, k, d) float64 centres (centred, scaled coordinates)
    labels: torch.Tensor  # (R, n) int64
    upper: torch.Tensor  # (R, n) float32, >= distance to the own centre
    lower: torch.Tensor  # (R, k, n) float32, <= distance to each other centre; +inf for the own one
    sums: torch.Tensor  # (R, k, d) float64, (local) weighted sum of the points of each cluster
    counts: torch.Tensor  # (R, k) float64, (local) cluster weights
    shift: torch.Tensor  # (R, k) float64, how far each centre moved in the last M-step
    # per run, the last E-step's moved points (local index, label before) and the last M-step's
    # relocations (empty cluster, global index of the point, donor): the labels behind the centres
    last_moves: list = field(default_factory=list)
    relocations: list = field(default_factory=list)


@dataclass
class Centres:
    """Float32 copies of the centres of the runs in an E-step, with their squared norms."""

    C32: torch.Tensor  # (S, k, d)
    c_sq: torch.Tensor  # (S, k)
    c_norm: torch.Tensor | None = None  # (S,) largest centre norm per run


@dataclass
class Run:
    centers: torch.Tensor  # (k, d) float64, centred scaled coordinates
    labels: torch.Tensor  # (n,) int64
    inertia: float  # weighted, in scaled units: only to rank the runs
    n_iter: int
    prev_labels: torch.Tensor  # (n,) the labels whose means (with `relocations`) are `centers`
    relocations: list


def power_of_two_scale(maxabs: float) -> float:
    """1 for ordinary magnitudes, else the power of two that brings max |X - mean| near 1 (exact)."""
    if maxabs == 0 or _SAFE[0] <= maxabs <= _SAFE[1]:
        return 1.0
    return 2.0 ** round(math.log2(maxabs))


def prepare(
    Xt: torch.Tensor,
    weight: torch.Tensor | None,
    device: torch.device,
    chunk_bytes: int,
    comm: Comm,
    mean: torch.Tensor | None = None,
    scale: float | None = None,
) -> Data:
    """Centre X in float64 (on the global mean unless given), scale, keep float32 on the device; reject NaN/inf."""
    n, d = Xt.shape
    acc = accumulator_device(device)
    rows = max(1, min(max(n, 1), chunk_bytes // (8 * d)))
    given = mean is not None
    if mean is None:
        total = torch.zeros(d, dtype=torch.float64, device=acc)
        peak = torch.zeros(2, dtype=torch.float64, device=acc)  # max X, max -X
        for s in chunks(n, rows):
            part = Xt[s].to(acc)
            total += part.sum(0, dtype=torch.float64)
            peak = torch.maximum(peak, torch.stack([part.max(), -part.min()]).to(torch.float64))
        total = comm.sum(total)
        bad = not bool(torch.isfinite(total).all())
        if comm.any(bad):
            check_finite(Xt, rows)
            raise ValueError("X has values too large to sum in float64")
        mean = total / comm.n_total
        peak = comm.max(peak)
        # max |x - mean| <= max(max X - mean, mean - min X), from the per-feature extremes' bound
        spread = float(torch.maximum(peak[0] - mean.min(), peak[1] + mean.max()))
        scale = power_of_two_scale(spread)
    scale = 1.0 if scale is None else scale
    Xc = torch.empty((n, d), dtype=torch.float32, device=device)
    x_sq64 = torch.empty(n, dtype=torch.float64, device=acc)
    for s in chunks(n, rows):
        x64 = Xt[s].to(device=acc, dtype=torch.float64) - mean
        x32 = (x64 if scale == 1.0 else x64 / scale).to(torch.float32)
        Xc[s] = x32.to(device)
        x_sq64[s] = x32.double().square().sum(1)  # exact squares of float32 values
    w = None if weight is None else weight.to(acc, torch.float64)
    sums = comm.sum(torch.stack([x_sq64.sum(), x_sq64.sum() if w is None else (w * x_sq64).sum()]))
    if comm.any(not bool(torch.isfinite(sums).all())):
        check_finite(Xt, rows)
        if not given:  # with a given mean (predict) the caller falls back to float64 distances
            raise ValueError("X has values too large to square in float64")
    return Data(
        Xc=Xc,
        x_sq=x_sq64.to(device, torch.float32),
        x_sq64=x_sq64,
        x_norm=x_sq64.sqrt().to(device, torch.float32),
        sq_total=float(sums[0]),
        sq_total_w=float(sums[1]),
        mean=mean,
        scale=float(scale),
        rows=rows,
        weight=w,
        comm=comm,
    )


def check_finite(Xt: torch.Tensor, rows: int) -> None:
    """Raise when the (local) X holds NaN/inf."""
    if not Xt.is_floating_point():
        return
    for s in chunks(Xt.shape[0], rows):
        if not bool(torch.isfinite(Xt[s]).all()):
            raise ValueError("Input X contains NaN or infinity")


def build_filter(data: Data, m: int, acc: torch.device, sample: int = 4096) -> Filter:
    """Basis from a randomised range finder with one power iteration (Halko et al. 2011, alg. 4.4).

    Run on at most `sample` evenly spaced rows (of all processes) with a fixed seed: the basis only
    has to capture the main directions (it changes speed, never the bounds' validity).
    """
    Xc, comm = data.Xc, data.comm
    dev = Xc.device
    step = max(1, comm.n_total // sample)
    Xs = comm.rows(Xc, torch.arange(0, comm.n_total, step))
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
    return Filter(V64=V.to(acc, torch.float64), Pr=torch.cat([P, r.unsqueeze(1)], 1))


def same_clustering(a: torch.Tensor, b: torch.Tensor, k: int, comm: Comm) -> bool:
    """True when two labelings are the same partition up to a renaming of the clusters (all processes)."""
    table = torch.bincount((a * k + b).cpu(), minlength=k * k).to(torch.float64)
    table = comm.sum(table).view(k, k) > 0
    pairs = int(table.sum())
    return pairs == int(table.any(1).sum()) == int(table.any(0).sum())


class Lloyd:
    """Lloyd's iterations for several runs side by side; `chunk_bytes` bounds the temporaries."""

    def __init__(self, chunk_bytes: int, max_iter: int, verbose: int = 0) -> None:
        self.chunk_bytes = chunk_bytes
        self.max_iter = max_iter
        self.verbose = verbose

    def _first_estep(self, data: Data, C: torch.Tensor):
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
        for s in chunks(n, rows):
            dist = sq_dists(data.Xc[s], data.x_sq[s], c32, c_sq).sqrt_().T.reshape(R, k, -1)
            up, lab = dist.min(1)
            labels[:, s], upper[:, s] = lab, up
            lower[:, :, s] = dist.scatter_(1, lab.unsqueeze(1), math.inf)
        return labels, upper, lower

    def _estep(self, data: Data, st: State, sel: torch.Tensor) -> torch.Tensor:
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
        cen = Centres(C32=C.to(dev, torch.float32), c_sq=c_sq64.to(dev, torch.float32))
        cen.c_norm = cen.c_sq.amax(1).sqrt()
        # (1) the bounds; the margin covers float32 drift of the bounds over many iterations
        keep = torch.maximum(half.gather(1, labels), lower.amin(1))
        slack = (data.x_norm.unsqueeze(0) + cen.c_norm.unsqueeze(1)).mul_(_BOUND_MARGIN)
        run, pt = torch.nonzero(upper + slack > keep, as_tuple=True)  # sorted by run
        changed = torch.zeros(S, dtype=torch.long, device=dev)
        for r in sel.tolist():
            st.last_moves[r] = None
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
                ends = torch.cumsum(changed, 0).tolist()
                for j, r in enumerate(sel.tolist()):
                    a = ends[j - 1] if j else 0
                    st.last_moves[r] = (mpt[a : ends[j]], old[moved][a : ends[j]])
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
        data: Data,
        C: torch.Tensor,
        cen: Centres,
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
        for s in chunks(pt.numel(), self._pair_rows(2 * k + f.Pr.shape[1] + 8)):
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
        data: Data,
        cen: Centres,
        labels: torch.Tensor,
        upper: torch.Tensor,
        lower: torch.Tensor,
        run: torch.Tensor,
        pt: torch.Tensor,
    ) -> None:
        """Layer 3: exact float32 distances ||x||^2 - 2 x.c + ||c||^2 for the remaining pairs."""
        dev = data.Xc.device
        S, k = cen.c_sq.shape
        for s in chunks(pt.numel(), self._pair_rows(data.Xc.shape[1] + 2 * k)):
            r_s, p_s = run[s], pt[s]
            xs = data.Xc.index_select(0, p_s)
            dist = torch.empty((p_s.numel(), k), dtype=torch.float32, device=dev)
            for r, a, b in self._segments(r_s, S):
                torch.addmm(cen.c_sq[r], xs[a:b], cen.C32[r].T, alpha=-2.0, out=dist[a:b])
            dist.add_(data.x_sq.index_select(0, p_s).unsqueeze(1)).clamp_(min=0.0).sqrt_()
            up, lab = dist.min(1)
            self._store(labels, upper, lower, r_s, p_s, lab, up, dist)

    # ----------------------------------------------------------------- M-step bookkeeping
    def _cluster_sums(self, data: Data, labels: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Weighted sum and weight of every cluster of every run (local rows): (R, k, d) and (R, k) float64."""
        R, n = labels.shape
        dev, acc = data.Xc.device, data.mean.device
        w32 = None if data.weight is None else data.weight.to(dev, torch.float32)
        sums = torch.zeros((R, k, data.Xc.shape[1]), dtype=torch.float64, device=acc)
        offsets = (torch.arange(R, device=dev) * k).unsqueeze(1)
        for s in chunks(n, _SUM_ROWS):
            onehot = torch.zeros((R * k, s.stop - s.start), dtype=torch.float32, device=dev)
            if w32 is None:
                onehot.scatter_(0, labels[:, s] + offsets, 1.0)
            else:
                onehot.scatter_(0, labels[:, s] + offsets, w32[s].expand(R, -1).contiguous())
            sums += (onehot @ data.Xc[s]).view(R, k, -1).to(device=acc, dtype=torch.float64)
        w = data.weight
        counts = torch.stack(
            [
                torch.bincount(row.to(acc), weights=w, minlength=k)
                if w is not None
                else torch.bincount(row, minlength=k)
                for row in labels
            ]
        ).to(acc, torch.float64)
        return sums, counts

    def _move(
        self, data: Data, st: State, runs: torch.Tensor, idx: torch.Tensor, old: torch.Tensor, new: torch.Tensor
    ) -> None:
        """Points `idx` of runs `runs` (sorted) moved from clusters `old` to `new`: update sums, weights.

        Float32 partial sums over at most `_SUM_ROWS` rows, accumulated in float64.
        """
        R, k = st.counts.shape
        dev, acc = data.Xc.device, st.sums.device
        if data.weight is None:
            ones = torch.ones(idx.numel(), dtype=torch.float64, device=acc)
        else:
            ones = data.weight.index_select(0, idx.to(acc))
        runs_a = runs.to(acc)
        st.counts.view(-1).index_add_(0, runs_a * k + new.to(acc), ones)
        st.counts.view(-1).index_add_(0, runs_a * k + old.to(acc), -ones)
        w32 = None if data.weight is None else ones.to(dev, torch.float32)
        for s in chunks(idx.numel(), _SUM_ROWS):
            signed = torch.zeros((k, s.stop - s.start), dtype=torch.float32, device=dev)
            if w32 is None:
                signed.scatter_(0, new[s].unsqueeze(0), 1.0).scatter_(0, old[s].unsqueeze(0), -1.0)
            else:
                ws = w32[s].unsqueeze(0)
                signed.scatter_(0, new[s].unsqueeze(0), ws).scatter_(0, old[s].unsqueeze(0), -ws)
            rows = data.Xc.index_select(0, idx[s])
            for r, a, b in self._segments(runs[s].to(dev), R):
                st.sums[r] += (signed[:, a:b] @ rows[a:b]).to(device=acc, dtype=torch.float64)

    def _relocate_empty(
        self, data: Data, st: State, r: int, sums: torch.Tensor, counts: torch.Tensor
    ) -> tuple[torch.Tensor, list]:
        """New centres for run r when some clusters are empty: each takes a point far from its centre.

        As sklearn's `_relocate_empty_clusters`: labels are left alone; the donor cluster's centre is
        recomputed without the point (and its weight) and the empty cluster's centre becomes the
        point. `sums`, `counts` are the run's global ones. Returns the centres and the relocations.
        """
        comm = data.comm
        C, labels = st.C[r], st.labels[r]
        sums, counts = sums.clone(), counts.clone()
        empty = torch.nonzero(counts == 0).flatten().tolist()
        c32 = C.to(data.Xc.device, torch.float32)
        n = data.Xc.shape[0]
        dist = torch.empty(n, dtype=torch.float32, device=data.Xc.device)
        for s in chunks(n, data.rows):
            dist[s] = (data.Xc[s] - c32[labels[s]]).square().sum(1)
        if comm.active:
            m = len(empty)
            top = torch.full((m,), -math.inf, dtype=torch.float64)
            where = torch.full((m,), -1.0, dtype=torch.float64)
            t = torch.topk(dist, min(m, n))
            top[: t.values.numel()] = t.values.double().cpu()
            where[: t.values.numel()] = (t.indices.cpu() + comm.offset).double()
            tops, wheres = comm.gather_rows(top).flatten(), comm.gather_rows(where).flatten()
            best = torch.topk(tops, m).indices
            far = wheres[best].long().tolist()
        else:
            far = torch.topk(dist, len(empty)).indices.tolist()
        xs = comm.rows(data.Xc, far, torch.float64).to(sums.device)
        donors = comm.values(labels, far).long().tolist()
        ws = [1.0] * len(far) if data.weight is None else comm.values(data.weight, far).tolist()
        events = []
        for e, f, x, donor, w in zip(empty, far, xs, donors, ws, strict=False):
            sums[donor] -= x * w
            counts[donor] -= w
            sums[e] = x * w
            counts[e] = w
            events.append((e, f, donor))
        new = sums / torch.where(counts > 0, counts, 1.0).unsqueeze(1)
        keep = counts == 0
        new[keep] = C[keep]
        return new, events

    # ----------------------------------------------------------------- Lloyd, all runs side by side
    def run(self, data: Data, C: torch.Tensor, tol: float) -> list[Run]:
        """Lloyd iterations for R runs from centres C (R, k, d), float64, centred scaled coordinates.

        Per run, as sklearn's `_kmeans_single_lloyd`: E-step, M-step; stop when the labels did not
        change (strict convergence) or the squared centre shift is <= tol, then (unless strict) one
        more E-step so that the labels belong to the returned centres; at most `max_iter` iterations.
        """
        comm = data.comm
        R, k, _ = C.shape
        labels, upper, lower = self._first_estep(data, C)
        sums, counts = self._cluster_sums(data, labels, k)
        st = State(
            C=C.clone(),
            labels=labels,
            upper=upper,
            lower=lower,
            sums=sums,
            counts=counts,
            shift=torch.zeros((R, k), dtype=torch.float64, device=C.device),
            last_moves=[None] * R,
            relocations=[[] for _ in range(R)],
        )
        moved = [comm.n_total] * R
        n_iter = [0] * R
        active = list(range(R))
        it = 0
        say = self.verbose and comm.rank == 0
        while active:
            sel = []
            for r in active:
                if it > 0 and moved[r] == 0:
                    n_iter[r] = it + 1  # strict convergence: the centres cannot move
                    if say:
                        print(f"Run {r}: converged at iteration {it}: strict convergence.")
                else:
                    sel.append(r)
            if not sel:
                break
            idx = torch.as_tensor(sel, device=st.C.device)
            g_sums, g_counts = comm.sum(st.sums[idx]), comm.sum(st.counts[idx])
            new_c = g_sums / torch.where(g_counts > 0, g_counts, 1.0).unsqueeze(2)
            for j, r in enumerate(sel):
                st.relocations[r] = []
                if bool((g_counts[j] == 0).any()):
                    new_c[j], st.relocations[r] = self._relocate_empty(data, st, r, g_sums[j], g_counts[j])
            shift = (new_c - st.C[idx]).norm(dim=2)
            st.C[idx] = new_c
            st.shift[idx] = shift
            changes = comm.sum(self._estep(data, st, idx.cpu()).double()).long().tolist()
            total_shift = shift.square().sum(1).tolist()
            if say:
                for j, r in enumerate(sel):
                    inertia = self._inertia(data, st, r) * data.scale**2
                    print(f"Run {r}, iteration {it}, inertia {inertia:.6g}, moved {changes[j]}.")
            active = []
            for j, r in enumerate(sel):
                moved[r] = changes[j]
                if total_shift[j] <= tol or it + 1 == self.max_iter:
                    n_iter[r] = it + 1  # that E-step was the final one
                    if say and it + 1 < self.max_iter:
                        print(
                            f"Run {r}: converged at iteration {it}: center shift {total_shift[j]:.6g} within tolerance {tol:.6g}."
                        )
                else:
                    active.append(r)
            it += 1
        runs = []
        for r in range(R):
            prev = st.labels[r].clone()
            if st.last_moves[r] is not None:
                pts, old = st.last_moves[r]
                prev[pts] = old
            runs.append(
                Run(
                    centers=st.C[r],
                    labels=st.labels[r],
                    inertia=self._inertia(data, st, r),
                    n_iter=n_iter[r],
                    prev_labels=prev,
                    relocations=st.relocations[r],
                )
            )
        return runs

    @staticmethod
    def _inertia(data: Data, st: State, r: int) -> float:
        """sum w ||x||^2 - 2 sum_j c_j.S_j + sum_j n_j ||c_j||^2 in float64 (all processes): to rank runs."""
        C_r = st.C[r]
        parts = torch.stack([(C_r * st.sums[r]).sum(), (st.counts[r] * C_r.square().sum(1)).sum()])
        parts = data.comm.sum(parts)
        return data.sq_total_w - 2.0 * float(parts[0]) + float(parts[1])
