"""Command line for the book: execute the chapters, build the HTML book, print it to PDF.

    dcca-book execute --profile smoke [--chapter 02_dec_mnist] [--force] [-p epochs 5]
    dcca-book execute --profile full --keep-full-results
    dcca-book build --profile smoke [--run smoke-custom-1a2b3c4d]
    dcca-book pdf [--profile smoke]
    dcca-book status [--profile smoke]    # which chapters would run, last run times

`make smoke|book|full|pdf` call these (as `python -m bookkit ...`, the same CLI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import BookBuildError, build_book, build_pdf
from .execute import ChapterExecutionError, chapter_status, execute_book
from .layout import PROFILES, BookLayout
from .notebooks import parse_override

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dcca-book", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="the checkout (default: the one bookkit is in)")
    sub = parser.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("execute", help="run chapters with papermill into _build/executed/<profile>/")
    ex.add_argument("--profile", choices=PROFILES, default="smoke")
    ex.add_argument(
        "--chapter",
        action="append",
        default=None,
        metavar="NAME",
        help="run only this chapter (repeatable; default: every chapter in _toc.yml)",
    )
    ex.add_argument("--force", action="store_true", help="run even when nothing changed since the last run")
    ex.add_argument(
        "--keep-full-results",
        action="store_true",
        help="also keep results/<chapter>.json and the stripped execution in results/full/ (full profile only)",
    )
    ex.add_argument(
        "--missing-full",
        action="store_true",
        help="only the chapters with no committed full execution (results/full/<chapter>.ipynb): the ones "
        "whose smoke run the published book shows",
    )
    ex.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override a notebook parameter, parsed by the type of the notebook's default "
        "(e.g. -p epochs 5); such a run goes to its own folder, _build/executed/<profile>-custom-<hash>",
    )
    ex.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")

    bd = sub.add_parser("build", help="build the HTML book from the executed notebooks into _build/html/")
    bd.add_argument("--profile", choices=PROFILES, default="smoke")
    bd.add_argument(
        "--run",
        default=None,
        metavar="NAME",
        help="build a custom run (a folder name execute -p printed) into _build/html-NAME",
    )

    st = sub.add_parser("status", help="per chapter: up to date or not, duration of its last run")
    st.add_argument("--profile", choices=PROFILES, default="smoke")

    pdf = sub.add_parser("pdf", help="single-page HTML build printed by headless Chromium → _build/pdf/book.pdf")
    pdf.add_argument("--profile", choices=PROFILES, default="smoke")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are printed as one clear message and give exit status 1."""
    args = _parser().parse_args(argv)
    layout = BookLayout.for_repo(args.root)
    try:
        if args.command == "execute":
            overrides = dict(parse_override(name, value) for name, value in args.parameter)
            chapters = args.chapter
            if args.missing_full:
                from .layout import chapters_in_toc
                from .published import full_execution

                chapters = [c for c in (chapters or chapters_in_toc(layout)) if full_execution(layout, c) is None]
                if not chapters:
                    print("every chapter has a committed full execution; nothing to run")
                    return 0
            execute_book(
                layout,
                args.profile,
                chapters,
                overrides=overrides,
                force=args.force,
                keep_full_results=args.keep_full_results,
                progress_bar=not args.no_progress and sys.stderr.isatty(),
            )
        elif args.command == "build":
            build_book(layout, args.profile, run=args.run)
        elif args.command == "status":
            for row in chapter_status(layout, args.profile):
                took = f"{row['seconds']:.0f} s" if row["seconds"] is not None else "-"
                print(f"{row['chapter']:<22} {row['state']:<24} last run {took:>7}  {row['finished'] or ''}")
        elif args.command == "pdf":
            build_pdf(layout, args.profile)
    except (ChapterExecutionError, BookBuildError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
