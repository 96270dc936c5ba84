{#- The default__ body of every cross-engine macro: dbt-duckdb has no parent adapter, so nothing may fall
    back silently to some other dialect. -#}
{% macro unsupported_adapter(macro_name) -%}
    {{ exceptions.raise_compiler_error(
        "Macro " ~ macro_name ~ " has no implementation for adapter '" ~ adapter.type()
        ~ "': add a " ~ adapter.type() ~ "__" ~ macro_name ~ " body in macros/cross_db/") }}
{%- endmacro %}
