"""Tests of rulebook.rewrite: new values written into a rulebook file with their notes, comments and layout kept."""

from __future__ import annotations

import socialcredit as sc
from socialcredit.rulebook import resolve
from socialcredit.rulebook.rewrite import rewrite_values


def test_values_are_set_with_a_note_and_the_comments_stay(tmp_path) -> None:
    text = resolve("national-blacklist").read_text(encoding="utf-8")
    new = rewrite_values(text, {"services.flight.demand": 1.5, "detection.channels.court.ramp.1.1": 0.2}, "by a test")
    assert [ln for ln in text.splitlines() if ln.lstrip().startswith("#")] == [ln for ln in new.splitlines() if ln.lstrip().startswith("#")]
    path = tmp_path / "new.yaml"
    path.write_text(new, encoding="utf-8")
    rb = sc.load(str(path))
    assert next(s.demand for s in rb.services if s.name == "flight") == 1.5
    assert rb.detection.channels["court"].ramp[1][1] == 0.2
    assert str(next(s.assumed for s in rb.services if s.name == "flight")).startswith("fitted: demand by a test | ")
    assert str(rb.detection.channels["court"].assumed).startswith("fitted: ramp.1.1 by a test | ")
    assert len(new.splitlines()) == len(text.splitlines())  # one-line flow mappings stay on one line


def test_a_later_fit_replaces_the_note_of_the_keys_it_fits_and_keeps_the_others() -> None:
    text = 'a: {x: 1, y: 2, assumed: "fitted: x, y by the first fit | a reason"}\n'
    once = rewrite_values(text, {"a.x": 5.0}, "by the second fit")
    assert 'assumed: "fitted: x by the second fit | fitted: y by the first fit | a reason"' in once
    twice = rewrite_values(once, {"a.x": 6.0, "a.y": 7.0}, "by the third fit")
    assert 'assumed: "fitted: x, y by the third fit | a reason"' in twice and "x: 6.0" in twice and "y: 7.0" in twice
