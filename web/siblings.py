"""「他の一覧にも掲載」: the same measure in other lists (store.siblings), as the web shows it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from store.siblings import siblings_of

from web.schemas import AlsoIn

__all__ = ["also_in"]


def also_in(session: Session, measure_ids: Sequence[int]) -> dict[int, list[AlsoIn]]:
    # The siblings' titles come with them (store.siblings joins sources): no look-up of every list's title.
    return {
        measure_id: [AlsoIn(measure_id=s.measure_id, source_id=s.source_id, source_title=s.source_title, name=s.name,
                            shared_name=s.shared_name, ended=s.ended_at is not None, page=f"/measures/{s.measure_id}") for s in found]
        for measure_id, found in siblings_of(session, measure_ids).items()
    }
