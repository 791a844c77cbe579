"""Chapter 2 study: how the autoencoder's recipe and training length move AE+KMeans, AE+UMAP, DEC and IDEC.

Trains the chapter's autoencoder on all 70,000 images (seed 0 by default) and, after each listed
number of fine-tuning epochs, clusters its code with KMeans (and, where asked, UMAP+GMM). Each stop
continues the previous one (`extend_finetuning`), which gives exactly the model trained for that many
epochs from scratch. DEC and IDEC then run on the last autoencoder, with the full profile's settings.
Checkpoints are shared with the chapter (`checkpoints/`, keyed by config), so nothing is trained twice.
Each run replaces its earlier entry (same settings) in `studies/results/ch2_autoencoder_length.json`,
the file behind the table in chapter 2's method section.

    python studies/ch2_autoencoder_length.py --recipe sdae --stops 20,30,40,50
    python studies/ch2_autoencoder_length.py --recipe plain --stops 25,50,100 --umap-at 50,100

`sdae` is the chapter's recipe (5 layer-wise epochs per pair, 0.2 input dropout while fine-tuning);
`plain` trains the whole autoencoder end to end without corruption, as DEC-keras and N2D do.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from study_record import RESULTS, record_run

from dcca_core.cluster import KMeans
from dcca_core.experiments import dec_mnist as ch2
from dcca_core.training import encode
from dcca_core.training.dec import DECClusterer, DECConfig
from dcca_core.training.sdae import SDAEConfig, extend_finetuning, pretrain_sdae

RECIPES = {
    "sdae": dict(layerwise_epochs=5, finetune_corruption=0.2),
    "plain": dict(layerwise_epochs=0, finetune_corruption=0.0),
}
FULL_DEC = DECConfig(
    update_interval=140, tol=0.001, max_iter=4200, batch_size=256, lr=0.01, optimizer="sgd", kmeans_n_init=20
)
FULL_IDEC = DECConfig(
    gamma=0.1,
    update_interval=140,
    tol=0.001,
    max_iter=4200,
    batch_size=256,
    lr=0.001,
    optimizer="adam",
    kmeans_n_init=20,
)


def _epochs(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion_mnist"])
    parser.add_argument("--recipe", default="sdae", choices=sorted(RECIPES))
    parser.add_argument("--stops", type=_epochs, default=[20, 30, 40, 50], help="fine-tuning epochs, ascending")
    parser.add_argument("--umap-at", type=_epochs, default=[], help="stops at which to run UMAP+GMM too")
    parser.add_argument("--no-dec", action="store_true", help="skip DEC and IDEC on the last autoencoder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "ch2_autoencoder_length.json")
    args = parser.parse_args()
    if args.stops != sorted(set(args.stops)) or args.stops[0] < 1:
        parser.error(f"--stops must be positive and ascending, got {args.stops}")

    images, y, _ = ch2.load_images(args.dataset, None)
    X = ch2.dec_scale(images)
    name = f"sdae-{args.dataset.replace('_', '')}"
    started = time.perf_counter()
    stops: list[dict] = []
    previous = None
    for stop in args.stops:
        config = SDAEConfig(finetune_epochs=stop, batch_size=256, lr=1e-3, **RECIPES[args.recipe])
        if previous is not None:
            extend_finetuning(X, config, previous, seed=args.seed, checkpoint_name=name)
        t = time.perf_counter()
        pretrain = pretrain_sdae(X, config, seed=args.seed, checkpoint_name=name, progress=False)
        Z = encode(pretrain.model, X)
        labels = KMeans(10, n_init=20, random_state=args.seed).fit(Z).labels_
        print(
            f"{args.recipe} autoencoder, {stop} fine-tuning epochs (+{time.perf_counter() - t:.0f} s, "
            f"loss {pretrain.finetune_history.epoch_loss[-1]:.4f}): AE+KMeans {ch2.evaluate(y, labels)}",
            flush=True,
        )
        row = {
            "finetune_epochs": stop,
            "loss": pretrain.finetune_history.epoch_loss[-1],
            "ae_kmeans": ch2.evaluate(y, labels),
            "autoencoder_seconds": pretrain.seconds,  # its training, as it (or its checkpoint) recorded it
            "autoencoder_reused": pretrain.reused,
        }
        if stop in args.umap_at:
            labels, _ = ch2.umap_gmm(Z, 10, seed=args.seed)
            row["ae_umap_gmm"] = ch2.evaluate(y, labels)
            print(f"  AE+UMAP+GMM: {row['ae_umap_gmm']}", flush=True)
        stops.append(row)
        previous = stop
    clustering = {}  # DEC and IDEC on the last autoencoder
    runs = () if args.no_dec else (("dec", FULL_DEC), ("idec", FULL_IDEC))
    for kind, dec_config in runs:
        t = time.perf_counter()
        model = DECClusterer(
            pretrain.model,
            dec_config,
            random_state=args.seed,
            progress=False,
            checkpoint=ch2.clusterer_checkpoint(kind, args.dataset, pretrain, dec_config, args.seed),
        )
        model.fit(X, y)
        clustering[kind] = {
            "metrics": ch2.evaluate(y, model.labels_),
            "iterations": model.history_.n_iter,
            "converged": model.history_.converged,
            "seconds": round(time.perf_counter() - t, 1),
        }
        print(
            f"{kind.upper()} ({time.perf_counter() - t:.0f} s, {model.history_.n_iter} iterations, "
            f"converged: {model.history_.converged}): {clustering[kind]['metrics']}",
            flush=True,
        )
    settings = vars(args) | {"out": None}
    wall = round(time.perf_counter() - started, 1)
    record_run(args.out, settings, stops=stops, clustering_on_last=clustering, wall_seconds=wall)
    print(f"entry in {args.out} ({wall / 60:.1f} min wall)")


if __name__ == "__main__":
    main()
