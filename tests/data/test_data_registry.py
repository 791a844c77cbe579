"""The registry: complete metadata, well-formed digests, and agreement with ../shared/data/SHA256SUMS."""

from __future__ import annotations

import re

import pytest

from dcca_core.data import DATASETS, get_dataset
from dcca_core.data.fetch import repo_root

SHARED = repo_root().parent / "shared" / "data"  # ../shared beside the repo, as in CI
_HEX = {"sha256": 64, "md5": 32}


def test_every_data_set_has_licence_citation_and_forms():
    for ds in DATASETS.values():
        assert ds.licence and ds.citation and ds.homepage.startswith("http") and ds.how_to_get, ds.name
        assert ds.forms and any(f.downloadable for f in ds.forms), ds.name  # the originals can be fetched
        paths = [df.path for f in ds.forms for df in f.files]
        assert len(paths) == len(set(paths)), ds.name


def test_digests_are_well_formed_and_sha256_where_we_have_one():
    for ds in DATASETS.values():
        for form in ds.forms:
            for df in form.files:
                for spec in df.hashes + ((df.publisher_hash,) if df.publisher_hash else ()):
                    algo, _, hexdigest = spec.partition(":")
                    assert re.fullmatch(rf"[0-9a-f]{{{_HEX[algo]}}}", hexdigest), (df.path, spec)
                assert df.hashes[0].startswith("sha256:"), df.path


def test_file_counts_of_the_original_forms():
    assert len(get_dataset("skab").form("csv").files) == 35
    assert len(get_dataset("tep").form("dat").files) == 44
    assert len(get_dataset("mnist").form("idx").files) == 4


def test_registry_matches_the_shared_sha256sums():
    sums = dict(line.split()[::-1] for line in (SHARED / "SHA256SUMS").read_text().splitlines() if line.strip())
    registered = {df.path: df.hashes[0].split(":")[1] for ds in DATASETS.values() for f in ds.forms for df in f.files}
    assert len(sums) == 43
    for path, digest in sums.items():
        assert registered[path] == digest, path


def test_unknown_data_set_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown data set 'svhn'; known: \['cifar10', 'fashion_mnist'"):
        get_dataset("svhn")
    with pytest.raises(ValueError, match="has no form 'zip'"):
        get_dataset("mnist").form("zip")
