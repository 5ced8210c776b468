"""No project template nests a <form> inside another.

A browser drops the inner <form> tag of a nested form, so its button submits the OUTER form — in the
admin that is Django's change form, which answers 403 (the bug of issue #14: "Start diagnosis",
"QC pass", … all 403). The test client does not see it (it posts wherever the test says), so this
test reads the templates themselves:

- every template is parsed with ``html.parser``, counting open forms; depth 2 anywhere fails;
- a template that extends ``admin/change_form.html`` starts at depth 1: everything it adds lands
  inside Django's change ``<form>``, so any ``<form`` in it fails (put action forms on a page that
  does not extend the change form, like the ticket workspace).

Template tags and comments are removed before parsing (a ``{% comment %}`` may talk about forms).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

CHANGE_FORM = re.compile(r"""{%\s*extends\s+["']admin/change_form\.html["']\s*%}""")
COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
TAGS = re.compile(r"{%.*?%}|{#.*?#}|{{.*?}}", re.S)


class _FormDepth(HTMLParser):
    def __init__(self, start: int = 0):
        super().__init__(convert_charrefs=True)
        self.depth = start
        self.nested_at: list[int] = []  # line numbers of forms opened inside another form

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            if self.depth >= 1:
                self.nested_at.append(self.getpos()[0])
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth = max(0, self.depth - 1)


def nested_forms(source: str) -> list[int]:
    """Line numbers of nested ``<form>`` tags in a Django template (empty when there are none)."""
    start = 1 if CHANGE_FORM.search(source) else 0
    text = COMMENT_BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    text = TAGS.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    parser = _FormDepth(start)
    parser.feed(text)
    parser.close()
    return parser.nested_at


def project_templates() -> list[Path]:
    base = Path(settings.BASE_DIR)
    skip = {".venv", "node_modules", ".git", "test-artifacts"}
    return sorted(p for p in base.rglob("templates/**/*.html") if not skip & set(p.relative_to(base).parts))


def test_there_are_templates_to_check():
    names = {p.name for p in project_templates()}
    assert {"workspace.html", "checkin.html", "checkout.html", "403.html"} <= names


@pytest.mark.parametrize("path", project_templates(), ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_template_has_no_nested_form(path):
    assert nested_forms(path.read_text(encoding="utf-8")) == [], f"{path}: a <form> inside another <form>"


# --- controls: the check catches what it is meant to catch --------------------------------------


def test_control_a_nested_form_is_caught():
    html = (
        '<form method="post" action="/a/">\n<input name="x">\n  <form action="/b/"><button>B</button></form>\n</form>'
    )
    assert nested_forms(html) == [3]


def test_control_a_form_in_a_change_form_child_is_caught():
    tpl = (
        '{% extends "admin/change_form.html" %}\n{% block after_field_sets %}\n'
        '<form method="post" action="/x/">{% csrf_token %}<button>Go</button></form>\n{% endblock %}'
    )
    assert nested_forms(tpl) == [3]


def test_control_sibling_forms_and_forms_in_comments_pass():
    tpl = (
        "{% comment %}never nest a <form> in another <form>{% endcomment %}\n"
        '<form action="/a/"><button>A</button></form>\n<form action="/b/"><button>B</button></form>'
    )
    assert nested_forms(tpl) == []
    assert nested_forms('{% extends "admin/base_site.html" %}<form></form>') == []
