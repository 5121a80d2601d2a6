"""Options shared by the ``flask --app app profreg`` commands of every domain."""
from __future__ import annotations

from datetime import date

import click

LANGUAGES = ("kk", "ru", "en")


def parse_date(_ctx, _param, value):
    """Click callback: a ``YYYY-MM-DD`` option as a date (None stays None)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD") from None


def lang_option(help_text: str = "Language of headers (default: BABEL_DEFAULT_LOCALE).", default=None):
    """``--lang kk|ru|en`` (None: the configured default language)."""
    return click.option("--lang", type=click.Choice(LANGUAGES), default=default, show_default=default is not None,
                        help=help_text)
