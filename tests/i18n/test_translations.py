"""The UI speaks Simplified Chinese (the default) and English, completely.

What is checked, and how:

(a) the committed ``locale/zh_Hans/LC_MESSAGES/django.po`` has a translation for every entry,
    no ``#, fuzzy`` entry (Django ignores fuzzy entries), no obsolete leftovers, and every
    placeholder / HTML tag of the msgid appears in the msgstr;
(b) the committed ``django.mo`` holds exactly the translations of the ``.po`` (parsed with polib,
    so no GNU gettext is needed; a stale or forgotten ``compilemessages`` fails here);
(c) key pages render Chinese by default and English after ``POST /i18n/setlang/``;
(d) every string wrapped for translation in the code base *right now* is translated: Django's
    ``makemessages`` runs on a temporary copy of the sources (needs GNU gettext's xgettext,
    which ``makemessages`` itself needs) and each extracted msgid must have a translation in
    the committed catalog.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
PO_PATH = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# The same directories `make messages` leaves out (see the Makefile and docs/i18n.md).
IGNORED_DIRS = {".venv", "bench", "tests", "staticfiles", "node_modules", "locale", ".git", "test-artifacts"}

# %(name)s / %(n)02d / %s / {name} placeholders and HTML tags must survive translation.
PLACEHOLDER = re.compile(
    r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdifr]|\{[A-Za-z_][A-Za-z0-9_]*\}|<[^<>]+>"
)


def _key(entry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def _translations(entry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(PO_PATH))


# --- (a) the catalog itself ------------------------------------------------------------------


def test_po_header_is_simplified_chinese_with_one_plural_form(po):
    assert po.metadata["Language"] == "zh_Hans"
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"


def test_po_has_no_empty_fuzzy_or_obsolete_entry(po):
    active = [e for e in po if not e.obsolete]
    assert len(active) > 1000  # the catalog really is the project's (not an empty stub)
    empty = [e.msgid for e in active if not all(s.strip() for s in _translations(e))]
    fuzzy = [e.msgid for e in active if "fuzzy" in e.flags]
    obsolete = [e.msgid for e in po.obsolete_entries()]
    assert empty == []
    assert fuzzy == []
    assert obsolete == []


def test_plural_entries_have_exactly_one_form(po):
    plurals = [e for e in po if e.msgid_plural and not e.obsolete]
    assert plurals  # the project does use ngettext / {% blocktranslate count %}
    assert {e.msgid: sorted(e.msgstr_plural) for e in plurals} == {e.msgid: [0] for e in plurals}


def test_placeholders_and_html_survive_translation(po):
    broken = []
    for entry in po:
        if entry.obsolete:
            continue
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in _translations(entry):
            if sorted(PLACEHOLDER.findall(text)) != expected:
                broken.append((entry.msgid, text))
    assert broken == []


def test_translations_are_chinese_where_the_source_is_prose(po):
    # A msgstr that is just the English msgid again is an untranslated string in disguise.
    # Allowed: names, codes and units that stay as they are in Chinese UIs.
    keep = {"IMEI", "SLA", "NPS", "HTML", "URL", "API", "#", "English", "p50 (h)", "p90 (h)"}
    copied = [
        e.msgid
        for e in po
        if not e.obsolete and e.msgid not in keep and e.msgstr == e.msgid and re.search(r"[A-Za-z]{3}", e.msgid)
    ]
    assert copied == []


# --- (b) the compiled catalog ----------------------------------------------------------------


def test_committed_mo_matches_the_po(po):
    assert MO_PATH.exists(), "run: DEBUG=1 .venv/bin/python manage.py compilemessages -l zh_Hans --ignore=.venv"
    mo = polib.mofile(str(MO_PATH))
    in_po = {_key(e): _translations(e) for e in po.translated_entries()}
    in_mo = {_key(e): _translations(e) for e in mo if e.msgid}
    missing_from_mo = sorted(k[1] for k in in_po.keys() - in_mo.keys())
    stale_in_mo = sorted(k[1] for k in in_mo.keys() - in_po.keys())
    differing = sorted(k[1] for k in in_po.keys() & in_mo.keys() if in_po[k] != in_mo[k])
    assert (missing_from_mo, stale_in_mo, differing) == ([], [], []), "recompile: make messages"


def test_django_loads_the_compiled_catalog():
    with translation.override("zh-hans"):
        assert translation.gettext("Track a repair") == "查询维修进度"
        assert translation.ngettext("%(n)s center", "%(n)s centers", 3) % {"n": 3} == "3 个服务中心"
    with translation.override("en"):
        assert translation.gettext("Track a repair") == "Track a repair"


# --- (c) pages in both languages -------------------------------------------------------------

PAGES = [
    # url, a Chinese string only the zh page has, its English source
    ("/", "有什么可以帮您？", "How can we help?"),
    ("/centers/", "查找官方服务中心", "Find an official service center"),
    ("/track/", "手机号后 4 位", "Last 4 digits of your phone number"),
    ("/warranty/", "查询保修与服务宝", "Check warranty and plans"),
    ("/book/", "第 1 步（共 3 步）：选择服务中心。", "Step 1 of 3: choose a service center."),
    ("/admin/login/", "登录", "Log in"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "chinese", "english"), PAGES)
def test_page_is_chinese_by_default(client, url, chinese, english):
    # given: a first visit, no language cookie, no Accept-Language header
    response = client.get(url)
    # then: Simplified Chinese, and not the English source
    assert response.status_code == 200
    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert chinese in html
    assert english not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "chinese", "english"), PAGES)
def test_page_is_english_after_switching(client, url, chinese, english):
    # given: the visitor picks English in the language switcher
    switched = client.post("/i18n/setlang/", {"language": "en", "next": url})
    assert switched.status_code == 302
    assert switched["Location"] == url
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    # when: the page is opened again
    response = client.get(url)
    # then: English, no Chinese left from the catalog
    assert response.status_code == 200
    html = response.content.decode()
    assert response["Content-Language"] == "en"
    assert english in html
    assert chinese not in html


@pytest.mark.django_db
def test_switching_back_to_chinese(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "有什么可以帮您？" in html


@pytest.mark.django_db
def test_accept_language_english_is_honoured_without_a_cookie(client):
    html = client.get("/track/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Track a repair" in html
    assert "查询维修进度" not in html


# --- (d) nothing wrapped in the code is missing from the catalog ------------------------------


def _copy_sources(dst: Path) -> None:
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in IGNORED_DIRS or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            continue
        if path.is_file() and path.suffix in {".py", ".html", ".txt"}:
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_every_wrapped_string_in_the_code_is_translated(po, tmp_path, settings, monkeypatch):
    # given: a copy of the sources and an empty locale directory (the real catalog is not touched)
    src = tmp_path / "src"
    _copy_sources(src)
    (src / "locale").mkdir()
    settings.LOCALE_PATHS = [str(src / "locale")]
    monkeypatch.chdir(src)
    # when: makemessages extracts what the code wraps today
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    extracted = polib.pofile(str(src / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    # then: each extracted msgid has a (non-fuzzy) translation in the committed catalog
    translated = {_key(e) for e in po.translated_entries() if "fuzzy" not in e.flags}
    missing = sorted(e.msgid for e in extracted if e.msgid and _key(e) not in translated)
    assert len(extracted) > 1000
    assert missing == [], "run `make messages` and translate these"


# --- labels that come from the models --------------------------------------------------------


def _project_models():
    from django.apps import apps

    for model in apps.get_models():
        path = Path(model._meta.app_config.path)
        if ROOT in path.parents and ".venv" not in path.parts:
            yield model


def test_every_model_and_field_label_is_translatable():
    # A field without verbose_name gets one derived from its name: a plain English str that no
    # catalog can translate (the admin would show "created at" on a Chinese page).
    from django.utils.functional import Promise

    models = list(_project_models())
    assert len(models) > 30
    plain = []
    for model in models:
        for label in (model._meta.verbose_name, model._meta.verbose_name_plural):
            if not isinstance(label, Promise):
                plain.append(f"{model._meta.label} ({label})")
        for field in model._meta.get_fields():
            if field.auto_created or not hasattr(field, "verbose_name"):
                continue
            if not isinstance(field.verbose_name, Promise):
                plain.append(f"{model._meta.label}.{field.name} ({field.verbose_name})")
    assert plain == []


@pytest.mark.django_db
def test_admin_index_is_chinese_by_default_and_english_after_switching(client, django_user_model):
    admin = django_user_model.objects.create_superuser("i18n-admin", "i18n@example.com", "x-Strong-Pass-1")
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert "服务网络" in html and "维修项目" in html  # our app names, from the catalog
    assert "Service network" not in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    html = client.get("/admin/").content.decode()
    assert "Service network" in html and "服务网络" not in html
