"""Loggers for project code live under the `luffy.` namespace configured in settings."""

import logging


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"luffy.{name}")
