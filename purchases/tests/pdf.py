"""Reading PDFs in tests: text and fonts through pypdf, words with their boxes and page 1 as a PNG
through poppler (``pdftotext``, ``pdftoppm``; Debian's poppler-utils, which ``.ci/run`` installs)."""

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import cast

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pdf_text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_fonts_of(pdf: bytes) -> set[str]:
    """The base names of the fonts embedded in the PDF, without their subset prefix: ``Noto-Sans-Tamil``."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        fonts = cast(DictionaryObject, resources["/Font"].get_object()) if "/Font" in resources else {}
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1])
    return names


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class PageWords:
    width: float
    height: float
    words: list[Word]


def pdf_words_of(pdf: bytes) -> list[PageWords]:
    """Every page's words with their boxes (points from the top left), from ``pdftotext -bbox``.
    Text drawn outside a page is not on it, so it is not listed."""
    if shutil.which("pdftotext") is None:
        raise RuntimeError("pdftotext is missing: install poppler-utils (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "document.pdf"
        source.write_bytes(pdf)
        html = subprocess.run(  # noqa: S603
            ["pdftotext", "-bbox", str(source), "-"],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    pages = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        words = [
            Word(unescape(text), float(x0), float(y0), float(x1), float(y1))
            for x0, y0, x1, y1, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page[3]
            )
        ]
        pages.append(PageWords(float(page[1]), float(page[2]), words))
    return pages


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
