"""Reading PDFs in tests: text through pypdf, page 1 as a PNG through poppler's pdftoppm."""

import io
import shutil
import subprocess
from pathlib import Path

from pypdf import PdfReader

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pdf_text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def save_first_page_png(pdf: bytes, name: str) -> Path | None:
    """``test-artifacts/<name>.png`` of page 1, or None when pdftoppm (poppler-utils) is missing."""
    if shutil.which("pdftoppm") is None:
        return None
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(source), str(ARTIFACTS / name)],  # noqa: S607
        check=True,
        timeout=60,
    )
    return ARTIFACTS / f"{name}.png"
