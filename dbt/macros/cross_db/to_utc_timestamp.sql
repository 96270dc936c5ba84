{#- A raw timestamp column (DuckDB TIMESTAMP_NS / Snowflake TIMESTAMP_NTZ(9), zone-less UTC) as the plain
    timestamp type used from staging on. Nanoseconds are truncated to microseconds, never rounded: a plain
    CAST in DuckDB rounds, which would move 23:59:59.9999996 into the next day (and week). Snowflake keeps
    TIMESTAMP_NTZ(9); every use downstream (dates, microsecond differences) sees the same truncated value. -#}
{% macro to_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'cursor_analytics')(expr)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expr) -%}
    {{ unsupported_adapter('to_utc_timestamp') }}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expr) -%}
    make_timestamp(epoch_ns({{ expr }}) // 1000)
{%- endmacro %}

{% macro snowflake__to_utc_timestamp(expr) -%}
    cast({{ expr }} as timestamp_ntz)
{%- endmacro %}
