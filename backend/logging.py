"""Structured logging. Log lines carry ids and error types, never PHI or exception messages.

Exception messages can quote data (a unique-violation message names the duplicate value), so
unexpected errors are logged as their type and a stack of file:line:function frames only.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import structlog

from backend.settings import Settings


def configure_logging(settings: Settings) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(settings.log_level, logging.INFO)
        ),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=settings.log_level, stream=sys.stderr, format="%(message)s")


def safe_frames(error: BaseException, limit: int = 12) -> list[str]:
    """Where an exception came from, without its message or local values."""
    frames = traceback.extract_tb(error.__traceback__)[-limit:]
    return [f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno}:{frame.name}" for frame in frames]


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
