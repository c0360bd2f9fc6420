"""paymsg benchmarks: ``python -m benchmarks [--quick] [--out FILE]``; ``python -m benchmarks mq``
runs the MQ send + ccms.990 round trip (see ``benchmarks/mq.py``).

Measures, in one process and on the same messages, paymsg against the alternatives a
user would pick: xsdata's generic ``XmlParser`` / ``XmlSerializer`` on the same
generated models, and bare lxml (``etree.fromstring``, ``XMLSchema.validate``) as the
floor. Reports medians, ratios (paymsg / xsdata, paymsg / lxml) and peak memory (each
memory probe runs in a fresh subprocess), prints a table and writes a JSON result file.
Nothing here is asserted: the test suite never times anything.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

import paymsg
from benchmarks import messages
from paymsg.codec.xml.binding import CONTEXT, compiled_schema
from paymsg.schema.catalog import catalog

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def median_seconds(fn: Callable[[], Any], budget: float, max_runs: int = 200) -> float:
    """Median wall time of ``fn`` over as many runs as fit in ``budget`` seconds (≥ 3)."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - started < budget and len(times) < max_runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def body_of(data: bytes) -> bytes:
    """The XML body (without a CNAPS2 envelope) for the xsdata and lxml baselines."""
    if paymsg.cnaps2.looks_like_cnaps2(data):
        _, offset = paymsg.cnaps2.split_envelope(data)
        return data[offset:]
    return data


def bench_message(label: str, data: bytes, type_id: str, budget: float) -> list[dict[str, Any]]:
    mtype = catalog().get(type_id)
    body = body_of(data)
    cls = mtype.root_class
    message = paymsg.parse(data, type=type_id)
    plain = paymsg.Message(message.type, message.document)  # no envelope: like-for-like XML
    xml_parser = XmlParser(context=CONTEXT)
    xml_serializer = XmlSerializer(context=CONTEXT, config=SerializerConfig(indent="  "))
    schema = compiled_schema(str(mtype.schema_path))
    text = paymsg.to_json(message)
    ops: list[tuple[str, Callable[[], Any], Callable[[], Any] | None, Callable[[], Any]]] = [
        (
            "parse",
            lambda: paymsg.parse(data, type=type_id),
            lambda: xml_parser.from_bytes(body, cls),
            lambda: etree.fromstring(body),
        ),
        (
            "serialize",
            lambda: paymsg.serialize(plain),
            lambda: xml_serializer.render(message.document, ns_map={None: mtype.namespace}),
            lambda: etree.tostring(etree.fromstring(body)),
        ),
        (
            "validate",
            lambda: paymsg.validate(data, type=type_id),
            None,
            lambda: schema.validate(etree.fromstring(body)),
        ),
        ("to_json", lambda: paymsg.to_json(message), None, lambda: etree.fromstring(body)),
        ("from_json", lambda: paymsg.from_json(text), None, lambda: etree.fromstring(body)),
    ]
    rows = []
    for op, ours, generic, floor in ops:
        t_ours = median_seconds(ours, budget)
        t_generic = median_seconds(generic, budget) if generic is not None else None
        t_floor = median_seconds(floor, budget)
        rows.append(
            {
                "message": label,
                "operation": op,
                "paymsg_ms": t_ours * 1e3,
                "xsdata_ms": None if t_generic is None else t_generic * 1e3,
                "lxml_ms": t_floor * 1e3,
                "speedup_vs_xsdata": None if t_generic is None else t_generic / t_ours,
                "ratio_to_lxml": t_ours / t_floor,
            }
        )
    return rows


def memory_probe(kind: str, size: int) -> dict[str, Any]:
    """Validate a ``size``-detail beps.121 in a fresh interpreter, streaming or as a whole
    document (``kind`` "stream" or "whole"); peak RSS and speed."""
    path = Path(tempfile.gettempdir()) / f"paymsg-bench-beps121-{size}.xml"
    if not path.exists():
        # built in its own process, so the benchmark process never holds the big document
        build = (
            "from benchmarks import messages; "
            f"open({str(path)!r}, 'wb').write(messages.beps121({size}))"
        )
        subprocess.run([sys.executable, "-c", build], cwd=ROOT, check=True)
    code = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
