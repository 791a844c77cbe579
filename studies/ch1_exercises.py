"""Chapter 1 study: the numbers behind the solutions of the chapter's three exercises.

With the full profile's data (all 10,000 CIFAR-10 test images, grey, /255; the autoencoder on all
50,000 training images for 5 epochs, batch 32):

1. seeds: our KMeans (k = 10) on the grey pixels for seeds 0, 1, 2 with n_init 1 and 10 — how far
   the silhouette and the classic Dunn index move;
2. the L1 weight: the sparse conv-AE trained with λ = 0, 1e-5, 1e-4 (the chapter's) and 0.01
   (Keras' `l1()` default) — final MSE and penalty, share of zero code values, KMeans on the codes;
3. contrast normalisation: KMeans on per-image standardised pixels — brightness η² and accuracy
   before and after.

Each part replaces its earlier entry in `studies/results/ch1_exercises.json`, which chapter 1's
solutions quote (by glue, so a number there always comes from this file). The autoencoders are
checkpointed like the chapter's (λ = 1e-4 is the chapter's own model), so a re-run trains nothing.

    OMP_NUM_THREADS=1 python studies/ch1_exercises.py            # all three, about 10 min on one core
    OMP_NUM_THREADS=1 python studies/ch1_exercises.py --part seeds
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from study_record import RESULTS, record_run

from dcca_core.cluster import KMeans
from dcca_core.data import load_cifar10
from dcca_core.experiments import cifar_kmeans as ck
from dcca_core.training import encode

OUT = RESULTS / "ch1_exercises.json"
SEEDS = (0, 1, 2)
N_INITS = (1, 10)
L1_WEIGHTS = (0.0, 1e-5, 1e-4, 1e-2)
AE = dict(epochs=5, batch_size=32, lr=1e-3)  # book/params/full/01_kmeans_cifar.yaml


def _kmeans(X: np.ndarray, seed: int, n_init: int = 1) -> KMeans:
    return KMeans(10, n_init=n_init, random_state=seed).fit(X)


def part_seeds(X: np.ndarray, y: np.ndarray) -> None:
    runs = []
    for n_init in N_INITS:
        for seed in SEEDS:
            km = _kmeans(X, seed, n_init)
            q = ck.cluster_quality(X, km.labels_, y)
            runs.append({"seed": seed, "n_init": n_init, "inertia": float(km.inertia_), **q})
            print(f"n_init {n_init:2d} seed {seed}: silhouette {q['silhouette']:.4f}, Dunn {q['dunn_classic']:.4f}")
    record_run(OUT, {"part": "seeds", "seeds": list(SEEDS), "n_inits": list(N_INITS), "n_test": len(X)}, runs=runs)


def part_l1(y: np.ndarray, train_imgs: np.ndarray, test_imgs: np.ndarray) -> None:
    runs = []
    for weight in L1_WEIGHTS:
        started = time.perf_counter()
        ae = ck.train_sparse_ae(train_imgs, l1_weight=weight, seed=0, progress=False, **AE)
        codes = encode(ae.model, test_imgs[:, None])
        row = {
            "l1_weight": weight,
            **ae.final,
            "zero_code_share": float(np.mean(codes == 0)),
            "distinct_codes": int(len(np.unique(codes.round(6), axis=0))),
            "training_seconds": ae.history.seconds,  # kept in the checkpoint: the cost of the run that trained it
            "from_checkpoint": ae.from_checkpoint,
            "seconds": time.perf_counter() - started,
        }
        if row["distinct_codes"] >= 10:  # KMeans needs at least k different points
            km = _kmeans(codes, 0)
            row.update({f"codes_{k}": v for k, v in ck.cluster_quality(codes, km.labels_, y).items()})
        runs.append(row)
        print(
            f"λ {weight:g}: MSE {row['mse']:.4f}, penalty {row['l1_penalty']:.4f}, "
            f"zero codes {row['zero_code_share']:.0%}, distinct codes {row['distinct_codes']}"
        )
    # a decoder that ignores its input does best with the mean training image: its MSE is then the
    # mean per-pixel variance of the training images
    pixel_variance = float(train_imgs.var(axis=0).mean())
    record_run(
        OUT,
        {"part": "l1_weight", "l1_weights": list(L1_WEIGHTS), "n_train": len(train_imgs), **AE},
        runs=runs,
        train_pixel_variance=pixel_variance,
    )


def part_contrast(X: np.ndarray, y: np.ndarray) -> None:
    brightness = X.mean(axis=1)
    standardised = (X - X.mean(1, keepdims=True)) / np.maximum(X.std(1, keepdims=True), 1e-12)
    out = {}
    for name, features in (("pixels", X), ("standardised", standardised)):
        km = _kmeans(features, 0)
        q = ck.cluster_quality(features, km.labels_, y)
        out[name] = {
            "brightness_eta2": ck.between_group_share(brightness, km.labels_),
            "acc": q["acc"],
            "nmi": q["nmi"],
        }
        print(f"{name}: brightness η² {out[name]['brightness_eta2']:.3f}, accuracy {q['acc']:.3f}")
    record_run(OUT, {"part": "contrast", "seed": 0, "n_init": 1, "n_test": len(X)}, **out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["seeds", "l1_weight", "contrast", "all"], default="all")
    args = parser.parse_args()
    test = load_cifar10("test", grayscale=True)
    X, y = ck.grey_features(test.images), test.labels
    if args.part in ("seeds", "all"):
        part_seeds(X, y)
    if args.part in ("contrast", "all"):
        part_contrast(X, y)
    if args.part in ("l1_weight", "all"):
        train_imgs = load_cifar10("train", grayscale=True).images / 255.0
        part_l1(y, train_imgs, test.images / 255.0)


if __name__ == "__main__":
    main()
