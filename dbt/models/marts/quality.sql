-- One row per (week of merged_at, repo_name) over merged PRs: reverts, bug fixes and unreviewed merges.
with

merged_prs as (

    select * from {{ ref('int_merged_pull_requests_banded') }}

),

aggregated as (

    select
        week,
        repo_name,
        count(*) as prs_merged,
        sum({{ bool_to_int('coalesce(is_reverted, false)') }}) as reverted_prs,
        sum({{ bool_to_int('coalesce(is_bug_fix, false)') }}) as bug_fix_prs,
        sum({{ bool_to_int('review_count = 0') }}) as unreviewed_prs

    from merged_prs
    group by 1, 2

),

final as (

    select
        cast(week as date) as week,
        cast(repo_name as varchar) as repo_name,
        cast(prs_merged as bigint) as prs_merged,
        cast(reverted_prs as bigint) as reverted_prs,
        {{ safe_divide('reverted_prs', 'prs_merged') }} as revert_rate,
        cast(bug_fix_prs as bigint) as bug_fix_prs,
        {{ safe_divide('bug_fix_prs', 'prs_merged') }} as bug_fix_rate,
        cast(unreviewed_prs as bigint) as unreviewed_prs,
        {{ safe_divide('unreviewed_prs', 'prs_merged') }} as unreviewed_rate

    from aggregated

)

select * from final
