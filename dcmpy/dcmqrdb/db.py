"""The SQL database under the index: SQLite (embedded, WAL mode) or PostgreSQL (through psycopg 3).

SQL is written once with ``?`` placeholders; :class:`Database` adapts it to the driver. Each
thread gets its own connection. Write transactions serialise per storage area: SQLite's
``BEGIN IMMEDIATE`` takes the database's write lock, PostgreSQL takes a transaction-scoped
advisory lock keyed by the area, so that quota decisions see every committed store.
"""
from __future__ import annotations

import os
import re
import threading
import zlib
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["Database", "DatabaseError", "SCHEMA_VERSION"]

SCHEMA_VERSION = "1"
_BUSY_TIMEOUT_S = 60.0

_TABLES = """
CREATE TABLE dcmpy_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE patients (
    pk {pk}, area TEXT NOT NULL, patient_id TEXT NOT NULL,
    patient_name TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT NOT NULL,
    charset TEXT NOT NULL, attrs TEXT NOT NULL,
    UNIQUE (area, patient_id));
CREATE TABLE studies (
    pk {pk}, patient_pk BIGINT NOT NULL REFERENCES patients(pk), area TEXT NOT NULL,
    study_uid TEXT NOT NULL, study_date TEXT NOT NULL, study_time TEXT NOT NULL,
    accession TEXT NOT NULL, study_id TEXT NOT NULL, ref_physician TEXT NOT NULL,
    description TEXT NOT NULL, modalities TEXT NOT NULL, charset TEXT NOT NULL, attrs TEXT NOT NULL,
    p_name TEXT NOT NULL, p_birth_date TEXT NOT NULL, p_sex TEXT NOT NULL, p_attrs TEXT NOT NULL,
    n_bytes BIGINT NOT NULL DEFAULT 0, updated {real} NOT NULL DEFAULT 0,
    UNIQUE (area, study_uid));
CREATE TABLE series (
    pk {pk}, study_pk BIGINT NOT NULL REFERENCES studies(pk), area TEXT NOT NULL,
    series_uid TEXT NOT NULL, modality TEXT NOT NULL, series_number TEXT NOT NULL,
    series_date TEXT NOT NULL, charset TEXT NOT NULL, attrs TEXT NOT NULL,
    UNIQUE (area, series_uid));
CREATE TABLE instances (
    pk {pk}, series_pk BIGINT NOT NULL REFERENCES series(pk), area TEXT NOT NULL,
    sop_uid TEXT NOT NULL, sop_class TEXT NOT NULL, instance_number TEXT NOT NULL,
    transfer_syntax TEXT NOT NULL, path TEXT NOT NULL, size BIGINT NOT NULL,
    stored {real} NOT NULL, charset TEXT NOT NULL, attrs TEXT NOT NULL,
    UNIQUE (area, sop_uid));
CREATE INDEX patients_name ON patients (area, patient_name {text_ops});
CREATE INDEX patients_birth ON patients (area, birth_date);
CREATE INDEX studies_patient ON studies (patient_pk);
CREATE INDEX studies_date ON studies (area, study_date, study_time);
CREATE INDEX studies_accession ON studies (area, accession {text_ops});
CREATE INDEX studies_id ON studies (area, study_id);
CREATE INDEX studies_updated ON studies (area, updated);
CREATE INDEX studies_p_name ON studies (area, p_name {text_ops});
CREATE INDEX series_study ON series (study_pk);
CREATE INDEX series_modality ON series (area, modality);
CREATE INDEX instances_series ON instances (series_pk);
CREATE INDEX instances_path ON instances (area, path);
"""


class DatabaseError(RuntimeError):
    """The index database cannot be opened or used (names the database)."""


def _is_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


