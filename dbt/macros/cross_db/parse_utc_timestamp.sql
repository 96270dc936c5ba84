{#- An RFC 3339 string with 0-9 fraction digits and a `Z` or +-hh:mm offset, as a zone-less UTC timestamp.
    Snowflake's AUTO format reads ISO 8601 with any fraction width and `Z` or an offset.
    The raw layer already arrives typed; this is for text timestamps (e.g. `_extra` JSON, CSV exports). -#}
{% macro parse_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'cursor_analytics')(expr)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(expr) -%}
    {{ unsupported_adapter('parse_utc_timestamp') }}
{%- endmacro %}

{% macro duckdb__parse_utc_timestamp(expr) -%}
    cast(timezone('UTC', cast({{ expr }} as timestamptz)) as timestamp)
{%- endmacro %}

{% macro snowflake__parse_utc_timestamp(expr) -%}
    cast(convert_timezone('UTC', to_timestamp_tz({{ expr }})) as timestamp_ntz)
{%- endmacro %}
