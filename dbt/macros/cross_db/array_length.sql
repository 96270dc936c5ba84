{#- Number of elements of an array column; null when the array itself is null (callers decide the fallback). -#}
{% macro array_length(expr) -%}
    {{ return(adapter.dispatch('array_length', 'cursor_analytics')(expr)) }}
{%- endmacro %}

{% macro default__array_length(expr) -%}
    {{ unsupported_adapter('array_length') }}
{%- endmacro %}

{% macro duckdb__array_length(expr) -%}
    len({{ expr }})
{%- endmacro %}

{% macro snowflake__array_length(expr) -%}
    array_size({{ expr }})
{%- endmacro %}
