"""The wall chart: a valid PNG of a fixed size, bars coloured by the target they are held to."""

from __future__ import annotations

import io
import struct
from datetime import timedelta

from PIL import Image

from acd.reports.charts import MET, MISSED, render_png
from acd.reports.compute import compute
from acd.reports.query import ReportData
from tests.unit.reports import dataset as d

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which PNG requires to come first."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour for _count, colour in image.getcolors(maxcolors=1 << 20) or []}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour.lstrip("#"), 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def test_the_fixed_day_renders_a_1600_by_1000_png() -> None:
    png = render_png(compute(d.data(), d.spec()))
    assert png.startswith(PNG_MAGIC)
    assert _size(png) == (1600, 1000)
    assert 20_000 < len(png) < 2_000_000
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_intervals_below_the_target_are_red_and_at_or_above_it_green() -> None:
    # Service level is 40% and 50% in the two half hours.
    missed = _colours(render_png(compute(d.data(), d.spec())))
    assert _rgb(MISSED) in missed
    assert _rgb(MET) not in missed
    met = _colours(render_png(compute(d.data(), d.spec(service_level_target=0.4))))
    assert _rgb(MET) in met
    assert _rgb(MISSED) not in met


def test_a_day_without_calls_and_a_long_range_still_render() -> None:
    empty = compute(ReportData((), (), (), None), d.spec())
    assert render_png(empty).startswith(PNG_MAGIC)
    week = d.spec(end=d.START + timedelta(days=7), interval=timedelta(hours=1))
    assert _size(render_png(compute(d.data(), week))) == (1600, 1000)
