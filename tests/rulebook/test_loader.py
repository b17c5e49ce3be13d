"""Tests of the rulebook loader: positions, YAML errors, overrides and pydantic error translation.

The models here are small stand-ins using the same pydantic features as the real
schema (nested models, named list items, dicts, unions, Literals, bounds,
validators, Optional fields); the loader must not depend on the real schema.
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from typing import Annotated, Literal, Optional, Union

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from socialcredit.errors import RulebookError, RulebookErrors
from socialcredit.rulebook.document import Document, dump_yaml, load_document, parse_document
from socialcredit.rulebook.overrides import apply_overrides
from socialcredit.rulebook.validation import validate

# --------------------------------------------------------------------------- models


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Behaviour(Strict):
    name: str
    rate: float = Field(ge=0, le=1)
    channel: Literal["email", "camera", "informant"] = "email"
    weight: int = 1


class Score(Strict):
    initial: int = Field(default=1000, ge=0, le=2000)
    coverage: float | dict[str, float] = 1.0
    floor: Optional[float] = None


class Service(Strict):
    name: str
    demand: float = Field(ge=0)
    tiers: list[str] = []


class Rulebook(Strict):
    meta: dict[str, str] = {}
    score: Score = Score()
    behaviours: list[Behaviour]
    services: list[Service] = []
    notes: Optional[str] = None

    @field_validator("notes")
    @classmethod
    def _notes_not_shouting(cls, value: str | None) -> str | None:
        if value is not None and value.isupper():
            raise ValueError("notes must not be all capitals")
        return value

    @model_validator(mode="after")
    def _channels_known(self) -> "Rulebook":
        for index, behaviour in enumerate(self.behaviours):
            if behaviour.channel == "informant" and behaviour.rate > 0.5:
                raise PydanticCustomError(
                    "located",
                    "{message}",
                    {
                        "path": ("behaviours", index, "channel"),
                        "message": "informants cannot report more than half of all events",
                        "found": behaviour.channel,
                        "allowed": "email or camera when rate > 0.5",
                    },
                )
        if len({b.name for b in self.behaviours}) < len(self.behaviours):
            raise ValueError("behaviour names must be unique")
        return self


GOOD = """\
meta:
  title: Test policy
score:
  initial: 1000
  coverage:
    urban: 0.9
    rural: 0.4
behaviours:
  - name: jaywalking
    rate: 0.1
    channel: camera
  - name: littering
    rate: 0.2
services:
  - name: flight
    demand: 0.3
    tiers: [A, B]
  - name: train
    demand: 0.5
