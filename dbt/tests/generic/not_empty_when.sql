{#- Fails, with one row of both counts, when the model is empty while `upstream` (optionally only the rows
    matching `upstream_where`) is not: a model that lost all its rows to a filter or a join although its
    input was there (e.g. every mart built from merged PRs empty while PRs in state `merged` exist). -#}
{% test not_empty_when(model, upstream, upstream_where=none) %}

with

model_rows as (

    select count(*) as row_count from {{ model }}

),

upstream_rows as (

    select count(*) as row_count
    from {{ upstream }}
    {%- if upstream_where is not none %}
    where {{ upstream_where }}
    {%- endif %}

)

select
    model_rows.row_count as model_rows,
    upstream_rows.row_count as upstream_rows
from model_rows
cross join upstream_rows
where model_rows.row_count = 0
  and upstream_rows.row_count > 0

{% endtest %}
