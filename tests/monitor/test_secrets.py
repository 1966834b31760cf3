"""What ``${VAR}`` substituted is shown as the variable's name, wherever and however it turns up."""

from __future__ import annotations

import logging

import pytest

from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.runtime.logs import TextFormatter
from monitor.secrets import redact
from monitor.secrets import known, remember, Secrets
from monitor.config.notifiers import NotifierConfig
from notifiers.outbox import shown_error

SOURCE = {"id": "a", "title": "A", "key_columns": ["k"], "name_column": "n"}
URL = "http://reader:${PW}@lists.example.jp/private/a.txt?apikey=${KEY}"


@pytest.fixture(autouse=True)
def forget_secrets():
    yield
    remember(Secrets())


@pytest.fixture
def config(monkeypatch):
    monkeypatch.setenv("PW", "pa ss/wörd")
    monkeypatch.setenv("KEY", "k3y-1234567")
    return parse_config({"sources": [{**SOURCE, "url": URL}]})


def test_the_config_keeps_the_real_url_and_shows_the_written_one(config):
    source = config.sources[0]
    assert source.url == "http://reader:pa ss/wörd@lists.example.jp/private/a.txt?apikey=k3y-1234567"
    assert source.shown_url == URL


def test_a_secret_is_named_wherever_it_turns_up_even_percent_encoded(config):
    line = "GET http://reader:pa%20ss%2Fw%C3%B6rd@lists.example.jp/x?apikey=k3y-1234567 failed; key k3y-1234567"
    assert redact(line) == "GET http://reader:${PW}@lists.example.jp/x?apikey=${KEY} failed; key ${KEY}"


def test_a_short_value_is_hidden_only_inside_what_it_was_put_into(monkeypatch):
    monkeypatch.setenv("PORT", "81")
    config = parse_config({"sources": [{**SOURCE, "url": "http://lists.example.jp:${PORT}/a.txt"}]})
    assert config.sources[0].shown_url == "http://lists.example.jp:${PORT}/a.txt"
    assert redact("81 measures") == "81 measures"


def test_log_lines_name_the_variable_instead_of_stars(config):
    record = logging.LogRecord("httpcore", logging.DEBUG, "", 0, "connect %s", (config.sources[0].url,), None)
    assert TextFormatter().format(record).endswith(f"connect {URL}")


def test_a_refused_value_is_quoted_without_its_secret(monkeypatch):
    monkeypatch.setenv("HOOK_URL", "gopher://hooks.example.jp/T0KEN-abcdef")
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": [{**SOURCE, "url": "${HOOK_URL}"}]}, "cfg")
    assert "T0KEN" not in str(caught.value) and "${HOOK_URL}" in str(caught.value)


def test_the_secrets_repr_names_variables_only(config):
    assert repr(known()) == "Secrets(KEY, PW)"


def test_a_receivers_answer_loses_the_webhook_path_written_in_the_config():
    notifier = NotifierConfig.model_validate({"id": "hook", "type": "webhook", "options": {"url": "https://hooks.example.jp/services/T0KEN-in-path"}})
    error = "webhook https://hooks.example.jp answered HTTP 404: <pre>Cannot POST /services/T0KEN-in-path</pre>"
    assert shown_error(error, notifier) == "webhook https://hooks.example.jp answered HTTP 404: <pre>Cannot POST /…</pre>"
