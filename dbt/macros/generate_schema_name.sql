{#- Schemas are exactly the configured names (`staging`, `mart`) on every engine and target: dbt's default
    would prefix them with the target schema (`staging_mart`). A node without a custom schema lands in the
    target schema. DBT_SCHEMA_SUFFIX (set by the dbt-runner on Snowflake) builds a whole schema set beside
    the live one (`mart__load_<id>`), which is swapped in only when the build passed. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set suffix = env_var('DBT_SCHEMA_SUFFIX', '') | trim -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}{{ suffix }}
    {%- else -%}
        {{ custom_schema_name | trim }}{{ suffix }}
    {%- endif -%}
{%- endmacro %}
