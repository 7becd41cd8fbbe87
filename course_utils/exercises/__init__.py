"""Graders for each notebook's exercises, one module per notebook (nb00, nb01, ...)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4)
def course_pipeline(task: str, hub_id: str, **kwargs: Any) -> Any:
    """The pipeline a notebook builds for (task, hub_id), loaded once for grading."""
    from transformers import pipeline

    from course_utils.hub import resolve

    return pipeline(task, model=resolve(hub_id, announce=False), device="cpu", **kwargs)
