{#- Float division that yields null, never an error, when the denominator is 0 or null. Integer operands are
    cast first: Snowflake's `/` on integers gives a NUMBER with a fixed scale, DuckDB's gives a DOUBLE. -#}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'cursor_analytics')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_divide(numerator, denominator) -%}
    {{ unsupported_adapter('safe_divide') }}
{%- endmacro %}

{% macro duckdb__safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{% macro snowflake__safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
