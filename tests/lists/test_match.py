"""Identity across versions: pure matching over plain entries."""

from monitor.lists.identity import Entry
from monitor.lists.match import match_records, match_versions, pair_unchanged
from monitor.lists.records import published_form


def entry(name: str, dept: str = "総務局", others: str = "概要 03-1234-5678") -> Entry:
    return Entry(key=f"{name} | {dept}", name=name, others=f"{dept} {others}")


def test_exact_keys_pair_and_the_rest_are_added_or_ended():
    old = [entry("A事業"), entry("B事業"), entry("C事業", others="全く別の内容")]
    new = [entry("B事業"), entry("A事業"), entry("まったく新しい取組", others="新しい概要 03-9999-0000")]
    matching = match_records(old, new)
    assert sorted(matching.pairs) == [(0, 1), (1, 0)]
    assert matching.ended == [2] and matching.added == [2]


def test_an_edited_name_is_a_rename_not_end_and_add():
    old = [entry("スタートアップ総合支援拠点の運営")]
    new = [entry("スタートアップ総合支援拠点の運営(旧:共存共栄を図るベンチャー育成事業)")]
    matching = match_records(old, new)
    assert matching.pairs == [(0, 0)] and (0, 0) in matching.similar


def test_similar_names_with_different_content_stay_apart():
    old = [entry("燃料電池バス導入促進事業", others="バスを導入する自治体に助成 03-5388-3746")]
    new = [entry("燃料電池トラック実装支援事業", others="トラックの実装を支援する 050-3155-5646")]
    matching = match_records(old, new)
    assert matching.pairs == [] and matching.ended == [0] and matching.added == [0]


def test_duplicate_keys_pair_by_content_not_position():
    bus_env = Entry("燃料電池バス導入促進事業", "燃料電池バス導入促進事業", "環境局 申請期間 令和12年度まで")
    bus_ind = Entry("燃料電池バス導入促進事業", "燃料電池バス導入促進事業", "産業労働局 令和12年度まで 環境局共管")
    matching = match_records([bus_env, bus_ind], [bus_ind, bus_env])
    assert sorted(matching.pairs) == [(0, 1), (1, 0)]


def test_each_old_measure_pairs_at_most_once():
    old = [entry("多摩の魅力発信プロジェクト")]
    new = [entry("多摩の魅力発信プロジェクト(旧)"), entry("多摩の魅力発信プロジェクト(新)")]
    matching = match_records(old, new)
    assert len(matching.pairs) == 1 and len(matching.added) == 1


def test_rows_published_unchanged_pair_first_copies_in_list_order():
    old = ["A\t総務局", "B\t財務局", "A\t総務局", None, "C\t環境局"]
    new = ["A\t総務局", "C\t環境局", "A\t総務局", "A\t総務局", "D\t港湾局"]
    identical, old_left, new_left = pair_unchanged(old, new)
    assert identical == [(0, 0), (4, 1), (2, 2)]
    assert old_left == [1, 3] and new_left == [3, 4]


def test_match_versions_makes_entries_only_for_rows_not_published_unchanged():
    old_rows = [("A事業", "総務局", "概要"), ("B事業", "財務局", "概要"), ("C事業", "環境局", "旧概要")]
    new_rows = [("B事業", "財務局", "概要"), ("C事業", "環境局", "新概要"), ("A事業", "総務局", "概要")]
    asked: list[tuple[str, int]] = []

    def entry_for(side: str, rows: list[tuple[str, str, str]]):
        def make(index: int) -> Entry:
            asked.append((side, index))
            name, dept, summary = rows[index]
            return entry(name, dept, summary)
        return make

    matching = match_versions(["\t".join(r) for r in old_rows], ["\t".join(r) for r in new_rows],
                              entry_for("old", old_rows), entry_for("new", new_rows))
    assert sorted(matching.identical) == [(0, 2), (1, 0)]
    assert matching.pairs == [(2, 1)] and not matching.added and not matching.ended
    assert asked == [("old", 2), ("new", 1)]


def test_a_tab_inside_a_cell_never_makes_two_rows_look_the_same():
    assert published_form(["a\tb", "c"]) != published_form(["a", "b\tc"])
    assert published_form(["a", "b", "c"]) == "a\tb\tc"
