from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.settings import ConfigError, load_settings, parse_duration
from tests.conftest import CONFIG


def test_shipped_config_is_valid() -> None:
    settings = load_settings(CONFIG, environ={})
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert len(settings.rules) > 20
    assert all(t.token == "" for t in settings.auth.tokens)  # unset env → no usable token


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return path


def test_error_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    text = CONFIG.read_text(encoding="utf-8").replace("category: product\n",
                                                     "category: prodcut\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules\[0\]: Value error, unknown category 'prodcut'"):
        load_settings(path, environ={})


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="databse: Extra inputs are not permitted"):
        load_settings(write(tmp_path, "databse: {url: x}\n"), environ={})


def test_required_env_var(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("database: {url: '${DB_URL}'}\nrouting: {departments: {a: {name: A}}, "
                    "by_category: {}, default_department: a}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="database.url: environment variable DB_URL is not set"):
        load_settings(path, environ={})
    settings = load_settings(path, environ={"DB_URL": "sqlite:///x.db"})
    assert settings.database.url == "sqlite:///x.db"


def test_routing_refers_to_known_departments(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("routing: {departments: {a: {name: A}}, by_category: {product: b}, "
                    "default_department: a}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="department 'b' is not in departments"):
        load_settings(path, environ={})


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)


def test_durations() -> None:
    assert parse_duration("200ms").total_seconds() == 0.2
    assert parse_duration("3d").total_seconds() == 3 * 86400
    with pytest.raises(ValueError):
        parse_duration("soon")
