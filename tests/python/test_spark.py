"""The Spark job (jobs/spark/job.py) in local[2]: its tables are byte-identical to the binary's.

Spark routes rows by pmod(xxhash64(id), K) and runs reciprocity's kernels per bucket through
the `reciprocity_spark` extension; the driver publishes with the binary's own code. ci/test.sh
installs pyspark and builds the extension; elsewhere these tests skip unless
RECIPROCITY_REQUIRE_SERVICES is set.
"""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

TABLES = ["account_metrics", "population_summary", "reciprocity_by_followers", "brand_audience", "follow_changes"]


def spark_ready():
    try:
        import pyspark  # noqa: F401
        import reciprocity_spark  # noqa: F401
    except ImportError as e:
        if os.environ.get("RECIPROCITY_REQUIRE_SERVICES"):
            raise
        pytest.skip(f"Spark job needs pyspark and the reciprocity_spark extension: {e}")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java")


def run_spark(args):
    env = dict(os.environ, RECIPROCITY_SPARK_MASTER="local[2]", PYSPARK_PYTHON=sys.executable)
    return subprocess.run(
        [sys.executable, "jobs/spark/job.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def table_bytes(out):
    found = {}
    for table in TABLES:
        for part in sorted((out / table).glob("*.parquet")):
            found[f"{table}/{part.name}"] = part.read_bytes()
    return found


# The window drops events by the binary's rule in the extension (a start with sub-microsecond
# digits: compared in ns, as the binary does).
@pytest.mark.parametrize("buckets,window", [("1", []), ("5", []), ("3", ["--window-start", "2025-11-08T00:00:00.000000500Z"])])
def test_spark_tables_are_byte_identical_to_the_binary_s(binary, tmp_path, buckets, window):
    spark_ready()
    common = ["--job", "jobs/sample.toml", "--date", "2026-11-28", "--min-followers", "5", *window]
    expected = tmp_path / "binary"
    subprocess.run([binary, "run", *common, "--out", str(expected)], cwd=ROOT, check=True, capture_output=True)
    out = tmp_path / "spark"
    done = run_spark([*common, "--out", str(out), "--buckets", buckets])
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "_SUCCESS").exists()
    assert f"computed by   spark in {buckets} buckets" in done.stderr
    want, got = table_bytes(expected), table_bytes(out)
    assert sorted(got) == sorted(want)
    assert any(name.startswith("follow_changes/") for name in want), "every table is compared"
    for name, data in want.items():
        assert got[name] == data, f"{name} differs from the binary's"
    import json

    m = json.loads((out / "_manifest.json").read_text())
    b = json.loads((expected / "_manifest.json").read_text())
    assert m["execution"] == {"mode": "spark", "buckets": int(buckets), "spill_bytes": None}
    assert m["rejected"] == b["rejected"]
    assert (b["rejected"]["outside_window"] > 0) == bool(window)
    assert m["accounts"] == b["accounts"]


def test_the_spark_job_refuses_what_it_cannot_do_before_starting(tmp_path):
    spark_ready()
    done = run_spark(["--job", "jobs/sample.toml", "--out", str(tmp_path / "o"), "--reach-2hop", "estimate"])
    assert done.returncode != 0
    assert "reach_2hop exactly" in done.stderr
    done = run_spark(["--follows", "sample_data/nope", "--out", str(tmp_path / "o")])
    assert done.returncode != 0
    assert "has no Parquet objects" in done.stderr
    assert not (tmp_path / "o").exists()
