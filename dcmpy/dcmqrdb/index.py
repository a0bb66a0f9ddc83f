"""The archive's index: patients, studies, series and instances of one storage area in SQL.

::

    index = Index.open("/var/lib/archive/STORE")            # SQLite: <area>/index.sqlite
    index = Index.open("postgresql://qr@dbhost/archive", root="/mnt/archive/STORE")
    index.store("/var/lib/archive/STORE/CT_...dcm", dataset)  # idempotent on SOP Instance UID
    for response in index.find("study", "STUDY", identifier): ...
    refs = index.locate("patient", "SERIES", identifier)      # InstanceRef(path, ...) to send

Stores are transactions: the instance, its series, study and patient rows and the quota
decisions commit together or not at all. Files that a store makes obsolete (a replaced copy of
the same SOP instance, studies or instances removed by the quota) are unlinked through the
``unlink`` callback just before the commit, so that a crash leaves rows without files (which
:meth:`Index.reconcile` drops), never indexed files that are gone for good.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .config import Quota
from .db import Database, sqlite_path_for
from .keys import IMAGE, PATIENT, SERIES, STUDY, QueryError
from .query import Query, Row
from .record import InstanceRecord, RecordError, columns_of, dumps, extract, loads

__all__ = ["Index", "InstanceRef", "StoreResult", "QuotaExceeded", "RecordError", "QueryError"]

_FETCH = 256
_UPPER = ("", "patient_pk", "study_pk", "series_pk")
_TABLES = ("patients", "studies", "series", "instances")
_COUNTS = {
    0x00201200: ("SELECT COUNT(*) FROM studies WHERE patient_pk = ?", PATIENT),
    0x00201202: ("SELECT COUNT(*) FROM series se JOIN studies st ON st.pk = se.study_pk "
                 "WHERE st.patient_pk = ?", PATIENT),
    0x00201204: ("SELECT COUNT(*) FROM instances i JOIN series se ON se.pk = i.series_pk "
                 "JOIN studies st ON st.pk = se.study_pk WHERE st.patient_pk = ?", PATIENT),
    0x00201206: ("SELECT COUNT(*) FROM series WHERE study_pk = ?", STUDY),
    0x00201208: ("SELECT COUNT(*) FROM instances i JOIN series se ON se.pk = i.series_pk "
                 "WHERE se.study_pk = ?", STUDY),
    0x00201209: ("SELECT COUNT(*) FROM instances WHERE series_pk = ?", SERIES),
    0x00080062: ("SELECT DISTINCT i.sop_class FROM instances i JOIN series se ON "
                 "se.pk = i.series_pk WHERE se.study_pk = ? ORDER BY i.sop_class", STUDY),
}


class QuotaExceeded(Exception):
    """The store was refused by the quota (DIMSE status A700, Out of Resources)."""


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """An instance to send for C-MOVE or C-GET."""
    path: str
    sop_class: str
    sop_instance: str
    transfer_syntax: str
    size: int


@dataclass
class StoreResult:
    """What a store did: the row, and the files it made obsolete (already unlinked)."""
    sop_instance: str
    study_uid: str
    replaced: bool = False
    removed: list[str] = field(default_factory=list)


class Index:
    """The index of one storage area (``root``) in a SQLite or PostgreSQL database."""

    def __init__(self, db: Database, root: str, area: str) -> None:
        self.db, self.root, self.area = db, root, area

    @classmethod
    def open(cls, target: str, root: str | None = None) -> Index:
        """Open (creating if needed) the index of a storage area.

        ``target``: the storage area directory (SQLite in ``<dir>/index.sqlite``), a SQLite
        file, or a ``postgresql://`` URL, which then needs ``root``, the storage area directory.
        """
        if target.startswith(("postgresql://", "postgres://")):
            if root is None:
                raise ValueError("an index on PostgreSQL needs the storage area directory (root)")
            root = os.path.abspath(root)
            return cls(Database(target), root, root)
        if os.path.isdir(target):
            root = target if root is None else root
            target = sqlite_path_for(target)
        root = os.path.abspath(root if root is not None else os.path.dirname(target) or ".")
        return cls(Database(target), root, "")

    def close(self) -> None:
        self.db.close()

    # -- paths ---------------------------------------------------------------------------------
    def relative(self, path: str) -> str:
        """How a file's path is stored: relative to the area if inside it, else absolute."""
        full = os.path.abspath(path)
        rel = os.path.relpath(full, self.root)
        return full if rel.startswith(os.pardir) else rel

    def absolute(self, stored: str) -> str:
        return os.path.join(self.root, stored)

    # -- storing -------------------------------------------------------------------------------
    def store(self, path: str, dataset=None, *, record: InstanceRecord | None = None,
              size: int | None = None, quota: Quota | None = None, policy: str = "delete",
              unlink: Callable[[list[str]], None] | None = None, now: float | None = None,
              transfer_syntax: str | None = None) -> StoreResult:
        """Index the file at ``path`` (its data set read from it unless given).

        Raises RecordError if the data set lacks a valid unique key and QuotaExceeded if the
        quota refuses it; ``unlink(paths)`` removes obsolete files before the commit.
        """
        if record is None:
            if dataset is None:
                dataset = _read_header(path)
            ts = transfer_syntax or _syntax_of(dataset)
            record = extract(dataset, ts)
        size = os.path.getsize(path) if size is None else size
        now = time.time() if now is None else now
        rel = self.relative(path)
        with self.db.transaction(self.area or self.db.target) as conn:
            result = _Store(self, conn, record, rel, size, now).run(quota, policy)
            if result.removed and unlink is not None:
                unlink([self.absolute(p) for p in result.removed])
        self.db.wrote()
        result.removed = [self.absolute(p) for p in result.removed]
        return result

    # -- querying ------------------------------------------------------------------------------
    def find(self, model, level, identifier, *, strict: bool = False,
             combined_datetime: bool = False, retrieve_ae: str | None = None,
             fallback_charset: str = "", override_charset: bool = False) -> Iterator[Any]:
        """C-FIND: a response data set for each match (stop iterating to cancel).

        Responses hold the requested keys, the query level's unique key, Query/Retrieve Level,
        Retrieve AE Title (if ``retrieve_ae``) and their text in the first character set that can
        encode it of: the request's, ``fallback_charset`` (default ASCII), the stored one (DCMTK's
        ``+Cr``; ``override_charset`` puts the fallback first, as ``-Cr``).
        """
        query = Query(model, identifier, level, strict=strict, combined_datetime=combined_datetime)
        choose = _charset_chooser(query.request_charsets, fallback_charset, override_charset)
        for row in self._rows(query):
            yield query.response(row, retrieve_ae, choose)

    def locate(self, model, level, identifier, *, strict: bool = False) -> list[InstanceRef]:
        """C-MOVE / C-GET: every instance under the entities the identifier matches."""
        query = Query(model, identifier, level, strict=strict)
        pks = [row.pks[query.level] for row in self._rows(query)]
        if not pks:
            return []
        joins = {STUDY: "JOIN series se ON se.pk = i.series_pk WHERE se.study_pk",
                 SERIES: "WHERE i.series_pk", IMAGE: "WHERE i.pk",
                 PATIENT: "JOIN series se ON se.pk = i.series_pk JOIN studies st ON "
                          "st.pk = se.study_pk WHERE st.patient_pk"}[query.level]
        refs: list[InstanceRef] = []
        with self.db.snapshot() as conn:
            for chunk in range(0, len(pks), 500):
                part = pks[chunk:chunk + 500]
                sql = (f"SELECT i.path, i.sop_class, i.sop_uid, i.transfer_syntax, i.size FROM "
                       f"instances i {joins} IN ({', '.join('?' * len(part))}) ORDER BY i.pk")
                for p, cls, uid, ts, size in self.db.execute(conn, sql, part).fetchall():
                    refs.append(InstanceRef(self.absolute(p), cls, uid, ts, size))
        return refs

    def _rows(self, query: Query) -> Iterator[Row]:
        sql, params = query.select(self.area)
        with self.db.snapshot() as conn:
            cursor = self.db.execute(conn, sql, params)
            while batch := cursor.fetchmany(_FETCH):
                for values in batch:
                    row = query.row(values)
                    self._compute(conn, row, query.matched_computed)
                    if query.matches(row):
                        self._compute(conn, row, query.needs_computed)
                        yield row

    def _compute(self, conn, row: Row, tags: list[int]) -> None:
        for tag in tags:
            if tag in row.computed or tag not in _COUNTS:
                continue
            sql, level = _COUNTS[tag]
            values = [str(r[0]) for r in self.db.execute(conn, sql, (row.pks[level],)).fetchall()]
            row.computed[tag] = "\\".join(values)

    # -- maintenance ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per level (and stored bytes) in this area."""
        out = {}
        with self.db.snapshot() as conn:
            for table in _TABLES:
                out[table] = self.db.execute(conn, f"SELECT COUNT(*) FROM {table} WHERE area = ?",
                                             (self.area,)).fetchone()[0]
            out["bytes"] = self.db.execute(conn, "SELECT COALESCE(SUM(size), 0) FROM instances "
                                                 "WHERE area = ?", (self.area,)).fetchone()[0]
        return out

    def paths(self) -> dict[str, str]:
        """Absolute path -> SOP Instance UID of every indexed instance."""
        with self.db.snapshot() as conn:
            rows = self.db.execute(conn, "SELECT path, sop_uid FROM instances WHERE area = ?",
                                   (self.area,)).fetchall()
        return {self.absolute(p): uid for p, uid in rows}

    def studies(self) -> list[tuple[str, int, int, float]]:
        """(Study Instance UID, instances, bytes, last update) of every study, oldest first."""
        sql = ("SELECT st.study_uid, COUNT(i.pk), st.n_bytes, st.updated FROM studies st "
               "LEFT JOIN series se ON se.study_pk = st.pk LEFT JOIN instances i ON "
               "i.series_pk = se.pk WHERE st.area = ? GROUP BY st.pk, st.study_uid, st.n_bytes, "
               "st.updated ORDER BY st.updated, st.pk")
        with self.db.snapshot() as conn:
            return [tuple(r) for r in self.db.execute(conn, sql, (self.area,)).fetchall()]

    def records(self) -> Iterator[tuple[str, int, float, str, dict]]:
        """(absolute path, size, time stored, character set, attributes of every level) of each
        instance, in the order stored."""
        sql = ("SELECT i.path, i.size, i.stored, i.charset, p.attrs, st.attrs, se.attrs, i.attrs "
               "FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON "
               "st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk WHERE i.area = ? "
               "ORDER BY i.pk")
        with self.db.snapshot() as conn:
            for path, size, stored, charset, *docs in self.db.execute(conn, sql, (self.area,)):
                attrs: dict = {}
                for doc in docs:
                    attrs.update(loads(doc))
                yield self.absolute(path), size, stored, charset, attrs

    def remove_study(self, study_uid: str,
                     unlink: Callable[[list[str]], None] | None = None) -> list[str]:
        """Remove a study's rows (its files through ``unlink`` before the commit)."""
        with self.db.transaction(self.area or self.db.target) as conn:
            store = _Store(self, conn, None, "", 0, 0.0)
            row = self.db.execute(conn, "SELECT pk FROM studies WHERE area = ? AND study_uid = ?",
                                  (self.area, study_uid)).fetchone()
            removed = store.delete_study(row[0]) if row else []
            if removed and unlink is not None:
                unlink([self.absolute(p) for p in removed])
        return [self.absolute(p) for p in removed]

    def remove_paths(self, paths: list[str]) -> int:
        """Drop the rows of instances stored at ``paths`` (files that are gone)."""
        stored = [self.relative(p) for p in paths]
        with self.db.transaction(self.area or self.db.target) as conn:
            store = _Store(self, conn, None, "", 0, 0.0)
            n = 0
            for rel in stored:
                row = self.db.execute(conn, "SELECT pk FROM instances WHERE area = ? AND path = ?",
                                      (self.area, rel)).fetchone()
                if row:
                    store.delete_instances([row[0]])
                    n += 1
        return n


