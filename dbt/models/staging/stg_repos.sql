-- One row per repository (repo_name = the upstream full_name, case-sensitive).
with

source as (

    select * from {{ source('cursor_sim', 'repos') }}

),

renamed as (

    select
        "full_name" as repo_name,
        "default_branch" as default_branch,
        "open_pull_requests_count" as open_pr_count,
        "total_pull_requests_count" as total_pr_count,
        "_load_id" as _load_id,
        {{ to_utc_timestamp('"_extracted_at"') }} as _extracted_at

    from source

)

select * from renamed
