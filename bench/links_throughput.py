"""Link-check throughput and memory, ours against LinkChecker and linkinator, on loopback only.

    /work/venv/bin/python bench/links_throughput.py [--urls 5000] [--memory-urls 100000]

A site of ``--hosts`` loopback hosts (127.0.0.2 …), each answering every request after
``--delay`` seconds (keep-alive, text/plain), runs in a few server processes. Our checker
checks ``--urls`` URLs spread over the hosts with ``per_host`` requests in flight per host and
no interval, so the ceiling is hosts × per_host / delay URLs/s (20 × 4 / 0.05 = 1,600).
The peers check the same URLs from a generated page that lists them (depth 1) with the same
total concurrency (neither can cap requests per host; LinkChecker's per-host rate limit is
lifted with its documented ``LinkChecker`` response header and ``maxrequestspersecond``).
Each run is a separate process so that its peak RSS is its own, and every tool is timed the
same way: from starting its process to its exit (interpreter start, imports and, for the
peers, fetching the listing included). Our row also gives the check alone (``check s``). The
site counts the requests in flight at each host, so the table shows whether a tool kept to
the cap (``most/host``). ``--repeat N`` keeps each tool's fastest of N runs. The peers are
installed on first use under ``$TMPDIR/sesaku-bench-peers`` (pip into a venv; npm); when one
cannot be installed or run, the table says why and the bench carries on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import HttpSettings  # noqa: E402
from monitor.config.links import LinkSettings  # noqa: E402
from monitor.links.checker import check_links  # noqa: E402

PEERS_DIR = Path(tempfile.gettempdir()) / "sesaku-bench-peers"


@dataclass(frozen=True)
class Figures:
    """One run: how many URLs were reported, how fast, how much memory, what came out."""

    name: str
    urls: int
    seconds: float      # the whole process: start to exit
    cpu_seconds: float  # user + system of the checker's process: what the machine's load does not change
    peak_rss_mb: float
    outcomes: str
    note: str = ""
    check_seconds: float | None = None  # ours only: the check without interpreter start and imports
    most_per_host: int = 0              # the most requests the site saw in flight at one host

    @property
    def rate(self) -> float:
        return self.urls / self.seconds if self.seconds else 0.0


# -- the site ----------------------------------------------------------------------------------
def _serve(ports: dict[str, int], delay: float, listing: bytes, ready: multiprocessing.Queue,
           most: multiprocessing.Array) -> None:
    """``/u/<n>`` answers after ``delay`` s; ``/list.html`` links all URLs; the rest is 404.
    ``most[i]`` is raised to the most requests ever in flight at host 127.0.0.(i + 2)."""
    in_flight: Counter[int] = Counter()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = int(writer.get_extra_info("sockname")[0].rsplit(".", 1)[1]) - 2
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target = head.split(b" ", 2)[:2]
                status, body, kind = b"200 OK", b"ok", b"text/plain"
                if target == b"/list.html":
                    body, kind = listing, b"text/html"
                elif target.startswith(b"/u/") and target[3:].isdigit():
                    in_flight[host] += 1
                    most[host] = max(most[host], in_flight[host])
                    await asyncio.sleep(delay)
                    in_flight[host] -= 1
                else:  # a real site: made-up paths (our sibling probe) are not found
                    status, body = b"404 Not Found", b"not found"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\nLinkChecker: 1\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                             + (b"" if method == b"HEAD" else body))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()

    async def main() -> None:
        for address, port in ports.items():
            await asyncio.start_server(answer, address, port, backlog=1024)
        ready.put(len(ports))
        await asyncio.Event().wait()

    asyncio.run(main())


@dataclass
class Site:
    ports: dict[str, int]
    most: multiprocessing.Array  # per host: the most requests seen in flight at once

    def most_per_host(self) -> int:
        """The most any host saw, since the last call."""
        with self.most.get_lock():
            found = max(self.most)
            self.most[:] = [0] * len(self.most)
        return found


@contextmanager
def running_site(hosts: int, delay: float, processes: int, urls_per_host: int) -> Iterator[Site]:
    """Start the site. The listing page links ``urls_per_host`` per host."""
    port = _free_port()  # one port, on every address: the listing page can be made up front
    ports = {f"127.0.0.{n}": port for n in range(2, hosts + 2)}
    listing = _listing(site_urls(ports, urls_per_host))
    addresses = list(ports)
    most = multiprocessing.Array("i", hosts)
    ready: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_serve, daemon=True,
                                       args=({a: port for a in addresses[i::processes]}, delay, listing, ready, most))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=10)
    try:
        yield Site(ports, most)
    finally:
        for worker in workers:
            worker.terminate()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        return sock.getsockname()[1]


def site_urls(ports: dict[str, int], per_host: int) -> list[str]:
    """URLs interleaved across hosts, as a real list would mix them."""
    return [f"http://{a}:{p}/u/{n}" for n in range(per_host) for a, p in ports.items()]


def _listing(urls: list[str]) -> bytes:
    links = "\n".join(f'<a href="{url}">{n}</a>' for n, url in enumerate(urls))
    return f"<html><head><title>list</title></head><body>{links}</body></html>".encode()


# -- our checker, in a fresh process so that its RSS is its own -----------------------------------
def _ours_child(urls: list[str], settings: LinkSettings, out: multiprocessing.Queue) -> None:
    async def run() -> Counter[str]:
        outcomes: Counter[str] = Counter()
        async for result in check_links(urls, settings, HttpSettings(allow_private_addresses=True)):
            outcomes[result.outcome.value] += 1
        return outcomes

    started = time.perf_counter()
    outcomes = asyncio.run(run())
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put((sum(outcomes.values()), seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
             _counts(outcomes)))


def run_ours(name: str, urls: list[str], settings: LinkSettings) -> Figures:
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    started = time.perf_counter()
    child = spawn.Process(target=_ours_child, args=(urls, settings, out))
    child.start()
    count, seconds, cpu, rss, outcomes = out.get()
    child.join()
    return Figures(name, count, time.perf_counter() - started, cpu, rss, outcomes, check_seconds=seconds)


# -- peers --------------------------------------------------------------------------------------
def ensure_linkchecker() -> Path:
    """The ``linkchecker`` command: on PATH, or installed with pip into a venv under PEERS_DIR."""
    found = shutil.which("linkchecker")
    if found:
        return Path(found)
    venv = PEERS_DIR / "linkchecker-venv"
    command = venv / "bin" / "linkchecker"
    if not command.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "linkchecker"], check=True,
                       capture_output=True, timeout=600)
    return command


def ensure_linkinator() -> Path:
    """The ``linkinator`` command, installed with npm under PEERS_DIR."""
    folder = PEERS_DIR / "linkinator"
    command = folder / "node_modules" / ".bin" / "linkinator"
    if not command.exists():
        if not shutil.which("npm"):
            raise FileNotFoundError("npm is not installed")
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "linkinator"], cwd=folder,
                       check=True, capture_output=True, timeout=600)
    return command


def _timed(command: list[str], timeout: float) -> tuple[str, float, float, float]:
    """Run ``command``; its stdout, wall seconds, CPU seconds and own peak RSS in MB."""
    with tempfile.TemporaryFile() as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL)
        deadline = started + timeout
        while True:
            pid, _, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                raise TimeoutError(f"{command[0]} did not finish within {timeout:.0f}s")
            time.sleep(0.05)
        process.returncode = 0  # reaped by wait4 above
        seconds = time.perf_counter() - started
        stdout.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return stdout.read().decode("utf-8", "replace"), seconds, cpu, usage.ru_maxrss / 1024


def run_linkchecker(listing_url: str, threads: int, timeout: float) -> Figures:
    command = ensure_linkchecker()
    config = Path(tempfile.mkdtemp()) / "linkcheckerrc"
    # LinkChecker waits 0.1–0.6 s between requests to a host unless the host sends a
    # "LinkChecker" header; with it, maxrequestspersecond sets the wait (1/N … 6/N s).
    config.write_text("[checking]\nmaxrequestspersecond=10000\n[output]\n")
    config.chmod(0o644)
    config.parent.chmod(0o755)  # LinkChecker drops root privileges to "nobody" and must read it
    output, seconds, cpu, rss = _timed([str(command), "-f", str(config), "--check-extern", "-r", "1", "--no-robots",
                                   "-t", str(threads), "--no-status", "-v", "-o", "csv", listing_url], timeout)
    rows = [line for line in output.splitlines() if "/u/" in line and not line.startswith("#")]
    valid = sum(";True;" in row or ";1;" in row for row in rows)
    return Figures("LinkChecker", len(rows), seconds, cpu, rss, f"{valid} valid of {len(rows)}",
                   f"--threads {threads}, no per-host cap")


def run_linkinator(listing_url: str, concurrency: int, timeout: float) -> Figures:
    command = ensure_linkinator()
    output, seconds, cpu, rss = _timed([str(command), listing_url, "--concurrency", str(concurrency),
                                   "--format", "json", "--timeout", "10000"], timeout)
    links = [link for link in json.loads(output[output.index("{"):])["links"] if "/u/" in link["url"]]
    states = Counter(link["state"].lower() for link in links)
    return Figures("linkinator", len(links), seconds, cpu, rss, _counts(states),
                   f"--concurrency {concurrency}, no per-host cap")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counter.most_common())


def _peer(name: str, run: object, *args: object) -> Figures | str:
    try:
        return run(*args)  # type: ignore[operator]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TimeoutError) as exc:
        return f"{name}: not run here ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"


# -- main ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds each answer takes")
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--memory-urls", type=int, default=100_000, help="0 to skip the memory run")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--server-processes", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is shown")
    args = parser.parse_args()

    per_host_urls = max(1, args.urls // args.hosts)
    limit = args.hosts * args.per_host / args.delay
    total = args.hosts * args.per_host
    settings = LinkSettings(concurrency=total, per_host=args.per_host, per_host_interval_s=0.0, retries=0)
    rows: list[Figures] = []
    notes: list[str] = []
    with running_site(args.hosts, args.delay, args.server_processes, per_host_urls) as site:
        urls = site_urls(site.ports, per_host_urls)
        print(f"{len(urls)} URLs over {args.hosts} loopback hosts, {args.delay * 1000:.0f} ms each; "
              f"per-host cap {args.per_host}, interval 0 → limit {limit:,.0f} URLs/s", flush=True)
        rows.append(_fastest(site, args.repeat, run_ours, "sesaku-monitor", urls, settings))
        if not args.no_peers:
            listing = f"http://127.0.0.2:{site.ports['127.0.0.2']}/list.html"
            for name, run, knob in (("LinkChecker", run_linkchecker, total), ("linkinator", run_linkinator, total)):
                figures = _fastest(site, args.repeat, _peer, name, run, listing, knob, 600.0)
                rows.append(figures) if isinstance(figures, Figures) else notes.append(figures)
    if args.memory_urls:
        with running_site(args.hosts, 0.0, args.server_processes, 1) as site:
            big = site_urls(site.ports, max(1, args.memory_urls // args.hosts))
            rows.append(run_ours(f"sesaku-monitor {len(big):,} URLs, 0 ms", big, settings))
    _print_table(rows, limit, args.urls, args.repeat)
    for note in notes:
        print(note)


def _fastest(site: Site, repeat: int, run: object, *args: object) -> Figures | str:
    """The fastest of ``repeat`` runs, with the most requests in flight at one host over all of them."""
    runs: list[Figures] = []
    most = 0
    for _ in range(repeat):
        site.most_per_host()
        figures = run(*args)  # type: ignore[operator]
        most = max(most, site.most_per_host())
        if not isinstance(figures, Figures):
            return figures
        runs.append(figures)
    return replace(min(runs, key=lambda figures: figures.seconds), most_per_host=most)


def _print_table(rows: list[Figures], limit: float, urls: int, repeat: int) -> None:
    header = (f"{'checker':<34} {'URLs':>7} {'seconds':>8} {'URLs/s':>7} {'of limit':>8} {'check s':>8} {'check/s':>8} "
              f"{'of limit':>8} {'CPU s':>6} {'ms/URL':>6} {'peak RSS':>8} {'most/host':>9}  outcomes")
    print(header)
    print("-" * len(header))
    for row in rows:
        share = f"{row.rate / limit:8.0%}" if row.urls <= urls else f"{'n/a':>8}"
        per_url = row.cpu_seconds * 1000 / row.urls if row.urls else 0.0
        check = check_rate = check_share = ""
        if row.check_seconds:
            check_per_s = row.urls / row.check_seconds
            check, check_rate = f"{row.check_seconds:.2f}", f"{check_per_s:.0f}"
            check_share = f"{check_per_s / limit:.0%}" if row.urls <= urls else "n/a"
        most = str(row.most_per_host) if row.most_per_host else ""
        print(f"{row.name:<34} {row.urls:>7} {row.seconds:>8.2f} {row.rate:>7.0f} {share} {check:>8} {check_rate:>8} "
              f"{check_share:>8} {row.cpu_seconds:>6.1f} {per_url:>6.2f} {row.peak_rss_mb:>6.0f}MB {most:>9}  "
              f"{row.outcomes}{'  (' + row.note + ')' if row.note else ''}")
    print(f"seconds: the whole process, start to exit; check s: ours without interpreter start and imports; "
          f"most/host: the most requests in flight at one host; fastest of {repeat} run(s) per tool.")


if __name__ == "__main__":
    main()
