-- parse_utc_timestamp: RFC 3339 text with 0-9 fraction digits and any offset, to UTC (microseconds);
-- to_utc_timestamp: a nanosecond raw timestamp truncated (never rounded) to microseconds.
-- Compared at microsecond resolution through hours_between, so the test reads the same on both engines.
{%- set ns_type = 'timestamp_ntz(9)' if target.type == 'snowflake' else 'timestamp_ns' %}
with texts as (
    select '2027-01-03T23:59:59Z' as s, cast('2027-01-03 23:59:59' as timestamp) as expected
    union all select '2027-01-03T23:59:59.5Z', cast('2027-01-03 23:59:59.5' as timestamp)
    union all select '2027-01-03T23:59:59.12345Z', cast('2027-01-03 23:59:59.12345' as timestamp)
    union all select '2027-01-03T23:59:59.123456Z', cast('2027-01-03 23:59:59.123456' as timestamp)
    union all select '2027-01-03T23:59:59.1234567Z', cast('2027-01-03 23:59:59.123456' as timestamp)
    union all select '2027-01-03T23:59:59.999999999Z', cast('2027-01-03 23:59:59.999999' as timestamp)
    union all select '2027-01-03T19:00:00.25-05:00', cast('2027-01-04 00:00:00.25' as timestamp)
    union all select '2027-07-01T02:00:00+02:00', cast('2027-07-01 00:00:00' as timestamp)
),

raw_ns as (
    select
        cast('2027-01-03 23:59:59.999999999' as {{ ns_type }}) as ts,
        cast('2027-01-03 23:59:59.999999' as timestamp) as expected
    union all select cast('2027-01-04 00:00:00' as {{ ns_type }}), cast('2027-01-04 00:00:00' as timestamp)
)

select 'parse' as kind, s as input from texts
where
    {{ hours_between('expected', parse_utc_timestamp('s')) }} <> 0
    or {{ parse_utc_timestamp('s') }} is null
union all
select 'raw', cast(expected as varchar) from raw_ns
where
    {{ hours_between('expected', to_utc_timestamp('ts')) }} <> 0
    or cast({{ to_utc_timestamp('ts') }} as date) <> cast(expected as date)
