"""The knowledge base's search index on real PostgreSQL and on SQLite (the embedded default): the
same scenarios on both stores, each test on a store of its own."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.views import SqlView
from services.knowledge.search import Audience, IndexedArticle, index_schema, put, remove, search, suggest
from tests.infra import Postgres

STAFF = Audience(staff=True)
ANYONE = Audience(staff=False)
NORTHWIND = Audience(staff=False, organisation="northwind")
TENANT = "acme"


class Index:
    def __init__(self, view: SqlView) -> None:
        self.view = view

    def put(self, title: str, text: str = "", **fields: object) -> str:
        article_id = str(fields.pop("id", uuid.uuid4()))
        article = IndexedArticle(
            **{"tenant": TENANT, "id": article_id, "language": "ru", "title": title, "text": text} | fields  # type: ignore[arg-type]
        )
        with self.view.transaction() as sql:
            put(sql, article)
        return article_id

    def remove(self, article_id: str, tenant: str = TENANT) -> None:
        with self.view.transaction() as sql:
            remove(sql, tenant, article_id)

    def search(self, query: str, audience: Audience = STAFF, **filters: object) -> list[str]:
        return [hit.id for hit in search(self.view, TENANT, query, audience, **filters)]  # type: ignore[arg-type]

    def suggest(self, text: str, audience: Audience = STAFF, **filters: object) -> list[str]:
        return [hit.id for hit in suggest(self.view, TENANT, text, audience, **filters)]  # type: ignore[arg-type]


@pytest.fixture(params=["postgres", "sqlite"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Index]:
    if request.param == "sqlite":
        settings = Settings(persistence="sqlite", data_dir=tmp_path)
        view = SqlView(tracking_recorder(settings, "knowledge"), index_schema(postgres=False), "kb-search")
        yield Index(view)
        return
    postgres: Postgres = request.getfixturevalue("postgres")
    with postgres.fresh_settings() as settings:
        view = SqlView(tracking_recorder(settings, "knowledge"), index_schema(postgres=True), "kb-search")
        try:
            yield Index(view)
        finally:
            view.datastore.close()


def test_russian_search_finds_a_printer_that_does_not_print_by_any_form_of_its_words(index: Index) -> None:
    printer = index.put("Принтер не печатает", "Проверьте, включён ли принтер и есть ли бумага в лотке.")
    index.put("Сброс пароля", "Пароль меняют в личном кабинете.")
    assert index.search("принтеры") == [printer]
    assert index.search("печать") == [printer]
    assert index.search("Печать на принтере") == [printer]
    assert index.search("бумагу") == [printer]
    assert index.search("принтер сканер") == []  # every word must be found


def test_english_search_finds_inflected_forms(index: Index) -> None:
    vpn = index.put("VPN connections drop", "The client disconnects every hour; reconnecting helps.", language="en")
    index.put("Printing invoices", "Invoices print from the billing page.", language="en")
    assert index.search("connection dropping") == [vpn]
    assert index.search("disconnected") == [vpn]
    assert index.search("vpn") == [vpn]
    assert index.search("the") == []  # a stop word alone asks for nothing


def test_a_title_match_ranks_above_a_body_match(index: Index) -> None:
    body = index.put("Настройка почты", "Если принтер не видит сеть, настройте почту заново. " * 3)
    title = index.put("Принтер в сети", "Как подключить устройство к сети офиса и настроить его.")
    assert index.search("принтер") == [title, body]


def test_search_is_filtered_by_language_and_category_subtree(index: Index) -> None:
    ru = index.put("Принтер не печатает", "Бумага замялась.", categories=["printers", "hardware"])
    en = index.put("Printer jams", "Paper is stuck in the printer.", language="en", categories=["hardware"])
    other = index.put("Принтер для бухгалтерии", "Заявка на покупку.", categories=["purchases"])
    assert set(index.search("принтер")) == {ru, other}  # Russian stems find the Russian word only
    assert index.search("printer", language="en") == [en]
    assert index.search("принтер", language="en") == []
    assert set(index.search("принтер", category="hardware")) == {ru}
    assert index.search("printer", category="hardware") == [en]
    assert index.search("принтер", category="printers") == [ru]
    assert index.search("принтер", category="nowhere") == []


def test_a_customer_never_finds_an_internal_or_another_organisations_article(index: Index) -> None:
    public = index.put("Принтер не печатает", "Проверьте бумагу.")
    internal = index.put("Принтер: сервисный пароль", "Пароль инженера.", visibility="internal")
    northwind = index.put(
        "Принтер в офисе Northwind", "Третий этаж.", visibility="organisations", organisations=["northwind"]
    )
    contoso = index.put(
        "Принтер в офисе Contoso", "Второй этаж.", visibility="organisations", organisations=["contoso"]
    )
    assert set(index.search("принтер")) == {public, internal, northwind, contoso}
    assert index.search("принтер", ANYONE) == [public]
    assert set(index.search("принтер", NORTHWIND)) == {public, northwind}
    assert set(index.suggest("у нас принтер сломался", NORTHWIND)) == {public, northwind}
    assert index.suggest("сервисный пароль инженера", NORTHWIND) == []


def test_another_tenants_articles_are_never_found(index: Index) -> None:
    index.put("Принтер не печатает", "Бумага.", tenant="globex")
    assert index.search("принтер") == []


def test_snippets_quote_the_text_around_the_matches_highlighted_and_escaped(index: Index) -> None:
    text = "Вступление. " * 40 + "Если <b>принтер</b> не печатает & мигает, выключите его. " + "Прочее. " * 40
    index.put("Неполадки", text)
    (hit,) = search(index.view, TENANT, "печать принтера", STAFF)
    assert "Если &lt;b&gt;<mark>принтер</mark>&lt;/b&gt; не <mark>печатает</mark> &amp; мигает" in hit.snippet
    assert "<b>" not in hit.snippet
    assert hit.snippet[0] == hit.snippet[-1] == "…"  # cut at both ends
    assert len(re.sub(r"</?mark>", "", hit.snippet)) < 260
    assert (hit.title, hit.language) == ("Неполадки", "ru")
    assert hit.score > 0


def test_the_snippet_of_a_title_match_is_the_texts_beginning(index: Index) -> None:
    index.put("Принтер", "Короткая статья без этого слова.", categories=["hardware", "it"])
    (hit,) = search(index.view, TENANT, "принтеры", STAFF)
    assert hit.snippet == "Короткая статья без этого слова."
    assert hit.category == "hardware"


def test_a_removed_article_is_found_no_more_and_a_revised_one_by_its_new_words(index: Index) -> None:
    article = index.put("Принтер не печатает", "Бумага.")
    index.put("Принтер печатает полосами", "Картридж.", id=article)
    assert index.search("картридж") == [article]
    assert index.search("бумага") == []
    index.remove(article)
    assert index.search("принтер") == []
    assert index.suggest("принтер картридж") == []
    index.remove(article)  # again: nothing happens


def test_suggestions_answer_a_long_text_by_its_telling_words(index: Index) -> None:
    printer = index.put("Принтер не печатает", "Проверьте бумагу и картридж.", tags=["печать"])
    vpn = index.put("VPN отключается", "Переподключите клиент VPN.", tags=["сеть"])
    for n in range(6):
        index.put(f"Пожалуйста, проблема {n}", "Проблема и пожалуйста встречаются везде.")
    text = "Здравствуйте! Пожалуйста, помогите: проблема с принтером, он перестал печатать документы."
    assert index.suggest(text)[0] == printer
    assert index.suggest("не работает VPN после обновления") == [vpn]
    assert index.suggest("и в на") == []
    assert index.suggest(text, language="en") == []
