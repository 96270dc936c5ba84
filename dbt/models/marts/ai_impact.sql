-- One row per (week of merged_at, repo_name, ai_usage_band) over merged PRs: delivery and quality by how
-- much of the PR was written with AI. The band comes from the ai_usage_bands seed (null when ai_ratio is).
with

merged_prs as (

    select * from {{ ref('int_merged_pull_requests_banded') }}

),

aggregated as (

    select
        week,
        repo_name,
        ai_usage_band,
        count(*) as prs_merged,
        avg(ai_ratio) as avg_ai_ratio,
        avg(cast(pr_size as double)) as avg_pr_size,
        avg(total_cycle_time_hours) as avg_total_cycle_time_hours,
        {{ percentile_cont('total_cycle_time_hours', 0.5) }} as p50_total_cycle_time_hours,
        avg(pickup_time_hours) as avg_pickup_time_hours,
        avg(cast(review_count as double)) as avg_reviews_per_pr,
        sum({{ bool_to_int('coalesce(is_reverted, false)') }}) as reverted_prs,
        sum({{ bool_to_int('coalesce(is_bug_fix, false)') }}) as bug_fix_prs

    from merged_prs
    group by 1, 2, 3

),

final as (

    select
        cast(week as date) as week,
        cast(repo_name as varchar) as repo_name,
        cast(ai_usage_band as varchar) as ai_usage_band,
        cast(prs_merged as bigint) as prs_merged,
        cast(avg_ai_ratio as double) as avg_ai_ratio,
        cast(avg_pr_size as double) as avg_pr_size,
        cast(avg_total_cycle_time_hours as double) as avg_total_cycle_time_hours,
        cast(p50_total_cycle_time_hours as double) as p50_total_cycle_time_hours,
        cast(avg_pickup_time_hours as double) as avg_pickup_time_hours,
        cast(avg_reviews_per_pr as double) as avg_reviews_per_pr,
        {{ safe_divide('reverted_prs', 'prs_merged') }} as revert_rate,
        {{ safe_divide('bug_fix_prs', 'prs_merged') }} as bug_fix_rate

    from aggregated

)

select * from final
