"""PS3.4 C.2.2.2 matching (dcmpy.dcmqrdb.matching), table-driven, and its SQL translation.

Every case is checked three ways: the Python matcher, the SQL condition run on SQLite and on
PostgreSQL (it must never lose a match: SQL narrows, Python decides), and for the whole table
an index query through both databases.
"""
from __future__ import annotations

import sqlite3

import pytest

from dcmpy.dcmqrdb.matching import (CombinedDateTime, like_pattern, normalize_date, normalize_datetime,
                                    normalize_time, parse_condition)
from dcmpy.dcmqrdb.record import column_value
from test_dcmqrdb_support import pg_url  # noqa: F401

PN, LO, CS, DA, TM, DT, UI, IS = 0x00100010, 0x00100020, 0x00080060, 0x00080020, 0x00080030, \
    0x0008002A, 0x0020000D, 0x00200013

# (tag, vr, query, stored value, matches?)
CASES = [
    # universal matching: empty value, '*'
    (PN, "PN", "", "Doe^John", True),
    (PN, "PN", "", None, True),
    (PN, "PN", "*", "", True),
    (PN, "PN", "*", None, True),
    # single value: exact, case-sensitive, leading/trailing spaces ignored
    (PN, "PN", "Doe^John", "Doe^John", True),
    (PN, "PN", "Doe^John", "doe^john", False),
    (PN, "PN", " Doe^John ", "Doe^John", True),
    (PN, "PN", "Doe^John", "Doe^Johnny", False),
    (PN, "PN", "Doe", None, False),
    (LO, "LO", "ID 1", "ID 1", True),
    # wildcards: * any run (also empty), ? exactly one character
    (PN, "PN", "Doe*", "Doe^John", True),
    (PN, "PN", "Doe*", "Do", False),
    (PN, "PN", "*John", "Doe^John", True),
    (PN, "PN", "D?e^*", "Doe^John", True),
    (PN, "PN", "D?e^*", "De^John", False),
    (PN, "PN", "D*e*n", "Doe^John", True),
    (PN, "PN", "doe*", "Doe^John", False),
    (PN, "PN", "Jos\u00e9*", "Jos\u00e9^Maria", True),
    (PN, "PN", "Jos?^*", "Jos\u00e9^Maria", True),
    (PN, "PN", "\u5c71\u7530*", "\u5c71\u7530^\u592a\u90ce", True),
    # SQL metacharacters in values and wildcard queries are literal
    (LO, "LO", "50%*", "50% dose", True),
    (LO, "LO", "50%*", "500 dose", False),
    (LO, "LO", "a_b*", "a_b c", True),
    (LO, "LO", "a_b*", "axb c", False),
    (CS, "CS", "MR", "CT\\MR", True),               # a stored multi-valued key: any value
    (CS, "CS", "M*", "CT\\MR", True),
    (CS, "CS", "US", "CT\\MR", False),
    (LO, "LO", "it's*", "it's here", True),
    (LO, "LO", "[ab]*", "[ab] x", True),
    (LO, "LO", "[ab]*", "a x", False),
    (LO, "LO", "100%", "100%", True),
    (LO, "LO", "100%", "1000", False),
    # several values in the query: any of them
    (CS, "CS", "CT\\MR", "MR", True),
    (CS, "CS", "CT\\MR", "US", False),
    # list of UIDs
    (UI, "UI", "1.2.3", "1.2.3", True),
    (UI, "UI", "1.2.3\\1.2.4", "1.2.4", True),
    (UI, "UI", "1.2.3\\1.2.4", "1.2.5", False),
    (UI, "UI", "1.2.3", "1.2.3.4", False),
    (UI, "UI", "1.2.*", "1.2.3", False),           # no wildcards for UI
    # dates: single value, ranges
    (DA, "DA", "20110115", "20110115", True),
    (DA, "DA", "20110101-20110131", "20110115", True),
    (DA, "DA", "20110101-20110131", "20110131", True),
    (DA, "DA", "20110101-20110131", "20110201", False),
    (DA, "DA", "-20110131", "19991231", True),
    (DA, "DA", "-20110131", "20110201", False),
    (DA, "DA", "20110101-", "20991231", True),
    (DA, "DA", "20110101-", "20101231", False),
    (DA, "DA", "20110101-20110131", None, False),
    (DA, "DA", "20110101-20110131", "", False),
    (DA, "DA", "-20110131", "", False),
    (DA, "DA", "19970101-19971231", "1997.04.24", True),   # ACR-NEMA form (PS3.5 6.2)
    (DA, "DA", "2011-", "20110101", False),                  # not a date: matches nothing
    (DA, "DA", "garbage", "20110101", False),
    # times: padded with zeros, so an upper bound 1100 ends at 11:00:00.000000
    (TM, "TM", "1000-1100", "103000", True),
    (TM, "TM", "1000-1100", "1100", True),
    (TM, "TM", "1000-1100", "110001", False),
    (TM, "TM", "1000-1100", "095959.999", False),
    (TM, "TM", "10", "100000", True),
    (TM, "TM", "-0930", "0900", True),
    (TM, "TM", "1400-", "23", True),
    (TM, "TM", "1000-1100", "10:30:00", True),               # ACR-NEMA form
    # date-times
    (DT, "DT", "20110101-20110102", "20110101120000", True),
    (DT, "DT", "20110101120000-20110101130000", "20110101123000.5", True),
    (DT, "DT", "20110101120000-20110101130000", "20110101130001", False),
    (DT, "DT", "20110101-", "20110101120000+0100", True),
    (DT, "DT", "-2010", "2009", True),
    # other VRs: single value, byte exact after trimming
    (IS, "IS", "2", "2", True),
    (IS, "IS", "2", "02", False),
]

