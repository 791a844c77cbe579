"""Deep Embedded Clustering (Xie, Girshick & Farhadi 2016) and its pieces, one idea per object.

- `soft_assignment`: Student-t similarity of embedded points to cluster centres (eq. 1).
- `target_distribution`: the sharpened auxiliary target P (eq. 3).
- `kl_divergence`: the clustering objective KL(P‖Q) (eq. 2).
- `ClusterAssignment`: eq. 1 as an `nn.Module` whose centres μ_j are trainable.
- `DEC`: an autoencoder's encoder followed by `ClusterAssignment`. The decoder is kept, so the same
  module serves IDEC (Guo et al. 2017), which adds the reconstruction loss.

The training loop (full-data target every T iterations, the 0.1% stopping rule) is in
`dcca_core.training.dec` (and its pretraining in `dcca_core.training.sdae`).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["soft_assignment", "target_distribution", "kl_divergence", "ClusterAssignment", "DEC"]


def _check_alpha(alpha: float) -> float:
    if not float(alpha) > 0:
        raise ValueError(f"alpha (Student-t degrees of freedom) must be > 0, got {alpha!r}")
    return float(alpha)


def soft_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """q_ij ∝ (1 + ‖z_i − μ_j‖²/α)^(−(α+1)/2), rows normalised to 1 (DEC eq. 1)."""
    alpha = _check_alpha(alpha)
    if z.ndim != 2 or centers.ndim != 2 or z.shape[1] != centers.shape[1]:
        raise ValueError(
            f"z must be (n, d) and centers (k, d) with the same d, got {tuple(z.shape)} and {tuple(centers.shape)}"
        )
    sq_dist = ((z.unsqueeze(1) - centers.unsqueeze(0)) ** 2).sum(dim=2)
    # log-space normalisation: stable for far-away points whose kernel underflows
    logits = -(alpha + 1.0) / 2.0 * torch.log1p(sq_dist / alpha)
    return torch.softmax(logits, dim=1)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), f_j = Σ_i q_ij (DEC eq. 3).

    Squaring sharpens confident assignments; dividing by the soft cluster frequency f_j keeps large
    clusters from swallowing the rest. Compute it on the whole data set (the paper), not per batch.
    """
    if q.ndim != 2 or q.shape[0] == 0:
        raise ValueError(f"q must be a non-empty (n_samples, n_clusters) matrix, got {tuple(q.shape)}")
    if (q < 0).any():
        raise ValueError("q must be non-negative (soft assignments)")
    weight = q**2 / q.sum(dim=0).clamp_min(torch.finfo(q.dtype).tiny)
    return weight / weight.sum(dim=1, keepdim=True).clamp_min(torch.finfo(q.dtype).tiny)


def kl_divergence(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """KL(P‖Q) = Σ_i Σ_j p_ij log(p_ij / q_ij), averaged over the rows i (DEC eq. 2, batch mean)."""
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {tuple(p.shape)} and {tuple(q.shape)}")
    terms = torch.where(p > 0, p * (torch.log(p.clamp_min(eps)) - torch.log(q.clamp_min(eps))), torch.zeros_like(p))
    return terms.sum() / p.shape[0]


class ClusterAssignment(nn.Module):
    """Student-t soft assignment to k trainable centres μ_j in the embedding space (DEC §3.1.1)."""

    def __init__(
        self, n_clusters: int, embedding_dim: int, alpha: float = 1.0, centers: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        if n_clusters < 1 or embedding_dim < 1:
            raise ValueError(f"need n_clusters ≥ 1 and embedding_dim ≥ 1, got {n_clusters}, {embedding_dim}")
        self.n_clusters = int(n_clusters)
        self.alpha = _check_alpha(alpha)
        self.centers = nn.Parameter(torch.zeros(n_clusters, embedding_dim))
        if centers is not None:
            self.set_centers(centers)

    def set_centers(self, centers: torch.Tensor) -> None:
        """Overwrite μ (e.g. with KMeans centres of the embedding, DEC §3.2)."""
        centers = torch.as_tensor(centers, dtype=self.centers.dtype)
        if centers.shape != self.centers.shape:
            raise ValueError(f"centers must have shape {tuple(self.centers.shape)}, got {tuple(centers.shape)}")
        if not torch.isfinite(centers).all():
            raise ValueError("centers contain NaN or infinite values")
        with torch.no_grad():
            self.centers.copy_(centers.to(self.centers.device))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return soft_assignment(z, self.centers, self.alpha)

    def extra_repr(self) -> str:
        return f"n_clusters={self.n_clusters}, embedding_dim={self.centers.shape[1]}, alpha={self.alpha}"


class DEC(nn.Module):
    """Encoder f_θ of a (pretrained) autoencoder + Student-t assignment: x ↦ (q, z).

    The autoencoder must follow the book's convention (`encode`, `decode`); its decoder is unused
    by DEC and trained jointly by IDEC (`reconstruct`).
    """

    def __init__(self, autoencoder: nn.Module, n_clusters: int, alpha: float = 1.0) -> None:
        super().__init__()
        if not (hasattr(autoencoder, "encode") and hasattr(autoencoder, "decode")):
            raise ValueError("autoencoder must have encode(x) and decode(z) methods")
        self.autoencoder = autoencoder
        dim = getattr(autoencoder, "embedding_dim", None)
        if dim is None:
            raise ValueError("autoencoder must expose `embedding_dim`")
        self.assignment = ClusterAssignment(n_clusters, int(dim), alpha)

    @property
    def n_clusters(self) -> int:
        return self.assignment.n_clusters

    @property
    def alpha(self) -> float:
        return self.assignment.alpha

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.encode(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.decode(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(q, z): soft assignments (n, k) and embeddings (n, d)."""
        z = self.encode(x)
        return self.assignment(z), z
