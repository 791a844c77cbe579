"""The reproduction scoreboard page, on hand-made results records."""

from __future__ import annotations

import json

import pytest

from bookkit.scoreboard import format_seconds, load_records, metric_rows, render_scoreboard, reused_checkpoints


def _record(profile="smoke", **metrics):
    return {
        "chapter": "02_dec_mnist",
        "profile": profile,
        "seed": 3,
        "device": "cpu",
        "wall_time_s": 75.0,
        "git_commit": "0123456789abcdef0123+dirty",
        "date": "2025-11-26T01:00:00+00:00",
        "machine": {"processor": "x86_64", "cpu_count": 2},
        "versions": {"torch": "2.13.0"},
        "metrics": metrics or {"acc": 0.80, "nmi": 0.7, "loss_curve": [1.0, 0.5]},
        "published": {"acc": {"value": 0.843, "source": "Xie et al. 2016, Table 2"}},
    }


def test_rows_pair_each_scalar_metric_with_its_published_value():
    rows = {r.metric: r for r in metric_rows("02_dec_mnist", _record())}
    assert set(rows) == {"acc", "nmi"}  # the curve is a figure, not a table cell
    assert rows["acc"].published == 0.843 and rows["acc"].source == "Xie et al. 2016, Table 2"
    assert rows["acc"].difference == pytest.approx(0.80 - 0.843)
    assert rows["nmi"].published is None and rows["nmi"].difference is None
    assert rows["acc"].profile == "smoke" and rows["acc"].seed == 3 and rows["acc"].wall_time_s == 75.0


def test_nested_metrics_get_dotted_names_and_missing_values_no_difference():
    rows = {
        r.metric: r
        for r in metric_rows(
            "c",
            {
                "metrics": {"auc": {"valve1": 0.9}, "f1": None},
                "published": {"auc.valve1": {"value": 0.95, "source": "s"}},
            },
        )
    }
    assert rows["auc.valve1"].difference == pytest.approx(-0.05)
    assert rows["f1"].difference is None


def test_page_lists_every_chapter_with_its_numbers_and_says_smoke_plainly():
    chapters = ["01_kmeans_cifar", "02_dec_mnist"]
    page = render_scoreboard(
        chapters,
        {"01_kmeans_cifar": None, "02_dec_mnist": _record()},
        {},
        profile="smoke",
        titles={"02_dec_mnist": "DEC on MNIST"},
    )
    assert "# Reproduction scoreboard" in page
    assert "come from the smoke profile" in page and "not* paper-scale" in page
    assert "{doc}`DEC on MNIST <02_dec_mnist>`" in page and "<01_kmeans_cifar>" in page
    acc_row = next(line for line in page.splitlines() if "| acc |" in line)
    cells = [c.strip() for c in acc_row.strip("|").split("|")]
    assert cells == [
        "{doc}`DEC on MNIST <02_dec_mnist>`",
        "acc",
        "0.8",
        "0.843",
        "-0.043",
        "not reproduced",  # 4.3 points below, one seed: beyond 3 points
        "Xie et al. 2016, Table 2",
        "3",  # the seeds: the list, here one seed
        "1 min 15 s",
    ]
    nmi_row = next(line for line in page.splitlines() if "| nmi |" in line)
    assert [c.strip() for c in nmi_row.strip("|").split("|")] == ["", "nmi", "0.7", "—", "—", "—", "—", "", ""]
    missing = next(line for line in page.splitlines() if "<01_kmeans_cifar>" in line and "not run" in line)
    assert "not run in the smoke profile yet" in missing and missing.count("|") == 10
    assert "No paper-scale run has been recorded yet" in page


def test_full_runs_are_shown_with_their_provenance():
    chapters = ["02_dec_mnist"]
    page = render_scoreboard(
        chapters, {"02_dec_mnist": None}, {"02_dec_mnist": _record("full", acc=0.84)}, profile="smoke"
    )
    full_part = page.split("## Paper-scale runs")[1]
    assert "| acc | 0.84 | 0.843 | -0.003 |" in full_part and "| full |" in full_part
    assert "`0123456789ab+dirty`" in full_part and "2025-11-26T01:00:00+00:00" in full_part
    assert "x86_64, 2 cores" in full_part and "2.13.0" in full_part


