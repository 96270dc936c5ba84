-- percentile_cont: continuous percentiles interpolate between values and ignore nulls.
with vals as (
    select cast(0.0 as double) as x
    union all select cast(10.0 as double)
    union all select cast(null as double)
),

agg as (
    select
        {{ percentile_cont('x', 0.5) }} as p50,
        {{ percentile_cont('x', 0.9) }} as p90
    from vals
)

select * from agg
where abs(p50 - 5.0) > 1e-12 or abs(p90 - 9.0) > 1e-12 or p50 is null or p90 is null
