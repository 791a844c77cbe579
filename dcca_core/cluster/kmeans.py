"""K-means in PyTorch as a scikit-learn estimator: a drop-in for ``sklearn.cluster.KMeans``.

The objective is the (weighted) within-cluster sum of squares, sum_i w_i ||x_i - mu_c(i)||^2 (Lloyd
1982). Seeding is sklearn's greedy k-means++ (Arthur & Vassilvitskii 2007, 2 + ln k local trials) fed
by the same NumPy random stream (`_seeding`), so with the same ``random_state`` the seeds usually
coincide with sklearn's, and so do the partitions. The iterations are Lloyd's with exact pruning
(Elkan's bounds and a low-dimensional filter, `_kernels`). The final centres are recomputed in
float64 from the input with the labels that produced them, then given X's dtype (float32 in, float32
out, as sklearn); ``inertia_`` is computed exactly in float64 from the input.

Beyond one machine: with ``distributed=True`` and an initialised ``torch.distributed`` process group,
every process passes its own rows to ``fit`` and the same estimator runs on the row shards (gloo on
CPU, NCCL on GPU): centre sums, weights and inertia are all-reduced, seeding draws the same numbers
on every process, and the result equals one process's fit of the concatenated rows (rank order)::

    # torchrun --nproc-per-node 2 fit_shards.py
    import torch.distributed as dist
    from dcca_core.cluster import KMeans
    dist.init_process_group("gloo")            # "nccl" with one GPU per process
    X_local = load_my_rows(dist.get_rank())    # this process's rows only
    km = KMeans(10, random_state=0, distributed=True).fit(X_local)
    km.cluster_centers_, km.inertia_           # global, the same on every process
    km.labels_                                 # labels of this process's rows
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import accumulator_device, check_2d, get_device
from ._distributed import Comm
from ._kernels import BOUNDS_BYTES, Data, Lloyd, build_filter, chunks, prepare, same_clustering
from ._seeding import check_random_state, draw_seeds, kmeans_plusplus

__all__ = ["KMeans", "kmeans_plusplus", "ConvergenceWarning", "check_random_state"]

_DEFAULT_CHUNK_BYTES = 2 * 2**20  # small blocks stay in cache and in the allocator's free lists


def _is_int(v: Any) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means clustering, with sklearn's parameters, defaults, attributes and k-means++ seeding.

    Parameters as ``sklearn.cluster.KMeans`` (``algorithm`` "lloyd" and "elkan" give the same result
    here: both run exact Lloyd with Elkan's bounds; ``copy_x`` is accepted, X is never modified).
    Extra: ``device`` picks where the work runs ("auto": cuda → mps → cpu), ``chunk_bytes`` bounds
    each temporary block, ``filter_dim`` sets the exact low-dimensional filter ("auto": 64 with >= 256
    features and >= 1,024 samples; None: off; speed only), ``distributed`` fits row shards over the
    initialised torch.distributed group (see the module docstring). Fitted attributes (NumPy):
    ``cluster_centers_`` (k, d) in X's float dtype, ``labels_`` (n,) int64, ``inertia_`` (exact float64
    weighted within-cluster sum of squares), ``n_iter_``, ``n_features_in_`` (``feature_names_in_``).
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: int | str = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state: Any = None,
        copy_x: bool = True,
        algorithm: str = "lloyd",
        device: str = "auto",
        chunk_bytes: int = _DEFAULT_CHUNK_BYTES,
        filter_dim: int | str | None = "auto",
        distributed: bool = False,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.device = device
        self.chunk_bytes = chunk_bytes
        self.filter_dim = filter_dim
        self.distributed = distributed

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self) -> int:
        """Number of output features of `transform` (one distance per centre), for feature names."""
        return int(self.cluster_centers_.shape[0])

    # ----------------------------------------------------------------- validation
    def _check_params(self) -> int:
        """Validate hyper-parameters; return the effective number of initialisations."""
        if not _is_int(self.n_clusters) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be an integer >= 1, got {self.n_clusters!r}")
        if not _is_int(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if not isinstance(self.tol, numbers.Real) or not math.isfinite(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if not _is_int(self.chunk_bytes) or self.chunk_bytes < 1:
            raise ValueError(f"chunk_bytes must be a positive integer, got {self.chunk_bytes!r}")
        if not (
            self.filter_dim is None or self.filter_dim == "auto" or (_is_int(self.filter_dim) and self.filter_dim >= 1)
        ):
            raise ValueError(f"filter_dim must be None, 'auto' or a positive integer, got {self.filter_dim!r}")
        if self.algorithm not in ("lloyd", "elkan"):
            raise ValueError(f"algorithm must be 'lloyd' or 'elkan', got {self.algorithm!r}")
        if not (isinstance(self.verbose, (bool, numbers.Integral, np.integer)) and self.verbose >= 0):
            raise ValueError(f"verbose must be an integer >= 0 or a bool, got {self.verbose!r}")
        if not isinstance(self.copy_x, (bool, np.bool_)):
            raise ValueError(f"copy_x must be a bool, got {self.copy_x!r}")
        if not isinstance(self.distributed, (bool, np.bool_)):
            raise ValueError(f"distributed must be a bool, got {self.distributed!r}")
        init = self.init
        if isinstance(init, str) and init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++', 'random', a callable or an array of centres, got {init!r}")
        array_init = not isinstance(init, str) and not callable(init)
        n_init = self.n_init
        if isinstance(n_init, str) and n_init == "auto":
            n_init = 1 if (array_init or (isinstance(init, str) and init == "k-means++")) else 10
        if not _is_int(n_init) or n_init < 1:
            raise ValueError(f"n_init must be an integer >= 1 or 'auto', got {self.n_init!r}")
        if array_init and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in KMeans instead of "
                f"n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        return int(n_init)

    def _validate_X(self, X: Any, reset: bool) -> torch.Tensor:
        """X as a 2-D tensor (no copy): tensors checked here, everything else by sklearn's `validate_data`."""
        if isinstance(X, torch.Tensor):
            Xt = check_2d(X, "X", finite=False)
            if reset:
                self.n_features_in_ = int(Xt.shape[1])
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            elif Xt.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {Xt.shape[1]} features, but KMeans is expecting {self.n_features_in_} features as input"
                )
            return Xt
        arr = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32], order="C", accept_sparse=False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.from_numpy(arr)  # read-only input (memmap) is only read

    def _check_weight(self, sample_weight: Any, n: int) -> torch.Tensor | None:
        """Sample weights as a float64 tensor (None when absent or all ones): finite, >= 0, of length n."""
        if sample_weight is None:
            return None
        if isinstance(sample_weight, torch.Tensor):
            sample_weight = sample_weight.detach().cpu().numpy()
        if isinstance(sample_weight, numbers.Number):
            w = np.full(n, float(sample_weight))
        else:
            w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n},)!")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("sample_weight must be finite and >= 0")
        if (w == 1).all():
            return None
        return torch.from_numpy(w.copy())

    # ----------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Cluster X (n_samples, n_features): the best of `n_init` runs by inertia; returns self.

        `sample_weight` (n_samples,) non-negative weights, as sklearn: they weight the k-means++
        draws, the centre means and the inertia (None: all 1). `y` is ignored.
        """
        n_init = self._check_params()
        Xt = self._validate_X(X, reset=True)
        n, d = Xt.shape
        w = self._check_weight(sample_weight, n)
        comm = Comm(bool(self.distributed), n)
        N, k = comm.n_total, int(self.n_clusters)
        if N < k:
            raise ValueError(f"n_samples={N} should be >= n_clusters={k}.")
        device = get_device(self.device)
        acc = accumulator_device(device)
        rng = check_random_state(self.random_state)
        w_all = (
            None
            if not comm.any(w is not None)
            else comm.gather_vector(torch.ones(n, dtype=torch.float64) if w is None else w)
        )
        if w_all is not None and not float(w_all.sum()) > 0:
            raise ValueError("sample_weight sums to zero: every weight is zero")
        if w is None and w_all is not None:
            w = torch.ones(n, dtype=torch.float64)
        data = prepare(Xt, w, device, self.chunk_bytes, comm)
        m = self._filter_dim(N, d)
        if m is not None:
            data.filter = build_filter(data, m, acc)
        # sklearn's tolerance: tol times the mean of the per-feature variances (unweighted)
        tol = float(self.tol) * data.sq_total / (N * d)
        C = self._initial_centres(Xt, data, rng, n_init, k, w_all, comm)
        if self.verbose and comm.rank == 0:
            print(f"Initialization complete: {C.shape[0]} run(s) of {k} centres.")
        engine = Lloyd(self.chunk_bytes, int(self.max_iter), int(self.verbose))
        best = None
        # Elkan's lower bounds take runs x k x n float32: advance as many runs together as fit BOUNDS_BYTES
        together = max(1, BOUNDS_BYTES // (4 * k * N))
        for start in range(0, C.shape[0], together):
            for run in engine.run(data, C[start : start + together], tol):
                if best is None or (
                    run.inertia < best.inertia and not same_clustering(run.labels, best.labels, k, comm)
                ):
                    best = run
        assert best is not None
        fallback = best.centers * data.scale + data.mean
        centers = _refined_centres(Xt, data, best.prev_labels, best.relocations, fallback)
        self._dtype = np.float32 if Xt.dtype in (torch.float32, torch.float16, torch.bfloat16) else np.float64
        self.cluster_centers_ = centers.cpu().numpy().astype(self._dtype)
        self.labels_ = best.labels.cpu().numpy().astype(np.int64)
        centers_out = torch.as_tensor(self.cluster_centers_, dtype=torch.float64, device=acc)
        self.inertia_ = float(comm.sum(_exact_inertia(Xt, centers_out, best.labels, data.rows, w)))
        self.n_iter_ = int(best.n_iter)
        self._mean, self._scale = data.mean.cpu(), data.scale  # on the CPU: the pickle loads anywhere
        sizes = comm.sum(torch.bincount(best.labels.cpu(), minlength=k).double())
        distinct = int((sizes > 0).sum())
        if distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters ({k}). "
                "Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _filter_dim(self, n: int, d: int) -> int | None:
        """Size of the low-dimensional filter for n samples of d features (None: no filter)."""
        if self.filter_dim == "auto":
            return 64 if d >= 256 and n >= 1024 else None
        if self.filter_dim is None or self.filter_dim * 2 > d:
            return None
        return int(self.filter_dim)

    def _initial_centres(
        self,
        Xt: torch.Tensor,
        data: Data,
        rng: Any,
        n_init: int,
        k: int,
        w_all: torch.Tensor | None,
        comm: Comm,
    ) -> torch.Tensor:
        """(n_init, k, d) float64 starting centres in the engine's (centred, scaled) coordinates."""
        d, acc = Xt.shape[1], data.mean.device
        if callable(self.init) or not isinstance(self.init, str):
            runs = []
            for _ in range(n_init):
                if callable(self.init):
                    c = np.asarray(self.init(Xt.cpu().numpy(), k, random_state=rng), dtype=np.float64)
                else:
                    c = self.init.detach().cpu().numpy() if isinstance(self.init, torch.Tensor) else self.init
                    c = np.asarray(c, dtype=np.float64)
                if c.shape != (k, d):
                    raise ValueError(f"init has shape {c.shape}, expected ({k}, {d})")
                if not np.isfinite(c).all():
                    raise ValueError("init contains NaN or infinity")
                runs.append(comm.broadcast_array(c))
            C = torch.as_tensor(np.stack(runs), device=acc)
            return (C - data.mean) / data.scale
        p = np.full(comm.n_total, 1.0 / comm.n_total) if w_all is None else (w_all / w_all.sum()).numpy()
        draws = draw_seeds(rng, self.init, p, k, n_init)
        if comm.active:  # rank 0's draws everywhere, even if random_state=None differs between processes
            draws = _broadcast_draws(draws, comm)
        if self.init == "k-means++":
            idx = kmeans_plusplus(data.Xc, data.x_sq, draws, data.weight, comm)
        else:
            idx = torch.as_tensor(np.stack([d_[0] for d_ in draws]))
        return comm.rows(data.Xc, idx.flatten(), torch.float64).to(acc).view(n_init, k, d)

    # ----------------------------------------------------------------- using the fit
    def _fitted(self, X: Any) -> torch.Tensor:
        """Input for predict/transform/score: fitted estimator (NotFittedError), same number of features."""
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def _acc_mean(self) -> tuple[torch.device, torch.device, torch.Tensor]:
        """The work device, its float64 device and the fitted mean there."""
        device = get_device(self.device)
        acc = accumulator_device(device)
        return device, acc, self._mean.to(acc)

    def _labels_of(self, Xt: torch.Tensor) -> tuple[torch.Tensor, Data]:
        """Nearest fitted centre of each row, computed as during fit (float32, centred, exact distances).

        Rows far outside the fitted data's magnitude (squares beyond float32's range after the fit's
        scaling) are labelled from float64 distances instead, never from overflowed ones.
        """
        device, acc, mean = self._acc_mean()
        data = prepare(Xt, None, device, self.chunk_bytes, Comm(False, Xt.shape[0]), mean, self._scale)
        C64 = torch.as_tensor(self.cluster_centers_, dtype=torch.float64, device=acc) - mean
        if float(data.x_sq64.max()) > 2.0**100:
            labels = torch.empty(Xt.shape[0], dtype=torch.long, device=acc)
            for s in chunks(Xt.shape[0], data.rows):
                labels[s] = torch.cdist(Xt[s].to(acc, torch.float64) - mean, C64).argmin(1)
            return labels, data
        engine = Lloyd(self.chunk_bytes, int(self.max_iter))
        return engine._first_estep(data, (C64 / self._scale).unsqueeze(0))[0][0], data

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest cluster centre for each row of X (NumPy int64)."""
        labels, _ = self._labels_of(self._fitted(X))
        return labels.cpu().numpy().astype(np.int64)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return `labels_`."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def _distances(self, Xt: torch.Tensor) -> np.ndarray:
        _, acc, mean = self._acc_mean()
        C = torch.as_tensor(self.cluster_centers_, dtype=torch.float64, device=acc) - mean
        out = torch.empty((Xt.shape[0], C.shape[0]), dtype=torch.float64)
        rows = max(1, self.chunk_bytes // (8 * (Xt.shape[1] + C.shape[0])))
        for s in chunks(Xt.shape[0], rows):
            xs = Xt[s].to(device=acc, dtype=torch.float64) - mean
            if not torch.isfinite(xs).all():
                raise ValueError("Input X contains NaN or infinity")
            out[s] = torch.cdist(xs, C).cpu()
        return out.numpy().astype(self._dtype, copy=False)

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of every row to every centre, (n, k) NumPy in the centres' dtype."""
        return self._distances(self._fitted(X))

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return distances to the centres."""
        return self.fit(X, sample_weight=sample_weight)._distances(self._validate_X(X, reset=False))

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of X's (weighted) inertia under the fitted centres (higher is better, as sklearn).

        With ``distributed=True`` it is a collective: the sum over every process's X.
        """
        Xt = self._fitted(X)
        w = self._check_weight(sample_weight, Xt.shape[0])
        labels, data = self._labels_of(Xt)
        centers = torch.as_tensor(self.cluster_centers_, dtype=torch.float64, device=data.mean.device)
        total = _exact_inertia(Xt, centers, labels, data.rows, w)
        if self.distributed:
            total = Comm(True, Xt.shape[0]).sum(total)
        return -float(total)


