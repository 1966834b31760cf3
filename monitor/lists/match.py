"""Identity of a measure across two versions of a list (pure: no database, no network).

Lists have no stable ids, so identity is found in three steps (DESIGN.md), after rows
published with exactly the same text as before have paired with their old selves (most rows
of most versions: they need no normalising, matching or diff at all):

1. the configured key, normalised, pairs rows that kept it; where a key occurs several times
   (the same name under two departments) the rows sharing it are paired by similarity, so a
   reordering never swaps them;
2. what is left is paired one-to-one by similarity of name and other fields above a
   threshold: an edited name is a *rename*, never an end plus an addition;
3. the rest are *added* and *ended*.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from monitor.lists.identity import Entry

__all__ = ["Matching", "match_records", "match_versions", "pair_similar", "pair_unchanged", "similarity"]

NAME_WEIGHT = 0.55
# Above this many candidate pairs the remainder is compared within blocks only (same first
# characters of the name), so a mis-set key cannot make a run quadratic in the list size.
MAX_PAIRS = 4_000_000
NAME_FLOOR = 35


@dataclass(slots=True)
class Matching:
    """(old, new) positions. ``identical`` pairs were published with the same text and need
    no diff; ``pairs`` are all the others; ``similar`` marks pairs found in step 2.
    ``old_entries`` and ``new_entries`` are the entries that were made, by position."""

    pairs: list[tuple[int, int]] = field(default_factory=list)
    identical: list[tuple[int, int]] = field(default_factory=list)
    similar: set[tuple[int, int]] = field(default_factory=set)
    added: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    old_entries: Mapping[int, Entry] = field(default_factory=dict)
    new_entries: Mapping[int, Entry] = field(default_factory=dict)


def similarity(old: Entry, new: Entry) -> float:
    """0–100: how alike two entries are, weighing the name most."""
    from rapidfuzz import fuzz  # a run that pairs nothing by similarity (most runs) never loads rapidfuzz

    return NAME_WEIGHT * fuzz.ratio(old.name, new.name) + (1 - NAME_WEIGHT) * fuzz.ratio(old.others, new.others)


def match_versions(old: Sequence[Hashable | None], new: Sequence[Hashable], old_entry: Callable[[int], Entry],
                   new_entry: Callable[[int], Entry], threshold: float = 70.0, *,
                   load_old: Callable[[list[int]], None] | None = None) -> Matching:
    """Pair two versions of a list given each row's published text (``Record.published``);
    entries are asked for only for the rows that were not published unchanged, and
    ``load_old`` is told which old ones first (so a caller can load just those rows)."""
    identical, old_left, new_left = pair_unchanged(old, new)
    if not old_left:  # a baseline, or no old row left to pair with: the rest is added, nothing compared
        return Matching(identical=identical, added=new_left, new_entries=_EntriesWhenAsked(new_left, new_entry))
    if load_old is not None:
        load_old(old_left)
    old_entries = {o: old_entry(o) for o in old_left}
    new_entries = {n: new_entry(n) for n in new_left}
    matching = match_records(old_entries, new_entries, threshold)
    matching.identical, matching.old_entries, matching.new_entries = identical, old_entries, new_entries
    return matching


class _EntriesWhenAsked(Mapping[int, Entry]):
    """The entries of rows that are all added, each made when it is asked for (and not kept):
    a 100,000-row baseline's writer makes them batch by batch while the rows before are on their
    way to the database, where making them all first kept it waiting 0.8 s."""

    def __init__(self, rows: Sequence[int], make: Callable[[int], Entry]) -> None:
        self._rows, self._make = rows, make
        self._known = frozenset(rows)

    def __getitem__(self, row: int) -> Entry:
        if row not in self._known:
            raise KeyError(row)
        return self._make(row)

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def pair_unchanged(old: Sequence[Hashable | None], new: Sequence[Hashable]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(old, new) pairs of rows with the same published text, the rest of old, the rest of new.

    A row published twice with the same text pairs with the old copies in list order; an
    old row given as None (its columns were different) pairs with nothing here.
    """
    waiting: dict[Hashable, int] = {}
    more: dict[Hashable, deque[int]] = defaultdict(deque)
    unpairable: list[int] = []
    for index, text in enumerate(old):
        if text is None:
            unpairable.append(index)
        elif waiting.setdefault(text, index) != index:
            more[text].append(index)
    identical: list[tuple[int, int]] = []
    new_left: list[int] = []
    for index, text in enumerate(new):
        same = waiting.pop(text, None)
        if same is None:
            new_left.append(index)
            continue
        identical.append((same, index))
        if more and text in more:
            waiting[text] = more[text].popleft()
            if not more[text]:
                del more[text]
    old_left = sorted([*waiting.values(), *unpairable, *(index for queue in more.values() for index in queue)])
    return identical, old_left, new_left


