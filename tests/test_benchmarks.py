"""The benchmark command keeps working (it times nothing here; see benchmarks/)."""

from __future__ import annotations

import pytest

from benchmarks import messages
from benchmarks.__main__ import bench_message, memory_probe


def test_every_operation_is_measured_against_its_alternatives() -> None:
    rows = bench_message("pacs.008 1 tx", messages.pacs008_one(), "pacs.008.001.08", budget=0)
    assert [r["operation"] for r in rows] == [
        "parse",
        "serialize",
        "validate",
        "to_json",
        "from_json",
    ]
    for row in rows:
        assert row["paymsg_ms"] > 0 and row["lxml_ms"] > 0 and row["ratio_to_lxml"] > 0
        generic = row["operation"] in ("parse", "serialize")
        assert (row["xsdata_ms"] is not None) is generic


@pytest.mark.parametrize("kind", ["stream", "whole"])
def test_memory_probes_validate_the_whole_package(kind: str) -> None:
    result = memory_probe(kind, 300)
    assert result["count"] == 300 and result["errors"] == 0
    assert result["peak_rss_mb"] > result["baseline_rss_mb"] > 0
    assert result["tx_per_second"] > 0


def test_generated_messages_are_consistent() -> None:
    import paymsg

    for data in (messages.beps121(30), messages.pacs008_one(), messages.hvps111_envelope()):
        assert paymsg.validate(data).ok


@pytest.mark.parametrize("job", ["parse", "parse (one tree)", "validate", "validate (whole)"])
def test_whole_message_probes_run_every_job(job: str) -> None:
    from benchmarks.__main__ import job_probe

    result = job_probe(job, "pacs008-40", "messages.pacs008(40)")
    assert result["errors"] == 0 and result["peak_rss_mb"] > result["baseline_rss_mb"] > 0
    assert result["count"] in (40, None)
