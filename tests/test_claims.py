import pytest

from dcca_core.claims import VERDICT_RULE, Claim, claims_table, verdict


@pytest.mark.parametrize(
    "ours, sd, published, expected",
    [
        (0.907, 0.0, 0.843, "exceeded"),  # 6.4 points better, τ = 1 point
        (0.850, 0.0, 0.843, "reproduced"),  # within 1 point
        (0.830, 0.0, 0.843, "partly"),  # 1.3 points worse: more than τ, less than 3τ
        (0.816, 0.0, 0.9511, "not reproduced"),
        (0.907, 0.038, 0.843, "reproduced"),  # with sd 3.8 points over the seeds, τ = 7.6 points
        (0.60, 0.10, 0.95, "partly"),  # 35 points worse but τ = 20 points
    ],
)
def test_verdict_follows_the_stated_rule(ours, sd, published, expected):
    assert verdict(ours, sd, published) == expected


def test_lower_is_better_flips_the_direction():
    assert verdict(0.10, 0.0, 0.2662, higher_is_better=False) == "exceeded"  # FAR 10 % vs 26.6 %
    assert verdict(0.48, 0.0, 0.2662, higher_is_better=False) == "not reproduced"
    with pytest.raises(ValueError):
        verdict(float("nan"), 0.0, 0.5)


def test_claims_table_formats_one_row_per_claim():
    table = claims_table(
        [
            Claim("DEC accuracy on MNIST", "Xie et al. 2016, Table 2", 0.843, [0.886, 0.951, 0.885], why="longer AE"),
            Claim("CAE-l2 accuracy", "Aytekin et al. 2018, Table II", 0.9511, [0.816]),
        ]
    )
    assert list(table.columns) == ["claim", "source", "published", "ours", "seeds", "verdict", "why"]
    assert table.loc[0, "ours"] == "90.7 ± 3.8 %" and table.loc[0, "published"] == "84.3 %"
    assert table.loc[1, "ours"] == "81.6 %"  # one seed: no "±"
    assert table["verdict"].tolist() == ["reproduced", "not reproduced"]
    assert "ddof = 1" in VERDICT_RULE and "3τ" in VERDICT_RULE


def test_claims_from_the_committed_chapter_2_record():
    import json
    from pathlib import Path

    from dcca_core.claims import claims_from_record

    record = json.loads((Path(__file__).resolve().parents[1] / "results/full/02_dec_mnist.json").read_text())
    table = claims_from_record(record, why={"dec_accuracy": "a plain 50-epoch autoencoder"}).set_index("claim")
    dec = table.loc["dec_accuracy"]
    assert dec["ours"] == "0.9073 ± 0.038" and dec["seeds"] == 3 and dec["published"] == "0.843"
    assert dec["verdict"] == "reproduced" and dec["why"] == "a plain 50-epoch autoencoder"  # τ = 2 sd = 7.6 points
    assert table.loc["kmeans_pixels_accuracy", "verdict"] == "reproduced"
    assert table.loc["fashion_dec_accuracy", "verdict"] == "—"  # a figure quoted in an issue: a target
    assert "a target" in table.loc["fashion_dec_accuracy", "published"]
    smoke = claims_from_record({**record, "profile": "smoke"})
    assert set(smoke["verdict"]) == {"(smoke run)"}
