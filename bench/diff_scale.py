"""Scale bench for issue 2: parse + match + diff of a 100,000-measure list, beside csv-diff.

    python bench/diff_scale.py                 # 100,000 rows (default)
    python bench/diff_scale.py --rows 10000    # quick run
    python bench/diff_scale.py --profile       # also print a cProfile of our run
    python bench/diff_scale.py --store         # the whole `check` (baseline, then a run) on SQLite and PostgreSQL

Two versions of a synthetic list are generated from a fixed seed, in the seed format
(tab-separated text with title lines, a header repeated at every page break, page numbers,
blank lines, ``-`` for empty), with words, summaries and departments taken from the seed files
in tests/fixtures, and duplicate names under different departments. Version 2 has rows added,
removed, edited (phone / summary / URL), renamed (name edited slightly), cosmetically retouched
(width / spacing / ``-`` only: not a change) and moved. The same data is also written as CSV
with a synthetic ``id`` column so that csv-diff, which pairs rows by an exact key only, can run.

Each tool runs in a fresh subprocess, so its peak RSS (VmHWM) is its own: ours parses
both texts with the ``text-table`` parser, pairs them with ``match.match_versions`` (rows
published unchanged by their text, the rest by key and similarity after
``identity.make_entry``) and computes ``diff.field_changes`` for every pair whose content
digest differs (what ``versioning.apply_list`` does, minus the database); csv-diff
runs ``load_csv`` + ``compare`` (what its CLI does, minus printing).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
COLUMNS = ["施策", "施策概要", "担当部署", "連絡先", "URL", "備考"]
PAGE_ROWS = 40

SHARES = {"added": 0.01, "removed": 0.01, "edited": 0.01, "renamed": 0.005, "cosmetic": 0.002, "moved": 0.005}


# --------------------------------------------------------------------------- vocabulary

_CHUNK = re.compile(r"[\u4e00-\u9fff々〇]+|[\u30a0-\u30ff]+|[\u3040-\u309f]+|[A-Za-z0-9]+")


def _seed_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(FIXTURES.glob("*.txt")):
        header: list[str] | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            cells = line.split("\t")
            if len([c for c in cells if c.strip()]) < 2:
                continue
            if header is None or cells[: len(header)] == header:
                header = cells
                continue
            rows.append(dict(zip(header, cells)))
    return rows


def vocabulary() -> dict[str, list[str]]:
    rows = _seed_rows()
    names = [r.get("施策") or r.get("事業名") or "" for r in rows]
    summaries = [r.get("施策概要") or r.get("事業内容(全国各地との連携事業に関する内容)") or "" for r in rows]
    words: set[str] = set()
    links: set[str] = set()
    for name in names:
        for chunk in _CHUNK.findall(name):
            if "\u3040" <= chunk[0] <= "\u309f":
                if len(chunk) <= 4:
                    links.add(chunk)
            elif "\u4e00" <= chunk[0] <= "\u9fff":
                # kanji compounds are mostly two-character words
                words.update(chunk[i : i + 2] for i in range(0, len(chunk) - 1, 2))
            elif len(chunk) >= 2:
                words.add(chunk)
    clauses = sorted({c.strip() for s in summaries for c in re.split(r"[、。]", s) if 6 <= len(c.strip()) <= 60})
    bureaus, parts, sections = set(), set(), set()
    for r in rows:
        dept = r.get("担当部署", "").split()
        if len(dept) >= 3:
            bureaus.add(dept[0])
            parts.add(dept[1])
            sections.add(dept[2])
        if r.get("所管局"):
            bureaus.add(r["所管局"].strip())
    return {
        "words": sorted(words),
        "links": sorted(links | {"の", "への", "における", "に向けた"}),
        "suffixes": ["事業", "推進事業", "支援事業", "補助", "補助金", "助成", "プロジェクト", "制度", "窓口", "の推進", "の運営", "の整備"],
        "clauses": clauses,
        "bureaus": sorted(bureaus),
        "parts": sorted(parts),
        "sections": sorted(sections),
        "remarks": ["令和8年度まで", "R7年度まで", "2030年度まで", "令和9年度(申請受付は令和8年度まで)", "環境局共管", "新規"],
    }


# --------------------------------------------------------------------------- generation

class Generator:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.v = vocabulary()
        self.depts = self._departments(400)
        self.keys: set[tuple[str, str]] = set()
        self.names: list[str] = []
        self.next_id = 1

    def _departments(self, count: int) -> list[str]:
        r, v, out = self.rng, self.v, set()
        while len(out) < count:
            out.add(f"{r.choice(v['bureaus'])} {r.choice(v['parts'])} {r.choice(v['sections'])}")
        return sorted(out)

    def name(self) -> str:
        r, v = self.rng, self.v
        parts = [r.choice(v["words"]) for _ in range(r.randint(2, 4))]
        if r.random() < 0.5:
            parts.insert(r.randint(1, len(parts) - 1), r.choice(v["links"]))
        return "".join(parts) + r.choice(v["suffixes"])

    def summary(self) -> str:
        r = self.rng
        return "、".join(r.sample(self.v["clauses"], r.randint(2, 4))) + "。"

    def phone(self) -> str:
        r = self.rng
        if r.random() < 0.05:
            return "-"
        return f"03-{r.choice(['5320', '5388', '5990', '5579'])}-{r.randint(1000, 9999)}"

    def url(self) -> str:
        r = self.rng
        if r.random() < 0.3:
            return ""
        slug = "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(4, 10)))
        return f"https://www.{slug}.metro.tokyo.lg.jp/{r.choice(['business', 'about', 'project', 'info'])}/{r.randint(1, 999)}"

    def row(self, name: str | None = None) -> dict[str, str]:
        r = self.rng
        while True:
            dept = r.choice(self.depts)
            n = name if name is not None else self.name()
            if (n, dept) not in self.keys:
                break
            name = None
        self.keys.add((n, dept))
        self.names.append(n)
        remark = r.choice(self.v["remarks"]) if r.random() < 0.2 else ""
        row = {"id": str(self.next_id), "施策": n, "施策概要": self.summary(), "担当部署": dept, "連絡先": self.phone(), "URL": self.url(), "備考": remark}
        self.next_id += 1
        return row

    def fresh_row(self) -> dict[str, str]:
        # about 3% of measures share their name with another under a different department
        if self.names and self.rng.random() < 0.03:
            return self.row(self.rng.choice(self.names))
        return self.row()

    # ---- edits

    def edit(self, row: dict[str, str]) -> dict[str, str]:
        r, row = self.rng, dict(row)
        what = r.choice(["phone", "summary", "url", "phone+url"])
        if "phone" in what:
            row["連絡先"] = f"03-{r.choice(['5320', '5388'])}-{r.randint(1000, 9999)}"
        if what == "summary":
            if r.random() < 0.5:
                row["施策概要"] = row["施策概要"].rstrip("。") + "、" + r.choice(self.v["clauses"]) + "。"
            else:
                row["施策概要"] = row["施策概要"].replace("する", "します", 1) if "する" in row["施策概要"] else row["施策概要"] + "（拡充）"
        if "url" in what:
            row["URL"] = (row["URL"].rstrip("/") + "/v2/") if row["URL"] else self.url() or "https://www.metro.tokyo.lg.jp/new/"
        return row

    def rename(self, row: dict[str, str]) -> dict[str, str]:
        r, row = self.rng, dict(row)
        old = row["施策"]
        for _ in range(20):
            kind = r.choice(["former", "suffix", "swap", "replace"])
            if kind == "former":
                new = _retouch(r, old, self.v) + "（旧：" + old + "）"
            elif kind == "suffix":
                new = old + r.choice(["（拡充）", "（令和6年度新規）", "等", "（仮称）"])
            elif kind == "swap":
                new = _retouch(r, old, self.v)
            else:
                two = [w for w in self.v["words"] if len(w) == 2]
                new = r.choice(two) + old[2:] if len(old) > 6 else old + "事業"
            if new != old and (new, row["担当部署"]) not in self.keys:
                break
        self.keys.add((new, row["担当部署"]))
        row["施策"] = new
        if r.random() < 0.2:
            row["連絡先"] = self.phone()
        return row

    def cosmetic(self, row: dict[str, str]) -> dict[str, str]:
        """Width, spacing and empty marks only: no change in meaning."""
        r, row = self.rng, dict(row)
        kind = r.choice(["wide-digits", "spaces", "dash"])
        if kind == "wide-digits" and row["連絡先"] not in ("", "-"):
            row["連絡先"] = row["連絡先"].translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
        elif kind == "spaces":
            row["担当部署"] = row["担当部署"].replace(" ", "\u3000")
        else:
            row["備考"] = "-" if not row["備考"] else row["備考"] + " "
        return row


def _retouch(r: random.Random, text: str, v) -> str:
    """A few characters changed: one two-character word replaced by another."""
    pairs = [w for w in v["words"] if len(w) == 2]
    words = [w for w in pairs if w in text]
    if words:
        return text.replace(r.choice(words), r.choice(pairs), 1)
    return text[:-1] + "業"


def generate(rows: int, seed: int) -> tuple[list[dict], list[dict], dict]:
    rng = random.Random(seed)
    gen = Generator(rng)
    v1 = [gen.fresh_row() for _ in range(rows)]
    ids = [row["id"] for row in v1]
    picks = rng.sample(range(rows), sum(round(rows * SHARES[k]) for k in ("removed", "edited", "renamed", "cosmetic")))
    cut = {}
    start = 0
    for kind in ("removed", "edited", "renamed", "cosmetic"):
        count = round(rows * SHARES[kind])
        cut[kind] = {ids[i] for i in picks[start : start + count]}
        start += count
    v2 = []
    for row in v1:
        rid = row["id"]
        if rid in cut["removed"]:
            continue
        if rid in cut["edited"]:
            row = gen.edit(row)
        elif rid in cut["renamed"]:
            row = gen.rename(row)
        elif rid in cut["cosmetic"]:
            row = gen.cosmetic(row)
        v2.append(row)
    added = []
    for _ in range(round(rows * SHARES["added"])):
        row = gen.fresh_row()
        added.append(row["id"])
        v2.insert(rng.randrange(len(v2) + 1), row)
    # rows reordered a bit: some moved far, some swapped with a neighbour
    for _ in range(round(rows * SHARES["moved"])):
        v2.insert(rng.randrange(len(v2)), v2.pop(rng.randrange(len(v2))))
        i = rng.randrange(len(v2) - 1)
        v2[i], v2[i + 1] = v2[i + 1], v2[i]
    truth = {
        "added": sorted(added, key=int),
        "removed": sorted(cut["removed"], key=int),
        "changed": sorted(cut["edited"], key=int),
        "renamed": sorted(cut["renamed"], key=int),
        "cosmetic": sorted(cut["cosmetic"], key=int),
        "v1_ids": [row["id"] for row in v1],
        "v2_ids": [row["id"] for row in v2],
        "duplicate_names": len(gen.names) - len(set(gen.names)),
    }
    return v1, v2, truth


def write_text(path: Path, rows: list[dict], title: str) -> None:
    header = "\t".join(COLUMNS)
    lines = ["", "", title, "", header]
    for index, row in enumerate(rows):
        if index and index % PAGE_ROWS == 0:
            lines += ["", f"- {index // PAGE_ROWS} -", "", header]
        lines.append("\t".join(row[c] for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", *COLUMNS])
        for row in rows:
            writer.writerow([row["id"], *(row[c] for c in COLUMNS)])


# --------------------------------------------------------------------------- the two tools (run in a child)

def _peak_mb() -> float:
    """This process's peak RSS. VmHWM belongs to the address space, which exec replaces, so
    unlike ru_maxrss (kept across exec, so a child starts at its parent's size) it is clean."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_ours(workdir: Path, profile: bool, steady: bool = False) -> dict:
    """Our parse + match + diff. ``steady``: what a monitoring run does — version 1 was stored by
    the previous run (its rows' keys, names and digests are known, untimed here), and only
    version 2 is parsed and matched against it. Otherwise a cold start: both parsed and keyed."""
    from monitor.config import SourceConfig
    from monitor.lists.diff import field_changes
    from monitor.gcpause import paused_gc
    from monitor.lists.identity import ignored_columns, make_entry, stored_entry, stored_published
    from monitor.lists.match import match_versions
    from monitor.lists.parsers import Document, parse_document
    from monitor.lists.records import normalize_cell

    source = SourceConfig(
        id="bench", title="bench", url="file:///bench/v.txt", format="text-table",
        key_columns=["施策", "担当部署"], name_column="施策", url_columns=["URL"], end_date_columns=["備考"],
    )

    def parse(name: str):
        return parse_document(Document((workdir / name).read_bytes(), url=name), "text-table")

    imported_mb = _peak_mb()
    if steady:
        # What the store gives back: every current row's fields, key, name and digest.
        with paused_gc():
            old = parse("v1.txt")
            stored_ignore = ignored_columns(source, old.columns, old.records)
            stored = []
            for record in old.records:
                entry = make_entry(dict(record.cells), source, stored_ignore)
                stored.append((entry.key, entry.name, dict(record.cells), entry.digest))
            del old
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    phases = {}
    t0, c0 = time.perf_counter(), time.process_time()
    with paused_gc():
        if not steady:
            old = parse("v1.txt")
        new = parse("v2.txt")
        t1 = time.perf_counter()
        phases["parse"] = t1 - t0
        ignore = ignored_columns(source, new.columns, new.records)
        if steady:
            header = tuple(new.columns)
            old_published = [stored_published(fields, header) for _, _, fields, _ in stored]

            def old_cells(o: int) -> dict[str, str]:
                return stored[o][2]

            def old_entry(o: int):
                return stored_entry(*stored[o], source, ignore)
        else:
            old_published = [record.published for record in old.records]

            def old_cells(o: int) -> dict[str, str]:
                return old.records[o].cells

            def old_entry(o: int):
                return make_entry(old_cells(o), source, ignore)
        t2 = time.perf_counter()
        phases["published"] = t2 - t1
        matching = match_versions(old_published, [record.published for record in new.records], old_entry,
                                  lambda n: make_entry(new.records[n].cells, source, ignore), source.match_threshold)
        t3 = time.perf_counter()
        phases["match"] = t3 - t2
        changed, renamed = [], []
        for o, n in matching.pairs:
            if matching.old_entries[o].digest == matching.new_entries[n].digest:
                continue
            a, b = old_cells(o), new.records[n].cells
            if not field_changes(a, b, ignore):
                continue
            if normalize_cell(a.get(source.name_column, "")) != normalize_cell(b.get(source.name_column, "")):
                renamed.append((o, n))
            else:
                changed.append((o, n))
    t4, c4 = time.perf_counter(), time.process_time()
    phases["diff"] = t4 - t3
    peak = _peak_mb()
    if profiler:
        profiler.disable()
        import pstats
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)
    return {
        "wall": t4 - t0, "cpu": c4 - c0, "peak_mb": peak, "imported_mb": imported_mb, "phases": phases,
        "pairs": matching.pairs + matching.identical, "similar": sorted(matching.similar), "added": matching.added, "ended": matching.ended,
        "changed": changed, "renamed": renamed,
    }


