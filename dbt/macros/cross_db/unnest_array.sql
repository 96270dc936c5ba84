{#- A `select` of one row per element of `array_column` in `relation`, carrying `key_column` as `key_alias`,
    with the element as text in `element_alias`. Rows whose array is null or empty produce nothing. -#}
{% macro unnest_array(relation, key_column, array_column, key_alias, element_alias) -%}
    {{ return(adapter.dispatch('unnest_array', 'cursor_analytics')(
        relation, key_column, array_column, key_alias, element_alias
    )) }}
{%- endmacro %}

{% macro default__unnest_array(relation, key_column, array_column, key_alias, element_alias) -%}
    {{ unsupported_adapter('unnest_array') }}
{%- endmacro %}

{% macro duckdb__unnest_array(relation, key_column, array_column, key_alias, element_alias) -%}
    select {{ key_column }} as {{ key_alias }}, cast(unnest({{ array_column }}) as varchar) as {{ element_alias }}
    from {{ relation }}
{%- endmacro %}

{% macro snowflake__unnest_array(relation, key_column, array_column, key_alias, element_alias) -%}
    select src.{{ key_column }} as {{ key_alias }}, cast(flattened.value as varchar) as {{ element_alias }}
    from {{ relation }} as src,
        lateral flatten(input => src.{{ array_column }}) as flattened
{%- endmacro %}
