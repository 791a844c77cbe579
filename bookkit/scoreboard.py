"""The "Reproduction scoreboard" page: every chapter's numbers next to the published ones.

Reads the results files the chapters write (`results/<chapter>.json`, this build's profile) and the
kept paper-scale runs (`results/full/<chapter>.json`), and renders one MyST markdown page. Each
record's `published` maps a metric name to `{"value": v, "source": "..."}` (same keys as `metrics`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dcca_core.claims import (
    KINDS,
    VERDICT_RULE,
    VERDICTS,
    metric_seeds,
    metric_verdict,
    percent_metric,
    reference_kind,
    seeds_of,
    seeds_text,
)
from dcca_core.results import read_results

__all__ = ["MetricRow", "load_records", "metric_rows", "render_scoreboard", "HEADLINE_METRICS"]

COLUMNS = ("Chapter", "Metric", "Ours", "Reference", "Difference", "Verdict", "Source", "Seeds", "Wall time")
# Shown in the headline tables even without a published figure: the numbers a chapter is about.
HEADLINE_METRICS = ("tep_dcca_fdr_at_far5", "tep_dpca_fdr_at_far5", "tep_dcca_fdr")


@dataclass(frozen=True)
class MetricRow:
    """One metric of one chapter: ours, the published value (if any) and the run's provenance."""

    chapter: str
    metric: str
    ours: Any
    published: Any
    source: str
    profile: str
    seed: Any
    device: str
    wall_time_s: float | None
    ours_std: float | None = None
    kind: str = "published"
    seeds: tuple[int, ...] = (0,)

    @property
    def n_seeds(self) -> int:
        """How many seeds the number is a mean over (0 for a figure no seed changes)."""
        return len(self.seeds)

    @property
    def verdict(self) -> str:
        """The book's verdict (dcca_core.claims) against a citable published figure, else "—"."""
        if self.kind != "published" or not (_is_number(self.ours) and _is_number(self.published)):
            return "—"
        sd = self.ours_std if (self.ours_std is not None and self.n_seeds > 1) else 0.0
        return metric_verdict(self.metric, float(self.ours), float(sd), float(self.published))

    @property
    def difference(self) -> float | None:
        """ours − published, when both are numbers."""
        if _is_number(self.ours) and _is_number(self.published):
            return float(self.ours) - float(self.published)
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_records(folder: str | Path, chapters: list[str]) -> dict[str, dict | None]:
    """`{chapter: record or None}` for the results files in `folder`; a broken file is an error naming it."""
    records: dict[str, dict | None] = {}
    for chapter in chapters:
        path = Path(folder) / f"{chapter}.json"
        if not path.exists():
            records[chapter] = None
            continue
        records[chapter] = read_results(path)
    return records


def _flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metric dicts become dotted names; lists (curves) are left to the chapter's figures."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif not isinstance(value, (list, tuple)):
            flat[name] = value
    return flat


def metric_rows(chapter: str, record: dict[str, Any]) -> list[MetricRow]:
    """The scalar metrics of one results record, each paired with its published value (and a row
    for each published value the record has no metric for)."""
    published = record.get("published") or {}
    metrics = _flatten(record.get("metrics") or {})
    # A published figure the run did not measure still gets a row (ours: n/a), so gaps show.
    metrics.update({name: None for name in published if name not in metrics})
    # `<name>_std` (spread over seeds) is shown beside `<name>`, not as a row of its own.
    stds = {name[:-4]: metrics[name] for name in metrics if name.endswith("_std") and name[:-4] in metrics}
    rows = []
    for metric, ours in metrics.items():
        if metric.endswith("_std") and metric[:-4] in stds:
            continue
        pub = published.get(metric)
        pub_value, source = (pub.get("value"), str(pub.get("source", ""))) if isinstance(pub, dict) else (pub, "")
        kind = reference_kind(pub) if isinstance(pub, dict) else "published"
        std = stds.get(metric)
        rows.append(
            MetricRow(
                chapter,
                metric,
                ours,
                pub_value,
                source,
                str(record.get("profile", "?")),
                record.get("seed", "?"),
                str(record.get("device", "?")),
                record.get("wall_time_s"),
                float(std) if _is_number(std) else None,
                kind,
                tuple(metric_seeds(record, metric)),
            )
        )
    return rows


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4g}"
    return _cell(str(value))


