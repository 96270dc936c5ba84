{#- Every listed column of the model is never null: one test (one query, one dbt node) per model instead of
    one not_null per column, which costs the same checks at a fraction of dbt's per-node overhead. Fails
    with one row per null cell, naming its column, so `failures` is the sum the per-column tests gave. -#}
{% test not_null_columns(model, columns) %}

{%- for column in columns %}
select '{{ column }}' as null_column
from {{ model }}
where {{ column }} is null
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}

{% endtest %}
