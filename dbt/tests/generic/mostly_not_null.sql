{#- Fails, with every null row, when more than `max_null_share` (0..1) of the rows have a null `column_name`;
    passes on an empty model. Scope it with the `where` config (e.g. merged_at over `state = 'merged'`). For
    an optional field that may be null on some rows but not on most: a field the upstream dropped or renamed
    arrives all null. -#}
{% test mostly_not_null(model, column_name, max_null_share=0.5) %}

with

scoped as (

    select * from {{ model }}

),

shares as (

    select count(*) as total_rows, count({{ column_name }}) as filled_rows
    from scoped

)

select scoped.*
from scoped
cross join shares
where scoped.{{ column_name }} is null
  and shares.total_rows - shares.filled_rows > {{ max_null_share }} * shares.total_rows

{% endtest %}
