-- One row per (week of merged_at, repo_name) over merged PRs: how much reviewing the merged work cost.
with

merged_prs as (

    select * from {{ ref('int_merged_pull_requests_banded') }}

),

aggregated as (

    select
        week,
        repo_name,
        count(*) as prs_merged,
        sum(review_count) as reviews,
        sum(changes_requested_count) as changes_requested_reviews,
        sum(pr_size) as total_pr_size,
        avg(cast(reviewer_count as double)) as avg_reviewer_count,
        avg(cast(review_iterations as double)) as avg_review_iterations,
        avg(pickup_time_hours) as avg_pickup_time_hours,
        {{ percentile_cont('pickup_time_hours', 0.5) }} as p50_pickup_time_hours,
        {{ percentile_cont('pickup_time_hours', 0.9) }} as p90_pickup_time_hours,
        avg(review_lead_time_hours) as avg_review_lead_time_hours

    from merged_prs
    group by 1, 2

),

final as (

    select
        cast(week as date) as week,
        cast(repo_name as varchar) as repo_name,
        cast(prs_merged as bigint) as prs_merged,
        cast(reviews as bigint) as reviews,
        {{ safe_divide('reviews', 'prs_merged') }} as reviews_per_pr,
        cast(avg_reviewer_count as double) as avg_reviewer_count,
        cast(avg_review_iterations as double) as avg_review_iterations,
        {{ safe_divide('changes_requested_reviews', 'reviews') }} as changes_requested_rate,
        {{ safe_divide('reviews', 'total_pr_size') }} * 100.0 as review_density,
        cast(avg_pickup_time_hours as double) as avg_pickup_time_hours,
        cast(p50_pickup_time_hours as double) as p50_pickup_time_hours,
        cast(p90_pickup_time_hours as double) as p90_pickup_time_hours,
        cast(avg_review_lead_time_hours as double) as avg_review_lead_time_hours

    from aggregated

)

select * from final
