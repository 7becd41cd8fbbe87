"""Seeds and quiet logs: the same numbers on a rerun, and no load bars between them."""

from __future__ import annotations

import os
import random


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy (if installed) and torch, so a rerun gives the same numbers."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
    import torch

    torch.manual_seed(seed)


def quiet_logging(quiet: bool = True) -> None:
    """Hide transformers' and the Hub's load bars and load reports (warnings and errors stay)."""
    level = "error" if quiet else "warning"
    os.environ["TRANSFORMERS_VERBOSITY"] = level
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1" if quiet else "0"
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars
    from transformers.utils import logging

    (disable_progress_bars if quiet else enable_progress_bars)()
    logging.set_verbosity_error() if quiet else logging.set_verbosity_warning()
    (logging.disable_progress_bar if quiet else logging.enable_progress_bar)()
