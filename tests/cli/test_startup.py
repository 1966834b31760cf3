"""What a long-running or frequent command pays for before it works: only the wings it uses."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

_WINGS = ("monitor.lists.pipeline", "monitor.lists.parsers", "monitor.lists.views", "notifiers.outbox", "notifiers.render", "jinja2", "bs4")


def _loaded_after(*modules: str, wings: tuple[str, ...] = _WINGS) -> list[str]:
    code = (f"import sys\nfor name in {modules!r}:\n    __import__(name)\n"
            f"print(sorted(name for name in {wings!r} if name in sys.modules))")
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_a_worker_starts_serving_links_jobs_without_the_list_pipeline_the_notifiers_or_an_html_parser():
    # The worker's own entry path: `sesaku-monitor worker` imports these before its first job.
    assert _loaded_after("monitor.cli.worker", "monitor.runtime.logs", "monitor.runtime.worker") == []


def test_a_check_of_the_lists_starts_without_the_link_checker():
    # `check --no-links` and a worker's list jobs: the link checker and its run wait for a links run.
    assert _loaded_after("monitor.cli.lists", "monitor.config", "monitor.runtime.check", "monitor.lists.pipeline",
                         wings=("monitor.links.run", "monitor.links.checker")) == []


def test_status_loads_nothing_of_a_list_s_journey():
    assert _loaded_after("monitor.cli.daemon", "monitor.runtime.status", "monitor.runtime.fleet_status", "store.database") == []


def test_json_into_a_pipe_is_one_line_and_at_a_terminal_indented(tmp_path):
    code = "from monitor.cli.options import print_json\nprint_json({'sources': [{'id': 'tama', 'records': 3}]})"
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert piped == '{"sources": [{"id": "tama", "records": 3}]}\n'
    leader, follower = pty.openpty()
    subprocess.run([sys.executable, "-c", code], stdout=follower, check=True)
    os.close(follower)
    shown = os.read(leader, 4096).decode()
    os.close(leader)
    assert '\r\n  "sources": [' in shown


def _loaded_by(config: Path, *args: str, wings: tuple[str, ...]) -> list[str]:
    """Which of ``wings`` the command ``sesaku-monitor ARGS --config CONFIG`` had imported when it exited."""
    code = ("import atexit, runpy, sys\n"
            f"atexit.register(lambda: print(sorted(name for name in {wings!r} if name in sys.modules), file=sys.stderr))\n"
            f"sys.argv = ['sesaku-monitor', *{args!r}, '--config', {str(config)!r}]\n"
            "runpy.run_module('monitor', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return eval(done.stderr.splitlines()[-1])


def _one_list(folder: Path, rows: str, database_url: str = "") -> Path:
    """A config of one UTF-8 CSV list (``file://``) in ``database_url``, by default a SQLite database under ``folder``."""
    (folder / "list.csv").write_text("id,name,url\n" + rows, encoding="utf-8")
    config = folder / "config.yaml"
    url = database_url or f"sqlite:///{folder / 'monitor.db'}"
    config.write_text(f"database:\n  url: {url}\n"
                      f"sources:\n  - {{id: small, title: Small, url: 'file://{folder / 'list.csv'}', format: csv,"
                      " key_columns: [id], name_column: name, url_columns: [url]}\n", encoding="utf-8")
    return config


def test_looking_at_sources_links_or_snapshots_loads_neither_the_parsers_nor_versioning(tmp_path):
    # They look a source up (the families' runner_of, source_config), never read or store a list;
    # with no email notifier configured, no address is parsed.
    config = _one_list(tmp_path, "1,Alpha,https://example.org/a\n")
    heavy = ("monitor.lists.versioning", "monitor.lists.parsers", "monitor.lists.encoding", "rapidfuzz", "email.headerregistry")
    assert _loaded_by(config, "sources", wings=heavy) == []
    assert _loaded_by(config, "links", wings=heavy) == []
    assert _loaded_by(config, "snapshots", "small", wings=heavy) == []


def test_a_run_of_a_utf8_list_that_keeps_its_keys_loads_neither_similarity_nor_charset_detection(tmp_path):
    # rapidfuzz pairs what the keys left over; charset_normalizer reads what no charset reads.
    config = _one_list(tmp_path, "1,Alpha,https://example.org/a\n2,Beta,https://example.org/b\n")
    run = ("check", "--no-links", "--no-notify")
    assert _loaded_by(config, *run, wings=("rapidfuzz", "charset_normalizer")) == []  # the baseline
    _one_list(tmp_path, "1,Alpha,https://example.org/a\n2,Beta Two,https://example.org/b\n3,Gamma,https://example.org/c\n")
    assert _loaded_by(config, *run, wings=("rapidfuzz", "charset_normalizer", "monitor.lists.versioning")) == ["monitor.lists.versioning"]


def test_a_check_loads_no_other_backend_and_no_yaml_for_a_file_read_before(database_url, tmp_path, monkeypatch):
    # Each backend's INSERT of a blob in its own words, the other's dialect never loaded; a file's
    # bytes composed once are read from the cache (monitor.config.yaml_cache), not by PyYAML.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    other = "sqlalchemy.dialects.postgresql" if database_url.startswith("sqlite") else "sqlalchemy.dialects.sqlite"
    wings, run = (other, "yaml"), ("check", "--no-links", "--no-notify")
    config = _one_list(tmp_path, "1,Alpha,https://example.org/a\n", database_url)
    assert "yaml" in _loaded_by(config, *run, wings=wings)  # the file's first reading (and a new SQLite file's migrations)
    _one_list(tmp_path, "1,Alpha,https://example.org/a\n2,Beta,https://example.org/b\n", database_url)
    assert _loaded_by(config, *run, wings=wings) == []  # a run storing the changed body, the same file


def test_commands_leave_their_sqlite_database_closed(tmp_path):
    # What they import and load is frozen out of the collector's passes (monitor.cli.options.loading);
    # the store, opened after, is still closed at exit: no -wal or -shm file left beside the database.
    config = _one_list(tmp_path, "1,Alpha,https://example.org/a\n")
    for args in (("check", "--no-links", "--no-notify"), ("status",), ("sources",), ("links",), ("snapshots", "small"), ("history", "1"),
                 ("deliveries",), ("db", "index")):
        _loaded_by(config, *args, wings=())
        assert sorted(path.name for path in tmp_path.glob("monitor.db*")) == ["monitor.db"], args
