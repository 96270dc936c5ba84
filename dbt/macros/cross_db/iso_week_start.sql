{#- The Monday (a date) that starts the ISO week of a UTC timestamp or date. On Snowflake this is computed
    from DAYOFWEEKISO, which ignores the WEEK_START session parameter (DATE_TRUNC('week') does not). -#}
{% macro iso_week_start(expr) -%}
    {{ return(adapter.dispatch('iso_week_start', 'cursor_analytics')(expr)) }}
{%- endmacro %}

{% macro default__iso_week_start(expr) -%}
    {{ unsupported_adapter('iso_week_start') }}
{%- endmacro %}

{% macro duckdb__iso_week_start(expr) -%}
    cast(date_trunc('week', cast({{ expr }} as date)) as date)
{%- endmacro %}

{% macro snowflake__iso_week_start(expr) -%}
    dateadd(day, 1 - dayofweekiso(cast({{ expr }} as date)), cast({{ expr }} as date))
{%- endmacro %}
