{#- Schemas are exactly the configured names (`staging`, `mart`) on every engine and target: dbt's default
    would prefix them with the target schema (`staging_mart`). A node without a custom schema lands in the
    target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
