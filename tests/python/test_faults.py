"""Storage faults between the job and a real S3 server (moto on 127.0.0.1, started by
ci/test.sh): transient faults are retried and the output equals a clean run's; a permanent
error mid-write fails cleanly (exit 4, no _SUCCESS) and the next run succeeds."""
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT

ENDPOINT = os.environ.get("RECIPROCITY_TEST_S3_ENDPOINT")
BUCKET = os.environ.get("RECIPROCITY_TEST_S3_BUCKET")
if not ENDPOINT and os.environ.get("RECIPROCITY_REQUIRE_SERVICES"):
    raise RuntimeError("RECIPROCITY_REQUIRE_SERVICES is set but no S3 server is configured")
pytestmark = pytest.mark.skipif(not ENDPOINT, reason="needs the S3 server that ci/test.sh starts")


def s3():
    import boto3

    return boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def uploaded():
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    client = s3()
    for path in (ROOT / "sample_data").rglob("*.parquet"):
        client.upload_file(str(path), BUCKET, f"{prefix}/in/{path.relative_to(ROOT / 'sample_data')}")
    return prefix


def proxy(*extra):
    port = free_port()
    upstream = ENDPOINT.rsplit(":", 1)[1]
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("faulty_proxy.py")),
                             "--listen", str(port), "--upstream", upstream, *extra],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc, f"http://127.0.0.1:{port}"


def run_job(binary, endpoint, prefix, out, *extra):
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
    url = f"s3://{BUCKET}/{prefix}"
    return subprocess.run(
        [binary, "run", "--follows", f"{url}/in/follows/", "--interactions", f"{url}/in/interactions/",
         "--accounts", f"{url}/in/accounts/", "--out", f"{url}/{out}/", "--log-format", "json",
         "--set", "storage.read_timeout_s=1", "--set", "storage.connect_timeout_s=1",
         "--set", "storage.max_retries=15", "--set", "storage.retry_timeout_s=60", *extra],
        capture_output=True, text=True, env=env, timeout=300)


def objects(prefix):
    listed = s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/").get("Contents", [])
    return {o["Key"][len(prefix) + 1:]: s3().get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
            for o in listed if not o["Key"].endswith("_manifest.json")}


def test_transient_faults_are_retried_and_change_nothing(binary, uploaded):
    clean = run_job(binary, ENDPOINT, uploaded, "clean")
    assert clean.returncode == 0, clean.stderr
    proc, endpoint = proxy("--fault-rate", "0.1", "--seed", "3", "--stall-seconds", "3")
    try:
        faulty = run_job(binary, endpoint, uploaded, "faulty")
    finally:
        proc.kill()
    faults = [line for line in proc.stdout.read().splitlines() if line.startswith("FAULT")]
    kinds = {line.split()[1] for line in faults}
    assert len(faults) >= 5 and kinds == {"503", "reset", "stall"}, faults
    assert faulty.returncode == 0, faulty.stderr[-3000:]
    want, got = objects(f"{uploaded}/clean"), objects(f"{uploaded}/faulty")
    assert "_SUCCESS" in got and "_LOCK" not in got
    assert want == got, "the tables through the faulty proxy equal a clean run's, byte for byte"


def test_a_permanent_error_mid_write_fails_cleanly_and_a_rerun_succeeds(binary, uploaded):
    proc, endpoint = proxy("--fault-rate", "0", "--fail-puts-matching", "/population_summary/")
    try:
        failed = run_job(binary, endpoint, uploaded, "permanent")
    finally:
        proc.kill()
    assert failed.returncode == 4, failed.stderr[-3000:]
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("error: storage error on s3://") and "population_summary" in last, last
    left = objects(f"{uploaded}/permanent")
    assert "_SUCCESS" not in left and "_LOCK" not in left
    rerun = run_job(binary, ENDPOINT, uploaded, "permanent")
    assert rerun.returncode == 0, rerun.stderr
    assert "_SUCCESS" in objects(f"{uploaded}/permanent")