class Database:
    """One index database, SQLite file or PostgreSQL URL, shared by every thread of a process."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.kind = "postgresql" if _is_url(target) else "sqlite"
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False
        self._writes = 0                # SQLite: stores since the planner statistics were made
        self._stats_basis = 0
        with self.transaction() as conn:
            self._create_schema(conn)
        if self.kind == "sqlite":
            self._stats_basis = self._count_rows()
            if self._stats_basis and not self._has_stats():
                self.analyze()

    @property
    def name(self) -> str:
        """The target without a password, for messages."""
        return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", self.target)

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.kind == "sqlite":
            import sqlite3
            try:
                conn = sqlite3.connect(self.target, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise DatabaseError(f"cannot open index database {self.target}: {exc}") from None
            return conn
        try:
            import psycopg
        except ImportError:
            raise DatabaseError("an index on PostgreSQL needs the 'psycopg' package "
                                "(pip install 'psycopg[binary]')") from None
        try:
            return psycopg.connect(self.target, autocommit=True)
        except psycopg.Error as exc:
            text = " ".join(str(exc).split())
            raise DatabaseError(f"cannot connect to index database {self.name}: {text}") from None

    def connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise DatabaseError(f"index database {self.name} is closed")
            conn = self._local.conn = self._connect()
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            self._closed = True
            for conn in self._all:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001 - a connection broken by a dead server
                    pass
            self._all.clear()
        self._local = threading.local()

    # -- statements ----------------------------------------------------------------------------
    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.kind == "postgresql" else text

    def execute(self, conn: Any, text: str, params: list | tuple = ()) -> Any:
        return conn.execute(self.sql(text), params)

    @contextmanager
    def transaction(self, lock_key: str | None = None) -> Iterator[Any]:
        """A write transaction (serialised per ``lock_key`` on PostgreSQL)."""
        conn = self.connection()
        if self.kind == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return
        with conn.transaction():
            if lock_key is not None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(lock_key),))
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A read transaction: one consistent view for a whole query."""
        conn = self.connection()
        if self.kind == "sqlite":
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
            return
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield conn

    # -- planner statistics (PostgreSQL keeps its own through autovacuum) ------------------------
    def wrote(self) -> None:
        """Count a committed store; refresh SQLite's statistics each time the index doubles, so
        that the planner keeps choosing the patient/study/series indexes as the archive grows."""
        if self.kind != "sqlite":
            return
        self._writes += 1
        if self._writes > max(self._stats_basis, 50):
            self.analyze()

    def analyze(self) -> None:
        conn = self.connection()
        conn.execute("PRAGMA analysis_limit = 2000")      # sampled: milliseconds, not seconds
        conn.execute("ANALYZE")
        self._stats_basis, self._writes = self._count_rows(), 0

    def _count_rows(self) -> int:
        return self.connection().execute("SELECT COUNT(*) FROM instances").fetchone()[0]

    def _has_stats(self) -> bool:
        return self.connection().execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0] > 0

    def _create_schema(self, conn: Any) -> None:
        """Create the tables once; later openers only check the version (DDL on a live
        PostgreSQL index would take table locks that deadlock with running stores)."""
        if self.kind == "postgresql":
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id("dcmpy-schema"),))
            exists = conn.execute("SELECT to_regclass('dcmpy_meta')").fetchone()[0] is not None
            fill = {"pk": "BIGSERIAL PRIMARY KEY", "real": "DOUBLE PRECISION", "text_ops": "text_pattern_ops"}
        else:
            exists = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'dcmpy_meta'"
                                  ).fetchone()[0] > 0
            fill = {"pk": "INTEGER PRIMARY KEY", "real": "REAL", "text_ops": ""}
        if not exists:
            for statement in _TABLES.format(**fill).split(";"):
                if statement.strip():
                    conn.execute(statement)
            self.execute(conn, "INSERT INTO dcmpy_meta (name, value) VALUES ('schema', ?)",
                         (SCHEMA_VERSION,))
        row = self.execute(conn, "SELECT value FROM dcmpy_meta WHERE name = 'schema'").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            raise DatabaseError(f"index database {self.name} has schema version "
                                f"{row[0] if row else 'none'}, this dcmpy needs {SCHEMA_VERSION}")


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory lock id for a text key."""
    value = zlib.crc32(key.encode()) | (zlib.adler32(key.encode()) << 32)
    return value - (1 << 64) if value >= 1 << 63 else value


def sqlite_path_for(directory: str) -> str:
    """Where the default SQLite index of a storage area lives."""
    return os.path.join(directory, "index.sqlite")
