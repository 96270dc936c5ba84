"""Compare the marts of two DuckDB warehouses cell for cell: the same tables, the same columns (names, types,
order), the same row counts and no row in one that the other lacks (EXCEPT ALL both ways, so duplicates
count). Used to show that a change to the dbt project leaves the marts as they were on the same raw data.

    .venv/bin/python tools/compare_marts.py BEFORE.duckdb AFTER.duckdb [--schema S] [--table T] [--rel-tol X]

Prints one line per table and exits 1 when anything differs. Values compare exactly; with `--rel-tol X` a
table that differs exactly is compared again, rows paired on their non-DOUBLE columns (the grain) and DOUBLE
cells within X relative: DuckDB sums floats in parallel in no fixed order, so two builds of the same project
on the same raw data can differ in the last bit of an average (the 50-developer fixture: up to 7e-16).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb


def _columns(
    con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str
) -> list[tuple[str, str]]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [db, schema, table],
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def _tables(con: duckdb.DuckDBPyConnection, db: str, schema: str) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ?",
        [db, schema],
    ).fetchall()
    return {str(name) for (name,) in rows}


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(f"select count(*) from ({sql})").fetchone()
    return int(row[0]) if row else 0


def _mismatches_within(
    con: duckdb.DuckDBPyConnection, tables: tuple[str, str], cols: list[tuple[str, str]], tol: float
) -> int:
    """Rows of either side with no partner equal on every non-DOUBLE column and within `tol` (relative) on
    every DOUBLE column. The non-DOUBLE columns must be the grain (as they are in every mart)."""
    keys = [n for n, k in cols if k != "DOUBLE"]
    floats = [n for n, k in cols if k == "DOUBLE"]
    on = " and ".join(f'x."{n}" is not distinct from y."{n}"' for n in keys) or "true"
    close = (
        " and ".join(
            f'(x."{n}" is not distinct from y."{n}" or abs(x."{n}" - y."{n}")'
            f' <= {tol} * greatest(abs(x."{n}"), abs(y."{n}")))'
            for n in floats
        )
        or "true"
    )
    left, right = tables
    sql = (
        f"select count(*) from {left} x full join {right} y on {on}"
        f' where x."{keys[0]}" is null or y."{keys[0]}" is null or not ({close})'
        if keys
        else f"select count(*) from {left} x where false"
    )
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def compare_table(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, tol: float | None = None
) -> tuple[bool, str]:
    """(equal, one-line report) for `schema.table` in the attached databases `a` and `b`."""
    cols_a, cols_b = _columns(con, "a", schema, table), _columns(con, "b", schema, table)
    if cols_a != cols_b:
        return False, f"{schema}.{table}: columns differ: {cols_a} vs {cols_b}"
    left, right = f'a."{schema}"."{table}"', f'b."{schema}"."{table}"'
    rows_a, rows_b = _count(con, f"select * from {left}"), _count(con, f"select * from {right}")
    only_a = _count(con, f"select * from {left} except all select * from {right}")
    only_b = _count(con, f"select * from {right} except all select * from {left}")
    equal = rows_a == rows_b and only_a == 0 and only_b == 0
    verdict = "equal" if equal else "DIFFERENT"
    if not equal and tol is not None and rows_a == rows_b:
        beyond = _mismatches_within(con, (left, right), cols_a, tol)
        equal = beyond == 0
        verdict = f"equal within {tol} relative" if equal else f"DIFFERENT ({beyond} beyond {tol})"
    return equal, (
        f"{schema}.{table}: {verdict} (rows {rows_a} vs {rows_b}, {len(cols_a)} columns,"
        f" only in first {only_a}, only in second {only_b})"
    )


def compare(
    first: Path,
    second: Path,
    schemas: list[str],
    only: set[str] | None = None,
    tol: float | None = None,
) -> bool:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{first}' as a (read_only)")
        con.execute(f"attach '{second}' as b (read_only)")
        all_equal = True
        for schema in schemas:
            tables_a, tables_b = _tables(con, "a", schema), _tables(con, "b", schema)
            if only:
                tables_a, tables_b = tables_a & only, tables_b & only
            if tables_a != tables_b:
                all_equal = False
                print(f"{schema}: tables differ: {sorted(tables_a ^ tables_b)} in one file only")
            if not tables_a & tables_b:
                all_equal = False
                print(f"{schema}: no table in both files")
            for table in sorted(tables_a & tables_b):
                equal, report = compare_table(con, schema, table, tol)
                all_equal = all_equal and equal
                print(report)
        return all_equal
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument(
        "--schema", action="append", help="schema to compare (repeatable; default: mart)"
    )
    parser.add_argument(
        "--table", action="append", help="compare only these table names (repeatable; default: all)"
    )
    parser.add_argument(
        "--rel-tol",
        type=float,
        help="on an exact mismatch, accept DOUBLE cells within this relative gap",
    )
    args = parser.parse_args(argv)
    only = set(args.table) if args.table else None
    equal = compare(args.first, args.second, args.schema or ["mart"], only, args.rel_tol)
    print("marts equal" if equal else "marts DIFFER")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
