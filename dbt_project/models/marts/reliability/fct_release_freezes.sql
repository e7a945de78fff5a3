-- One row per release-freeze window, paired from the release channel's workflow posts: a freeze
-- post opens a window for (product, incident). A resume closes the open window of the same product
-- and incident; a resume that names no incident closes every open window of its product (teams
-- often post "resumed" with the product only: pairing on both would leave those freezes open for
-- ever). A freeze that names no incident is closed only by a resume naming none. A repeated freeze
-- post while already frozen is folded into the open window; a resume with no open window is
-- ignored. Open windows run to the as-of date. (DECISIONLOG: freeze pairing.)
with

posts as (

    select * from {{ ref('int_slack_messages_classified') }}
    where channel_kind = 'release' and message_kind in ('release_freeze', 'release_resume')

),

product_aliases as (

    select * from {{ ref('int_product_aliases_unioned') }}

),

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

events as (

    select
        posts.message_id,
        posts.message_kind,
        posts.posted_at,
        posts.product_label,
        coalesce(product_aliases.product_code, 'unknown') as product_code,
        coalesce(posts.mentioned_incident_key, '') as pairing_incident_key,
        posts.mentioned_incident_key as incident_key
    from posts
    left join product_aliases
        on lower(trim(posts.product_label)) = product_aliases.product_alias

),

freeze_keys as (

    -- every (product, incident) a freeze was posted for: one pairing stream each
    select distinct product_code, pairing_incident_key from events
    where message_kind = 'release_freeze'

),

streams as (

    -- a stream's posts: its freezes, the resumes naming its incident, and its product's resumes
    -- that name no incident
    select
        freeze_keys.pairing_incident_key as stream_key,
        events.*
    from freeze_keys
    inner join events
        on freeze_keys.product_code = events.product_code
        and (
            events.pairing_incident_key = freeze_keys.pairing_incident_key
            or (events.message_kind = 'release_resume' and events.pairing_incident_key = '')
        )

),

sequenced as (

    select
        *,
        lag(message_kind) over (
            partition by product_code, stream_key order by posted_at, message_id
        ) as previous_kind
    from streams

),

freeze_starts as (

    -- a freeze opens a window unless the previous post of its stream was also a freeze
    select * from sequenced
    where message_kind = 'release_freeze'
        and (previous_kind is null or previous_kind = 'release_resume')

),

resumes as (

    select * from streams
    where message_kind = 'release_resume'

),

paired as (

    select
        freeze_starts.message_id as release_freeze_id,
        freeze_starts.product_code,
        freeze_starts.product_label,
        freeze_starts.incident_key,
        freeze_starts.stream_key,
        freeze_starts.posted_at as frozen_at,
        resumes.message_id as resume_message_id,
        resumes.posted_at as resumed_at
    from freeze_starts
    asof left join resumes
        on freeze_starts.product_code = resumes.product_code
        and freeze_starts.stream_key = resumes.stream_key
        and freeze_starts.posted_at <= resumes.posted_at

),

reposts as (

    select
        paired.release_freeze_id,
        count(streams.message_id) as repeated_freeze_post_count
    from paired
    inner join streams
        on paired.product_code = streams.product_code
        and paired.stream_key = streams.stream_key
        and streams.message_kind = 'release_freeze'
        and streams.posted_at > paired.frozen_at
        and (paired.resumed_at is null or streams.posted_at < paired.resumed_at)
    group by paired.release_freeze_id

),

final as (

    select
        paired.release_freeze_id,
        paired.product_code,
        paired.product_label,
        paired.incident_key,
        incidents.incident_id,
        incidents.severity as incident_severity,
        paired.frozen_at,
        paired.resumed_at,
        paired.resume_message_id,
        {{ local_month('paired.frozen_at') }} as frozen_month,
        paired.resumed_at is null as is_open,
        date_diff('second', paired.frozen_at, paired.resumed_at) / 60.0 as freeze_minutes,
        date_diff('second', paired.frozen_at,
            coalesce(paired.resumed_at, greatest(paired.frozen_at, {{ as_of_end_at() }}))) / 60.0
            as freeze_minutes_to_date,
        coalesce(reposts.repeated_freeze_post_count, 0) as repeated_freeze_post_count
    from paired
    left join incidents
        on paired.incident_key = incidents.incident_key
    left join reposts
        on paired.release_freeze_id = reposts.release_freeze_id

)

select * from final
