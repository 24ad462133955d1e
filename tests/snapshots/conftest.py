"""Snapshot tests reuse the UI tests' fixtures: a seeded till per test, a fixed clock."""

from tests.ui.conftest import _template_db, _ui_env, make_app, till_path

__all__ = ["_template_db", "_ui_env", "make_app", "till_path"]
