"""A cited URL's host, as links.host keeps it and a host's run lock names it: the plain host names
of a big list are read without urlsplit, and every other URL is split by urlsplit as before."""

from __future__ import annotations

import pytest

from store.links import host_of


@pytest.mark.parametrize(("url", "host"), [
    ("https://www.Metro.Tokyo.lg.jp/business/245", "www.metro.tokyo.lg.jp"),
    ("HTTP://EXAMPLE.JP:8080?q=1", "example.jp"),
    ("http://example.jp#top", "example.jp"),
    ("http://user:pw@Example.jp/", "example.jp"),  # user info: urlsplit
    ("http://a.example.jp@b.example.jp/", "b.example.jp"),
    ("https://[2001:DB8::1]:443/x", "2001:db8::1"),
    ("https://[2001:db8::1/x", ""),  # an unclosed IPv6 bracket is no host
    ("  http://example.jp/", "example.jp"),
    ("http://exam\tple.jp/", "example.jp"),  # urlsplit removes tabs and line ends anywhere
    ("http://example.jp\n.evil/", "example.jp.evil"),
    ("https://例え.jp/パス", "例え.jp"),
    ("http://example.jp\\path", "example.jp\\path"),
    ("mailto:someone@example.jp", ""),
    ("http:///path", ""),
    ("", ""),
])
def test_a_urls_host(url: str, host: str) -> None:
    assert host_of(url) == host