def test_a_run_that_reused_checkpoints_says_so_beside_its_wall_time():
    fresh = _record("full", acc=0.84)
    reused = {**fresh, "extra": {"runs": [{"dataset": "mnist", "autoencoder_reused": True}]}}
    assert not reused_checkpoints(fresh) and reused_checkpoints(reused)
    assert not reused_checkpoints({**fresh, "extra": {"training": {"reused_any": False}, "note": "reused"}})
    page = render_scoreboard(["02_dec_mnist"], {"02_dec_mnist": None}, {"02_dec_mnist": reused}, profile="smoke")
    assert page.count("1 min 15 s (reused checkpoints)") == 3  # headline table, provenance, every-metric table
    assert "(reused checkpoints)" not in render_scoreboard(
        ["02_dec_mnist"], {"02_dec_mnist": None}, {"02_dec_mnist": fresh}, profile="smoke"
    )


def test_full_profile_build_does_not_claim_smoke():
    page = render_scoreboard(["c"], {"c": _record("full")}, {}, profile="full")
    assert "smoke profile" not in page and "**full** profile" in page


def test_pipes_in_values_do_not_break_the_table():
    record = _record()
    record["published"]["acc"]["source"] = "Table 2 | row 3"
    page = render_scoreboard(["c"], {"c": record}, {}, profile="smoke")
    assert "Table 2 \\| row 3" in page


def test_load_records_reads_files_and_names_a_broken_one(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(_record()))
    assert load_records(tmp_path, ["a", "b"]) == {"a": _record(), "b": None}
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(ValueError, match="b.json is not valid JSON"):
        load_records(tmp_path, ["b"])


@pytest.mark.parametrize("seconds, text", [(12.34, "12.3 s"), (75, "1 min 15 s"), (7380, "2 h 03 min"), (None, "n/a")])
def test_wall_time_is_readable(seconds, text):
    assert format_seconds(seconds) == text


def test_a_published_figure_without_our_metric_still_gets_a_row():
    record = _record(acc=0.8)
    record["published"]["nmi"] = {"value": 0.8, "source": "paper"}
    rows = {r.metric: r for r in metric_rows("c", record)}
    assert rows["nmi"].ours is None and rows["nmi"].published == 0.8 and rows["nmi"].difference is None


def test_spread_over_seeds_is_shown_beside_the_mean_not_as_a_row():
    record = {**_record(acc=0.78, acc_std=0.0217, nmi=0.7), "params": {"n_seeds": 3}}
    rows = {r.metric: r for r in metric_rows("c", record)}
    assert set(rows) == {"acc", "nmi"} and rows["acc"].ours_std == pytest.approx(0.0217)
    page = render_scoreboard(["c"], {"c": record}, {}, profile="smoke")
    assert "| acc | 0.78 ± 0.022 | 0.843 | -0.063 | partly |" in page and "acc_std" not in page
    assert "| 3, 4, 5 |" in page  # the seeds, listed
    single = render_scoreboard(["c"], {"c": _record(acc=0.78, acc_std=0.0, nmi=0.7)}, {}, profile="smoke")
    assert "| acc | 0.78 | 0.843 |" in single  # one seed: no "±"


def test_a_metric_with_seeds_of_its_own_shows_them_on_its_row():
    record = {
        **_record(acc=0.78, acc_std=0.0217, fashion_acc=0.58, fashion_acc_std=0.0, t2q_f1=0.76, t2q_f1_std=0.0),
        "params": {"n_seeds": 3},
        "metric_seeds": {"fashion_acc": [3], "t2q_f1": []},
    }
    rows = {r.metric: r for r in metric_rows("c", record)}
    assert rows["acc"].n_seeds == 3 and rows["fashion_acc"].n_seeds == 1 and rows["t2q_f1"].n_seeds == 0
    page = render_scoreboard(["c"], {"c": record}, {}, profile="smoke")
    assert "| fashion_acc | 0.58 |" in page and "0.58 ± 0" not in page
    fashion = next(line for line in page.splitlines() if "| fashion_acc |" in line)
    assert fashion.split("|")[-3].strip() == "3"  # its own seed, in the Seeds column
    t2q = next(line for line in page.splitlines() if "| t2q_f1 |" in line)
    assert "none (deterministic)" in t2q and "0.76 ± 0" not in t2q


