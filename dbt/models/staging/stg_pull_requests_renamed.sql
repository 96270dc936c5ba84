-- One row per PR (pr_id): source columns renamed and typed; `reviewers` reduced to its length, `commit_ids`
-- kept as the array it is (int_pull_request_commits_unnested unnests it). No joins here: the fields derived
-- from commits and reviews are added in the intermediate stg_pull_requests (the contract's name).
with

source as (

    select * from {{ source('cursor_sim', 'pull_requests') }}

),

renamed as (

    select
        "id" as pr_id,
        "number" as pr_number,
        "repo_name" as repo_name,
        "title" as title,
        lower("state") as state,
        "author_id" as author_id,
        "author_email" as author_email,
        "author_name" as author_name,
        "base_branch" as base_branch,
        "head_branch" as head_branch,
        "additions" as additions,
        "deletions" as deletions,
        "changed_files" as changed_files,
        "commit_count" as commit_count,
        "commit_ids" as commit_ids,
        "ai_ratio" as ai_ratio,
        "tab_lines" as tab_lines,
        "composer_lines" as composer_lines,
        {{ array_length('"reviewers"') }} as listed_reviewer_count,
        "was_reverted" as is_reverted,
        "is_bug_fix" as is_bug_fix,
        {{ to_utc_timestamp('"created_at"') }} as created_at,
        {{ to_utc_timestamp('"updated_at"') }} as updated_at,
        {{ to_utc_timestamp('"merged_at"') }} as merged_at,
        {{ to_utc_timestamp('"closed_at"') }} as closed_at,
        "_load_id" as _load_id,
        {{ to_utc_timestamp('"_extracted_at"') }} as _extracted_at

    from source

)

select * from renamed
