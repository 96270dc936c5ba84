{#- Exact elapsed hours from `start_expr` to `end_expr` (fractional; negative when end is earlier; null when
    either is null). Not DATEDIFF('hour'), which counts hour boundaries. -#}
{% macro hours_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('hours_between', 'cursor_analytics')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__hours_between(start_expr, end_expr) -%}
    {{ unsupported_adapter('hours_between') }}
{%- endmacro %}

{% macro duckdb__hours_between(start_expr, end_expr) -%}
    (cast(date_diff('microsecond', {{ start_expr }}, {{ end_expr }}) as double) / 3600000000.0)
{%- endmacro %}

{% macro snowflake__hours_between(start_expr, end_expr) -%}
    (cast(timestampdiff(microsecond, {{ start_expr }}, {{ end_expr }}) as double) / 3600000000.0)
{%- endmacro %}
