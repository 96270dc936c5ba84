"""`target` for sqlfluff's jinja templater: the dev profile's DuckDB target (dbt/profiles.yml)."""

name = "dev"
type = "duckdb"
schema = "main"
