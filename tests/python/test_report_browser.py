"""The sample run's report in headless Chromium: it renders to a non-blank PNG and the
rendered DOM has the expected sections. ci/test.sh installs Debian's chromium."""
import os
import shutil
import subprocess

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and os.environ.get("RECIPROCITY_REQUIRE_SERVICES") and os.environ.get("CI"):
    raise RuntimeError("RECIPROCITY_REQUIRE_SERVICES is set but chromium is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs chromium (ci/test.sh installs it)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def test_sample_report_renders_in_chromium(binary, tmp_path):
    out = tmp_path / "out"
    subprocess.run([binary, "run", "--job", "jobs/sample.toml", "--set", f"output.out={out}", "--report"],
                   cwd=ROOT, check=True, capture_output=True)
    page = out / "report.html"
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    for section in ["Population", "Follow-back by audience size", "Follow-back camps", "People talk to a handful",
                    "Attention inequality", "Since the night before", "Brands"]:
        assert section in dom, section
    png = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                    "--window-size=1100,3000", page.as_uri()], capture_output=True, timeout=120)
    from PIL import Image

    image = Image.open(png).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert image.size == (1100, 3000)
    assert colours is not None and len(colours) > 50, "the page is not blank"
    if os.environ.get("RECIPROCITY_SAVE_SCREENSHOT"):
        shutil.copy(png, os.environ["RECIPROCITY_SAVE_SCREENSHOT"])
