"""Index pages built to make reading their links quadratic: the CPU seconds of ``index_links``.

An index page's links are read with their context (``link_context``): the item (list item or
table row) around a link and the nearest heading before it. Read link by link, a page of 4,000
links with no heading took 26 s (each link walked back over the whole page to find one), and
4,000 links in one table row 136 s (each read, cleaned and searched the whole row's text).

    python bench/index_pages.py               # 4,000 links a page
    python bench/index_pages.py --links 20000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.lists.index_links import index_links  # noqa: E402


def pages(links: int) -> dict[str, str]:
    anchors = [f'<a href="/lists/{n}.csv">施策一覧 {n}（CSV：12KB）</a>' for n in range(links)]
    return {
        "a list item a link, no heading": "<ul>" + "".join(f"<li>{a}</li>" for a in anchors) + "</ul>",
        "every link in one table row": "<table><tr>" + "".join(f"<td>{a}</td>" for a in anchors) + "</tr></table>",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=4000)
    args = parser.parse_args()
    for shape, html in pages(args.links).items():
        for context in (("text",), ("text", "heading"), ("text", "item")):
            started = time.process_time()
            found = index_links(html, "https://www.example.lg.jp/", "施策", r"(\d+)", context)
            print(f"{shape:32} link_context {'+'.join(context):13} {len(found):>6,} links  {time.process_time() - started:6.2f} s CPU")


if __name__ == "__main__":
    main()
