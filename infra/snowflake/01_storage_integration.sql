-- GCS external-stage variant of the raw load (SNOWFLAKE_RAW_STAGE=gcs), run once by an ACCOUNTADMIN.
-- Rendered with dollar-brace placeholders (dbt_runner.snowflake_load.render_template); fakesnow cannot run it,
-- so tests/snowflake renders it and checks the statements instead.
-- After creating it: `DESC STORAGE INTEGRATION ${INTEGRATION}` shows STORAGE_GCP_SERVICE_ACCOUNT; grant that
-- service account roles/storage.objectViewer on gs://${BUCKET} (read only: the runner never writes there).
create storage integration if not exists ${INTEGRATION}
    type = external_stage
    storage_provider = 'GCS'
    enabled = true
    storage_allowed_locations = ('gcs://${BUCKET}/');

grant usage on integration ${INTEGRATION} to role ${LOADER_ROLE};