def _cell(text: str) -> str:
    """Text that is safe inside a markdown pipe table."""
    return text.replace("|", "\\|").replace("\n", " ")


def format_seconds(seconds: float | None) -> str:
    """12.3 s, 4 min 05 s, 2 h 03 min."""
    if not _is_number(seconds):
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def reused_checkpoints(record: dict[str, Any]) -> bool:
    """True when the run's `extra` says it reused a trained model (a key containing "reused" set to
    True, at any depth): its wall time then leaves out that training."""

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            return any((value is True and "reused" in str(key)) or walk(value) for key, value in node.items())
        return isinstance(node, list) and any(walk(item) for item in node)

    return walk(record.get("extra") or {})


def _wall_time(record: dict[str, Any]) -> str:
    text = format_seconds(record.get("wall_time_s"))
    return f"{text} (reused checkpoints)" if reused_checkpoints(record) else text


def _chapter_link(chapter: str, titles: dict[str, str], link: bool) -> str:
    title = _cell(titles.get(chapter, chapter)).replace("<", "&lt;").replace("`", "'")
    return f"{{doc}}`{title} <{chapter}>`" if link else title


def _ours(row: MetricRow) -> str:
    """Our value (in % for FAR/MAR), with its spread over seeds only when there were several
    (mean ± sd, ddof as the chapter states)."""
    unit = " %" if percent_metric(row.metric) else ""
    text = _num(row.ours) + (unit if _is_number(row.ours) else "")
    if row.ours_std is not None and row.n_seeds > 1 and _is_number(row.ours):
        text += f" ± {row.ours_std:.2g}{unit}"
    return text


def _reference(row: MetricRow) -> str:
    if row.published is None:
        return "—"
    unit = " %" if percent_metric(row.metric) and _is_number(row.published) else ""
    label = KINDS.get(row.kind, "")
    return _num(row.published) + unit + (f" ({label})" if label else "")


