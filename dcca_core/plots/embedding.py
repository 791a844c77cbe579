"""2-D embeddings for looking at codes: t-SNE (van der Maaten & Hinton 2008) or UMAP (McInnes et al. 2018)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..utils import check_2d

__all__ = ["embed_2d"]


def embed_2d(
    X: Any,
    method: str = "tsne",
    random_state: int = 0,
    *,
    perplexity: float = 30.0,
    n_neighbors: int = 15,
    pca_dims: int = 50,
) -> np.ndarray:
    """(n, 2) coordinates of X: t-SNE (sklearn) or UMAP (umap-learn, imported only when asked).

    Inputs with more than `pca_dims` features are first reduced with PCA (the usual t-SNE practice,
    fast and deterministic); perplexity / neighbours are capped for small inputs.
    """
    if method not in ("tsne", "umap"):
        raise ValueError(f"method must be 'tsne' or 'umap', got {method!r}")
    Xn = check_2d(X).cpu().numpy().astype(np.float32, copy=False)
    n = Xn.shape[0]
    if n < 4:
        raise ValueError(f"embed_2d needs at least 4 points, got {n}")
    if Xn.shape[1] > pca_dims and n > pca_dims:
        from sklearn.decomposition import PCA

        Xn = PCA(pca_dims, random_state=random_state).fit_transform(Xn).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        tsne = TSNE(2, perplexity=min(perplexity, (n - 1) / 3.0), init="pca", random_state=random_state)
        return tsne.fit_transform(Xn)
    import umap  # slow to import: only when UMAP is asked for

    from ..utils import keep_torch_threads

    reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), random_state=random_state)
    with keep_torch_threads():
        return np.asarray(reducer.fit_transform(Xn))
