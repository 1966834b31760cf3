"""「他の一覧にも掲載」: the same measure in other lists (store.siblings), as the web shows it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from store.siblings import siblings_of

from web.schemas import AlsoIn

__all__ = ["also_in"]


def also_in(session: Session, titles: Mapping[str, str], measure_ids: Sequence[int]) -> dict[int, list[AlsoIn]]:
    return {
        measure_id: [AlsoIn(measure_id=s.measure_id, source_id=s.source_id, source_title=titles.get(s.source_id, s.source_title), name=s.name,
                            shared_name=s.shared_name, ended=s.ended_at is not None, page=f"/measures/{s.measure_id}") for s in found]
        for measure_id, found in siblings_of(session, measure_ids).items()
    }