def _exact_inertia(
    Xt: torch.Tensor, centers: torch.Tensor, labels: torch.Tensor, rows: int, weight: torch.Tensor | None
) -> torch.Tensor:
    """sum_i w_i ||x_i - c_{label_i}||^2 of the local rows, from the input itself, in float64 (chunked)."""
    total = torch.zeros((), dtype=torch.float64, device=centers.device)
    for s in chunks(Xt.shape[0], rows):
        xs = Xt[s].to(device=centers.device, dtype=torch.float64)
        sq = (xs - centers[labels[s].to(centers.device)]).square()
        total += sq.sum() if weight is None else (sq.sum(1) * weight[s].to(centers.device)).sum()
    return total


def _refined_centres(
    Xt: torch.Tensor, data: Data, labels: torch.Tensor, relocations: list, fallback: torch.Tensor
) -> torch.Tensor:
    """The final centres recomputed in float64 from the input: weighted means of `labels` (the labels
    whose means the engine's centres are), with the same empty-cluster relocations; clusters still
    empty keep `fallback`. One pass over X; float64 one-hot matmuls keep it deterministic."""
    comm, acc = data.comm, data.mean.device
    k, d = fallback.shape
    sums = torch.zeros((k, d), dtype=torch.float64, device=acc)
    counts = torch.zeros(k, dtype=torch.float64, device=acc)
    for s in chunks(Xt.shape[0], max(1, min(data.rows, 4096))):
        xs = Xt[s].to(acc, torch.float64) - data.mean  # centred: the sums stay small and accurate
        onehot = torch.zeros((k, xs.shape[0]), dtype=torch.float64, device=acc)
        onehot.scatter_(0, labels[s].to(acc).unsqueeze(0), 1.0 if data.weight is None else data.weight[s].unsqueeze(0))
        sums += onehot @ xs
        counts += onehot.sum(1)
    sums, counts = comm.sum(sums), comm.sum(counts)
    for e, f, donor in relocations:
        x = comm.rows(Xt, [f], torch.float64)[0].to(acc) - data.mean
        wf = 1.0 if data.weight is None else float(comm.values(data.weight, [f])[0])
        sums[donor] -= x * wf
        counts[donor] -= wf
        sums[e] = x * wf
        counts[e] = wf
    out = sums / torch.where(counts > 0, counts, 1.0).unsqueeze(1) + data.mean
    keep = counts == 0
    out[keep] = fallback[keep]
    return out


def _broadcast_draws(draws: list[tuple[Any, ...]], comm: Comm) -> list[tuple[Any, ...]]:
    """Rank 0's seeding draws on every process (indices travel exactly as float64, < 2**53)."""
    if len(draws[0]) == 1:  # random init: (k,) indices per run
        idx = comm.broadcast_array(np.stack([d_[0] for d_ in draws])).astype(np.int64)
        return [(row,) for row in idx]
    first = comm.broadcast_array(np.array([d_[0] for d_ in draws], dtype=np.float64)).astype(np.int64)
    uniforms = comm.broadcast_array(np.stack([d_[1] for d_ in draws]))
    return [(int(f), u) for f, u in zip(first, uniforms, strict=True)]
