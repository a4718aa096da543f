from __future__ import annotations

import re
from datetime import date

from bot.dashboard.charts import day_columns, unit_bars
from bot.dashboard.views import DayCount, UnitRow, unit_status


def row(i: int, name: str, accepted: int, quota: int | None) -> UnitRow:
    completion = accepted / quota if quota else 1.0
    return UnitRow(
        i,
        name,
        "town",
        "镇、街道",
        (),
        quota,
        accepted,
        0,
        0,
        completion,
        unit_status(accepted, quota),
    )


def test_one_bar_per_unit_in_order_coloured_by_status() -> None:
    svg = unit_bars(
        [
            row(1, "南湖街道", 3, 50),
            row(2, "新兴街道", 30, 50),
            row(3, "区教文体局", 9, 5),
            row(4, "临时单位", 2, None),
        ],
        "/dashboard",
    )
    bars = re.findall(r'<g class="bar (\w+)" data-unit="([^"]+)" data-accepted="(\d+)"', svg)
    assert bars == [
        ("behind", "南湖街道", "3"),
        ("close", "新兴街道", "30"),
        ("met", "区教文体局", "9"),
        ("none", "临时单位", "2"),
    ]
    assert 'href="/dashboard/entries?unit=2"' in svg


def test_bar_width_is_the_share_of_the_quota_capped_at_full() -> None:
    svg = unit_bars([row(1, "甲", 25, 50), row(2, "乙", 90, 50)], "/dashboard")
    assert re.findall(r'class="fill" x="34%" y="\d+" width="([\d.]+)%"', svg) == ["26.00", "52.00"]
    assert ">25/50</text>" in svg
    assert ">90/50</text>" in svg


def test_unit_names_are_escaped_and_long_ones_shortened() -> None:
    svg = unit_bars([row(1, '<script>"x"</script>社区', 1, 5), row(2, "很长" * 10, 1, 5)], "")
    assert "<script>" not in svg
    assert "&lt;script&gt;&#34;x&#34;" in svg
    assert "很长很长很长很长很长很长很…</text>" in svg


def test_one_column_per_day_scaled_to_the_busiest() -> None:
    days = [DayCount(date(2027, 6, 24 + i), n) for i, n in enumerate([10, 0, 40])]
    svg = day_columns(days)
    assert svg.count('<g class="day">') == 3
    assert re.findall(r'class="fill" x="[\d.]+%" y="\d+" width="[\d.]+%" height="(\d+)"', svg) == [
        "38",
        "0",
        "150",
    ]
    assert ">6/26</text>" in svg


def test_many_days_get_about_a_dozen_date_labels() -> None:
    days = [
        DayCount(date(2027, 6, 1).fromordinal(date(2027, 6, 1).toordinal() + i), 1)
        for i in range(60)
    ]
    labels = re.findall(r'class="label"[^>]*>(\d+/\d+)<', day_columns(days))
    assert 10 <= len(labels) <= 13
