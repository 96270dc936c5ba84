"""etl_common."""