def _read_header(path: str):
    from dcmpy.dcmdata.reader import ReadOptions, dcmread
    return dcmread(path, ReadOptions(stop_before=0x7FE00010))


def _syntax_of(ds) -> str:
    ts = getattr(ds, "transfer_syntax", None)
    return getattr(ts, "uid", "") or ""


def _charset_chooser(request: list[str], fallback: str, override: bool):
    """Picks the Specific Character Set of each response (see ``Index.find``)."""
    from dcmpy.dcmdata.charset import CharsetError, encode
    fallback_terms = fallback.split("\\") if fallback else []
    head = [fallback_terms] if override else []
    if any(request):
        head.append(list(request))
    head.append(fallback_terms)

    def fits(terms: list[str], texts: list[str]) -> bool:
        try:
            for text in texts:
                encode(text, terms, "LO")
        except CharsetError:
            return False
        return True

    def choose(row: Row, texts: list[str]) -> list[str]:
        stored = next((c for c in reversed(row.charsets) if c), "")
        for terms in [*head, stored.split("\\") if stored else []]:
            if fits(terms, texts):
                return terms if any(terms) else []
        return ["ISO_IR 192"]
    return choose


_STUDY_PATIENT = ("p_name", "p_birth_date", "p_sex")


def _patient_columns(attrs: dict) -> list[str]:
    cols = columns_of(PATIENT, attrs)
    return [cols["patient_name"], cols["birth_date"], cols["sex"]]


