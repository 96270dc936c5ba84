-- One row per review (review_id); state lower-cased, comments reduced to a count.
with

source as (

    select * from {{ source('cursor_sim', 'reviews') }}

),

renamed as (

    select
        "id" as review_id,
        "pr_id" as pr_id,
        "reviewer" as reviewer_email,
        lower("state") as state,
        lower("state") = 'approved' as is_approval,
        {{ to_utc_timestamp('"submitted_at"') }} as submitted_at,
        coalesce({{ array_length('"comments"') }}, 0) as comment_count,
        "body" as body,
        "_load_id" as _load_id,
        {{ to_utc_timestamp('"_extracted_at"') }} as _extracted_at

    from source

)

select * from renamed
