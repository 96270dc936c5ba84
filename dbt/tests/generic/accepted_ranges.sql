{#- Each listed column's values lie within its [min_value, max_value] (either bound optional, both inclusive
    unless `inclusive: false`); nulls pass (list the column in not_null_columns where a value is required).
    One test per model for all its ranges; fails with one row per value outside, naming its column. -#}
{% test accepted_ranges(model, ranges) %}

{%- for range in ranges %}
{%- set column = range['column'] %}
{%- set inclusive = range.get('inclusive', true) %}
select '{{ column }}' as out_of_range_column
from {{ model }}
where {{ column }} is not null
  and (
    1 = 0
    {%- if range.get('min_value') is not none %}
    or {{ column }} {{ '<' if inclusive else '<=' }} {{ range['min_value'] }}
    {%- endif %}
    {%- if range.get('max_value') is not none %}
    or {{ column }} {{ '>' if inclusive else '>=' }} {{ range['max_value'] }}
    {%- endif %}
  )
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}

{% endtest %}
