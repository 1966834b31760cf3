"""Render a digest as a :class:`Message`: subject, plain text, HTML and a JSON payload.

Rendering never sends. Templates are Jinja2 files (``subject.txt.j2``, ``digest.txt.j2``,
``digest.html.j2``); a notifier may name its own template directory, searched before the
built-in one, so a user overrides only the files they want. HTML is autoescaped (a measure
named ``<script>`` stays text) and undefined names are errors, so a typo in a user's
template is reported as one line naming the file and line instead of a blank message.
Control characters from a list are shown as ``\\xNN`` in all three (``monitor.inert``): a
mail client or ``digest --preview`` on a terminal never receives them raw.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from monitor.config.notifiers import TEMPLATE_NAMES
from monitor.errors import NotifyError
from monitor.inert import visible

from notifiers.digest import Digest, EndingSection, Entry, FieldChange, SourceGroup
from monitor.textdiff import DiffRun

__all__ = ["BUILTIN_TEMPLATES", "TEMPLATE_NAMES", "Message", "digest_payload", "render"]

BUILTIN_TEMPLATES = Path(__file__).with_name("templates")
PAYLOAD_SCHEMA = "sesaku-monitor.digest/1"


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered digest; ``json`` is the webhook payload (plain JSON types only)."""

    subject: str
    text: str
    html: str
    json: dict[str, Any]


def render(digest: Digest, *, template_dir: str | Path | None = None) -> Message:
    env = _environment(str(template_dir) if template_dir else None)
    context = {"digest": digest, "labels": digest.labels}
    subject = visible(" ".join(_render(env, "subject.txt.j2", context).split()))
    context["subject"] = subject
    text = visible(_render(env, "digest.txt.j2", context))
    html = visible(_render(env, "digest.html.j2", context))
    return Message(subject, text, html, digest_payload(digest, subject=subject, text=text))


@functools.lru_cache(maxsize=16)
def _environment(template_dir: str | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not Path(template_dir).is_dir():
            raise NotifyError(f"template directory {template_dir} does not exist")
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(jinja2.FileSystemLoader(BUILTIN_TEMPLATES))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["diff_text"] = diff_text
    env.filters["old_side"] = lambda runs: diff_text(runs, side="delete")
    env.filters["new_side"] = lambda runs: diff_text(runs, side="insert")
    return env


def diff_text(runs: tuple[DiffRun, ...], *, side: str | None = None) -> str:
    """A word diff as plain text, marked the way ``git diff --word-diff`` does; with ``side``
    (``delete`` or ``insert``) only the old or the new text, its own changes marked."""
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    return "".join(marks[run.op].format(run.text) for run in runs if side is None or run.op in ("equal", side))


def _load(env: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise NotifyError(
            f"template {exc.filename or exc.name}, line {exc.lineno}: {_one_line(exc.message or '')}"
        ) from exc
    except jinja2.TemplateError as exc:
        raise NotifyError(f"template {name}: {_one_line(str(exc))}") from exc


def _render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    template = _load(env, name)
    try:
        return template.render(context)
    # Anything a template can raise (undefined name, a filter given the wrong type, a
    # division by zero) is the template's fault: report where it is, and carry the cause.
    except Exception as exc:
        raise NotifyError(f"template {_where(exc, template)}: {_one_line(str(exc)) or type(exc).__name__}") from exc


def _where(exc: BaseException, template: jinja2.Template) -> str:
    """The template file and line a render error came from (Jinja2 rewrites tracebacks to them)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return f"{frame.filename}, line {frame.lineno}"
    return template.filename or template.name or "?"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def digest_payload(digest: Digest, *, subject: str, text: str) -> dict[str, Any]:
    """The digest as JSON types: what generic webhooks receive and presets are shaped from."""
    return {
        "schema": PAYLOAD_SCHEMA,
        "notifier_id": digest.notifier_id,
        "language": digest.language,
        "generated_at": digest.generated_at.isoformat(),
        "idempotency_key": digest.idempotency_key,
        "subject": subject,
        "all_quiet": digest.is_empty,
        "total": digest.total,
        "counts": {count.kind: count.count for count in digest.counts},
        "event_ids": list(digest.event_ids),
        "sources": [_source_json(source) for source in digest.sources],
        "ending": _ending_json(digest.ending),
        "text": text,
    }


def _ending_json(section: EndingSection | None) -> dict[str, Any] | None:
    """The 「N日以内に終了予定」 section (None: the notifier has no ``ending_within_days``)."""
    if section is None:
        return None
    return {
        "days": section.days, "title": section.title, "from": section.first.isoformat(), "to": section.last.isoformat(),
        "items": [{"measure_id": i.measure_id, "name": i.name, "url": i.url, "end_date": i.end_date.isoformat(),
                   "source_id": i.source_id, "source_title": i.source_title, "department": i.department} for i in section.items],
    }


def _source_json(source: SourceGroup) -> dict[str, Any]:
    return {
        "id": source.id,
        "title": source.title,
        "url": source.url,
        "kinds": [
            {"kind": g.kind, "label": g.label, "count": g.count, "entries": [_entry_json(e) for e in g.entries]}
            for g in source.kinds
        ],
    }


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "event_id": entry.event_id,
        "kind": entry.kind,
        "title": entry.title,
        "url": entry.url,
        "facts": [{"label": f.label, "value": f.value, "url": f.url} for f in entry.facts],
        "changes": [_change_json(c) for c in entry.changes],
        "measures": [{"id": m.id, "name": m.name, "url": m.url} for m in entry.measures],
    }


def _change_json(change: FieldChange) -> dict[str, Any]:
    diff = None if change.diff is None else [{"op": run.op, "text": run.text} for run in change.diff]
    return {"column": change.column, "old": change.old, "new": change.new, "diff": diff}
