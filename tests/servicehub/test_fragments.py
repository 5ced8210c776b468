"""The process-local template fragments (CACHES["fragments"]): the site's navigation, footer and the home
page's tiles are rendered once per process and language, and a change of settings shows at once."""

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db


def test_the_home_page_s_fragments_are_rendered_once_per_language(client, settings):
    settings.LANGUAGE_CODE = "en"
    fragments = caches["fragments"]
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
    count = len(fragments._cache)
    assert count >= 4  # languages, navigation, footer, tiles
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en").text.count("Track a repair") == english.count("Track a repair")
    assert len(fragments._cache) == count  # the second page rendered nothing new
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").text
    assert len(fragments._cache) == 2 * count  # the same fragments in Chinese, beside the English ones
    assert "Find an official service center" in english and "Find an official service center" not in chinese
    assert '<option value="zh-hans" lang="zh-hans" selected>' in chinese
    assert '<option value="en" lang="en" selected>' in english


def test_a_changed_hotline_shows_in_the_footer_at_once(client, settings):
    settings.SERVICEHUB = {**settings.SERVICEHUB, "HOTLINE": "400-111-2222"}
    assert "400-111-2222" in client.get("/").text
    settings.SERVICEHUB = {**settings.SERVICEHUB, "HOTLINE": "400-333-4444"}
    page = client.get("/").text
    assert "400-333-4444" in page and "400-111-2222" not in page


def test_the_language_form_keeps_the_request_s_own_path_and_token(client):
    first = client.get("/centers/", HTTP_ACCEPT_LANGUAGE="en").text
    second = client.get("/track/", HTTP_ACCEPT_LANGUAGE="en").text
    assert 'name="next" type="hidden" value="/centers/"' in first
    assert 'name="next" type="hidden" value="/track/"' in second


def test_a_change_of_settings_not_in_the_key_clears_the_fragments(client, settings):
    # The language list is not part of the key: servicehub.fragments clears the cache on setting_changed.
    assert 'value="ja"' not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
    settings.LANGUAGES = [*settings.LANGUAGES, ("ja", "Japanese")]
    assert '<option value="ja" lang="ja">日本語</option>' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
