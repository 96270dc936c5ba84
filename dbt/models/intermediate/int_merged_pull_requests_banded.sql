-- One row per merged PR (pr_id): state = 'merged' and merged_at not null, with the ISO week (Monday) of
-- merged_at and the AI usage band of its ai_ratio from the ai_usage_bands seed. Every PR-based mart reads this.
with

pull_requests as (

    select * from {{ ref('stg_pull_requests') }}

),

bands as (

    select * from {{ ref('ai_usage_bands') }}

),

merged as (

    select * from pull_requests
    where state = 'merged' and merged_at is not null

),

banded as (

    select
        merged.*,
        {{ iso_week_start('merged.merged_at') }} as week,
        bands.ai_usage_band

    from merged
    left join bands
        on (bands.lower_bound is null or merged.ai_ratio >= bands.lower_bound)
        and (bands.upper_bound is null or merged.ai_ratio < bands.upper_bound)

)

select * from banded
