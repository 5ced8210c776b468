"""Server-rendered SVG charts: escaped labels, gaps for missing values, no script."""

from decimal import Decimal

from ops.charts import bar_chart, line_chart


def test_bar_chart_escapes_labels_and_scales_to_100():
    svg = bar_chart([("<script>x</script>", Decimal("50.0")), ("广东省", None)], title="Counties covered %")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'width="220.0"' in svg  # 50% of the 440 px drawing width
    assert "—" in svg  # a province without data shows a dash, not 0
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_line_chart_breaks_the_line_where_a_day_has_no_value():
    svg = line_chart([("d1", 1), ("d2", 2), ("d3", None), ("d4", 4), ("d5", 2)], title="p50")
    assert svg.count("<polyline") == 2  # d1-d2 and d4-d5
    assert ">d1<" in svg and ">d5<" in svg
    single = line_chart([("d1", None), ("d2", 3), ("d3", None)], title="p50")
    assert single.count("<circle") == 1 and "<polyline" not in single


def test_long_tables_are_cut_on_the_page_but_not_in_the_csv():
    from django.utils import translation

    from ops.figures import Table

    translation.activate("en")
    t = Table(key="k", title="t", columns=[("n", "N")], rows=[{"n": i} for i in range(150)], page_limit=100)
    assert len(t.page_values()) == 100 and len(t.values()) == 150
    assert t.cut_note == "Showing 100 of 150 rows; the CSV has all."
    assert Table(key="k", title="t", columns=[("n", "N")], rows=[{"n": 1}], page_limit=100).cut_note == ""
    translation.deactivate()