_COLUMN_NORM = {"DA": "DA", "TM": "TM"}


@pytest.mark.parametrize("tag,vr,query,value,expected", CASES)
def test_python_matching(tag, vr, query, value, expected):
    assert parse_condition(tag, vr, query, multi=vr == "CS").matches(value) is expected


def _sql_matches(conn, query_cond, stored, paramstyle: str) -> bool:
    clause = query_cond.sql("col")
    if clause is None:
        return True
    sql, params = clause
    if paramstyle == "%s":
        sql = sql.replace("?", "%s")
    cur = conn.execute(f"SELECT COUNT(*) FROM t WHERE {sql}", params)
    return cur.fetchone()[0] == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_table(request):
    if request.param == "sqlite":
        conn = sqlite3.connect(":memory:")
        style = "?"
    else:
        import psycopg
        conn = psycopg.connect(request.getfixturevalue("pg_url"), autocommit=True)
        style = "%s"
    conn.execute("CREATE TEMPORARY TABLE t (col TEXT NOT NULL)")
    yield conn, style
    conn.close()


def test_sql_never_loses_a_match(sql_table):
    """For every case, the SQL condition keeps the row whenever Python says it matches."""
    conn, style = sql_table
    checked = 0
    for tag, vr, query, value, expected in CASES:
        cond = parse_condition(tag, vr, query, multi=vr == "CS")
        conn.execute("DELETE FROM t")
        conn.execute(f"INSERT INTO t (col) VALUES ({style})", (column_value(value, _COLUMN_NORM.get(vr, "")),))
        in_sql = _sql_matches(conn, cond, value, style)
        if expected:
            assert in_sql, (query, value)
        checked += 1
    assert checked == len(CASES)


def test_like_pattern_escapes():
    assert like_pattern("a%b_c\\d*e?") == "a\\%b\\_c\\\\d%e_"


@pytest.mark.parametrize("text,norm", [("20110131", "20110131"), ("2011.01.31", "20110131"),
                                       ("2011013", None), ("", None), ("2011-01-31", None)])
def test_normalize_date(text, norm):
    assert normalize_date(text) == norm


@pytest.mark.parametrize("text,norm", [("10", "100000.000000"), ("1030", "103000.000000"),
                                       ("103015.5", "103015.500000"), ("10:30:15", "103015.000000"),
                                       ("1", None), ("10.5", None), ("103015.1234567", None)])
def test_normalize_time(text, norm):
    assert normalize_time(text) == norm


@pytest.mark.parametrize("text,norm", [("2011", "20110101000000.000000"),
                                       ("201103", "20110301000000.000000"),
                                       ("20110301123015.25-0500", "20110301123015.250000"),
                                       ("20110", None), ("2011.5", None)])
def test_normalize_datetime(text, norm):
    assert normalize_datetime(text) == norm


@pytest.mark.parametrize("date,time,value_date,value_time,expected", [
    ("20110101-20110131", "1000-1200", "20110115", "150000", True),    # inside the combined range
    ("20110101-20110131", "1000-1200", "20110101", "0900", False),     # before 20110101 10:00
    ("20110101-20110131", "1000-1200", "20110131", "1300", False),     # after 20110131 12:00
    ("20110101-20110131", "1000-1200", "20110131", "1200", True),
    ("20110115", "1000-1200", "20110115", "1100", True),
    ("20110115", "1000-1200", "20110115", "1300", False),
    ("-20110131", "-1200", "20100101", "2300", True),
])
def test_combined_date_time(date, time, value_date, value_time, expected):
    cond = CombinedDateTime(parse_condition(DA, "DA", date), parse_condition(TM, "TM", time))
    assert cond.matches(value_date, value_time) is expected
    separate = parse_condition(DA, "DA", date).matches(value_date) and \
        parse_condition(TM, "TM", time).matches(value_time)
    if date.count("-") and time.count("-") and value_time in ("150000", "2300"):
        assert separate is False      # where combined and separate matching differ


def test_sequence_condition():
    from dcmpy.dcmqrdb.matching import SequenceCondition
    code = 0x00080100
    items = [{"00080100": ["SH", "A1"], "00080102": ["SH", "DCM"]},
             {"00080100": ["SH", "B2"], "00080102": ["SH", "99X"]}]
    assert SequenceCondition(0x00081032, [[parse_condition(code, "SH", "B*")]]).matches(items)
    assert not SequenceCondition(0x00081032, [[parse_condition(code, "SH", "B*"),
                                               parse_condition(0x00080102, "SH", "DCM")]]).matches(items)
    assert SequenceCondition(0x00081032, []).matches(None)          # zero length: universal
    assert SequenceCondition(0x00081032, [[]]).matches(None)        # one empty item: universal
    assert not SequenceCondition(0x00081032, [[parse_condition(code, "SH", "A1")]]).matches([])
