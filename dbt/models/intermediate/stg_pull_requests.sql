-- One row per PR (pr_id), with the fields the upstream never sends derived from its commits and reviews:
-- first commit / first review, lead and cycle times in exact fractional hours, reviewer and review counts.
-- An intermediate model (it joins and aggregates) under the staging name the data contract gives it.
with

pull_requests as (

    select * from {{ ref('stg_pull_requests_renamed') }}

),

pull_request_commits as (

    select * from {{ ref('int_pull_request_commits_unnested') }}

),

commits as (

    select * from {{ ref('stg_commits') }}

),

reviews as (

    select * from {{ ref('stg_reviews') }}

),

first_commits as (

    select
        pull_request_commits.pr_id,
        min(commits.committed_at) as first_commit_at

    from pull_request_commits
    inner join commits
        on pull_request_commits.commit_hash = commits.commit_hash
    group by pull_request_commits.pr_id

),

review_stats as (

    select
        pr_id,
        min(submitted_at) as first_review_at,
        count(*) as review_count,
        count(distinct reviewer_email) as distinct_reviewer_count,
        sum(case when state = 'changes_requested' then 1 else 0 end) as changes_requested_count

    from reviews
    group by pr_id

),

joined as (

    select
        pull_requests.*,
        first_commits.first_commit_at,
        review_stats.first_review_at,
        coalesce(review_stats.review_count, 0) as review_count,
        coalesce(review_stats.changes_requested_count, 0) as changes_requested_count,
        coalesce(review_stats.distinct_reviewer_count, 0) as distinct_reviewer_count

    from pull_requests
    left join first_commits
        on pull_requests.pr_id = first_commits.pr_id
    left join review_stats
        on pull_requests.pr_id = review_stats.pr_id

),

final as (

    select
        pr_id,
        pr_number,
        repo_name,
        title,
        state,
        author_id,
        author_email,
        author_name,
        base_branch,
        head_branch,
        additions,
        deletions,
        additions + deletions as pr_size,
        changed_files,
        commit_count,
        ai_ratio,
        tab_lines,
        composer_lines,
        created_at,
        updated_at,
        merged_at,
        closed_at,
        is_reverted,
        is_bug_fix,
        state = 'merged' and merged_at is not null as is_merged,
        first_commit_at,
        first_review_at,
        {{ hours_between('first_commit_at', 'created_at') }} as coding_lead_time_hours,
        {{ hours_between('created_at', 'first_review_at') }} as pickup_time_hours,
        case
            when state = 'merged' and merged_at is not null
                then {{ hours_between('first_review_at', 'merged_at') }}
        end as review_lead_time_hours,
        case
            when state = 'merged' and merged_at is not null
                then {{ hours_between('created_at', 'merged_at') }}
        end as total_cycle_time_hours,
        cast(coalesce(listed_reviewer_count, distinct_reviewer_count) as bigint) as reviewer_count,
        cast(review_count as bigint) as review_count,
        cast(changes_requested_count as bigint) as changes_requested_count,
        cast(
            case when review_count > 0 then 1 + changes_requested_count else 0 end as bigint
        ) as review_iterations,
        _load_id,
        _extracted_at

    from joined

)

select * from final
