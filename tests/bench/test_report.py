"""Row schema round-trips, the report files (never overwritten), the plots, the README table and peer ratios."""

import csv
import json
from datetime import datetime, timezone

import pytest

from mhp.bench.machine import Machine
from mhp.bench.report import (
    README_BEGIN,
    README_END,
    comparisons,
    console_table,
    markdown_table,
    update_readme,
    write_reports,
)
from mhp.bench.schema import FIELDS, NOT_SCORED, PASSED, BenchRow, row_from_dict
from mhp.errors import MhpError

MACHINE = Machine("Test CPU", 2, 2, 2.5, "test", "avx2", 16, 32, "Linux", "3.11", {"numpy": "2.0"})
CREATED = datetime(2026, 11, 21, 12, 0, 0, tzinfo=timezone.utc)


def row(**overrides):
    values = {
        "model": "LPSKI",
        "format": "tflite",
        "precision": "int8",
        "runtime": "litert",
        "threads": 1,
        "status": PASSED,
        "delegate": "xnnpack",
        "device": "Test CPU",
        "artifact": "export/lpski_int8.tflite",
        "latency_p50_ms": 4.0,
        "latency_p90_ms": 4.5,
        "latency_p99_ms": 5.0,
        "latency_mean_ms": 4.2,
        "mpjpe_mm": 60.0,
        "pa_mpjpe_mm": 40.0,
        "delta_mpjpe_mm": -0.2,
        "size_bytes": 1_500_000,
        "gmacs": 0.5,
        "gmacs_per_s": 125.0,
        "hardware_fraction": 0.78,
        "partitions": 1,
    }
    return BenchRow(**{**values, **overrides})


ROWS = [
    row(),
    row(precision="fp32", latency_p50_ms=10.0, latency_p90_ms=11.0, mpjpe_mm=59.8, delta_mpjpe_mm=0.0),
    row(
        model="pose_landmark_full.tflite",
        precision="fp32",
        latency_p50_ms=20.0,
        mpjpe_mm=None,
        peer=True,
        status=NOT_SCORED,
        reason="peer model: timed, not scored",
        artifact="pose_landmark_full.tflite",
    ),
]


def test_rows_round_trip_through_json_and_reject_bad_fields():
    for original in ROWS:
        assert row_from_dict(json.loads(json.dumps(original.to_dict())), where="test") == original
    good = ROWS[0].to_dict()
    for change, message in (
        ({"latency_p50_ms": "fast"}, "must be a number"),
        ({"latency_p50_ms": float("nan")}, "finite"),
        ({"threads": 1.5}, "whole number"),
        ({"status": "great"}, "status 'great'"),
        ({"speed": 1}, "unknown field 'speed'"),
        ({"peer": "yes"}, "true or false"),
    ):
        with pytest.raises(MhpError, match=message):
            row_from_dict({**good, **change}, where="rows[0]")
    with pytest.raises(MhpError, match="missing field 'model'"):
        row_from_dict({k: v for k, v in good.items() if k != "model"}, where="rows[0]")
    assert row_from_dict({**good, "delta_mpjpe_mm": -1.0}, where="x").delta_mpjpe_mm == -1.0


def test_peer_ratio_pairs_rows_with_the_same_runtime_and_threads():
    found = comparisons(ROWS)
    assert [(c.row.precision, round(c.ratio, 3)) for c in found] == [("int8", 0.2), ("fp32", 0.5)]
    other_threads = [ROWS[0], row(peer=True, threads=2, latency_p50_ms=8.0)]
    assert comparisons(other_threads) == []


def test_tables_show_every_row_and_the_peer_ratio():
    console = console_table(ROWS).splitlines()
    assert len(console) == 4
    assert "p50 ms" in console[0]
    assert "4.00" in console[1]
    assert "125.0 (78%)" in console[1]
    assert "-0.20" in console[1]
    markdown = markdown_table(ROWS, MACHINE, "2026-11-21T12:00:00Z")
    assert markdown.count("\n| ") == 3  # header rule + rows after the header line
    assert "0.20x the latency of pose_landmark_full.tflite" in markdown
    assert "Test CPU, 2 cores, 2.50 GHz" in markdown
    slow_int8 = [row(latency_p50_ms=12.0), row(precision="fp32", latency_p50_ms=10.0)]
    assert "int8 is 1.2x slower than fp32" in markdown_table(slow_int8, MACHINE, "now")
    assert "slower" not in markdown


def test_reports_are_written_timestamped_and_never_overwritten(tmp_path):
    first = write_reports(ROWS, MACHINE, tmp_path, config={"runs": 5}, created=CREATED)
    second = write_reports(ROWS, MACHINE, tmp_path, config={"runs": 5}, created=CREATED)
    assert first["json"].name == "bench-20261121-120000.json"
    assert second["json"].name == "bench-20261121-120000-1.json"
    assert len(list(tmp_path.iterdir())) == 10
    document = json.loads(first["json"].read_text())
    assert document["format_name"] == "mhp-bench"
    assert document["machine"]["cpu"] == "Test CPU"
    assert [row_from_dict(r, where="json") for r in document["rows"]] == ROWS
    assert document["comparisons"][0]["latency_ratio"] == pytest.approx(0.2)
    with first["csv"].open() as f:
        records = list(csv.DictReader(f))
    assert len(records) == 3
    assert set(FIELDS) <= set(records[0])
    assert records[0]["latency_p50_ms"] == "4.0"
    assert records[2]["mpjpe_mm"] == ""
    assert records[0]["host_cpu"] == "Test CPU"
    assert records[0]["libraries"] == "numpy=2.0"
    for kind in ("pareto", "latency"):
        assert first[kind].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert first[kind].stat().st_size > 10_000


def test_readme_table_is_replaced_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_BEGIN}\nold table\n{README_END}\n\nafter\n")
    update_readme(readme, "| new |\n")
    assert readme.read_text() == f"# Title\n\n{README_BEGIN}\n| new |\n{README_END}\n\nafter\n"
    plain = tmp_path / "plain.md"
    plain.write_text("# no markers\n")
    with pytest.raises(MhpError, match="has no mhp-bench markers"):
        update_readme(plain, "| new |\n")
    with pytest.raises(MhpError, match="no benchmark rows"):
        write_reports([], MACHINE, tmp_path, config={})
