-- array_length: null for a null array, 0 for an empty one, else the size; unnest_array: one row per element.
{%- if target.type == 'snowflake' %}
    {%- set two = "array_construct('a', 'b')" %}{%- set empty = "array_construct()" %}
{%- else %}
    {%- set two = "['a', 'b']" %}{%- set empty = "cast([] as varchar[])" %}
{%- endif %}
with arrays as (
    select 1 as k, {{ two }} as arr, 2 as expected
    union all select 2, {{ empty }}, 0
    union all select 3, null, null
),

lengths as (
    select k, {{ array_length('arr') }} as n, expected from arrays
),

unnested as (
    {{ unnest_array('arrays', 'k', 'arr', 'key', 'element') }}
),

element_counts as (
    select count(*) as n_rows, count(distinct element) as n_distinct from unnested
)

select cast(k as varchar) as problem from lengths
where not (n = expected or (n is null and expected is null))
union all
select 'unnest' from element_counts
where n_rows <> 2 or n_distinct <> 2