class _Store:
    """One store (or removal) inside a transaction."""

    def __init__(self, index: Index, conn, record: InstanceRecord | None, rel: str, size: int,
                 now: float) -> None:
        self.index, self.db, self.conn, self.area = index, index.db, conn, index.area
        self.record, self.rel, self.size, self.now = record, rel, size, now
        self.removed: list[str] = []
        self.touched_studies: set[int] = set()

    def q(self, sql: str, params: tuple | list = ()) -> Any:
        return self.db.execute(self.conn, sql, params)

    def run(self, quota: Quota | None, policy: str) -> StoreResult:
        rec = self.record
        study_uid, sop_uid = rec.uid(STUDY), rec.uid(IMAGE)
        old = self.q("SELECT i.pk, i.path, i.size, se.study_pk FROM instances i JOIN series se ON "
                     "se.pk = i.series_pk WHERE i.area = ? AND i.sop_uid = ?",
                     (self.area, sop_uid)).fetchone()
        study = self.q("SELECT pk, n_bytes, patient_pk FROM studies WHERE area = ? AND "
                       "study_uid = ?", (self.area, study_uid)).fetchone()
        if quota is not None:
            self.enforce(quota, policy, study, old)
        if old is not None:
            self.delete_instances([old[0]], keep_file=old[1] == self.rel)
        if study is not None and self.q("SELECT 1 FROM studies WHERE pk = ?", (study[0],)).fetchone():
            patient_pk = study[2]
            old_patient = self.q("SELECT attrs FROM patients WHERE pk = ?", (patient_pk,)).fetchone()
            self.complete("patients", PATIENT, patient_pk, loads(old_patient[0]), rec.levels[PATIENT])
        else:
            patient_pk = self.upsert(PATIENT, None)
        study_pk = self.upsert(STUDY, patient_pk)
        series_pk = self.upsert(SERIES, study_pk)
        cols = rec.columns(IMAGE)
        self.q("INSERT INTO instances (series_pk, area, sop_uid, sop_class, instance_number, "
               "transfer_syntax, path, size, stored, charset, attrs) VALUES "
               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (series_pk, self.area, cols["sop_uid"], cols["sop_class"], cols["instance_number"],
                rec.transfer_syntax, self.rel, self.size, self.now, rec.charset,
                dumps(rec.levels[IMAGE])))
        self.q("UPDATE studies SET n_bytes = n_bytes + ?, updated = ? WHERE pk = ?",
               (self.size, self.now, study_pk))
        self.touched_studies.add(study_pk)
        self.finish()
        return StoreResult(sop_uid, study_uid, old is not None, self.removed)

    # -- quota (DCMTK: too many studies -> the oldest goes; study too big -> its oldest images)
    def enforce(self, quota: Quota, policy: str, study, old) -> None:
        if self.size > quota.max_bytes_per_study:
            raise QuotaExceeded(f"object of {self.size} bytes exceeds the quota of "
                                f"{quota.max_bytes_per_study} bytes per study")
        if study is None:
            count = self.q("SELECT COUNT(*) FROM studies WHERE area = ?", (self.area,)).fetchone()[0]
            excess = count - quota.max_studies + 1
            if excess > 0:
                if policy == "reject":
                    raise QuotaExceeded(f"storage area holds {count} studies, the quota is "
                                        f"{quota.max_studies}")
                oldest = self.q("SELECT pk FROM studies WHERE area = ? ORDER BY updated, pk "
                                "LIMIT ?", (self.area, excess)).fetchall()
                for (pk,) in oldest:
                    self.removed += self.delete_study(pk)
            return
        replaced = old[2] if old is not None and old[3] == study[0] else 0
        needed = study[1] - replaced + self.size - quota.max_bytes_per_study
        if needed <= 0:
            return
        if policy == "reject":
            raise QuotaExceeded(f"study would hold {study[1] - replaced + self.size} bytes, the "
                                f"quota is {quota.max_bytes_per_study}")
        rows = self.q("SELECT i.pk, i.size FROM instances i JOIN series se ON se.pk = i.series_pk "
                      "WHERE se.study_pk = ? ORDER BY i.stored, i.pk", (study[0],)).fetchall()
        doomed = []
        for pk, size in rows:
            if needed <= 0:
                break
            if old is not None and pk == old[0]:
                continue
            doomed.append(pk)
            needed -= size
        self.delete_instances(doomed)

    # -- rows ----------------------------------------------------------------------------------
    def upsert(self, level: int, parent: int | None) -> int:
        """The row of this level for the record: created, or completed if it exists (its first
        values win and it stays where it is, as DCMTK answers with an entity's first record)."""
        rec, table = self.record, _TABLES[level]
        cols = rec.columns(level)
        key_col = next(iter(cols))
        row = self.q(f"SELECT pk, attrs FROM {table} WHERE area = ? AND {key_col} = ?",
                     (self.area, cols[key_col])).fetchone()
        attrs = rec.levels[level]
        if row is not None:
            self.complete(table, level, row[0], loads(row[1]), attrs)
            return row[0]
        names = ["area", *cols, "charset", "attrs"]
        params = [self.area, *cols.values(), rec.charset, dumps(attrs)]
        if parent is not None:
            names.append(_UPPER[level])
            params.append(parent)
        if level == STUDY:
            patient = rec.levels[PATIENT]
            names += ["modalities", "n_bytes", "updated", *_STUDY_PATIENT, "p_attrs"]
            params += ["", 0, self.now, *_patient_columns(patient), dumps(patient)]
        sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
               "RETURNING pk")
        return self.q(sql, params).fetchone()[0]

    def complete(self, table: str, level: int, pk: int, old: dict, attrs: dict) -> None:
        """Add the attributes a row lacks (the values stored first win)."""
        merged = {**attrs, **old}
        sets, params = [], []
        if len(merged) != len(old):
            merged_cols = columns_of(level, merged)
            sets += [f"{c} = ?" for c in merged_cols] + ["attrs = ?"]
            params += [*merged_cols.values(), dumps(merged)]
        if level == STUDY:
            p_old = loads(self.q("SELECT p_attrs FROM studies WHERE pk = ?", (pk,)).fetchone()[0])
            p_merged = {**self.record.levels[PATIENT], **p_old}
            if len(p_merged) != len(p_old):
                sets += [f"{c} = ?" for c in _STUDY_PATIENT] + ["p_attrs = ?"]
                params += [*_patient_columns(p_merged), dumps(p_merged)]
        if sets:
            self.q(f"UPDATE {table} SET {', '.join(sets)} WHERE pk = ?", (*params, pk))

    def delete_instances(self, pks: list[int], keep_file: bool = False) -> None:
        for pk in pks:
            row = self.q("SELECT i.path, i.size, i.series_pk, se.study_pk FROM instances i JOIN "
                         "series se ON se.pk = i.series_pk WHERE i.pk = ?", (pk,)).fetchone()
            if row is None:
                continue
            path, size, series_pk, study_pk = row
            self.q("DELETE FROM instances WHERE pk = ?", (pk,))
            self.q("UPDATE studies SET n_bytes = n_bytes - ? WHERE pk = ?", (size, study_pk))
            if not keep_file:
                self.removed.append(path)
            self.touched_studies.add(study_pk)
            self.prune_upward(SERIES, series_pk)

    def delete_study(self, study_pk: int) -> list[str]:
        paths = [p for (p,) in self.q("SELECT i.path FROM instances i JOIN series se ON se.pk = "
                                      "i.series_pk WHERE se.study_pk = ?", (study_pk,)).fetchall()]
        patient = self.q("SELECT patient_pk FROM studies WHERE pk = ?", (study_pk,)).fetchone()
        self.q("DELETE FROM instances WHERE series_pk IN (SELECT pk FROM series WHERE study_pk = ?)",
               (study_pk,))
        self.q("DELETE FROM series WHERE study_pk = ?", (study_pk,))
        self.q("DELETE FROM studies WHERE pk = ?", (study_pk,))
        self.touched_studies.discard(study_pk)
        if patient is not None:
            self.prune_upward(PATIENT, patient[0])
        return paths

    def prune_upward(self, level: int, pk: int) -> None:
        """Delete the row of ``level`` if nothing refers to it any more, and so on upwards."""
        while level >= PATIENT:
            child = _TABLES[level + 1] if level < IMAGE else None
            if child is None or self.q(f"SELECT 1 FROM {child} WHERE {_UPPER[level + 1]} = ? "
                                       "LIMIT 1", (pk,)).fetchone():
                return
            parent = self.q(f"SELECT {_UPPER[level]} FROM {_TABLES[level]} WHERE pk = ?",
                            (pk,)).fetchone() if level > PATIENT else None
            self.q(f"DELETE FROM {_TABLES[level]} WHERE pk = ?", (pk,))
            if level == STUDY:
                self.touched_studies.discard(pk)
            if parent is None:
                return
            level, pk = level - 1, parent[0]

    def finish(self) -> None:
        """Recompute ModalitiesInStudy of every study this store touched."""
        for study_pk in self.touched_studies:
            mods = [m for (m,) in self.q("SELECT DISTINCT modality FROM series WHERE study_pk = ? "
                                         "AND modality <> '' ORDER BY modality", (study_pk,))]
            self.q("UPDATE studies SET modalities = ? WHERE pk = ?", ("\\".join(mods), study_pk))
