"""Chapter 3 study: the anomaly protocols' own models, trained ahead of the chapter's full profile.

The clean reading (the anomaly digit kept out of training) and Deep SVDD's one-class protocol train a
plain and an l2 CAE per digit. This script runs the chapter's own `ch3.anomaly_protocol` for some of
those digits with the settings of `book/params/full/03_l2_autoencoder.yaml`, so the checkpoints it
leaves are the ones `make full CHAPTER=03_l2_autoencoder` loads. Split the digits over two processes
(one torch thread each) to use both cores:

    OMP_NUM_THREADS=1 python studies/ch3_anomaly_models.py --protocol clean --digits 0,1,2,3,4
    OMP_NUM_THREADS=1 python studies/ch3_anomaly_models.py --protocol one_class --seed 1

It prints each digit's AUCs and training time, and with `--out` writes them as JSON. The chapter's
numbers come from the chapter's run, not from here.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from bookkit.notebooks import declared_defaults, declared_parameters, load_params_file
from dcca_core.data import load_mnist
from dcca_core.experiments import l2_autoencoder as ch3
from dcca_core.results import atomic_write_text
from dcca_core.utils import library_versions, machine_info

BOOK = Path(__file__).resolve().parents[1] / "book"
FULL = BOOK / "params" / "full" / "03_l2_autoencoder.yaml"
# the notebook's parameters cell: what the full profile leaves at the smoke default is not used here
SETTINGS = {
    "clean": {"epochs": "clean_epochs", "digits": "clean_digits", "max_train": "clean_max_train", "k": "anomaly_k"},
    "one_class": {
        "epochs": "one_class_epochs",
        "digits": "one_class_digits",
        "max_train": "one_class_max_train",
        "k": "one_class_k",
    },
}


def _digits(text: str) -> list[int]:
    digits = [int(s) for s in text.split(",") if s.strip()]
    if not digits or any(not 0 <= d <= 9 for d in digits):
        raise argparse.ArgumentTypeError(f"digits must be a comma-separated list of 0..9, got {text!r}")
    return digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocol", choices=sorted(SETTINGS), required=True)
    parser.add_argument("--seed", type=int, default=0, help="the chapter's seed (the clean reading runs seed 0 only)")
    parser.add_argument("--digits", type=_digits, default=None, help="default: the full profile's digits")
    parser.add_argument("--params", type=Path, default=FULL, help=f"the chapter's full parameters (default: {FULL})")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=None, help="write the per-digit AUCs and times here (JSON)")
    args = parser.parse_args()
    if not args.params.is_file():
        parser.error(f"no parameters file {args.params}")
    params = load_params_file(args.params)  # read as the chapter's runs read it (YAML 1.2)
    defaults = declared_defaults(declared_parameters(BOOK / "03_l2_autoencoder.ipynb"))
    names = SETTINGS[args.protocol]
    missing = [p for p in ("precision", "batch_size", "kmeans_n_init", *names.values()) if p not in params]
    if missing:
        parser.error(f"{args.params} lacks {', '.join(missing)}")
    digits = args.digits or list(params[names["digits"]])

    # as the chapter builds them: its base config, the protocol's epochs, the first seed's test subset
    base = ch3.AEConfig(
        arch="conv",
        epochs=int(params[names["epochs"]]),
        batch_size=int(params["batch_size"]),
        lr=float(params.get("lr", defaults["lr"])),
        seed=args.seed,
        precision=params["precision"],
    )
    x_tr, y_tr = load_mnist("train")
    x_te, y_te = load_mnist("test")
    test_idx = ch3.stratified_subset(y_te, params.get("test_n"), seed=0)
    print(
        f"{args.protocol}, seed {args.seed}, digits {digits}: {base.epochs} epochs, {base.precision}, "
        f"batch {base.batch_size}; {len(test_idx):,} test images",
        flush=True,
    )
    started = time.perf_counter()
    runs = ch3.anomaly_protocol(
        ch3.scale_images(x_tr),
        y_tr,
        ch3.scale_images(x_te[test_idx]),
        y_te[test_idx],
        digits,
        base,
        protocol=args.protocol,
        k=int(params[names["k"]]),
        max_train=params[names["max_train"]],
        contamination=float(params.get("contamination", defaults["contamination"]))
        if args.protocol == "clean"
        else 0.0,
        n_init=int(params["kmeans_n_init"]),
        device=args.device,
    )
    wall = time.perf_counter() - started
    print(ch3.auc_table(runs).to_string(float_format=lambda v: f"{v:.3f}"))  # keys: ch3.SCORE_NAMES
    train = sum(r.train_seconds for r in runs)
    print(f"training {train / 60:.1f} min for {2 * len(runs)} models; wall {wall / 60:.1f} min")
    if args.out:
        record = {
            "protocol": args.protocol,
            "seed": args.seed,
            "digits": digits,
            "epochs": base.epochs,
            "precision": base.precision,
            "auc": {str(r.digit): r.auc for r in runs},
            "n_train": {str(r.digit): r.n_train for r in runs},
            "train_seconds": {str(r.digit): r.train_seconds for r in runs},
            "reused": all(r.reused for r in runs),
            "wall_seconds": round(wall, 1),
            "python": platform.python_version(),
            "versions": library_versions(),
            "machine": machine_info(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
