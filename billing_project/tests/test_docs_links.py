"""The documentation holds together: every relative link in the README, CONTRIBUTING.md and docs/
leads to a file (and a heading) that exists, every repository path they name in backticks exists,
every page of docs/ is on the README's map, and the README stays a front door."""

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md")])
README_MAX_LINES = 250

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
# What a repository path looks like: no spaces, no placeholders (`<app>/…`), no URL paths (`/api/…`).
_PATHISH = re.compile(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*/?")
_FILE_SUFFIXES = {".py", ".md", ".html", ".css", ".js", ".json", ".toml", ".ini", ".in", ".txt", ".sql", ".png"}
_FILE_SUFFIXES |= {".example", ".sh", ".yml", ".yaml", ".cfg"}
# Written by runs, never committed: a mention of one is not a path to check.
_NOT_IN_REPO = {".git", ".venv", ".hypothesis", ".pytest_cache", ".mypy_cache", ".ruff_cache", "test-artifacts"}


def _prose(text: str) -> str:
    """The text without its fenced code blocks (shell sessions, diagrams): what remains is prose."""
    return _FENCE.sub("", text)


def _top_level_dirs() -> set[str]:
    return {p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in _NOT_IN_REPO}


def _file_names() -> set[str]:
    names = set()
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if path.is_file() and not any(part in _NOT_IN_REPO or part == "__pycache__" for part in parts):
            names.add(path.name)
    return names


def _repo_paths(text: str) -> list[str]:
    """Backticked names that are paths in this repository: under one of its top-level directories,
    or a file name with a source or document suffix (`requirements.in`, `bills.py`)."""
    top = _top_level_dirs()
    found = []
    for span in _CODE_SPAN.findall(_prose(text)):
        if not _PATHISH.fullmatch(span):
            continue
        first = span.split("/", 1)[0]
        if ("/" in span and first in top) or Path(span.rstrip("/")).suffix in _FILE_SUFFIXES:
            found.append(span)
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: its rendered text lower-cased, punctuation dropped, spaces as
    hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = text.replace("`", "").strip().lower()
    kept = "".join(ch for ch in text if ch in " -_" or ch.isalnum() or unicodedata.category(ch).startswith("M"))
    return kept.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, heading in _HEADING.findall(_prose(path.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _name(doc: Path) -> str:
    return doc.relative_to(ROOT).as_posix()


def _broken_links(text: str, page: Path) -> list[str]:
    broken = []
    for target in _LINK.findall(_CODE_SPAN.sub("", _prose(text))):  # a link in code is no link
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        if target.startswith("/"):
            broken.append(f"{target} (links are relative to the page)")
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif ROOT not in linked.parents and linked != ROOT:
            broken.append(f"{target} (outside the repository)")
        elif anchor and (linked.suffix != ".md" or anchor not in _anchors(linked)):
            broken.append(f"{target} (no such heading)")
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_every_relative_link_leads_somewhere(doc):
    broken = _broken_links(doc.read_text(encoding="utf-8"), doc)
    assert not broken, f"{_name(doc)}: broken links: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_every_repository_path_named_exists(doc):
    names = _file_names()
    missing = []
    for span in _repo_paths(doc.read_text(encoding="utf-8")):
        exists = (ROOT / span).exists() if "/" in span else span in names
        if not exists:
            missing.append(span)
    assert not missing, f"{_name(doc)} names paths that do not exist: {missing}"


def test_the_paths_check_finds_paths_and_only_paths():
    text = "`purchases/numbering.py`, `requirements.in`, `/api/v1/`, `M/2627/000123`, `10/min`, `<app>/x.py`"
    assert _repo_paths(text) == ["purchases/numbering.py", "requirements.in"]
    assert _repo_paths("```sh\nls `purchases/nowhere.py`\n```\n") == []


def test_the_links_check_finds_broken_links():
    page = ROOT / "docs" / "README.md"
    text = (
        "[ok](api.md#errors) [file](nowhere.md) [heading](api.md#no-such-heading) [abs](/docs/api.md) "
        "[web](https://example.com/x.md) `[code](nowhere.md)`"
    )
    assert _broken_links(text, page) == [
        "nowhere.md (no such file)",
        "api.md#no-such-heading (no such heading)",
        "/docs/api.md (links are relative to the page)",
    ]


def test_anchors_are_githubs():
    assert _slug("The bill's statement plan") == "the-bills-statement-plan"
    assert _slug("The back office (`/admin/`)") == "the-back-office-admin"
    assert _slug("The rehearsal: `make cluster-check`") == "the-rehearsal-make-cluster-check"


def test_every_docs_page_is_on_the_readme_map():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in _LINK.findall(readme)}
    unlisted = [_name(page) for page in (ROOT / "docs").glob("*.md") if page.resolve() not in linked]
    assert not unlisted, f"docs pages missing from the README's map: {unlisted}"


def test_the_readme_stays_a_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move reference material into docs/"
