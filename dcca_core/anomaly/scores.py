"""Anomaly scores from an autoencoder: the cluster score of Aytekin et al. (2018) and its baselines.

Aytekin et al., eq. 3: after k-means on the codes, the normality of image I_i is

    v_i = max_j E_c(I_i) · C_j / ‖C_j‖₂,

the cosine between its l2-normalised code and the nearest cluster centre direction; a LOW v_i means
an anomaly. For ROC curves we use anomaly scores where HIGH means anomalous, so `-v_i`.
Baselines: the same score on the codes of a plain (not l2-normalised) autoencoder, and the
per-image reconstruction error ‖I_i − D(E(I_i))‖² / d (`reconstruction_errors`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..training.loop import check_training_data
from ..utils import batched, check_2d, get_device

__all__ = ["cluster_score", "cluster_anomaly_score", "reconstruction_errors"]


def _as_2d(name: str, a: Any) -> np.ndarray:
    """`utils.check_2d`, as a float64 NumPy array."""
    return check_2d(a, name, layout="(n, dim)").cpu().double().numpy()


def cluster_score(codes: Any, centers: Any, *, normalize_codes: bool = True) -> np.ndarray:
    """Normality v_i = max_j code_i · C_j/‖C_j‖₂ (Aytekin et al. eq. 3); lower = more anomalous.

    With `normalize_codes` (the paper's E_c), codes are put on the unit sphere first, so v_i is the
    cosine to the nearest centre direction, in [-1, 1]. `normalize_codes=False` scores raw codes
    (the "CAE + k-means" baseline of the paper, whose codes were never normalised).
    """
    z = _as_2d("codes", codes)
    c = _as_2d("centers", centers)
    if z.shape[1] != c.shape[1]:
        raise ValueError(f"codes have dimension {z.shape[1]} but centers have {c.shape[1]}")
    c_norm = np.linalg.norm(c, axis=1, keepdims=True)
    if (c_norm == 0).any():
        raise ValueError("a cluster centre is the zero vector, so its direction C_j/‖C_j‖ is undefined")
    if normalize_codes:
        z_norm = np.linalg.norm(z, axis=1, keepdims=True)
        z = z / np.maximum(z_norm, 1e-12)
    return (z @ (c / c_norm).T).max(axis=1)


def cluster_anomaly_score(codes: Any, centers: Any, *, normalize_codes: bool = True) -> np.ndarray:
    """`-cluster_score`: higher = more anomalous, the orientation ROC/AUC functions expect."""
    return -cluster_score(codes, centers, normalize_codes=normalize_codes)


def reconstruction_errors(
    model: nn.Module, X: Any, batch_size: int = 1024, device: str = "auto", return_codes: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Per-sample MSE between X and `model(X)[0]`, in eval mode and without gradients; higher = more
    anomalous.

    With `return_codes`, also the codes `model(X)[1]` (flattened, float32) from the same forward pass,
    so scoring a test set by both reconstruction and cluster score costs one pass, not two.
    """
    data = check_training_data(X)
    dev = get_device(device)
    model.to(dev).eval()

    def errors_and_codes(xb: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x_hat, z = model(xb)
        err = ((x_hat.reshape(xb.shape) - xb) ** 2).reshape(xb.shape[0], -1).mean(dim=1)
        return (err, z.reshape(xb.shape[0], -1).float()) if return_codes else (err,)

    out = batched(errors_and_codes, data, batch_size, dev)
    err = out[0].double().numpy()
    return (err, out[1].numpy()) if return_codes else err
