"""Link-check throughput and memory, ours against LinkChecker and linkinator, on loopback only.

    /work/venv/bin/python bench/links_throughput.py [--urls 5000] [--memory-urls 100000]

A site of ``--hosts`` loopback hosts (127.0.0.2 …), each answering every request after
``--delay`` seconds (keep-alive, text/plain), runs in a few server processes. Our checker
checks ``--urls`` URLs spread over the hosts with ``per_host`` requests in flight per host and
no interval, so the ceiling is hosts × per_host / delay URLs/s (20 × 4 / 0.05 = 1,600).
The peers check the same URLs from a generated page that lists them (depth 1) with the same
total concurrency (neither can cap requests per host; LinkChecker's per-host rate limit is
lifted with its documented ``LinkChecker`` response header and ``maxrequestspersecond``).
Each run is a separate process so that its peak RSS is its own. The peers are installed on
first use under ``$TMPDIR/sesaku-bench-peers`` (pip into a venv; npm); when one cannot be
installed or run, the table says why and the bench carries on.
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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.link_checker import LinkCheckSettings, check_links  # noqa: E402

PEERS_DIR = Path(tempfile.gettempdir()) / "sesaku-bench-peers"


@dataclass(frozen=True)
class Figures:
    """One run: how many URLs were reported, how fast, how much memory, what came out."""

    name: str
    urls: int
    seconds: float
    cpu_seconds: float  # user + system of the checker's process: what the machine's load does not change
    peak_rss_mb: float
    outcomes: str
    note: str = ""

    @property
    def rate(self) -> float:
        return self.urls / self.seconds if self.seconds else 0.0


# -- the site ----------------------------------------------------------------------------------
def _serve(ports: dict[str, int], delay: float, listing: bytes, ready: multiprocessing.Queue) -> None:
    """``/u/<n>`` answers after ``delay`` s; ``/list.html`` links all URLs; the rest is 404."""
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target = head.split(b" ", 2)[:2]
                status, body, kind = b"200 OK", b"ok", b"text/plain"
                if target == b"/list.html":
                    body, kind = listing, b"text/html"
                elif target.startswith(b"/u/") and target[3:].isdigit():
                    await asyncio.sleep(delay)
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


@contextmanager
def running_site(hosts: int, delay: float, processes: int, urls_per_host: int) -> Iterator[dict[str, int]]:
    """Start the site; yield {address: port}. The listing page links ``urls_per_host`` per host."""
    port = _free_port()  # one port, on every address: the listing page can be made up front
    ports = {f"127.0.0.{n}": port for n in range(2, hosts + 2)}
    listing = _listing(site_urls(ports, urls_per_host))
    addresses = list(ports)
    ready: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_serve, daemon=True,
                                       args=({a: port for a in addresses[i::processes]}, delay, listing, ready))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=10)
    try:
        yield ports
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
def _ours_child(urls: list[str], settings: LinkCheckSettings, out: multiprocessing.Queue) -> None:
    async def run() -> Counter[str]:
        outcomes: Counter[str] = Counter()
        async for result in check_links(urls, settings):
            outcomes[result.outcome.value] += 1
        return outcomes

    started = time.perf_counter()
    outcomes = asyncio.run(run())
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put((sum(outcomes.values()), seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
             _counts(outcomes)))


def run_ours(name: str, urls: list[str], settings: LinkCheckSettings) -> Figures:
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    child = spawn.Process(target=_ours_child, args=(urls, settings, out))
    child.start()
    count, seconds, cpu, rss, outcomes = out.get()
    child.join()
    return Figures(name, count, seconds, cpu, rss, outcomes)


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
    args = parser.parse_args()

    per_host_urls = max(1, args.urls // args.hosts)
    limit = args.hosts * args.per_host / args.delay
    total = args.hosts * args.per_host
    settings = LinkCheckSettings(concurrency=total, per_host=args.per_host, per_host_interval=0.0,
                                 retries=0, allow_private_addresses=True)
    rows: list[Figures] = []
    notes: list[str] = []
    with running_site(args.hosts, args.delay, args.server_processes, per_host_urls) as ports:
        urls = site_urls(ports, per_host_urls)
        print(f"{len(urls)} URLs over {args.hosts} loopback hosts, {args.delay * 1000:.0f} ms each; "
              f"per-host cap {args.per_host}, interval 0 → limit {limit:,.0f} URLs/s", flush=True)
        rows.append(run_ours("sesaku-monitor", urls, settings))
        if not args.no_peers:
            listing = f"http://127.0.0.2:{ports['127.0.0.2']}/list.html"
            for name, run, knob in (("LinkChecker", run_linkchecker, total), ("linkinator", run_linkinator, total)):
                figures = _peer(name, run, listing, knob, 600.0)
                rows.append(figures) if isinstance(figures, Figures) else notes.append(figures)
    if args.memory_urls:
        with running_site(args.hosts, 0.0, args.server_processes, 1) as ports:
            big = site_urls(ports, max(1, args.memory_urls // args.hosts))
            rows.append(run_ours(f"sesaku-monitor {len(big):,} URLs, 0 ms", big, settings))
    _print_table(rows, limit, args.urls)
    for note in notes:
        print(note)


def _print_table(rows: list[Figures], limit: float, urls: int) -> None:
    header = (f"{'checker':<34} {'URLs':>7} {'seconds':>8} {'URLs/s':>8} {'of limit':>8} {'CPU s':>7} "
              f"{'CPU ms/URL':>10} {'peak RSS':>9}  outcomes")
    print(header)
    print("-" * len(header))
    for row in rows:
        share = f"{row.rate / limit:8.0%}" if row.urls <= urls else f"{'n/a':>8}"
        per_url = row.cpu_seconds * 1000 / row.urls if row.urls else 0.0
        print(f"{row.name:<34} {row.urls:>7} {row.seconds:>8.2f} {row.rate:>8.0f} {share} {row.cpu_seconds:>7.1f} "
              f"{per_url:>10.2f} {row.peak_rss_mb:>7.0f}MB  {row.outcomes}{'  (' + row.note + ')' if row.note else ''}")


if __name__ == "__main__":
    main()
