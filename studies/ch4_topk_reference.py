"""Chapter 4 study: Top-K DCCA on the reference's TEP protocol (set-up A), one configuration and seed.

Fits `dcca_core.training.topk_dcca.TopKDCCA` on the unlabelled 22-run training mix (windows of 30,
stride 1, min–max by the training split) through `experiments.dcca_reference.run_tep_reference`,
the chapter's own call and checkpoint keys, then prints the reference's evaluation beside the
majority class and k = 2 on the raw windows. Each run replaces its earlier entry (same settings and
seed) in `studies/results/ch4_topk_reference.json`.

    OMP_NUM_THREADS=1 python studies/ch4_topk_reference.py --seed 0 --n-filters 32 --pretrain 20 --joint 30
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from study_record import RESULTS, record_run

OUT = RESULTS / "ch4_topk_reference.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-filters", type=int, default=32)
    parser.add_argument("--pretrain", type=int, default=20, help="P + 1 reconstruction-only epochs")
    parser.add_argument("--joint", type=int, default=30)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--masking", choices=["paper", "reference", "none"], default="paper")
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if min(args.n_filters, args.pretrain, args.interval) < 1 or args.joint < 0:
        parser.error("--n-filters, --pretrain and --interval must be ≥ 1 and --joint ≥ 0")

    from dcca_core.data import load_tep
    from dcca_core.experiments.dcca_reference import ReferenceSetup, reference_table, run_tep_reference
    from dcca_core.training.topk_dcca import TopKDCCAConfig

    cfg = TopKDCCAConfig(
        n_filters=args.n_filters,
        pretrain_epochs=args.pretrain,
        joint_epochs=args.joint,
        update_interval=args.interval,
        lr=args.lr,
        masking=args.masking,
        alpha=args.alpha,
    )
    print(f"Top-K DCCA {cfg}, seed {args.seed}; torch threads {torch.get_num_threads()}", flush=True)
    started = time.perf_counter()
    result = run_tep_reference(load_tep(), ReferenceSetup(model=cfg), seed=args.seed, device=args.device)
    print(reference_table(result).round(3).to_string())
    entry = record_run(
        args.out,
        vars(args) | {"out": None},
        metrics=result.metrics(),
        wall_seconds=round(time.perf_counter() - started, 1),
    )
    print(
        f"fit {result.model.fit_seconds_ / 60:.1f} min; wall {entry['wall_seconds'] / 60:.1f} min; entry in {args.out}"
    )


if __name__ == "__main__":
    main()
