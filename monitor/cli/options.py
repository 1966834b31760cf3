"""What every command shares: the config and JSON options, and errors as one clean line.

Exit codes: 0 done; 2 the configuration or the command line is wrong; 3 a source failed or
is suspect (the run still stored everything else); 4 the database refused; 1 anything else.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from store.errors import StoreError

from monitor.errors import ConfigError, MonitorError
from monitor.inert import visible
from monitor.gcpause import paused_gc
from monitor.secrets import redact

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["EXIT_CONFIG", "EXIT_SOURCE", "EXIT_STORE", "clean_errors", "config_option", "console", "json_option", "loading", "print_json"]

EXIT_CONFIG, EXIT_SOURCE, EXIT_STORE = 2, 3, 4
F = TypeVar("F", bound=Callable[..., Any])
# json.dumps escapes C0 itself; DEL and C1 pass through it raw, and can only sit inside strings.
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")


def _fail(message: str, code: int) -> None:
    click.echo(f"sesaku-monitor: error: {visible(redact(message))}", err=True)
    sys.exit(code)


def clean_errors(func: F) -> F:
    """Turn our exceptions into one line on stderr and the documented exit code."""
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            _fail(str(exc), EXIT_CONFIG)
        except StoreError as exc:
            _fail(str(exc), exc.exit_code)  # 4, or the fault's own: locked 5, disk full 6, read-only 7
        except MonitorError as exc:
            _fail(str(exc), 1)
    return wrapper  # type: ignore[return-value]


config_option = click.option(
    "--config", "config_path", default=lambda: os.environ.get("SESAKU_CONFIG", "config.yaml"), show_default="config.yaml or $SESAKU_CONFIG",
    type=click.Path(dir_okay=False), help="Configuration file.",
)
def json_option(func: F) -> F:
    """``--format json|text`` (text by default) and ``--json``, its alias; the command gets ``as_json``."""
    @wraps(func)
    def wrapper(*args: Any, as_json: bool, output_format: str | None, **kwargs: Any) -> Any:
        return func(*args, as_json=as_json or output_format == "json", **kwargs)
    wrapper = click.option("--json", "as_json", is_flag=True, help="The same as --format json.")(wrapper)
    wrapper = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default=None,
                           help="text for people (the default), json for scripts.")(wrapper)
    return wrapper  # type: ignore[return-value]


@contextmanager
def loading() -> Iterator[None]:
    """Around a command's imports and the load of its configuration, which live as long as it does:
    made with the cycle collector paused, then frozen out of every later pass, the one at exit
    included (those passes were a quarter of `sources`, `links` or `snapshots` on a small store).
    Frozen while still paused: the collector's first pass after would walk all they made, still young.
    Open the store after it: frozen, its connection would outlive the pass at exit that closes it
    (a SQLite database's -wal and -shm files left behind)."""
    with paused_gc():
        yield
        gc.freeze()


def console() -> Console:
    """Where commands print for people: a line is never broken by us (the terminal wraps it),
    so piped output keeps one change per line for grep."""
    from rich.console import Console  # only for commands that print tables: --help needs none

    return Console(soft_wrap=True)


def _json_value(value: Any) -> Any:
    """Times as ISO 8601 with their offset (``2026-12-01T08:29:00+00:00``); anything else as text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def print_json(data: Any) -> None:
    """Indented for a person at a terminal; one line for a pipe or a file, since an indent makes
    json use its pure-Python encoder (`status --json` at 18,000 sources: 0.29 s to 0.13 s)."""
    indent = 2 if sys.stdout.isatty() else None
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=_json_value)
    click.echo(_RAW_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text))
