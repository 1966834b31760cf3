"""``kind: ckan``: a dataset on a CKAN portal, each of its resources a list of its own.

The source's url is the dataset's ``…/api/3/action/package_show?id=…`` (e-Gov データポータル,
prefectural and municipal portals). Its answer lists the dataset's resources (CSV, XLSX,
PDF, …); each is run as a list found on an index page is (``families``): its id is the
dataset's id, '-', and a slug of the resource's name with dates of edition removed, never of
its URL (which changes with every upload); its format is the resource's ``format``. A resource
appearing or leaving is ``list_added`` / ``list_removed``. A resource in a format no parser
reads (a ZIP, an API endpoint) is left out with a warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitor.errors import ParseError
from monitor.lists.encoding import without_surrogates
from monitor.lists.index_links import edition_free, note_free

__all__ = ["CkanResource", "LIST_FORMATS", "dataset_resources"]

# The resource formats CKAN portals write, and the parser that reads each.
LIST_FORMATS = {"csv": "csv", "tsv": "tsv", "xlsx": "xlsx", "xls": "xlsx", "excel": "xlsx", "pdf": "pdf",
                "html": "html-table", "htm": "html-table", "txt": "text-table", "text": "text-table"}


@dataclass(frozen=True, slots=True)
class CkanResource:
    """One resource of the dataset that a parser can read."""

    title: str
    id_name: str
    url: str
    format: str


def dataset_resources(body: bytes, where: str) -> tuple[list[CkanResource], list[str]]:
    """The readable resources of a ``package_show`` answer, in its order, and warnings about the others."""
    result = _result(body, where)
    resources: list[CkanResource] = []
    warnings: list[str] = []
    for number, item in enumerate(result.get("resources") or [], start=1):
        if not isinstance(item, dict):
            raise ParseError(f"{where}: resource {number} is not an object")
        name = without_surrogates(note_free(str(item.get("name") or item.get("description") or "")))
        url, kind = without_surrogates(str(item.get("url") or "").strip()), str(item.get("format") or "").strip().lower().lstrip(".")
        if not name or not url.lower().startswith(("http://", "https://")):
            warnings.append(f"{where}: resource {number} has no name or no http(s) url; it is left out")
        elif kind not in LIST_FORMATS:
            warnings.append(f"{where}: resource {name!r} is in format {kind or '(none)'!r}, which no parser reads; it is left out")
        else:
            resources.append(CkanResource(name, edition_free(name), url, LIST_FORMATS[kind]))
    return resources, warnings


def _result(body: bytes, where: str) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, or an integer of 4,300+ digits
        raise ParseError(f"{where}: not a CKAN answer: not JSON ({exc})") from None
    except RecursionError:  # [[[[… a few hundred KB deep: Python's json gives up, and must not take the run along
        raise ParseError(f"{where}: not a CKAN answer: JSON nested too deeply to read") from None
    if not isinstance(answer, dict) or answer.get("success") is not True or not isinstance(answer.get("result"), dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        raise ParseError(f"{where}: not a CKAN package_show answer (success is not true{f': {error}' if error else ''})")
    result: dict[str, Any] = answer["result"]
    return result
