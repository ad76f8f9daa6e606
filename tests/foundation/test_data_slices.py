"""The real-data slices a fresh clone tests with are exactly what tests/data/cut_slices.py cuts, and each one is
described (source, licence, how it was cut) in tests/data/README.md."""
from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import DATA_SLICES, REPO

sys.path.insert(0, str(REPO / "tests" / "data"))
import cut_slices  # noqa: E402


def test_the_committed_slices_are_what_the_script_cuts(shared_data: Path):
    cut = cut_slices.cut(shared_data)
    committed = {p.relative_to(DATA_SLICES): p.read_bytes() for p in DATA_SLICES.rglob("*") if p.is_file()}
    assert sorted(committed) == sorted(cut)
    for path, content in cut.items():
        assert committed[path] == content, path


def test_every_slice_is_small_and_described_in_the_data_readme():
    readme = (REPO / "tests" / "data" / "README.md").read_text(encoding="utf-8")
    files = [p for p in DATA_SLICES.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.stat().st_size < 200_000, path
        assert f"`{path.relative_to(DATA_SLICES).parts[0]}/" in readme, path
