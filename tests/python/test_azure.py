"""The binary against a real Azure Blob server (Azurite on 127.0.0.1, started by ci/test.sh):
az:// in and out, tables byte-identical to a local run, the lock and _SUCCESS on Azure."""
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT

URL = os.environ.get("RECIPROCITY_TEST_AZURITE_URL")
if not URL and os.environ.get("RECIPROCITY_REQUIRE_SERVICES") and os.environ.get("CI"):
    raise RuntimeError("RECIPROCITY_REQUIRE_SERVICES is set but Azurite is not running")
pytestmark = pytest.mark.skipif(not URL, reason="needs the Azurite server that ci/test.sh starts")

# Azurite's well-known development account (public, documented by Microsoft).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def container():
    from azure.storage.blob import BlobServiceClient

    conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};"
            f"BlobEndpoint={URL}/devstoreaccount1;")
    service = BlobServiceClient.from_connection_string(conn)
    name = f"reciprocity-{uuid.uuid4().hex[:8]}"
    for _ in range(50):  # Azurite takes a few seconds to start
        try:
            return service.create_container(name)
        except Exception:
            time.sleep(0.3)
    raise RuntimeError("Azurite did not answer")


def test_sample_from_azure_to_azure_equals_the_local_run(binary, tmp_path):
    blobs = container()
    for path in (ROOT / "sample_data").rglob("*.parquet"):
        blobs.upload_blob(f"in/{path.relative_to(ROOT / 'sample_data')}", path.read_bytes())
    env = dict(os.environ, AZURE_STORAGE_USE_EMULATOR="true", AZURITE_BLOB_STORAGE_URL=URL)
    url = f"az://{blobs.container_name}"
    args = ["--follows", f"{url}/in/follows/", "--interactions", f"{url}/in/interactions/",
            "--accounts", f"{url}/in/accounts/", "--previous-follows", f"{url}/in/previous/follows/"]
    remote = subprocess.run([binary, "run", *args, "--out", f"{url}/out/"], capture_output=True, text=True, env=env)
    assert remote.returncode == 0, remote.stderr[-3000:]
    local = tmp_path / "local"
    here = subprocess.run([binary, "run", "--follows", "sample_data/follows", "--interactions", "sample_data/interactions",
                           "--accounts", "sample_data/accounts", "--previous-follows", "sample_data/previous/follows",
                           "--out", str(local)], cwd=ROOT, capture_output=True, text=True)
    assert here.returncode == 0, here.stderr

    names = {b.name for b in blobs.list_blobs(name_starts_with="out/")}
    assert "out/_SUCCESS" in names and "out/_LOCK" not in names
    local_parts = {str(p.relative_to(local)): p.read_bytes() for p in local.rglob("*.parquet")}
    assert local_parts and {f"out/{k}" for k in local_parts} <= names
    for relative, data in local_parts.items():
        assert blobs.download_blob(f"out/{relative}").readall() == data, relative

    again = subprocess.run([binary, "run", *args, "--out", f"{url}/out/"], capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "already holds this run" in again.stderr, again.stderr
    other = subprocess.run([binary, "run", *args, "--min-followers", "4", "--out", f"{url}/out/"],
                           capture_output=True, text=True, env=env)
    assert other.returncode == 2 and "already holds a completed run" in other.stderr, other.stderr


def test_transient_faults_in_front_of_azure_are_retried_and_change_nothing(binary):
    """The fault-injecting proxy of test_faults.py between the job and Azurite: 503s, resets
    and stalls are retried, and the tables equal a clean run's byte for byte."""
    import sys

    from test_faults import free_port

    blobs = container()
    for path in (ROOT / "sample_data").rglob("*.parquet"):
        blobs.upload_blob(f"in/{path.relative_to(ROOT / 'sample_data')}", path.read_bytes())
    url = f"az://{blobs.container_name}"
    args = ["--follows", f"{url}/in/follows/", "--interactions", f"{url}/in/interactions/",
            "--accounts", f"{url}/in/accounts/", "--set", "storage.read_timeout_s=1",
            "--set", "storage.connect_timeout_s=1", "--set", "storage.max_retries=15",
            "--set", "storage.retry_timeout_s=60"]

    def run(endpoint, out):
        env = dict(os.environ, AZURE_STORAGE_USE_EMULATOR="true", AZURITE_BLOB_STORAGE_URL=endpoint)
        return subprocess.run([binary, "run", *args, "--out", f"{url}/{out}/"], capture_output=True, text=True,
                              env=env, timeout=300)

    clean = run(URL, "clean")
    assert clean.returncode == 0, clean.stderr[-3000:]
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("faulty_proxy.py")), "--listen", str(port),
                             "--upstream", URL.rsplit(":", 1)[1], "--fault-rate", "0.1", "--seed", "5",
                             "--stall-seconds", "3"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    try:
        faulty = run(f"http://127.0.0.1:{port}", "faulty")
    finally:
        proc.kill()
    faults = [line for line in proc.stdout.read().splitlines() if line.startswith("FAULT")]
    assert len(faults) >= 3, faults
    assert faulty.returncode == 0, faulty.stderr[-3000:]

    def tables(out):
        return {b.name[len(out) + 1:]: blobs.download_blob(b.name).readall()
                for b in blobs.list_blobs(name_starts_with=f"{out}/") if b.name.endswith(".parquet")}

    names = {b.name for b in blobs.list_blobs(name_starts_with="faulty/")}
    assert "faulty/_SUCCESS" in names and "faulty/_LOCK" not in names
    assert tables("clean") == tables("faulty")
