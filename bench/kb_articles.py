"""Generated knowledge base articles and the texts that look for them, in Russian and English.

Articles are written about a few dozen subjects (a device or a service and what goes wrong with it),
each word in the forms a writer uses (`принтер`, `принтера`, `принтеры`…), among everyday sentences
and a long tail of product and place names made of syllables, so that words are spread over the
articles as in a real knowledge base: a few in many, most in few.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from services.knowledge.search import IndexedArticle

# Subjects: the forms of a thing, the forms of what goes wrong, a fix; Russian, then English.
SUBJECTS_RU = [
    ("принтер принтера принтеру принтером принтере принтеры", "не печатает печать печатает замятие бумаги"),
    ("сканер сканера сканером сканеры", "не сканирует сканирование зависает"),
    ("VPN VPN-клиент клиента подключение подключения", "обрывается отключается не подключается соединение"),
    ("почта почты почтой почтовый ящик", "не приходят письма письмо не отправляется вложение"),
    ("пароль пароля паролем пароли учётная запись", "забыл сбросить сброс истёк заблокирована"),
    ("ноутбук ноутбука ноутбуком ноутбуки", "не включается перегревается батарея зарядка"),
    ("монитор монитора мониторы экран экрана", "мерцает нет сигнала разрешение экрана"),
    ("Wi-Fi сеть сети сетью роутер роутера", "нет интернета медленно работает пропадает"),
    ("1С бухгалтерия бухгалтерии отчёт отчёты", "ошибка при проведении не формируется отчёт обновление"),
    ("телефон телефона телефоны гарнитура гарнитуры", "не слышно звонки звонок переадресация"),
    ("счёт счета счёта оплата оплаты", "не пришёл счёт возврат оплаты реквизиты"),
    ("доступ доступа права прав папка папки", "нет доступа запросить права общая папка"),
    ("видеоконференция видеосвязь камера камеры микрофон", "не работает камера эхо звук пропадает"),
    ("антивирус антивируса вирус обновления", "блокирует файл угроза карантин"),
    ("сайт сайта портал портала личный кабинет", "не открывается ошибка входа страница"),
]
SUBJECTS_EN = [
    ("printer printers printing print", "does not print paper jam prints blank pages"),
    ("scanner scanners scanning scan", "scanning fails hangs scanned files missing"),
    ("VPN connection connections client", "drops disconnects cannot connect reconnecting"),
    ("email mail mailbox messages", "not receiving emails attachment bounced sending fails"),
    ("password passwords account accounts", "forgot reset expired locked out"),
    ("laptop laptops notebook battery", "does not turn on overheating charging battery drains"),
    ("monitor monitors display screen", "flickering no signal resolution"),
    ("Wi-Fi wireless network router", "no internet slow connection keeps dropping"),
    ("invoice invoices billing payment payments", "missing invoice refund charged twice"),
    ("phone phones headset headsets", "cannot hear calls forwarding"),
    ("access permissions folder folders share", "access denied request permissions shared folder"),
    ("video call calls camera microphone", "camera not working echo sound cuts out"),
    ("antivirus virus updates quarantine", "blocks file threat detected"),
    ("website portal sign-in login page", "page does not open login error"),
    ("spreadsheet spreadsheets report reports", "formula errors export fails report is empty"),
]
_COMMON_RU = (
    "Если проблема повторяется, обратитесь в службу поддержки. Перед этим перезагрузите компьютер и проверьте"
    " подключение. Обычно это занимает несколько минут. Запишите текст ошибки и время, когда она возникла."
    " Убедитесь, что у вас установлена последняя версия программы. В большинстве случаев помогает простая"
    " перезагрузка. Инструкция подходит для всех офисов компании. Если у вас нет прав администратора, попросите"
    " коллегу из ИТ-отдела. Настройки сохраняются автоматически. Подробности смотрите в соседних статьях раздела."
)
_COMMON_EN = (
    "If the problem persists, contact the service desk. Before that, restart your computer and check the"
    " connection. This usually takes a few minutes. Write down the error message and the time it happened."
    " Make sure you have the latest version of the application installed. In most cases a simple restart helps."
    " These instructions apply to every office of the company. If you are not an administrator, ask a colleague"
    " from the IT department. Settings are saved automatically. See the neighbouring articles of this section."
)
COMMON_RU, COMMON_EN = _COMMON_RU.split(". "), _COMMON_EN.split(". ")
STEPS_RU = ["Откройте", "Нажмите", "Выберите", "Проверьте", "Перезапустите", "Отключите", "Подключите", "Замените"]
STEPS_EN = ["Open", "Click", "Choose", "Check", "Restart", "Unplug", "Plug in", "Replace"]
_SYLLABLES = (
    "ка ло ми ра то не ве со лу ди ан ор ис ел ур ба га ко ре ти",
    "ka lo mi ra to ne ve so lu di an or is el ur ba ga ko re ti",
)
SYLLABLES_RU, SYLLABLES_EN = (syllables.split() for syllables in _SYLLABLES)
CATEGORIES = {"hardware": None, "printers": "hardware", "laptops": "hardware", "network": None, "vpn": "network",
              "accounts": None, "billing": None, "software": None, "office": "software"}  # fmt: skip
ORGANISATIONS = ["northwind", "contoso", "globex", "initech"]


@dataclass(frozen=True)
class Subject:
    things: list[str]
    troubles: list[str]


def _subjects(language: str) -> list[Subject]:
    raw = SUBJECTS_RU if language == "ru" else SUBJECTS_EN
    return [Subject(things.split(), troubles.split()) for things, troubles in raw]


def _name(rng: random.Random, language: str) -> str:
    """A product, place or person's name: the long tail of a knowledge base's words."""
    syllables = SYLLABLES_RU if language == "ru" else SYLLABLES_EN
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()


def _sentence(rng: random.Random, language: str, subject: Subject, names: list[str]) -> str:
    steps = STEPS_RU if language == "ru" else STEPS_EN
    common = COMMON_RU if language == "ru" else COMMON_EN
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(common).rstrip(".") + "."
    if kind < 0.7:
        words = [rng.choice(steps), *rng.sample(subject.things, 1), *rng.sample(subject.troubles, 2), rng.choice(names)]
        return " ".join(words) + "."
    words = [rng.choice(subject.things).capitalize(), rng.choice(names), *rng.sample(subject.troubles, 3)]
    return " ".join(words) + "."


def articles(tenant: str, count: int, seed: int = 21) -> list[IndexedArticle]:
    """`count` articles, half Russian and half English, of 60 to 600 words each."""
    rng = random.Random(seed)
    made = []
    names = {language: [_name(rng, language) for _ in range(3000)] for language in ("ru", "en")}
    for n in range(count):
        language = "ru" if n % 2 else "en"
        subjects = _subjects(language)
        subject = subjects[rng.randrange(len(subjects))]
        own_names = rng.sample(names[language], 6)
        title = " ".join([rng.choice(subject.things).capitalize(), *rng.sample(subject.troubles, 2), own_names[0]])
        sentences = [_sentence(rng, language, subject, own_names) for _ in range(rng.randint(8, 80))]
        category = rng.choice(list(CATEGORIES))
        visibility = rng.choices(["public", "internal", "organisations"], [6, 3, 1])[0]
        made.append(
            IndexedArticle(
                tenant=tenant, id=f"a{n:05d}", language=language, title=title, text=" ".join(sentences),  # type: ignore[arg-type]
                categories=[category, *([parent] if (parent := CATEGORIES[category]) else [])],
                tags=rng.sample(subject.troubles, 2), visibility=visibility,  # type: ignore[arg-type]
                organisations=rng.sample(ORGANISATIONS, 1) if visibility == "organisations" else [],
            )
        )  # fmt: skip
    return made


def queries(count: int, seed: int = 22) -> list[str]:
    """What people type into the search box: one to three words of a subject, in any of their forms."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        subject = rng.choice(_subjects(rng.choice(["ru", "en"])))
        words = rng.sample(subject.things, 1) + rng.sample(subject.troubles, rng.randint(0, 2))
        made.append(" ".join(words))
    return made


def ticket_texts(count: int, seed: int = 23) -> list[str]:
    """A ticket's title and description, or a chat message: 10 to 80 words, greetings and all."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        language = rng.choice(["ru", "en"])
        subject = rng.choice(_subjects(language))
        greeting = "Здравствуйте! У меня проблема." if language == "ru" else "Hello, I have a problem."
        names = [_name(rng, language) for _ in range(3)]
        sentences = [_sentence(rng, language, subject, names) for _ in range(rng.randint(1, 8))]
        thanks = "Спасибо, жду ответа." if language == "ru" else "Thanks, waiting for your answer."
        made.append(" ".join([greeting, *sentences, thanks]))
    return made
