"""Parquet for analysis: the same table as the CSV export, typed (numbers, booleans, nulls).

pandas and pyarrow are imported here, on first use, never when ``mel`` starts: the command line
and the web app do not pay for them. Suppressed cells are nulls (the CSV's ``<5`` and ``x``), the
categories the CSV's ``dimension=category`` text, so the two read back alike.
"""

from __future__ import annotations

from typing import IO, Any

from mel.exports.writer import Table

NUMERIC = ("int", "number", "decimal1")


def frame(table: Table) -> Any:
    """The table's JSON records as a pandas DataFrame, one column per table column, typed by kind."""
    import pandas as pd

    columns: dict[str, list[Any]] = {c.key: [] for c in table.columns}
    for record in table.records():
        for key, values in columns.items():
            value = record.get(key)
            if isinstance(value, dict):
                value = "; ".join(f"{d}={c}" for d, c in value.items())
            values.append(value)
    data = {}
    for col in table.columns:
        values = columns[col.key]
        if col.kind in NUMERIC:
            data[col.key] = pd.array(values, dtype="Int64" if col.kind == "int" else "Float64")
        elif (
            values
            and all(isinstance(v, bool) for v in values if v is not None)
            and any(isinstance(v, bool) for v in values)
        ):
            data[col.key] = pd.array(values, dtype="boolean")
        else:
            data[col.key] = pd.array([None if v is None else str(v) for v in values], dtype="string")
    return pd.DataFrame(data)


def write_parquet(table: Table, out: IO[bytes]) -> None:
    frame(table).to_parquet(out, engine="pyarrow", index=False)
