{#- Continuous (interpolated) percentile aggregate of `expr` at fraction `p` (0..1); nulls ignored. -#}
{% macro percentile_cont(expr, p) -%}
    {{ return(adapter.dispatch('percentile_cont', 'cursor_analytics')(expr, p)) }}
{%- endmacro %}

{% macro default__percentile_cont(expr, p) -%}
    {{ unsupported_adapter('percentile_cont') }}
{%- endmacro %}

{% macro duckdb__percentile_cont(expr, p) -%}
    quantile_cont({{ expr }}, {{ p }})
{%- endmacro %}

{% macro snowflake__percentile_cont(expr, p) -%}
    percentile_cont({{ p }}) within group (order by {{ expr }})
{%- endmacro %}
