{#- 1 for true, 0 for false, null for null: sums of flags. Snowflake cannot CAST a BOOLEAN to a number. -#}
{% macro bool_to_int(expr) -%}
    {{ return(adapter.dispatch('bool_to_int', 'cursor_analytics')(expr)) }}
{%- endmacro %}

{% macro default__bool_to_int(expr) -%}
    {{ unsupported_adapter('bool_to_int') }}
{%- endmacro %}

{% macro duckdb__bool_to_int(expr) -%}
    cast({{ expr }} as integer)
{%- endmacro %}

{% macro snowflake__bool_to_int(expr) -%}
    iff({{ expr }}, 1, 0)
{%- endmacro %}
