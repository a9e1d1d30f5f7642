"""The report's HTML page: one self-contained file (the PNGs embedded as data URIs, also
written beside it), readable offline.

The page records, on its own ``<body>``, how many images it has and how many loaded
(``data-images``, ``data-loaded``) and how many script or resource errors it saw
(``data-errors``), so a headless browser can check it.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

CHECK_SCRIPT = """
<script>
  window.reportErrors = [];
  window.addEventListener("error", function (e) {
    window.reportErrors.push(String(e.message || (e.target && e.target.src) || e));
    document.body.dataset.errors = String(window.reportErrors.length);
  }, true);
  window.addEventListener("load", function () {
    var images = Array.prototype.slice.call(document.images);
    document.body.dataset.images = String(images.length);
    document.body.dataset.loaded = String(images.filter(function (i) {
      return i.complete && i.naturalWidth > 0;
    }).length);
    document.body.dataset.errors = String(window.reportErrors.length);
  });
</script>
"""

STYLE = """
<style>
  body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1500px; }
  h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
  .map { display: flex; gap: 2em; align-items: flex-start; }
  .map > div { flex: 3; } .clusters { flex: 1; font-size: 0.85em; min-width: 18em; }
  .clusters li { margin-bottom: 0.4em; }
  img { max-width: 100%; border: 1px solid #ddd; }
  .note { color: #555; font-size: 0.9em; }
</style>
"""


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def write_page(out: Path, title: str, sections: list[dict]) -> Path:
    """``sections``: dicts with ``heading``, optional ``image`` (a PNG path), ``note`` and
    ``side`` (a list of (name, items) shown beside the image)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        STYLE,
        CHECK_SCRIPT,
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in sections:
        parts.append(f"<h2>{html.escape(s['heading'])}</h2>")
        if s.get("note"):
            parts.append(f'<p class="note">{html.escape(s["note"])}</p>')
        image = _image(s["image"], s["heading"]) if s.get("image") else ""
        if s.get("side"):
            items = "".join(
                f"<li><b>{html.escape(name)}</b>: {html.escape(', '.join(words))}</li>"
                for name, words in s["side"]
            )
            parts.append(
                f'<div class="map"><div>{image}</div><ol class="clusters">{items}</ol></div>'
            )
        elif image:
            parts.append(f"<div>{image}</div>")
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