import paymsg
from paymsg import iter_transactions
path = {str(path)!r}
def hwm():
    # VmHWM belongs to this process image (ru_maxrss would carry the forking parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
t0 = time.perf_counter()
if {kind!r} == "stream":
    stream = iter_transactions(path, validate=True)
    count = sum(1 for _ in stream)
    errors = stream.report.counts["error"]
else:  # the whole document at once, as paymsg.validate does below the streaming threshold
    report = paymsg.validate(path, config=paymsg.ValidationConfig(stream_from_bytes=None))
    count = {size}
    errors = report.counts["error"]
elapsed = time.perf_counter() - t0
peak = hwm()
print(json.dumps({{"count": count, "seconds": elapsed, "peak_rss_mb": peak / 1024,
                   "baseline_rss_mb": base / 1024, "errors": errors}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(
        {"job": kind, "details": size, "tx_per_second": result["count"] / result["seconds"]}
    )
    return result


def _built(name: str, builder: str) -> Path:
    """A benchmark message written once to the temporary directory, built in its own
    process (so that the measuring processes never held it)."""
    path = Path(tempfile.gettempdir()) / f"paymsg-bench-{name}.xml"
    if not path.exists():
        build = f"from benchmarks import messages; open({str(path)!r}, 'wb').write({builder})"
        subprocess.run([sys.executable, "-c", build], cwd=ROOT, check=True)
    return path


#: what a fresh interpreter runs for each job of :func:`job_probe` (``path`` is set)
JOBS = {
    # the whole message as typed objects (read in pieces above stream.PIECES_FROM)
    "parse": "m = paymsg.parse(path, limits=BIG); n = len(m.document.fito_ficstmr_cdt_trf"
    ".cdt_trf_tx_inf); errors = 0",
    # the whole message as one tree, as parse read every message before issue 10
    "parse (one tree)": "stream.PIECES_FROM = 1 << 62; m = paymsg.parse(path, limits=BIG); "
    "n = len(m.document.fito_ficstmr_cdt_trf.cdt_trf_tx_inf); errors = 0",
    # paymsg.validate as it is called: it streams above ValidationConfig.stream_from_bytes
    "validate": "r = paymsg.validate(path, limits=BIG); n = None; errors = r.counts['error']",
    # paymsg.validate held to the whole tree, as it was before issue 10
    "validate (whole)": "r = paymsg.validate(path, limits=BIG, config=paymsg.ValidationConfig("
    "stream_from_bytes=None)); n = None; errors = r.counts['error']",
    # the streamed validation as the CLI ran it before issue 10 (binding each transaction)
    "iter_transactions(validate=True)": "s = paymsg.iter_transactions(path, validate=True); "
    "n = sum(1 for _ in s); errors = s.report.counts['error']",
}


def job_probe(job: str, name: str, builder: str) -> dict[str, Any]:
    """Run ``JOBS[job]`` on a built message in a fresh interpreter: seconds, peak RSS."""
    path = _built(name, builder)
    code = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
import paymsg
from paymsg.codec.stream import reader as stream
BIG = paymsg.Limits(max_bytes=1 << 31)
path = {str(path)!r}
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
t0 = time.perf_counter()
{JOBS[job]}
elapsed = time.perf_counter() - t0
print(json.dumps({{"seconds": elapsed, "peak_rss_mb": hwm() / 1024,
                   "baseline_rss_mb": base / 1024, "errors": errors, "count": n}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update({"job": job, "message": name, "bytes": path.stat().st_size})
    return result


#: the whole-message memory probes (issue 10, item 10): a pacs.008 of 100,000 transactions
PACS008_JOBS = ("parse", "parse (one tree)", "validate", "validate (whole)")
#: hostile shapes for streaming (issue 10, item 5): (message, builder, jobs)
SHAPES = (
    (
        "pacs008-adrline-200000",
        "messages.pacs008_siblings(200_000)",
        ("validate", "validate (whole)", "iter_transactions(validate=True)"),
    ),
    (
        "pacs008-any-1000000",
        "messages.pacs008_wildcard(1_000_000)",
        ("validate", "validate (whole)", "iter_transactions(validate=True)"),
    ),
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mq"]:  # python -m benchmarks mq …: the MQ round trip (benchmarks/mq.py)
        from benchmarks import mq

        return mq.main(argv[1:])
    if argv[:1] == ["routing"]:  # python -m benchmarks routing …: decisions/s and the day
        from benchmarks import routing

        return routing.main(argv[1:])
    if argv[:1] == ["reconcile"]:  # python -m benchmarks reconcile …: the day and statements
        from benchmarks import reconcile

        return reconcile.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller messages, shorter runs")
    parser.add_argument("--out", type=Path, default=None, help="result file (JSON)")
    args = parser.parse_args(argv)
    budget = 0.3 if args.quick else 1.5
    big = 10_000 if args.quick else 100_000
    cases = [
        ("pacs.008 1 tx", messages.pacs008_one(), "pacs.008.001.08"),
        ("hvps.111 + envelope", messages.hvps111_envelope(), "hvps.111.001.01"),
        ("beps.121 1,000 details", messages.beps121(1_000), "beps.121.001.01"),
        (
            "camt.053 10,000 entries",
            messages.camt053(1_000 if args.quick else 10_000),
            "camt.053.001.08",
        ),
    ]
    rows: list[dict[str, Any]] = []
    for label, data, type_id in cases:
        print(f"… {label}", file=sys.stderr)
        rows.extend(bench_message(label, data, type_id, budget))
    print(f"… validating beps.121 {big:,} details, streamed and whole", file=sys.stderr)
    memory = [memory_probe("stream", big), memory_probe("whole", big)]
    print(f"… pacs.008 with {big:,} transactions: parse and validate", file=sys.stderr)
    whole_jobs = [
        job_probe(job, f"pacs008-{big}", f"messages.pacs008({big})") for job in PACS008_JOBS
    ]
    print("… hostile shapes for streaming", file=sys.stderr)
    shapes = [
        job_probe(job, name, builder)
        for name, builder, jobs in (SHAPES[:1] if args.quick else SHAPES)
        for job in jobs
    ]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "paymsg": paymsg.__version__,
        "timings": rows,
        "memory": memory,
        "whole_message": whole_jobs,
        "stream_shapes": shapes,
    }
    header = (
        f"{'message':26} {'op':10} {'paymsg ms':>10} {'xsdata ms':>10} {'lxml ms':>9}"
        f" {'× xsdata':>9} {'/ lxml':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        xs = "-" if r["xsdata_ms"] is None else f"{r['xsdata_ms']:.3f}"
        sp = "-" if r["speedup_vs_xsdata"] is None else f"{r['speedup_vs_xsdata']:.1f}"
        print(
            f"{r['message']:26} {r['operation']:10} {r['paymsg_ms']:10.3f} {xs:>10}"
            f" {r['lxml_ms']:9.3f} {sp:>9} {r['ratio_to_lxml']:7.1f}"
        )
    for m in memory:
        print(
            f"validate beps.121 {m['details']:,} details, {m['job']}:"
            f" {m['tx_per_second']:,.0f} tx/s,"
            f" peak RSS {m['peak_rss_mb']:.0f} MB, {m['errors']} errors"
        )
    for m in whole_jobs + shapes:
        print(
            f"{m['message']} ({m['bytes'] / 1e6:,.0f} MB) {m['job']}: {m['seconds']:.2f} s,"
            f" peak RSS {m['peak_rss_mb']:,.0f} MB, {m['errors']} errors"
        )
    out = args.out or RESULTS / f"{result['when'].replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"results written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
