"""`adapter` for sqlfluff's jinja templater (.sqlfluff `library_path`), which has no dbt adapter.

The cross-db macros pick their implementation with `adapter.dispatch(name, package)`; the linter renders
the DuckDB one (`duckdb__<name>`, the dialect it parses), so it lints the SQL the dev warehouse runs.
"""

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context


@pass_context
def dispatch(context: Context, macro_name: str, _macro_namespace: str | None = None) -> Any:
    # the package is always this project's (macros are called positionally: `dispatch(name, package)`);
    # the macros from load_macros_from_path share the rendering context
    return context[f"duckdb__{macro_name}"]