def run_csv_diff(workdir: Path, profile: bool) -> dict:
    from csv_diff import compare, load_csv

    imported_mb = _peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    with (workdir / "v1.csv").open(encoding="utf-8", newline="") as fh:
        previous = load_csv(fh, key="id")
    with (workdir / "v2.csv").open(encoding="utf-8", newline="") as fh:
        current = load_csv(fh, key="id")
    t1 = time.perf_counter()
    result = compare(previous, current)
    t2, c2 = time.perf_counter(), time.process_time()
    peak = _peak_mb()
    return {
        "wall": t2 - t0, "cpu": c2 - c0, "peak_mb": peak, "imported_mb": imported_mb, "phases": {"load": t1 - t0, "compare": t2 - t1},
        "added": [r["id"] for r in result["added"]], "ended": [r["id"] for r in result["removed"]],
        "changed": [c["key"] for c in result["changed"]],
    }


TOOLS = ("ours", "ours-run", "csv-diff")
LABELS = {
    "ours": "ours, cold: parse both + match+diff",
    "ours-run": "ours, a run: new vs stored version",
    "csv-diff": "csv-diff (exact key id)",
}


def child(tool: str, workdir: Path, profile: bool) -> None:
    sys.path.insert(0, str(ROOT))
    if tool == "csv-diff":
        result = run_csv_diff(workdir, profile)
    else:
        result = run_ours(workdir, profile, steady=tool == "ours-run")
    (workdir / f"result-{tool}.json").write_text(json.dumps(result), encoding="utf-8")


