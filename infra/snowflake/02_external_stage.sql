-- The external stage the dbt-runner copies from when SNOWFLAKE_RAW_STAGE=gcs. Its URL is the bucket root:
-- the runner names each file by its object name (manifest root prefix + the manifest's relative path), so one
-- stage serves every load. Stages live in `loading`, never in `raw` (the raw load swaps the whole schema).
create schema if not exists ${DATABASE}.loading;

create stage if not exists ${DATABASE}.loading.raw_gcs
    url = 'gcs://${BUCKET}/'
    storage_integration = ${INTEGRATION}
    file_format = (type = parquet use_logical_type = true use_vectorized_scanner = true);

grant usage on schema ${DATABASE}.loading to role ${LOADER_ROLE};
grant usage on stage ${DATABASE}.loading.raw_gcs to role ${LOADER_ROLE};
-- The raw load creates schemas raw__load_<id> and swaps them with raw; dbt creates staging and mart.
grant create schema on database ${DATABASE} to role ${LOADER_ROLE};