def test_other_methods_and_targets_are_labelled_and_get_no_verdict():
    record = _record(skab_dcca_f1=0.78, skab_dcca_far=27.7, tep_dcca_fdr_at_far5=0.5)
    record["published"] = {
        "skab_dcca_f1": {"value": 0.78, "source": "SKAB leaderboard: best entry, Conv-AE and MSET"},
        "skab_dcca_far": {"value": 13.55, "source": "SKAB leaderboard, Conv-AE", "kind": "other method"},
    }
    page = render_scoreboard(["c"], {"c": record}, {"c": {**record, "profile": "full"}}, profile="smoke")
    f1 = next(line for line in page.splitlines() if "| skab_dcca_f1 |" in line)
    assert "0.78 (another method's figure)" in f1 and "| — |" in f1
    far = next(line for line in page.splitlines() if "| skab_dcca_far |" in line)
    assert "27.7 %" in far and "13.55 % (another method's figure)" in far
    assert "| tep_dcca_fdr_at_far5 |" in page  # the TEP headline number is shown without a reference
    glance = page.split("## Paper-scale runs")[0]
    assert (
        "## Verdicts at a glance" in glance and "| **all chapters** | **0** | **0** | **0** | **0** | **0** |" in glance
    )


def test_headline_tables_keep_published_metrics_and_every_metric_is_folded_below():
    page = render_scoreboard(
        ["c"],
        {"c": _record(acc=0.8, nmi=0.7)},
        {"c": _record("full", acc=0.84, nmi=0.8)},
        profile="smoke",
        titles={"c": "DEC"},
    )
    headline, folded = page.split("## Every metric")
    assert "| nmi |" not in headline and headline.count("| acc |") == 2
    assert headline.index("## Paper-scale runs") < headline.index("## This build (smoke profile)")
    assert ":::::{dropdown} DEC: every metric" in folded
    assert folded.index("**Full profile**") < folded.index("**This build (smoke)**")
    assert "| nmi | 0.8 |" in folded and "| nmi | 0.7 |" in folded


def test_a_training_study_stands_in_for_a_chapter_without_a_full_run_and_says_so():
    study = {
        "profile": "study",
        "seed": 0,
        "params": {"n_seeds": 3},
        "source": "studies/ch3_paper_budget.py",
        "device": "cpu",
        "wall_time_s": 7200.0,
        "metrics": {"acc_cae_l2": 0.948, "acc_cae_l2_std": 0.007, "acc_cae": 0.70},
        "metric_seeds": {"acc_cae_l2": [0, 1, 2], "acc_cae": [0]},
        "published": {
            "acc_cae_l2": {"value": 0.9511, "source": "Aytekin et al. 2018, Table II"},
            "acc_cae": {"value": 0.849, "source": "Aytekin et al. 2018, Table II"},
        },
    }
    chapters = ["02_dec_mnist", "03_l2_autoencoder"]
    titles = {"03_l2_autoencoder": "3. l2 autoencoders"}
    full = {"02_dec_mnist": _record("full", acc=0.84), "03_l2_autoencoder": None}
    page = render_scoreboard(
        chapters,
        dict.fromkeys(chapters),
        full,
        profile="smoke",
        titles=titles,
        link=False,
        studies={"03_l2_autoencoder": study},
    )
    glance = page.split("## Verdicts at a glance")[1].split("## Paper-scale runs")[0]
    assert "| 3. l2 autoencoders (training study) | 0 | 1 | 0 | 1 | 2 |" in glance  # reproduced 1, not reproduced 1
    paper = page.split("## Paper-scale runs")[1].split("## This build")[0]
    assert "| 0.948 ± 0.007 |" in paper and "| 0, 1, 2 | 2 h 00 min |" in paper
    assert "| not reproduced | Aytekin et al. 2018, Table II | 0 |  |" in paper  # its own seed on its row
    assert "these figures come from studies/ch3_paper_budget.py" in paper
    assert paper.split("Provenance of the paper-scale runs:")[1].count("training study") == 0  # no commit to name
    # a committed full run wins over the study
    page = render_scoreboard(
        chapters,
        dict.fromkeys(chapters),
        {**full, "03_l2_autoencoder": _record("full", acc=0.9)},
        profile="smoke",
        titles=titles,
        link=False,
        studies={"03_l2_autoencoder": study},
    )
    assert "training study" not in page