def match_records(old: Mapping[int, Entry] | Sequence[Entry], new: Mapping[int, Entry] | Sequence[Entry], threshold: float = 70.0) -> Matching:
    """Pair old and new entries one-to-one by key, then by similarity; entries are named by
    their position in a list or their key in a mapping."""
    old = old if isinstance(old, Mapping) else dict(enumerate(old))
    new = new if isinstance(new, Mapping) else dict(enumerate(new))
    matching = Matching(old_entries=old, new_entries=new)
    if not old or not new:  # a baseline: every row is new, nothing to pair
        matching.ended, matching.added = list(old), list(new)
        return matching
    old_rest, new_rest = _pair_by_key(old, new, matching)
    for pair in _pair_by_similarity(old, new, old_rest, new_rest, threshold):
        matching.pairs.append(pair)
        matching.similar.add(pair)
    paired_old = {o for o, _ in matching.pairs}
    paired_new = {n for _, n in matching.pairs}
    matching.ended = [i for i in old if i not in paired_old]
    matching.added = [j for j in new if j not in paired_new]
    return matching


def pair_similar(old: Mapping[int, Entry], new: Mapping[int, Entry], threshold: float) -> list[tuple[int, int]]:
    """Step 2 alone: a one-to-one pairing of every old and new entry by similarity above ``threshold``."""
    return _pair_by_similarity(old, new, sorted(old), sorted(new), threshold)


def _pair_by_key(old: Mapping[int, Entry], new: Mapping[int, Entry], matching: Matching) -> tuple[list[int], list[int]]:
    old_by_key: dict[str, list[int]] = defaultdict(list)
    for index, entry in old.items():
        old_by_key[entry.key].append(index)
    new_by_key: dict[str, list[int]] = defaultdict(list)
    for index, entry in new.items():
        new_by_key[entry.key].append(index)
    old_rest: list[int] = []
    new_rest: list[int] = []
    for key, news in new_by_key.items():
        olds = old_by_key.pop(key, [])
        if len(olds) == 1 and len(news) == 1:
            matching.pairs.append((olds[0], news[0]))
            continue
        taken = _greedy(olds, news, lambda o, n: similarity(old[o], new[n]), floor=-1.0)
        matching.pairs.extend(taken)
        old_rest += [o for o in olds if o not in {p[0] for p in taken}]
        new_rest += [n for n in news if n not in {p[1] for p in taken}]
    for olds in old_by_key.values():
        old_rest += olds
    return sorted(old_rest), sorted(new_rest)


def _greedy(olds: Sequence[int], news: Sequence[int], score, floor: float) -> list[tuple[int, int]]:
    """Best-first one-to-one pairing; ties go to list order."""
    scored = sorted(((-score(o, n), o, n) for o in olds for n in news), key=lambda t: t)
    return _take_best(scored, floor)


def _take_best(scored: list[tuple[float, int, int]], floor: float) -> list[tuple[int, int]]:
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for negative, o, n in scored:
        if -negative < floor:
            break
        if o in used_old or n in used_new:
            continue
        used_old.add(o)
        used_new.add(n)
        pairs.append((o, n))
    return pairs


def _pair_by_similarity(old: Mapping[int, Entry], new: Mapping[int, Entry], old_rest: list[int], new_rest: list[int], threshold: float) -> list[tuple[int, int]]:
    if not old_rest or not new_rest:
        return []
    if len(old_rest) * len(new_rest) <= MAX_PAIRS:
        blocks = [(old_rest, new_rest)]
    else:
        blocks = _blocks(old, new, old_rest, new_rest)
    scored: list[tuple[float, int, int]] = []
    for olds, news in blocks:
        scored += _score_block(old, new, olds, news, threshold)
    scored.sort()
    return _take_best(scored, threshold)


def _score_block(old: Mapping[int, Entry], new: Mapping[int, Entry], olds: list[int], news: list[int], threshold: float) -> list[tuple[float, int, int]]:
    import numpy as np  # only runs that have names left to compare need it, and rapidfuzz
    from rapidfuzz import fuzz, process

    names = process.cdist([old[o].name for o in olds], [new[n].name for n in news], scorer=fuzz.ratio, dtype=np.uint8, workers=-1)
    # A pair whose name alone cannot lift it over the threshold is not worth the field comparison.
    best_possible = NAME_WEIGHT * names.astype(np.float32) + (1 - NAME_WEIGHT) * 100
    rows, cols = np.nonzero((names >= NAME_FLOOR) & (best_possible >= threshold))
    if not len(rows):
        return []
    # The fields of every candidate pair in one call: a loop over 10,000 pairs in Python cost more than the comparisons.
    others = process.cpdist([old[olds[r]].others for r in rows.tolist()], [new[news[c]].others for c in cols.tolist()],
                            scorer=fuzz.ratio, dtype=np.float64, workers=-1)
    totals = NAME_WEIGHT * names[rows, cols].astype(np.float64) + (1 - NAME_WEIGHT) * others
    return [(-total, olds[r], news[c]) for total, r, c in zip(totals.tolist(), rows.tolist(), cols.tolist()) if total >= threshold]


def _blocks(old: Mapping[int, Entry], new: Mapping[int, Entry], old_rest: list[int], new_rest: list[int]) -> list[tuple[list[int], list[int]]]:
    by_prefix_old: dict[str, list[int]] = defaultdict(list)
    by_prefix_new: dict[str, list[int]] = defaultdict(list)
    for o in old_rest:
        by_prefix_old[old[o].name[:2]].append(o)
    for n in new_rest:
        by_prefix_new[new[n].name[:2]].append(n)
    return [(olds, by_prefix_new[p]) for p, olds in by_prefix_old.items() if p in by_prefix_new]
