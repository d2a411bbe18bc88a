"""Russian and English: the person's choice, else what the browser asks for (Accept-Language).

The catalogues are gettext .po files under translations/, compiled in memory when the service
starts (no binary .mo files kept in the repository). Templates call `_()`/`ngettext()`, which read
the catalogue of the request being rendered (a context variable), so one template environment
serves every language.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("en", "ru")
DEFAULT = "en"
FOLDER = Path(__file__).parent / "translations"


def _compiled(language: str) -> gettext.NullTranslations:
    po = FOLDER / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo)


CATALOGUES = {language: _compiled(language) for language in LANGUAGES}
_current: ContextVar[str] = ContextVar("language", default=DEFAULT)


def choose(preferred: str | None, accept_language: str | None) -> str:
    """The person's own language when the desk speaks it, else the browser's best, else English."""
    if preferred and preferred.split("-")[0].split("_")[0] in LANGUAGES:
        return preferred.split("-")[0].split("_")[0]
    asked = [part.split(";")[0].strip().replace("-", "_") for part in (accept_language or "").split(",")]
    found = Locale.negotiate([a for a in asked if a and a != "*"], list(LANGUAGES))
    return str(found.language) if found is not None else DEFAULT


def use(language: str) -> None:
    """Render the rest of this request in `language`."""
    _current.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


def gettext_(message: str) -> str:
    return CATALOGUES[_current.get()].gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return CATALOGUES[_current.get()].ngettext(singular, plural, n)
