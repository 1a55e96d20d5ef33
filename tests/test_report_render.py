"""The national HTML report, opened as a person would: in a real browser (headless Chromium)."""
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from etl.config import settings
from etl.ingest import ingest_file, list_new_files
from etl.publish import refresh_marts, write_exports
from etl.sample import generate

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, png: Path, height: int = 2400) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
             f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size=1200,{height}",
             page.as_uri()],
            check=True, capture_output=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_national_report_renders_with_its_charts(warehouse_url, iga_home, tmp_path):
    from PIL import Image

    generate(settings().landing, provinces=["MA-TAO", "MA-BER", "MA-ERR", "MA-CHE"])
    for path in list_new_files():
        ingest_file(path)
    refresh_marts()
    report = Path(write_exports()) / "rapport_national.html"
    html = report.read_text(encoding="utf-8")
    assert "src='http" not in html and 'src="http' not in html  # self-contained
    assert html.count("data:image/png;base64,") == 4
    png = tmp_path / "report.png"
    screenshot(report, png)
    image = Image.open(png).convert("L")
    assert image.size == (1200, 2400)
    # The charts are drawn: a large part of the page is neither white nor text-thin.
    histogram = image.histogram()
    painted = sum(histogram[:200]) / (image.size[0] * image.size[1])
    assert painted > 0.05, f"only {painted:.1%} of the page is painted"
    # The top of the page (title and key figures) is not empty either.
    top = image.crop((0, 0, 1200, 300)).histogram()
    assert sum(top[:128]) > 2000
