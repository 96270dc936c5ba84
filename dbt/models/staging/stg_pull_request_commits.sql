-- One row per (pr_id, commit_hash): the PR's `commit_ids` array unnested. The join from PRs to commits.
with

source as (

    select * from {{ source('cursor_sim', 'pull_requests') }}

),

unnested as (

    {{ unnest_array('source', '"id"', '"commit_ids"', 'pr_id', 'commit_hash') }}

),

renamed as (

    select distinct
        pr_id,
        commit_hash

    from unnested

)

select * from renamed
