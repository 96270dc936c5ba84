-- One row per commit (commit_hash), renamed from the upstream's camelCase.
with

source as (

    select * from {{ source('cursor_sim', 'commits') }}

),

renamed as (

    select
        "commitHash" as commit_hash,
        "userId" as developer_id,
        "userEmail" as developer_email,
        "userName" as developer_name,
        "repoName" as repo_name,
        "branchName" as branch_name,
        "isPrimaryBranch" as is_primary_branch,
        "totalLinesAdded" as lines_added,
        "totalLinesDeleted" as lines_deleted,
        "tabLinesAdded" as tab_lines_added,
        "tabLinesDeleted" as tab_lines_deleted,
        "composerLinesAdded" as composer_lines_added,
        "composerLinesDeleted" as composer_lines_deleted,
        "nonAiLinesAdded" as non_ai_lines_added,
        "nonAiLinesDeleted" as non_ai_lines_deleted,
        coalesce("tabLinesAdded", 0) + coalesce("composerLinesAdded", 0) as ai_lines_added,
        {{ safe_divide('coalesce("tabLinesAdded", 0) + coalesce("composerLinesAdded", 0)', '"totalLinesAdded"') }}
            as ai_ratio,
        "message" as message,
        {{ to_utc_timestamp('"commitTs"') }} as committed_at,
        {{ to_utc_timestamp('"createdAt"') }} as created_at,
        "_load_id" as _load_id,
        {{ to_utc_timestamp('"_extracted_at"') }} as _extracted_at

    from source

)

select * from renamed
