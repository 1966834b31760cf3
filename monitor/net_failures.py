"""What went wrong on the way out: one table from an exception to an outcome and a line.

An exception raised on the way out — httpx's (``HostPools`` turns httpcore's into them, as
httpx's own transport does), netguard's, or one of our own ``FetchError``\\ s (a redirect loop,
a body over its cap) — becomes a ``Failure``: the link outcome, one line for a person, and
whether trying again later may help. The list fetch says the line after the URL, the link
checker records the outcome and the line, the webhook says the line after its host.

====================================  =============  =========  ===================================
exception                             outcome        transient  message
====================================  =============  =========  ===================================
``UnsupportedURL``                    ``invalid``    no         its own (scheme, host, redirect)
``BlockedAddress``                    ``refused``    no         its own (``refused h: private …``)
``UnresolvableHost``                  ``gone_host``  no         its own (the resolver's reason)
other ``FetchError``                  ``error``      no         its own (redirect loop, cap …)
``httpx.UnsupportedProtocol``         ``invalid``    no         ``unsupported URL: …``
``httpx.TimeoutException``            ``error``      yes        ``timed out (ReadTimeout)``
``httpx.ConnectError``                ``gone_host``  no         ``cannot connect: …`` (TLS too)
``httpx.RemoteProtocolError``         ``error``      yes        ``answer cut short or garbled: …``
``httpx.NetworkError``                ``error``      yes        ``connection lost (ReadError): …``
any other ``httpx.HTTPError``         ``error``      no         ``DecodingError: …``
====================================  =============  =========  ===================================

The first row whose class the exception is an instance of wins, so the order matters
(``ConnectError`` is a ``NetworkError``; every netguard error is a ``FetchError``).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from monitor.errors import FetchError
from monitor.events import LinkOutcome
from monitor.netguard import BlockedAddress, UnresolvableHost, UnsupportedURL

__all__ = ["Failure", "failure_of"]


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed exchange means: its link outcome, one line for a person, worth a retry?"""

    outcome: LinkOutcome
    message: str
    transient: bool = False


# (class, outcome, transient, the message: {text} is the exception's own, {kind} its class name)
_TABLE: tuple[tuple[type[BaseException], LinkOutcome, bool, str], ...] = (
    (UnsupportedURL, LinkOutcome.INVALID, False, "{text}"),
    (BlockedAddress, LinkOutcome.REFUSED, False, "{text}"),
    (UnresolvableHost, LinkOutcome.GONE_HOST, False, "{text}"),
    (FetchError, LinkOutcome.ERROR, False, "{text}"),
    (httpx.UnsupportedProtocol, LinkOutcome.INVALID, False, "unsupported URL: {text}"),
    (httpx.TimeoutException, LinkOutcome.ERROR, True, "timed out ({kind})"),
    (httpx.ConnectError, LinkOutcome.GONE_HOST, False, "cannot connect: {text}"),
    (httpx.RemoteProtocolError, LinkOutcome.ERROR, True, "answer cut short or garbled: {text}"),
    (httpx.NetworkError, LinkOutcome.ERROR, True, "connection lost ({kind}): {text}"),
    (httpx.HTTPError, LinkOutcome.ERROR, False, "{kind}: {text}"),
)
_MAX_MESSAGE = 300


def failure_of(exc: httpx.HTTPError | FetchError) -> Failure:
    """The row of the table above that ``exc`` falls under, its message on one line."""
    for kind, outcome, transient, message in _TABLE:
        if isinstance(exc, kind):
            line = message.format(kind=type(exc).__name__, text=" ".join(str(exc).split()))
            return Failure(outcome, line.rstrip(": ")[:_MAX_MESSAGE], transient)
    raise TypeError(f"{type(exc).__name__} is not an error of the way out")
