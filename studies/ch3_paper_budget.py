"""Chapter 3 study: the paper's training budget (Aytekin et al. 2018), one model and seed at a time.

Trains a CAE / CAE-l2 (DCEC's recipe: Adam lr 1e-3, batch 256, Glorot init, all 70,000 MNIST images
/255) or the dense AE / AE-l2 (784-500-500-2000-10) for `--epochs`, keeping a snapshot after each
listed epoch, then runs k-means (k=10, `--n-init` restarts) on the codes of every snapshot. The
checkpoints are the chapter's own (`ch3.train_autoencoder` with the same config and images), so the
chapter's full profile reuses what this trains, and an interrupted run resumes. `--precision bf16`
trains under bfloat16 autocast (l2 and the loss stay float32); compare it with fp32 on a paired run
before relying on it.

    OMP_NUM_THREADS=1 python studies/ch3_paper_budget.py --arch conv --norm l2 --seed 0 --epochs 200 --precision bf16
    OMP_NUM_THREADS=1 python studies/ch3_paper_budget.py --arch conv --norm l2 --seed 0 --epochs 20 --precision fp32

`--data fashion` trains on all 70,000 Fashion-MNIST images instead (the chapter's Fashion-MNIST
section, same keys). Each run adds its rows (data, model, seed, precision, epoch, loss, acc, nmi,
training seconds so far) to `studies/results/ch3_paper_budget.json`, replacing earlier rows of the same
data, model, seed and precision. A plain or l2 CAE on MNIST also gets Table IV's paper reading in its
run entry (`paper_reading`: eq. 3 after k-means with k = 9 on its codes, and its reconstruction error,
AUC with each digit as the anomaly class once), so the anomaly claims survive without the checkpoints.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from dcca_core.data import load_fashion_mnist, load_mnist
from dcca_core.experiments import l2_autoencoder as ch3
from dcca_core.results import atomic_write_text
from dcca_core.utils import library_versions, machine_info

OUT = Path(__file__).resolve().parent / "results" / "ch3_paper_budget.json"
PAPER_EPOCHS = {arch: epochs for arch, (epochs, _) in ch3.PAPER_BUDGET.items()}  # conv 200, dense 100
READING_K = 9  # Table IV: k-means with nine clusters, one per normal digit
LOADERS = {"mnist": load_mnist, "fashion": load_fashion_mnist}


def _key(row: dict) -> tuple[str, str, int, str]:
    """What one run's rows share; rows written before `--data` existed are MNIST's."""
    return row.get("data", "mnist"), row["model"], row["seed"], row["precision"]


def _epochs(text: str) -> list[int]:
    return sorted({int(s) for s in text.split(",") if s.strip()})


def _load(out: Path) -> dict:
    return json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"rows": [], "runs": []}


def _merge(data: dict, rows: list[dict], meta: dict) -> dict:
    """`data` (a results file's content) with this run's rows and `meta` in place of any earlier ones of the same key."""
    key = _key(meta)
    data["rows"] = [r for r in data["rows"] if _key(r) != key] + rows
    data["runs"] = [r for r in data["runs"] if _key(r) != key] + [meta]
    data["rows"].sort(key=lambda r: (r.get("data", "mnist"), r["model"], r["precision"], r["seed"], r["epoch"]))
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=ch3.ARCHS, default="conv")
    parser.add_argument("--norm", choices=["none", "l2", "batch", "layer"], default="l2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", choices=sorted(LOADERS), default="mnist", help="all 70,000 images of this set")
    parser.add_argument("--epochs", type=int, default=None, help="default: the paper's (conv 200, dense 100)")
    parser.add_argument(
        "--eval-epochs",
        type=_epochs,
        default=None,
        help="comma-separated epochs to cluster after (default: the snapshot epochs up to --epochs)",
    )
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--n-init", type=int, default=20)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=OUT, help=f"results file (default: {OUT})")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="only merge these runs' results files into --out, then stop",
    )
    args = parser.parse_args()
    if args.merge:
        missing = [str(f) for f in args.merge if not f.is_file()]
        if missing:
            parser.error(f"no such results file: {', '.join(missing)}")
        data = _load(args.out)
        for path in args.merge:
            run = json.loads(path.read_text(encoding="utf-8"))
            for meta in run["runs"]:
                data = _merge(data, [r for r in run["rows"] if _key(r) == _key(meta)], meta)
        atomic_write_text(args.out, json.dumps(data, indent=1) + "\n")
        print(f"merged {len(args.merge)} file(s) into {args.out}")
        return
    epochs = args.epochs or PAPER_EPOCHS[args.arch]
    if epochs < 1:
        parser.error(f"--epochs must be ≥ 1, got {epochs}")
    evals = args.eval_epochs or [e for e in ch3.SNAPSHOT_EPOCHS if e <= epochs] + [epochs]
    evals = sorted({e for e in evals if 1 <= e <= epochs})

    x, y = LOADERS[args.data]("all")
    X = ch3.scale_images(x)
    cfg = ch3.AEConfig(
        arch=args.arch,
        bottleneck_norm=None if args.norm == "none" else args.norm,
        epochs=epochs,
        batch_size=args.batch_size,
        lr=1e-3,
        seed=args.seed,
        precision=args.precision,
    )
    print(
        f"{cfg.label}, seed {cfg.seed}, {cfg.precision}: {epochs} epochs on {len(X):,} {args.data} images, "
        f"k-means after epochs {evals}; torch threads {torch.get_num_threads()}",
        flush=True,
    )
    started = time.perf_counter()
    curve = ch3.training_length_curve(X, y, cfg, evals, n_init=args.n_init, device=args.device)
    wall = time.perf_counter() - started
    reading = None
    if args.data == "mnist" and args.arch == "conv" and args.norm in ("none", "l2"):
        # Table IV, the paper's reading, for this model: its scores of all 70,000 images, each digit the
        # anomaly class once (the trained model is loaded from its checkpoint, nothing is retrained)
        final = ch3.clustering_experiment(X, y, cfg, n_init=args.n_init, device=args.device, progress=False)
        scores = ch3.reading_scores(final, X, k=READING_K, n_init=args.n_init, device=args.device)
        reading = {"k": READING_K, "digits": list(range(10)), "auc": ch3.reading_aucs(scores, y, range(10))}
    rows = [
        {
            "data": args.data,
            "model": cfg.label,
            "seed": cfg.seed,
            "precision": cfg.precision,
            "epoch": int(r.epoch),
            "loss": float(r.loss),
            "acc": float(r.acc),
            "nmi": float(r.nmi),
            "train_seconds": float(r.seconds),
        }
        for r in curve.itertuples()
    ]
    meta = {
        "data": args.data,
        "model": cfg.label,
        "seed": cfg.seed,
        "precision": cfg.precision,
        "epochs": epochs,
        "batch_size": cfg.batch_size,
        "n_init": args.n_init,
        "wall_seconds": round(wall, 1),
        "reused": bool(curve["reused"].all()),
        "python": platform.python_version(),
        "versions": library_versions(),
        "paper_reading": reading,
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    atomic_write_text(args.out, json.dumps(_merge(_load(args.out), rows, meta), indent=1) + "\n")
    print(curve.to_string(index=False))
    per_epoch = rows[-1]["train_seconds"] / epochs
    print(
        f"training {rows[-1]['train_seconds'] / 60:.1f} min ({per_epoch:.1f} s per epoch); wall {wall / 60:.1f} min; "
        f"rows in {args.out}"
    )


if __name__ == "__main__":
    main()
