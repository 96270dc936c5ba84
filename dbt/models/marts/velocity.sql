-- One row per (week, repo_name, developer_id) with at least one commit (week of committed_at) or one merged
-- PR (week of merged_at, attributed to the PR's author and repo) in that week.
with

commits as (

    select * from {{ ref('stg_commits') }}

),

merged_prs as (

    select * from {{ ref('int_merged_pull_requests_banded') }}

),

commit_emails as (

    select developer_id, max(nullif(developer_email, '')) as developer_email
    from commits
    group by developer_id

),

pr_emails as (

    select author_id as developer_id, max(nullif(author_email, '')) as developer_email
    from merged_prs
    group by author_id

),

commit_weeks as (

    select
        {{ iso_week_start('committed_at') }} as week,
        repo_name,
        developer_id,
        count(*) as commits,
        sum(lines_added) as lines_added,
        sum(ai_lines_added) as ai_lines_added

    from commits
    group by 1, 2, 3

),

pr_weeks as (

    select
        week,
        repo_name,
        author_id as developer_id,
        count(*) as prs_merged,
        avg(cast(pr_size as double)) as avg_pr_size,
        avg(coding_lead_time_hours) as avg_coding_lead_time_hours,
        avg(pickup_time_hours) as avg_pickup_time_hours,
        avg(review_lead_time_hours) as avg_review_lead_time_hours,
        avg(total_cycle_time_hours) as avg_total_cycle_time_hours,
        {{ percentile_cont('total_cycle_time_hours', 0.5) }} as p50_total_cycle_time_hours

    from merged_prs
    group by 1, 2, 3

),

grain as (

    select week, repo_name, developer_id from commit_weeks
    union
    select week, repo_name, developer_id from pr_weeks

),

final as (

    select
        cast(grain.week as date) as week,
        cast(grain.repo_name as varchar) as repo_name,
        cast(grain.developer_id as varchar) as developer_id,
        cast(coalesce(commit_emails.developer_email, pr_emails.developer_email) as varchar)
            as developer_email,
        cast(coalesce(commit_weeks.commits, 0) as bigint) as commits,
        cast(coalesce(commit_weeks.lines_added, 0) as bigint) as lines_added,
        cast(coalesce(commit_weeks.ai_lines_added, 0) as bigint) as ai_lines_added,
        {{ safe_divide('commit_weeks.ai_lines_added', 'commit_weeks.lines_added') }} as ai_ratio,
        cast(coalesce(pr_weeks.prs_merged, 0) as bigint) as prs_merged,
        cast(pr_weeks.avg_pr_size as double) as avg_pr_size,
        cast(pr_weeks.avg_coding_lead_time_hours as double) as avg_coding_lead_time_hours,
        cast(pr_weeks.avg_pickup_time_hours as double) as avg_pickup_time_hours,
        cast(pr_weeks.avg_review_lead_time_hours as double) as avg_review_lead_time_hours,
        cast(pr_weeks.avg_total_cycle_time_hours as double) as avg_total_cycle_time_hours,
        cast(pr_weeks.p50_total_cycle_time_hours as double) as p50_total_cycle_time_hours

    from grain
    left join commit_weeks
        on grain.week = commit_weeks.week
        and grain.repo_name = commit_weeks.repo_name
        and grain.developer_id = commit_weeks.developer_id
    left join pr_weeks
        on grain.week = pr_weeks.week
        and grain.repo_name = pr_weeks.repo_name
        and grain.developer_id = pr_weeks.developer_id
    left join commit_emails
        on grain.developer_id = commit_emails.developer_id
    left join pr_emails
        on grain.developer_id = pr_emails.developer_id

)

select * from final