"""


def errors_of(model: type[BaseModel], doc: Document) -> RulebookErrors:
    with pytest.raises(RulebookErrors) as info:
        validate(model, doc)
    return info.value


def with_line(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def one_screen(error: Exception) -> None:
    assert len(str(error).splitlines()) <= 25


# --------------------------------------------------------------------------- parsing and positions


def test_valid_document_validates_to_plain_data() -> None:
    doc = parse_document(GOOD, "good.yaml")
    book = validate(Rulebook, doc)
    assert isinstance(book, Rulebook)
    assert book.score.coverage == {"urban": 0.9, "rural": 0.4}
    assert type(doc.data) is dict and type(doc.data["behaviours"]) is list
    assert type(doc.data["score"]["initial"]) is int
    assert type(doc.data["behaviours"][0]["rate"]) is float
    assert type(doc.data["services"][0]["tiers"][0]) is str


def test_positions_of_nested_keys_and_list_items() -> None:
    doc = parse_document(GOOD)
    assert doc.positions[("score",)] == (3, 1)
    assert doc.positions[("score", "coverage", "rural")] == (7, 5)
    assert doc.positions[("behaviours", 1)] == (12, 5)  # the item, after "- "
    assert doc.positions[("behaviours", 1, "rate")] == (13, 5)
    assert doc.positions[("services", 0, "tiers", 1)] == (17, 16)  # inside a flow list
    assert doc.value_positions[("behaviours", 1, "rate")] == (13, 11)


def test_locate_falls_back_to_nearest_ancestor() -> None:
    doc = parse_document(GOOD, "good.yaml")
    location = doc.locate(("behaviours", 1, "weight"))  # absent key
    assert (location.file, location.line, location.column) == ("good.yaml", 12, 5)
    assert location.key == "behaviours[littering].weight"


def test_key_name_uses_item_names_and_indices() -> None:
    doc = parse_document("services:\n  - name: flight\n    demand: 1\nitems:\n  - 1\n  - x: 2\n")
    assert doc.key_name(("services", 0, "demand")) == "services[flight].demand"
    assert doc.key_name(("items", 1, "x")) == "items[1].x"
    assert doc.key_name(("meta", "tier A")) == "meta['tier A']"
    assert doc.key_name(()) == ""


def test_scalars_are_typed_as_yaml_1_2() -> None:
    doc = parse_document("a: yes\nb: true\nc: 0x10\nd: 1e3\ne: 2024-01-02\nf: ~\ng: '5'\n")
    assert doc.data == {"a": "yes", "b": True, "c": 16, "d": 1000.0, "e": "2024-01-02", "f": None, "g": "5"}
    assert [type(v) for v in doc.data.values()] == [str, bool, int, float, str, type(None), str]


# --------------------------------------------------------------------------- malformed YAML


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("score:\n  initial: 1\n initial2: 2\n", 3, "indentation"),  # bad indentation
        ("a: 1\nb: [1, 2\nc: 3\n", 2, "never closed"),  # unclosed bracket: points at the '['
        ("a: 1\nscore:\n\tinitial: 1\n", 3, "tab"),
        ("a: 'abc\nb: 2\n", 1, "never closed"),  # unclosed quote
        ("a: 1\n---\nb: 2\n", 2, "document"),
    ],
)
def test_malformed_yaml_reports_line(text: str, line: int, words: str) -> None:
    with pytest.raises(RulebookError) as info:
        parse_document(text, "bad.yaml")
    error = info.value
    assert error.location.file == "bad.yaml"
    assert error.location.line == line
    assert words in str(error)
    assert error.snippet is not None and "^" in error.snippet
    one_screen(error)


def test_unclosed_bracket_points_at_bracket_and_mentions_failure() -> None:
    with pytest.raises(RulebookError) as info:
        parse_document("a: 1\nb: [1, 2\nc: 3\n")
    assert info.value.location.column == 4
    assert "']'" in (info.value.hint or "")


def test_duplicate_key_reported_at_the_duplicate() -> None:
    text = "score:\n  initial: 1\n  floor: 2\n  initial: 3\n"
    with pytest.raises(RulebookError) as info:
        parse_document(text, "dup.yaml")
    error = info.value
    assert (error.location.line, error.location.column) == (4, 3)
    assert error.message == "duplicate key 'initial'"
    assert "line 2" in (error.hint or "")


def test_empty_file_and_non_mapping_top_level(tmp_path: FsPath) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# only a comment\n\n")
    with pytest.raises(RulebookError, match="empty") as info:
        load_document(empty)
    assert info.value.location.file == str(empty)
    with pytest.raises(RulebookError, match="not a list"):
        parse_document("- a\n- b\n")
    with pytest.raises(RulebookError, match="not a string"):
        parse_document("just text\n")


def test_custom_tag_is_an_error() -> None:
    with pytest.raises(RulebookError, match="tag '!secret'") as info:
        parse_document("a:\n  b: !secret 3\n")
    assert info.value.location.line == 2


# --------------------------------------------------------------------------- files


def test_load_document_reads_file(tmp_path: FsPath) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    doc = load_document(path)
    assert doc.filename == str(path)
    assert doc.data["services"][1]["name"] == "train"
    assert doc.lines[0] == "meta:"


def test_missing_file_names_path_and_suggests_sibling(tmp_path: FsPath) -> None:
    (tmp_path / "policy.yaml").write_text(GOOD)
    missing = tmp_path / "polcy.yaml"
    with pytest.raises(RulebookError) as info:
        load_document(missing)
    assert info.value.location.file == str(missing)
    assert "not found" in info.value.message
    assert "policy.yaml" in (info.value.hint or "")


def test_directory_is_an_error(tmp_path: FsPath) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    with pytest.raises(RulebookError, match="directory") as info:
        load_document(tmp_path)
    assert info.value.location.file == os.fspath(tmp_path)
    assert "a.yaml" in (info.value.hint or "")


def test_non_utf8_file(tmp_path: FsPath) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(RulebookError, match="UTF-8") as info:
        load_document(path)
    assert info.value.location.line == 2


# --------------------------------------------------------------------------- validation errors


def test_unknown_key_with_did_you_mean_and_allowed_keys() -> None:
    text = with_line(GOOD, "    rate: 0.2\n", "    rate: 0.2\n    chanel: email\n")
    error = errors_of(Rulebook, parse_document(text, "r.yaml")).errors[0]
    assert error.message == "unknown key 'chanel'"
    assert (error.location.file, error.location.line, error.location.column) == ("r.yaml", 14, 5)
    assert error.location.key == "behaviours[littering].chanel"
    assert error.allowed == "name, rate, channel, weight"
    assert error.hint == "did you mean 'channel'?"
    assert "    chanel: email\n" in error.snippet + "\n" and error.snippet.endswith("|     ^")


def test_unknown_top_level_section() -> None:
    error = errors_of(Rulebook, parse_document(GOOD + "servces: []\n")).errors[0]
    assert error.message == "unknown key 'servces'"
    assert error.allowed == "meta, score, behaviours, services, notes"
    assert error.hint == "did you mean 'services'?"


def test_missing_required_key() -> None:
    text = with_line(GOOD, "  - name: littering\n    rate: 0.2\n", "  - rate: 0.2\n")
    error = errors_of(Rulebook, parse_document(text)).errors[0]
    assert error.message == "missing required key 'name'"
    assert error.location.key == "behaviours[1].name"
    assert error.location.line == 12  # the item that lacks it
    assert error.allowed == "a string"


def test_missing_top_level_section_has_no_line() -> None:
    error = errors_of(Rulebook, parse_document("meta: {}\n", "r.yaml")).errors[0]
    assert error.message == "missing required key 'behaviours'"
    assert error.location.line is None and error.location.file == "r.yaml"


def test_wrong_type_points_at_value() -> None:
    text = with_line(GOOD, "initial: 1000", "initial: lots")
    error = errors_of(Rulebook, parse_document(text)).errors[0]
    assert error.message == "wrong type: found a string"
    assert (error.location.line, error.location.column) == (4, 12)
    assert error.found == "lots"
    assert error.allowed == "an integer >= 0 and <= 2000"


def test_wrong_type_mapping_instead_of_list() -> None:
    text = "behaviours:\n  name: a\n  rate: 0.1\n"
    error = errors_of(Rulebook, parse_document(text)).errors[0]
    assert error.message == "wrong type: found a mapping"
    assert error.allowed is not None and error.allowed.startswith("a list")
    assert error.location.line == 1


def test_out_of_range_gives_full_range() -> None:
    text = with_line(GOOD, "rate: 0.2", "rate: 1.5")
    error = errors_of(Rulebook, parse_document(text)).errors[0]
    assert error.message == "out of range"
    assert error.location.key == "behaviours[littering].rate"
    assert error.found == 1.5
    assert error.allowed == ">= 0 and <= 1"
    below = errors_of(Rulebook, parse_document(with_line(GOOD, "rate: 0.2", "rate: -1"))).errors[0]
    assert below.allowed == ">= 0 and <= 1"


def test_literal_error_lists_values_and_suggests() -> None:
    text = with_line(GOOD, "channel: camera", "channel: camra")
    error = errors_of(Rulebook, parse_document(text)).errors[0]
    assert error.message == "not one of the allowed values"
    assert error.allowed == "one of: 'email', 'camera', 'informant'"
    assert error.hint == "did you mean 'camera'?"
    assert (error.location.line, error.location.column) == (11, 14)


def test_union_field_type_error_reported_once() -> None:
    text = with_line(GOOD, "  coverage:\n    urban: 0.9\n    rural: 0.4\n", "  coverage: everywhere\n")
    errors = errors_of(Rulebook, parse_document(text)).errors
    assert len(errors) == 1
    error = errors[0]
    assert error.location.key == "score.coverage"
    assert error.allowed == "a number or a mapping (each value a number)"
    assert "float" not in str(error)  # no pydantic member labels leak out


def test_union_field_error_inside_matching_member() -> None:
    text = with_line(GOOD, "rural: 0.4", "rural: low")
    errors = errors_of(Rulebook, parse_document(text)).errors
    assert len(errors) == 1
    assert errors[0].location.key == "score.coverage.rural"
    assert errors[0].location.line == 7
    assert errors[0].allowed == "a number"


def test_union_with_literal_member_suggests_literal() -> None:
    class Model(Strict):
        level: Literal["auto"] | float = "auto"

    errors = errors_of(Model, parse_document("level: atuo\n")).errors
    assert len(errors) == 1
    assert errors[0].message == "not one of the allowed values"
    assert errors[0].allowed == "one of: 'auto' or a number"
    assert errors[0].hint == "did you mean 'auto'?"


def test_union_of_models_picks_the_closer_member() -> None:
    class Cat(Strict):
        meow: int

    class Dog(Strict):
        bark: int
        wag: int

    class Model(Strict):
        pet: Cat | Dog

    errors = errors_of(Model, parse_document("pet:\n  bark: 1\n  wag: loud\n")).errors
    assert [e.message for e in errors] == ["wrong type: found a string"]
    assert errors[0].location.key == "pet.wag"


def test_tagged_union_errors() -> None:
    class Camera(Strict):
        kind: Literal["camera"]
        accuracy: float = Field(ge=0, le=1)

    class Informant(Strict):
        kind: Literal["informant"]
        reward: int

    class Model(Strict):
        channels: list[Annotated[Union[Camera, Informant], Field(discriminator="kind")]]

    text = "channels:\n  - kind: camera\n    accuracy: 2\n  - kind: infromant\n  - reward: 1\n"
    errors = errors_of(Model, parse_document(text)).errors
    assert [(e.location.key, e.message) for e in errors] == [
        ("channels[0].accuracy", "out of range"),
        ("channels[1].kind", "not one of the allowed values"),
        ("channels[2].kind", "missing required key 'kind'"),
    ]
    assert errors[0].allowed == ">= 0 and <= 1"
    assert errors[1].hint == "did you mean 'informant'?"
    assert errors[2].allowed == "one of: 'camera', 'informant'"


def test_field_validator_message_without_prefix() -> None:
    error = errors_of(Rulebook, parse_document(GOOD + "notes: STOP\n")).errors[0]
    assert error.message == "notes must not be all capitals"
    assert error.location.key == "notes"
    assert error.location.line == 20
    assert error.found == "STOP"


def test_model_validator_value_error_located_at_model() -> None:
    text = with_line(GOOD, "name: littering", "name: jaywalking")
    error = errors_of(Rulebook, parse_document(text, "r.yaml")).errors[0]
    assert error.message == "behaviour names must be unique"
    assert "Value error" not in str(error)
    assert error.location.file == "r.yaml" and error.location.key is None


def test_model_validator_located_convention() -> None:
    text = with_line(GOOD, "  - name: littering\n", "  - name: littering\n    channel: informant\n")
    text = with_line(text, "rate: 0.2", "rate: 0.9")
    errors = errors_of(Rulebook, parse_document(text, "r.yaml")).errors
    assert len(errors) == 1
    error = errors[0]
    assert error.message == "informants cannot report more than half of all events"
    assert error.location.key == "behaviours[littering].channel"
    assert (error.location.line, error.location.column) == (13, 14)
    assert error.found == "informant"
    assert error.allowed == "email or camera when rate > 0.5"


def test_located_convention_accepts_item_names() -> None:
    class Model(Strict):
        services: list[Service]

        @model_validator(mode="after")
        def _check(self) -> "Model":
            where = {"path": ("services", "train", "demand"), "message": "too busy"}
            raise PydanticCustomError("located", "{message}", where)

    text = "services:\n  - name: flight\n    demand: 1\n  - name: train\n    demand: 2\n"
    error = errors_of(Model, parse_document(text)).errors[0]
    assert error.location.key == "services[train].demand"
    assert (error.location.line, error.location.column) == (5, 13)
    assert error.message == "too busy"


def test_dict_key_error_and_nested_list_of_strings() -> None:
    class Model(Strict):
        coverage: dict[Literal["urban", "rural"], float]
        tiers: list[str]

    errors = errors_of(Model, parse_document("coverage:\n  urbn: 1\ntiers: [A, 3]\n")).errors
    assert [e.location.line for e in errors] == [2, 3]
    assert errors[0].message.startswith("bad key 'urbn'")
    assert errors[0].hint == "did you mean 'urban'?"
    assert errors[1].location.key == "tiers[1]" and errors[1].location.column == 12


def test_errors_sorted_by_line_deduplicated_and_one_screen() -> None:
    lines = ["behaviours:"]
    for i in range(12):
        lines += [f"  - name: b{i}", "    rate: 7", "    colour: red"]
    errors = errors_of(Rulebook, parse_document("\n".join(lines) + "\n"))
    assert len(errors.errors) == 24
    found_lines = [e.location.line for e in errors.errors]
    assert found_lines == sorted(found_lines)
    assert len({e.format() for e in errors.errors}) == len(errors.errors)
    assert "... and 16 more error(s)" in str(errors)
    assert len(str(errors).splitlines()) <= 60  # 8 errors of <= 6 lines, the CLI's screen


def test_each_error_is_short() -> None:
    text = with_line(GOOD, "rate: 0.2", "rate: high")
    for error in errors_of(Rulebook, parse_document(text)).errors:
        one_screen(error)


# --------------------------------------------------------------------------- overrides


def test_override_by_index_name_and_brackets() -> None:
    doc = parse_document(GOOD)
    new = apply_overrides(
        doc,
        [
            "behaviours.0.rate=0.25",
            "behaviours.littering.weight=3",
            "services[train].demand=0.75",
            "services[0].tiers=[A, B, C]",
        ],
    )
    assert new.data["behaviours"][0]["rate"] == 0.25
    assert new.data["behaviours"][1]["weight"] == 3
    assert new.data["services"][1]["demand"] == 0.75
    assert new.data["services"][0]["tiers"] == ["A", "B", "C"]
    assert doc.data["behaviours"][0]["rate"] == 0.1  # the original is untouched
    assert new.overrides[("behaviours", 1, "weight")] == "behaviours.littering.weight=3"
    validate(Rulebook, new)


def test_override_name_is_preferred_over_index() -> None:
    doc = parse_document("items:\n  - name: '1'\n    v: a\n  - name: '0'\n    v: b\n")
    assert apply_overrides(doc, ["items.0.v=z"]).data["items"][1]["v"] == "z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5", 0.5),
        ("7", 7),
        ("true", True),
        ("[1, 2]", [1, 2]),
        ("{a: 1, b: [x]}", {"a": 1, "b": ["x"]}),
        ("'C'", "C"),
        ("'0.5'", "0.5"),
        ("hello world", "hello world"),
        ("null", None),
        ("a=b", "a=b"),
        ("Policy: strict", "Policy: strict"),  # block YAML is text, not a mapping
    ],
)
def test_override_value_typing(text: str, expected: object) -> None:
    doc = apply_overrides(parse_document(GOOD), [f"meta.x={text}"])
    assert doc.data["meta"]["x"] == expected
    assert type(doc.data["meta"]["x"]) is type(expected)


def test_override_creates_new_keys() -> None:
    doc = apply_overrides(parse_document(GOOD), ["score.floor=5", "newsection.a.b=1"])
    assert doc.data["score"]["floor"] == 5.0
    assert doc.data["newsection"] == {"a": {"b": 1}}
    location = doc.locate(("newsection",))
    assert location.file == "command line" and location.key == "--set newsection.a.b=1"


def test_override_replacing_a_value_moves_its_location_to_command_line() -> None:
    doc = apply_overrides(parse_document(GOOD, "r.yaml"), ["score={initial: 5}"])
    assert doc.locate(("score", "initial")).file == "command line"
    assert doc.locate(("behaviours", 0)).file == "r.yaml"


def test_override_schema_error_points_at_command_line() -> None:
    doc = apply_overrides(parse_document(GOOD, "r.yaml"), ["scroe.initial=900"])
    errors = errors_of(Rulebook, doc).errors
    assert len(errors) == 1
    error = errors[0]
    assert error.location.file == "command line"
    assert error.location.key == "--set scroe.initial=900"
    assert error.message == "unknown key 'scroe'"
    assert error.hint == "did you mean 'score'?"
    assert error.snippet is None
    assert str(error).startswith("command line")


def test_override_value_error_points_at_command_line() -> None:
    doc = apply_overrides(parse_document(GOOD, "r.yaml"), ["behaviours.jaywalking.rate=2", "meta.title=[1]"])
    errors = errors_of(Rulebook, doc).errors
    assert {e.location.key for e in errors} == {"--set behaviours.jaywalking.rate=2", "--set meta.title=[1]"}
    assert all(e.location.file == "command line" for e in errors)
    range_error = next(e for e in errors if e.message == "out of range")
    assert range_error.allowed == ">= 0 and <= 1"


def test_override_deeper_error_names_the_inner_key() -> None:
    doc = apply_overrides(parse_document(GOOD), ["score.coverage={urban: high}"])
    error = errors_of(Rulebook, doc).errors[0]
    assert error.location.key == "--set score.coverage={urban: high}"
    assert error.message.startswith("score.coverage.urban: wrong type")


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("score.initial", "path.to.key=value"),  # missing '='
        ("=3", "key path"),
        ("score..initial=3", "key path"),
        ("services[flight=3", "key path"),
        ("meta.title.x=1", "inside 'meta.title'"),  # indexing into a scalar
        ("behaviours.5.rate=1", "out of range"),
        ("meta.x=[1, 2", "cannot read the value"),
    ],
)
def test_override_syntax_errors(override: str, words: str) -> None:
    with pytest.raises(RulebookError) as info:
        apply_overrides(parse_document(GOOD), [override])
    error = info.value
    assert error.location.file == "command line"
    assert error.location.key == f"--set {override}"
    assert words in str(error)
    one_screen(error)


def test_override_unknown_item_name_lists_names() -> None:
    with pytest.raises(RulebookError) as info:
        apply_overrides(parse_document(GOOD), ["services.flght.demand=1"])
    error = info.value
    assert "no item named 'flght'" in error.message
    assert error.allowed == "flight, train"
    assert error.hint == "did you mean 'flight'?"


# --------------------------------------------------------------------------- dumping


def test_dump_yaml_round_trip_and_block_style() -> None:
    data = {
        "zeta": 1,
        "alpha": {"b": [1, 2.5, "x"], "a": None, "flag": True},
        "items": [{"name": "n", "value": "0.5"}, {"name": "m", "text": "line one\nline two\n"}],
        "empty": {},
        "tuple": (1, 2),
    }
    text = dump_yaml(data)
    assert "{" not in text.replace("{}", "")  # block style, not flow
    assert text.index("zeta") < text.index("alpha")  # order kept
    back = parse_document(text).data
    assert back == {**data, "tuple": [1, 2]}
    assert type(back["items"][0]["value"]) is str


def test_dump_yaml_of_loaded_rulebook_round_trips() -> None:
    data = parse_document(GOOD).data
    assert parse_document(dump_yaml(data)).data == data