def _table(
    chapters: list[str],
    records: dict[str, dict | None],
    titles: dict[str, str],
    link: bool,
    missing_text: str,
    *,
    published_only: bool = False,
) -> list[str]:
    """One row per chapter and metric (with `published_only`, just the metrics that have a published
    figure); the chapter and its run (profile, seed, device, wall time) are written on the chapter's
    first row only, so the groups read at a glance."""
    lines = ["::::{container} scoreboard", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for chapter in chapters:
        record = records.get(chapter)
        rows = metric_rows(chapter, record) if record else []
        if published_only:
            rows = [r for r in rows if r.published is not None or r.metric in HEADLINE_METRICS]
        name = _chapter_link(chapter, titles, link)
        if not record:
            lines.append(f"| {name} | {missing_text} |" + " |" * (len(COLUMNS) - 2))
            continue
        if not rows:
            empty = "(no published figure to compare)" if published_only else "(no scalar metrics)"
            lines.append(f"| {name} | {empty} |" + " |" * (len(COLUMNS) - 2))
        for k, r in enumerate(rows):
            diff = r.difference
            # the run's seeds on its first row; a metric with seeds of its own says so on its row
            seeds = seeds_text(list(r.seeds)) if k == 0 or list(r.seeds) != seeds_of(record) else ""
            run = [seeds, _wall_time(record) if k == 0 else ""]
            lines.append(
                "| "
                + " | ".join(
                    [
                        name if k == 0 else "",
                        _cell(r.metric),
                        _ours(r),
                        _reference(r),
                        f"{diff:+.4g}" if diff is not None else "—",
                        r.verdict,
                        _cell(r.source) or "—",
                        *run,
                    ]
                )
                + " |"
            )
    return lines + ["", "::::"]


def _verdict_summary(
    chapters: list[str], full: dict[str, dict | None], titles: dict[str, str], link: bool
) -> list[str]:
    """The first screen: per chapter, how many of its citable published figures the paper-scale run
    reproduced, exceeded, partly reproduced or did not reproduce (the rule follows the table)."""
    lines = [
        "## Verdicts at a glance",
        "",
        "::::{container} scoreboard",
        "",
        "| Chapter | " + " | ".join(v for v in VERDICTS) + " | figures |",
        "|---|" + "---|" * (len(VERDICTS) + 1),
    ]
    totals = dict.fromkeys(VERDICTS, 0)
    for chapter in chapters:
        rec = full.get(chapter)
        rows = [r for r in metric_rows(chapter, rec) if r.verdict != "—"] if rec else []
        counts = {v: sum(r.verdict == v for r in rows) for v in VERDICTS}
        for v in VERDICTS:
            totals[v] += counts[v]
        cells = [str(counts[v]) for v in VERDICTS] if rows else ["—"] * len(VERDICTS)
        lines.append(f"| {_chapter_link(chapter, titles, link)} | " + " | ".join(cells) + f" | {len(rows)} |")
    lines.append(
        "| **all chapters** | " + " | ".join(f"**{totals[v]}**" for v in VERDICTS) + f" | **{sum(totals.values())}** |"
    )
    return lines + ["", "::::", "", VERDICT_RULE + " Figures of other methods and targets get no verdict.", ""]


def _provenance(chapters: list[str], records: dict[str, dict | None], titles: dict[str, str], link: bool) -> list[str]:
    lines = [
        "::::{container} scoreboard",
        "",
        "| Chapter | Profile | Device | Git commit | Date (UTC) | Machine | torch | Wall time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for chapter in chapters:
        rec = records.get(chapter)
        if not rec:
            continue
        machine = rec.get("machine") or {}
        desc = ", ".join(
            str(x)
            for x in (
                machine.get("cpu_model") or machine.get("processor"),
                f"{machine.get('cpu_count')} cores" if machine.get("cpu_count") else None,
                machine.get("gpu"),
            )
            if x
        )
        commit = str(rec.get("git_commit", "unknown"))
        lines.append(
            f"| {_chapter_link(chapter, titles, link)} | {_cell(str(rec.get('profile', '?')))} "
            f"| {_cell(str(rec.get('device', '?')))} "
            f"| `{_cell(commit[:12] + ('+dirty' if commit.endswith('+dirty') else ''))}` "
            f"| {_cell(str(rec.get('date', 'n/a')))} | {_cell(desc) or 'n/a'} "
            f"| {_cell(str((rec.get('versions') or {}).get('torch', 'n/a')))} "
            f"| {_wall_time(rec)} |"
        )
    return lines + ["", "::::"]


def render_scoreboard(
    chapters: list[str],
    current: dict[str, dict | None],
    full: dict[str, dict | None],
    *,
    profile: str,
    titles: dict[str, str] | None = None,
    link: bool = True,
    notes: dict[str, str] | None = None,
    studies: dict[str, dict] | None = None,
) -> str:
    """The scoreboard page (MyST markdown): the kept paper-scale runs, this build's numbers, then every
    metric of each chapter, folded.

    `current` holds this build's records (profile `profile`), `full` those from results/full/.
    Every chapter gets a row even when it has no results yet, so the page lists every chapter.
    `notes` (chapter → text) flags paper-scale runs a reader should doubt, e.g. "produced by older code".
    `studies` (chapter → a study's record, profile "study") stand in for a chapter with no full run,
    labelled as a training study, e.g. chapter 3's Table I–III models trained one at a time.
    """
    titles = titles or {}
    stand_ins = {c: rec for c, rec in (studies or {}).items() if rec and not full.get(c)}
    full = {**full, **stand_ins}
    paper_titles = {**titles, **{c: f"{titles.get(c, c)} (training study)" for c in stand_ins}}
    profiles = {rec.get("profile") for rec in current.values() if rec}
    # The page is wide tables: drop the right-hand "contents" sidebar (pydata-sphinx-theme metadata).
    out = [
        "---",
        "html_theme.sidebar_secondary.remove: true",
        "---",
        "",
        "# Reproduction scoreboard",
        "",
        "Every number in this book comes from a run of the chapter notebooks. This page puts each "
        "chapter's metrics next to the published figures they try to reproduce: *ours*, *published*, "
        "where the published figure comes from, the difference (ours − published) and how the run was "
        "made (profile, seed, device, wall time; *reused checkpoints* marks a run that loaded models "
        "trained by an earlier run, so its time leaves out their training). A value written `a ± b` is the mean ± standard "
        "deviation over the chapter's seeds (sample sd, ddof = 1), shown only when there were several.",
        "",
    ]

    out += _verdict_summary(chapters, full, paper_titles, link)
    out += ["## Paper-scale runs (full profile)", ""]
    if any(full.get(c) for c in chapters):
        out += [
            "Kept in `results/full/` by `make full` (never edited by hand); the provenance of each run "
            "follows the table.",
            "",
        ]
        out += _table(chapters, full, paper_titles, link, "no full-profile run recorded yet", published_only=True)
        out += [""] * bool(stand_ins) + [
            (
                f"- {_cell(paper_titles[c])}: no paper-scale run of the chapter is committed; these figures come "
                f"from {_cell(str(rec.get('source', 'a study')))}, whose models were trained at the paper's budget "
                "one at a time (the wall time is their training)."
            )
            for c, rec in stand_ins.items()
        ]
        if notes:
            out += ["", ":::{warning}", "**Read these paper-scale runs with care:**", ""]
            out += [f"- {_cell(titles.get(c, c))}: {notes[c]}." for c in chapters if c in notes]
            out += [":::"]
        out += ["", "Provenance of the paper-scale runs:", ""]
        out += _provenance([c for c in chapters if c not in stand_ins], full, titles, link)
    else:
        out += [
            "No paper-scale run has been recorded yet: `make full` runs every chapter with the settings "
            "of `book/params/full/` and keeps the results in `results/full/`."
        ]

    out += ["", f"## This build ({profile} profile)", ""]
    if profile == "smoke" or "smoke" in profiles:
        out += [
            ":::{important}",
            "**The figures in this table come from the smoke profile**: each chapter ran on a "
            "small subset of the data with few epochs, so that the whole book builds on an ordinary "
            "laptop CPU. They show that the pipeline works; they are *not* paper-scale results and are "
            "not expected to match the published numbers (the paper-scale runs are above).",
            ":::",
            "",
        ]
    else:
        out += [":::{note}", f"This build was made with the **{profile}** profile (paper-scale settings).", ":::", ""]
    out += _table(chapters, current, titles, link, f"not run in the {profile} profile yet", published_only=True)

    out += [
        "",
        "## Every metric",
        "",
        "The tables above keep the metrics that have a published figure. Each chapter's results file "
        "holds more (baselines, other metrics, timings); all its scalar metrics are here, folded.",
        "",
    ]
    for chapter in chapters:
        parts = [
            (label, recs[chapter])
            for label, recs in (("full profile", full), (f"this build ({profile})", current))
            if recs.get(chapter)
        ]
        if not parts:
            continue
        title = _cell(titles.get(chapter, chapter)).replace("`", "'")
        out += [f":::::{{dropdown}} {title}: every metric", ""]
        for label, record in parts:
            out += [f"**{label[0].upper() + label[1:]}**", ""]
            out += _table([chapter], {chapter: record}, titles, False, "")
            out += [""]
        out += [":::::", ""]
    return "\n".join(out) + "\n"
