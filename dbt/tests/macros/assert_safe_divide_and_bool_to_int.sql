-- safe_divide: float division of integers, null on a zero or null denominator;
-- bool_to_int: 1 / 0 / null.
with cases as (
    select 7 as n, 2 as d, cast(3.5 as double) as expected
    union all select 1, 3, cast(1.0 as double) / cast(3.0 as double)
    union all select 1, 0, null
    union all select 1, null, null
    union all select 0, 5, cast(0.0 as double)
),

flags as (
    select true as b, 1 as expected
    union all select false, 0
    union all select cast(null as boolean), null
)

select 'divide' as kind, cast(n as varchar) as input from cases
where
    not (
        abs({{ safe_divide('n', 'd') }} - expected) < 1e-15
        or ({{ safe_divide('n', 'd') }} is null and expected is null)
    )
union all
select 'bool', cast(expected as varchar) from flags
where not ({{ bool_to_int('b') }} = expected or ({{ bool_to_int('b') }} is null and expected is null))
union all
select 'bool_sum', 'sum' from flags
having sum({{ bool_to_int('b') }}) <> 1
