-- iso_week_start: the Monday of the ISO week, for timestamps and dates, across Sunday/Monday and year ends.
with cases as (
    select cast('2027-01-03 23:59:59.999999' as timestamp) as ts, cast('2026-12-28' as date) as expected
    union all select cast('2027-01-04 00:00:00' as timestamp), cast('2027-01-04' as date)
    union all select cast('2027-01-01 12:00:00' as timestamp), cast('2026-12-28' as date)
    union all select cast('2024-12-31 08:00:00' as timestamp), cast('2024-12-30' as date)
    union all select cast('2026-03-11 00:00:00' as timestamp), cast('2026-03-09' as date)
),

dates as (
    select cast('2026-12-27' as date) as d, cast('2026-12-21' as date) as expected
    union all select cast('2026-12-28' as date), cast('2026-12-28' as date)
)

select 'timestamp' as kind, cast(ts as varchar) as input from cases
where {{ iso_week_start('ts') }} <> expected or {{ iso_week_start('ts') }} is null
union all
select 'date', cast(d as varchar) from dates
where {{ iso_week_start('d') }} <> expected
