"""Screenshots of ``seqrec explain`` pages, as a browser shows them, for docs/how-it-works.md.

    python scripts/explain_screenshots.py [--out docs]

Runs ``seqrec explain`` on a Speech Commands test clip (a test speaker's "stop", in tests/data)
and on MediaPipe's hand landmarker test video (../shared/data, else the clip in tests/data),
opens each page in headless Chromium (Debian's ``chromium``) and writes the whole page as
``OUT/explain-speech.png`` and ``OUT/explain-video.png``, the page's blank bottom cut off. The
pages themselves go to ``OUT/explain-pages/`` (not committed: a few hundred KB each, rebuilt here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests/data/sc_stop_0fa1e7a9_nohash_0.flac"
VIDEOS = (
    ROOT.parent / "shared/data/hands/video/hand_landmarker_test_video.mp4",
    ROOT / "tests/data/hands/hand_clip.mp4",
)
PAGE_WIDTH = 1000  # pixels: the page's pictures are 960 wide
TALLEST = 12_000  # the browser's window: longer than any page, cut to the page afterwards


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("explain_screenshots: no chromium on PATH (Debian: apt-get install chromium)")
    video = next(path for path in VIDEOS if path.is_file())
    pages = args.out / "explain-pages"
    for name, source in (("speech", CLIP), ("video", video)):
        subprocess.run(
            [sys.executable, "-m", "seqrec.pipelines.cli", "explain", os.path.relpath(source, ROOT)]
            + ["--out", str(pages)],
            check=True,
            cwd=ROOT,
        )
        page = pages / f"{source.stem}.html"
        shot = args.out / f"explain-{name}.png"
        screenshot(browser, page, shot)
        print(f"{shot} ({cv2.imread(str(shot)).shape[0]} px tall) from {page}")
    return 0


def screenshot(browser: str, page: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        raw = Path(profile) / "shot.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={PAGE_WIDTH},{TALLEST}",
                f"--screenshot={raw}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        image = cv2.imread(str(raw))
    inked = np.flatnonzero((image < 245).any(axis=(1, 2)))
    cv2.imwrite(str(target), image[: inked.max() + 20], [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    sys.exit(main())
