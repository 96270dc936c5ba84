-- hours_between: exact fractional hours (not hour boundaries), signed, null-propagating.
with cases as (
    select
        cast('2027-01-01 00:59:00' as timestamp) as a, cast('2027-01-01 01:01:00' as timestamp) as b,
        cast(2.0 / 60.0 as double) as expected
    union all select cast('2027-01-01 01:30:00' as timestamp), cast('2027-01-01 00:00:00' as timestamp), -1.5
    union all select
        cast('2027-01-01 00:00:00' as timestamp), cast('2027-01-01 00:00:00.25' as timestamp),
        cast(0.25 / 3600.0 as double)
    union all select cast('2026-12-31 23:00:00' as timestamp), cast('2027-01-02 01:00:00' as timestamp), 26.0
)

select a, b, expected from cases
where
    abs({{ hours_between('a', 'b') }} - expected) > 1e-12
    or {{ hours_between('a', 'b') }} is null
union all
select cast(null as timestamp), cast(null as timestamp), null
from cases
where {{ hours_between('cast(null as timestamp)', 'b') }} is not null
