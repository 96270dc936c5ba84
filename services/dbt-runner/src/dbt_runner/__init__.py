"""dbt_runner."""
