"""Identity across versions: pure matching over plain entries."""

from monitor.match import Entry, match_records


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