def spawn(tool: str, workdir: Path, profile: bool, repeat: int) -> tuple[dict, float, float]:
    """Run one tool ``repeat`` times, each in a fresh interpreter; returns the fastest run's
    result, the shortest whole-process time and the highest peak RSS seen."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tool, "--workdir", str(workdir)]
    if profile and tool.startswith("ours"):
        cmd.append("--profile")
    best, totals, peaks = None, [], []
    for _ in range(repeat):
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT)
        totals.append(time.perf_counter() - start)
        if code:
            sys.exit(f"{tool} failed (exit {code})")
        result = json.loads((workdir / f"result-{tool}.json").read_text(encoding="utf-8"))
        peaks.append(result["peak_mb"])
        if best is None or result["wall"] < best["wall"]:
            best = result
    return best, min(totals), max(peaks)


# --------------------------------------------------------------------------- report

def judge_ours(result: dict, truth: dict) -> dict:
    v1, v2 = truth["v1_ids"], truth["v2_ids"]
    pairs = {(v1[o], v2[n]) for o, n in map(tuple, result["pairs"])}
    wrong_pairs = sum(1 for a, b in pairs if a != b)
    renamed = {v1[o] for o, n in result["renamed"] if v1[o] == v2[n]}
    changed = {v1[o] for o, n in result["changed"] if v1[o] == v2[n]}
    added, ended = {v2[n] for n in result["added"]}, {v1[o] for o in result["ended"]}
    true_renamed, true_changed = set(truth["renamed"]), set(truth["changed"])
    return {
        "renames_found": len(renamed & true_renamed),
        "renames_as_end_add": len(true_renamed & ended),
        "wrong_pairs": wrong_pairs,
        "false_adds": len(added - set(truth["added"])),
        "false_ends": len(ended - set(truth["removed"])),
        "missed_adds": len(set(truth["added"]) - added),
        "missed_ends": len(set(truth["removed"]) - ended),
        "changes_found": len(changed & true_changed),
        "false_changes": len((changed | renamed) - true_changed - true_renamed),
        "missed_changes": len(true_changed - changed),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="measures in version 1 (default 100,000)")
    parser.add_argument("--seed", type=int, default=20240401, help="random seed (fixed by default)")
    parser.add_argument("--workdir", type=Path, help="where the generated files go (default: a temporary directory)")
    parser.add_argument("--only", choices=TOOLS, help="run one tool only")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool (fresh process each); the fastest is shown")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of our run to stderr")
    parser.add_argument("--store", action="store_true", help="time whole `check` subprocesses (baseline, run) on SQLite, and PostgreSQL "
                        "when $SESAKU_TEST_POSTGRES_URL is set, instead of the in-memory tools (see diff_store.py)")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.workdir, args.profile)
        return

    with tempfile.TemporaryDirectory(prefix="diff-scale-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        v1, v2, truth = generate(args.rows, args.seed)
        write_text(workdir / "v1.txt", v1, "【戦略2】 人・モノ・情報の自由自在な交流を実現（合成データ 第1版）")
        write_text(workdir / "v2.txt", v2, "【戦略2】 人・モノ・情報の自由自在な交流を実現（合成データ 第2版）")
        write_csv(workdir / "v1.csv", v1)
        write_csv(workdir / "v2.csv", v2)
        expected = None
        if args.store:
            from diff_store import expected_keys
            expected = expected_keys(v1, v2, truth)
        del v1, v2
        print(f"generated {len(truth['v1_ids']):,} → {len(truth['v2_ids']):,} rows (seed {args.seed}) in {time.perf_counter() - t:.1f}s: "
              f"+{len(truth['added'])} added, -{len(truth['removed'])} removed, {len(truth['changed'])} edited, "
              f"{len(truth['renamed'])} renamed, {len(truth['cosmetic'])} cosmetic-only, {truth['duplicate_names']} duplicate names; "
              f"v1.txt {(workdir / 'v1.txt').stat().st_size / 2**20:.1f} MB")

        if args.store:
            from diff_store import run_store, store_backends
            run_store(workdir, store_backends(), args.profile, expected)
            return
        runs = {}
        for tool in TOOLS:
            if args.only in (None, tool):
                runs[tool] = spawn(tool, workdir, args.profile, args.repeat)

        head = f"{'tool':<34}{'wall s':>8}{'cpu s':>8}{'proc s':>8}{'peak MB':>9}{'added':>7}{'removed':>8}{'changed':>8}{'renamed':>8}"
        print()
        print(head)
        print("-" * len(head))
        print(f"{'ground truth':<34}{'':>8}{'':>8}{'':>8}{'':>9}{len(truth['added']):>7}{len(truth['removed']):>8}{len(truth['changed']):>8}{len(truth['renamed']):>8}")
        for tool, (res, total, rss) in runs.items():
            label = LABELS[tool]
            renamed = str(len(res["renamed"])) if "renamed" in res else "n/a"
            print(f"{label:<34}{res['wall']:>8.2f}{res['cpu']:>8.2f}{total:>8.2f}{rss:>9.0f}{len(res['added']):>7}{len(res['ended']):>8}{len(res['changed']):>8}{renamed:>8}")
        print()
        print(f"wall s: the work (reading files to result) in the child; cpu s: its CPU time (steadier on a busy")
        print(f"machine); proc s: the whole child process,")
        print(f"interpreter start and imports included; peak MB: the child's VmHWM (peak RSS, imports included).")
        print(f"Best of {args.repeat} run(s) per tool, each in a fresh process; {os.cpu_count()} CPUs.")
        for tool, (res, _, _) in runs.items():
            phases = ", ".join(f"{k} {v:.2f}s" for k, v in res["phases"].items())
            print(f"{tool}: {phases}; RSS after imports {res['imported_mb']:.0f} MB")
        for tool in ("ours", "ours-run"):
            if tool not in runs:
                continue
            res = runs[tool][0]
            j = judge_ours(res, truth)
            print()
            print(f"{LABELS[tool].strip()} vs ground truth:")
            print(f"  renames found as renames: {j['renames_found']}/{len(truth['renamed'])} "
                  f"(lost as ended+added: {j['renames_as_end_add']}); similarity pairs: {len(res['similar'])}")
            print(f"  edits found as changes:   {j['changes_found']}/{len(truth['changed'])} (missed {j['missed_changes']}); "
                  f"cosmetic-only rows reported: {j['false_changes']}/{len(truth['cosmetic'])} (should be 0)")
            print(f"  wrong pairs: {j['wrong_pairs']}; false adds: {j['false_adds']}; false ends: {j['false_ends']}; "
                  f"missed adds: {j['missed_adds']}; missed ends: {j['missed_ends']}")
        if "csv-diff" in runs:
            res = runs["csv-diff"][0]
            cosmetic = len(set(res["changed"]) & set(truth["cosmetic"]))
            print(f"csv-diff: renames reported as plain changes of 施策; cosmetic-only rows reported as changed: {cosmetic}/{len(truth['cosmetic'])}")
        if "csv-diff" in runs:
            theirs = runs["csv-diff"][0]
            print()
            for tool in ("ours", "ours-run"):
                if tool in runs:
                    ours, _, peak = runs[tool]
                    verdict = "met" if ours["cpu"] < theirs["cpu"] else "NOT met"
                    print(f"target, {LABELS[tool].strip()}: faster than csv-diff (cpu {ours['cpu']:.2f}s vs {theirs['cpu']:.2f}s: "
                          f"{verdict}; x{theirs['cpu'] / ours['cpu']:.2f}), under 500 MB peak ({peak:.0f} MB: {'met' if peak < 500 else 'NOT met'})")


if __name__ == "__main__":
    main()
