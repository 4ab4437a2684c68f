"""Vertebral level labels in the SQLite workspace: "this is L1" on a series, audited."""

from __future__ import annotations

from collections.abc import Sequence

from mdaread.storage import sqlite_rows as rows
from mdaread.storage.errors import RecordNotFound, WorkspaceError
from mdaread.storage.records import (
    VERTEBRAL_LEVELS,
    Actor,
    LevelLabelRecord,
    vertebral_level,
)
from mdaread.storage.sqlite_base import SqliteBase
from mdaread.storage.sqlite_db import utc_now

LABELLING_ROLES: tuple[str, ...] = ("reader", "adjudicator")
"""Labelling a level is a reading act: the data manager role does not look at images."""


class LevelsMixin(SqliteBase):
    """``set_level_label`` / ``remove_level_label`` / ``list_level_labels``."""

    def set_level_label(self, actor: Actor, series_id: int, level: str,
                        center: Sequence[float], reason: str = "") -> LevelLabelRecord:
        """Label ``level`` (T1–T12, L1–L5, S1; case-insensitive) at ``center`` (LPS mm of the
        series). A label of the same level on the same series is replaced (audited
        ``update`` before → after); WorkspaceError for another name or a bad point."""
        self._require(actor, LABELLING_ROLES, "label a vertebral level")
        name = self._level_name(level)
        point = rows.lps_point(center, f"{self.path}: level {name} centre")
        with self.db.write() as conn:
            self._touch_user(actor)
            self._series_exists(series_id)
            old = self._label(series_id, name)
            values = (rows.to_json(point, "centre"), actor.user, utc_now())
            if old is None:
                cur = conn.execute(
                    "INSERT INTO level_labels(series_id, level, center, labelled_by, "
                    "labelled_at) VALUES (?, ?, ?, ?, ?)", (series_id, name, *values))
                new = self._label_by_id(int(cur.lastrowid or 0))
                self._audit(actor, "create", "level_label", new.id, None, rows.snapshot(new),
                            reason)
            else:
                conn.execute("UPDATE level_labels SET center = ?, labelled_by = ?, "
                             "labelled_at = ? WHERE id = ?", (*values, old.id))
                new = self._label_by_id(old.id)
                self._audit(actor, "update", "level_label", old.id, rows.snapshot(old),
                            rows.snapshot(new), reason)
        return new

    def remove_level_label(self, actor: Actor, series_id: int, level: str,
                           reason: str = "") -> None:
        """Remove the label of ``level`` on the series (audited ``delete``); RecordNotFound
        when there is none."""
        self._require(actor, LABELLING_ROLES, "remove a vertebral level label")
        name = self._level_name(level)
        with self.db.write() as conn:
            self._touch_user(actor)
            old = self._label(series_id, name)
            if old is None:
                raise RecordNotFound(f"{self.path}: series {series_id} has no label {name}")
            conn.execute("DELETE FROM level_labels WHERE id = ?", (old.id,))
            self._audit(actor, "delete", "level_label", old.id, rows.snapshot(old), None,
                        reason)

    def list_level_labels(self, series_id: int | None = None,
                          subject: str | None = None) -> list[LevelLabelRecord]:
        """Labels of one series, of one subject's series, or all; by series, then cranial to
        caudal (T1 … S1)."""
        sql = "SELECT level_labels.* FROM level_labels JOIN series ON series.id = series_id"
        where, params = rows.where_equal(series_id=series_id, subject=subject)
        found = [rows.level_label(r) for r in self.db.query(sql + where, params)]
        return sorted(found, key=lambda r: (r.series_id, VERTEBRAL_LEVELS.index(r.level)))

    # --- helpers ----------------------------------------------------------------------------
    def _level_name(self, level: str) -> str:
        try:
            return vertebral_level(level)
        except ValueError as exc:
            raise WorkspaceError(f"{self.path}: {exc}") from exc

    def _series_exists(self, series_id: int) -> None:
        if not self.db.query("SELECT 1 FROM series WHERE id = ?", (series_id,)):
            raise RecordNotFound(f"{self.path}: no series {series_id}")

    def _label(self, series_id: int, level: str) -> LevelLabelRecord | None:
        found = self.db.query("SELECT * FROM level_labels WHERE series_id = ? AND level = ?",
                              (series_id, level))
        return rows.level_label(found[0]) if found else None

    def _label_by_id(self, label_id: int) -> LevelLabelRecord:
        return rows.level_label(self._one("SELECT * FROM level_labels WHERE id = ?",
                                          (label_id,), f"level label {label_id}"))
