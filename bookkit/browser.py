"""Headless Chromium (Debian's `chromium`): screenshots with the console log, and printing to PDF.

Used by `make pdf` and by the book checks (a page renders without uncaught JavaScript errors and
the screenshot is not blank).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "find_chromium",
    "RenderReport",
    "screenshot",
    "rendered_dom",
    "page_check",
    "print_to_pdf",
    "image_variance",
    "pdf_page_count",
]

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
]
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]\s*\"(?P<msg>.*)\", source: (?P<src>.*)$")


def find_chromium() -> str | None:
    """Path of the Chromium binary (Debian's `chromium`, else chromium-browser/google-chrome), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class RenderReport:
    """A rendered page: the PNG, every console message, and the uncaught JavaScript errors among them."""

    png: Path
    console: list[str]
    uncaught_errors: list[str]


def _as_url(page: str | Path) -> str:
    page = str(page)
    return page if "://" in page else Path(page).resolve().as_uri()


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("Chromium is not installed (Debian: sudo apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="dcca-chromium-") as profile:
        return subprocess.run(
            [chromium, *_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def screenshot(
    page: str | Path, png: str | Path, *, width: int = 1280, height: int = 1600, timeout: float = 60
) -> RenderReport:
    """Render `page` (a file path or URL) to `png`, capturing the browser console."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    proc = _run(
        ["--enable-logging=stderr", "--v=1", f"--window-size={width},{height}", f"--screenshot={png}", _as_url(page)],
        timeout,
    )
    if not png.exists():
        raise RuntimeError(
            f"chromium wrote no screenshot of {page} (exit {proc.returncode}):\n"
            + "\n".join(proc.stderr.splitlines()[-15:])
        )
    console = []
    for line in proc.stderr.splitlines():
        match = _CONSOLE.search(line)
        if match:
            console.append(f"{match['msg']} ({match['src']})")
    uncaught = [msg for msg in console if msg.startswith("Uncaught")]
    return RenderReport(png, console, uncaught)


def rendered_dom(page: str | Path, *, timeout: float = 60) -> str:
    """The page's DOM after its scripts ran (e.g. to see whether MathJax typeset the equations)."""
    proc = _run(["--virtual-time-budget=10000", "--dump-dom", _as_url(page)], timeout)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(
            f"chromium dumped no DOM for {page} (exit {proc.returncode}):\n" + "\n".join(proc.stderr.splitlines()[-15:])
        )
    return proc.stdout


_CHECK_SCRIPT = """
<script>
window.addEventListener('load', () => setTimeout(() => {
  const article = document.querySelector('article') || document.body;
  const wide = [];
  for (const el of article.querySelectorAll('pre, table, img, .cell_output, .output, mjx-container')) {
    let box = el.parentElement;  // the nearest block that holds it (inline math sits in a <span>)
    while (box && getComputedStyle(box).display.startsWith('inline')) box = box.parentElement;
    const limit = box ? box.clientWidth : 0;
    const width = Math.max(el.scrollWidth, el.getBoundingClientRect().width);
    if (limit > 0 && width > limit + 2) {
      wide.push({tag: el.tagName.toLowerCase(), cls: String(el.className).slice(0, 60), width: Math.round(width),
                 limit: Math.round(limit), text: (el.innerText || el.getAttribute('src') || '').slice(0, 80)});
    }
  }
  const broken = [...article.querySelectorAll('img')].filter(i => !(i.complete && i.naturalWidth > 0))
                                                      .map(i => i.getAttribute('src'));
  const mathErrors = document.querySelectorAll('mjx-merror, .MathJax_Error').length;
  const out = document.createElement('pre');
  out.id = 'dcca-page-check';
  out.textContent = JSON.stringify({wide, broken, mathErrors, banner: !!article.querySelector('.admonition')});
  document.body.appendChild(out);
}, 1500));
</script>
"""


def page_check(page: str | Path, *, width: int = 1280, timeout: float = 90) -> dict:
    """Render `page` at `width` px and report what a reader would see broken: elements wider than
    their container (`wide`: tag, width, limit, text), images that did not load (`broken`), MathJax
    errors (`mathErrors`) and whether an admonition banner is there. A copy of the page with a
    measuring script is rendered beside it (same folder, so every relative link resolves)."""
    import json

    page = Path(page).resolve()
    probe = page.with_name(f".check-{page.name}")
    html = page.read_text(encoding="utf-8")
    probe.write_text(
        html.replace("</body>", _CHECK_SCRIPT + "</body>") if "</body>" in html else html + _CHECK_SCRIPT,
        encoding="utf-8",
    )
    try:
        proc = _run(
            [f"--window-size={width},1200", "--virtual-time-budget=15000", "--dump-dom", _as_url(probe)], timeout
        )
    finally:
        probe.unlink(missing_ok=True)
    match = re.search(r'<pre id="dcca-page-check">(.*?)</pre>', proc.stdout, flags=re.S)
    if not match:
        raise RuntimeError(f"the page check did not run on {page} (exit {proc.returncode})")
    import html as htmllib

    return json.loads(htmllib.unescape(match.group(1)))


def print_to_pdf(page: str | Path, pdf: str | Path, *, timeout: float = 300) -> Path:
    """Print `page` to `pdf` with Chromium's print engine (no header/footer, backgrounds kept)."""
    pdf = Path(pdf).resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    proc = _run(
        [
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=20000",
            f"--print-to-pdf={pdf}",
            _as_url(page),
        ],
        timeout,
    )
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(
            f"chromium wrote no PDF for {page} (exit {proc.returncode}):\n" + "\n".join(proc.stderr.splitlines()[-15:])
        )
    return pdf


def image_variance(png: str | Path) -> float:
    """Variance of the pixel values of an image (0 for a blank, single-colour page)."""
    import numpy as np

    try:
        from PIL import Image

        with Image.open(png) as img:
            pixels = np.asarray(img.convert("RGB"), dtype=np.float64)
    except ImportError:  # PIL comes with matplotlib, but do not depend on it
        import matplotlib.image as mpimg

        pixels = np.asarray(mpimg.imread(str(png)), dtype=np.float64)
    return float(pixels.var())


def pdf_page_count(pdf: str | Path) -> int:
    """Pages in a PDF, counted from its page objects (no PDF library needed for Chromium's output)."""
    data = Path(pdf).read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
