"""The config layer on its own (archiver/config.py): real files in tmp_path, no archive.

Errors name the file and the key, relative paths are taken from the config's folder, and
layouts that would overwrite the sources are refused before anything runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.config import ConfigError, config_from_dict, load_config, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800), ("2w", 1209600), (" 1.5h ", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "1y", "h", "-1h"])
def test_a_bad_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"use e\.g\. 30s"):
        parse_duration(text)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "database: data/archive.db\noutput:\n  dir: public\n"
        "sources:\n  - kind: directory\n    path: articles\n",
    )
    config = load_config(path)
    folder = path.parent.resolve()
    assert config.database == folder / "data" / "archive.db"
    assert config.output.dir == folder / "public"
    assert config.sources[0].path == folder / "articles"  # type: ignore[union-attr]
    assert config.media_root == folder / "public" / "embeds" / "media"


def test_an_unknown_key_is_named_with_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "output:\n  in_plaec: true\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "output.in_plaec" in str(caught.value)


def test_a_bad_recheck_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="recheck"):
        config_from_dict({"recheck": []}, base=tmp_path)
    with pytest.raises(ConfigError, match="recheck"):
        config_from_dict({"recheck": ["1h", "soon"]}, base=tmp_path)
    config = config_from_dict({"recheck": ["1h", "1d"]}, base=tmp_path)
    assert config.recheck_seconds == [3600.0, 86400.0]


def test_output_over_the_sources_is_refused_unless_in_place(tmp_path: Path) -> None:
    raw: dict[str, object] = {
        "output": {"dir": "articles"},
        "sources": [{"kind": "directory", "path": "articles"}],
    }
    with pytest.raises(ConfigError, match=r"output\.in_place"):
        config_from_dict(raw, base=tmp_path)
    raw["output"] = {"dir": "articles", "in_place": True}
    assert config_from_dict(raw, base=tmp_path).output.in_place


@pytest.mark.parametrize("embeds_dir", [".", "", "../up", "/abs", "a\\b"])
def test_the_embeds_folder_must_be_a_real_subfolder(tmp_path: Path, embeds_dir: str) -> None:
    with pytest.raises(ConfigError, match=r"output\.embeds_dir"):
        config_from_dict({"output": {"embeds_dir": embeds_dir}}, base=tmp_path)


def test_a_config_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        load_config(_write(tmp_path, "- just\n- a list\n"))
