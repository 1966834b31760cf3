"""What each notifier type needs to deliver, as pydantic models that refuse unknown keys.

These cover the transport only (server, credentials, recipients, URL). What a notifier
wants (sources, kinds, schedule, language, templates) is common to every type and belongs
to the notifier's entry in config.yaml, not here. Secrets are ``SecretStr``: they print as
``**********`` in reprs, validation errors and logs.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from functools import cache
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from monitor.errors import ConfigError

if TYPE_CHECKING:
    from email.headerregistry import Address

__all__ = ["DEFAULT_SMTP_PORTS", "NOTIFIER_OPTIONS", "EmailOptions", "NotifierOptions", "WebhookOptions", "parse_address",
           "parse_options"]

DEFAULT_SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}

# atext of RFC 5322 plus any non-ASCII (RFC 6531), dot-separated; domain labels likewise.
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-"
_LETTER = "A-Za-z0-9\u0080-\U0010ffff"
_LOCAL = rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*"
_LABEL = rf"[{_LETTER}](?:[{_LETTER}-]*[{_LETTER}])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"


@cache
def _addr_spec() -> re.Pattern[str]:
    # Compiled at the first address read, not at import: its ranges up to U+10FFFF took 30 ms
    # of every process that loads the configuration (a `check` with no notifier among them).
    return re.compile(rf"({_LOCAL})@({_DOMAIN})")


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_address(text: str) -> Address:
    """One mailbox (``name <local@domain>`` or ``local@domain``), or ValueError naming it."""
    # The email package's header parser (25 modules) loads with the first address, not with every configuration.
    from email.headerregistry import Address
    from email.utils import getaddresses

    pairs = getaddresses([text])
    match = _addr_spec().fullmatch(pairs[0][1]) if len(pairs) == 1 else None
    if match is None or "\r" in text or "\n" in text:
        raise ValueError(f"malformed email address {text!r}")
    return Address(display_name=pairs[0][0], username=match[1], domain=match[2])


class NotifierOptions(BaseModel):
    """Base of every notifier type's options; unknown keys are an error."""

    # Built where a config first validates one (defer_build): a config uses few of them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class EmailOptions(NotifierOptions):
    smtp_host: str = Field(min_length=1)
    smtp_port: int | None = Field(default=None, ge=1, le=65535, description="default: 587, 465 or 25 by security")
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str
    recipients: list[str] = Field(min_length=1)
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    ca_file: str | None = Field(default=None, description="PEM bundle trusted instead of the system's CAs")

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_SMTP_PORTS[self.security]

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        parse_address(value)
        return value

    @field_validator("recipients")
    @classmethod
    def _check_recipients(cls, values: list[str]) -> list[str]:
        for value in values:
            parse_address(value)
        return values

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        # Loaded now, so that a wrong path or a file without certificates fails at load, not at 08:00.
        if value is not None:
            try:
                ssl.create_default_context(cafile=value)
            except FileNotFoundError:
                raise ValueError(f"no such file {value!r}") from None
            except (OSError, ssl.SSLError) as exc:
                reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
                raise ValueError(f"cannot load certificates from {value!r}: {reason}") from None
        return value

    @model_validator(mode="after")
    def _check_login(self) -> EmailOptions:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        # Over `security: none` a password crosses the network in clear: only on this machine.
        if self.username is not None and self.security == "none" and not _is_loopback(self.smtp_host):
            raise ValueError("refusing to send a password without TLS to a host other than this machine")
        if self.ca_file is not None and self.security == "none":
            raise ValueError("ca_file needs security starttls or tls")
        return self


class WebhookOptions(NotifierOptions):
    url: str
    secret: SecretStr | None = None
    preset: Literal["slack", "discord", "teams"] | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="extra headers, e.g. Authorization")
    # A receiver on this machine or the LAN must be named so here; link-local stays refused.
    allow_private_address: bool = Field(default=False, description="deliver to a loopback or private address")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be an http:// or https:// URL")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, values: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, value in values.items():
            if not _HEADER_NAME.fullmatch(name) or any(c in value.get_secret_value() for c in "\r\n"):
                raise ValueError(f"invalid header {name!r}")
        return values


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


NOTIFIER_OPTIONS: dict[str, type[NotifierOptions]] = {"email": EmailOptions, "webhook": WebhookOptions}
"""Each notifier ``type:`` and the model of its ``options:`` (notifiers.registry sends with them)."""


def parse_options(type_name: str, raw: Mapping[str, Any]) -> NotifierOptions:
    """Validate a notifier's options; the error lists each bad key and why, never its value."""
    try:
        model = NOTIFIER_OPTIONS[type_name]
    except KeyError:
        raise ConfigError(f"unknown notifier type {type_name!r} (known: {', '.join(sorted(NOTIFIER_OPTIONS))})") from None
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'options'}: {error['msg']}"
            for error in exc.errors(include_input=False)
        )
        # ``from None``: the ValidationError's own text repeats the input, password included.
        raise ConfigError(f"{type_name} notifier options: {problems}") from None
