-- One row per (pr_id, commit_hash): the PR's `commit_ids` array unnested. The join from PRs to commits.
with

pull_requests as (

    select * from {{ ref('stg_pull_requests_renamed') }}

),

unnested as (

    {{ unnest_array('pull_requests', 'pr_id', 'commit_ids', 'pr_id', 'commit_hash') }}

),

deduplicated as (

    select distinct
        pr_id,
        commit_hash

    from unnested

)

select * from deduplicated
