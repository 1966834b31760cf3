"""``${VAR}`` in config.yaml, substituted from this process's environment.

One substitution for every reader of the configuration: the full load (``monitor.config``) and
``status``'s view of a checked file (``monitor.config_view``), so that a secret is never read
from anywhere but the environment of the process that uses it.
"""

from __future__ import annotations

import os
import re
from typing import Any

from monitor.errors import ConfigError
from monitor.secrets import Secrets

__all__ = ["DATABASE_URL_ENV", "VAR", "database_url_override", "expand"]

# Set, it is the database of every command, whatever config.yaml says.
DATABASE_URL_ENV = "SESAKU_DATABASE_URL"
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(value: Any, where: str, secrets: Secrets) -> tuple[Any, Secrets]:
    """``value`` with every ``${VAR}`` substituted, and ``secrets`` grown by what was substituted."""
    if isinstance(value, str):
        if "${" not in value:
            return value, secrets
        found: dict[str, str] = {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"{where}: environment variable {name} is not set")
            found[os.environ[name]] = name
            return os.environ[name]
        expanded = VAR.sub(replace, value)
        return expanded, secrets.merged(Secrets({v: n for v, n in found.items() if v}, {expanded: value} if found else {}))
    if isinstance(value, dict):
        mapping: dict[Any, Any] = {}
        for key, item in value.items():
            # Nearly every value is a plain string (18,000 sources are 100,000 of them): kept as it
            # is, without a call or a path written for it (that was a quarter of a cached load).
            if type(item) is str and "${" not in item:
                mapping[key] = item
            else:
                mapping[key], secrets = expand(item, f"{where}.{key}", secrets)
        return mapping, secrets
    if isinstance(value, list):
        items: list[Any] = []
        for index, item in enumerate(value):
            if type(item) is not str or "${" in item:
                item, secrets = expand(item, f"{where}[{index}]", secrets)
            items.append(item)
        return items, secrets
    return value, secrets


def database_url_override() -> str | None:
    """``$SESAKU_DATABASE_URL`` when set (and not empty): it wins over ``database.url``."""
    return os.environ.get(DATABASE_URL_ENV) or None
