{#-
  The readable text of a Slack message's Block Kit blocks and legacy attachments, as Slack renders
  it, so that the configured patterns see what people see: incoming webhooks and deploy/alert bots
  often post with an empty `text` and everything in `attachments`, apps in `blocks`.
  Each part is one line group joined by a newline; markup (`*bold*`, `<@U1>`) is kept as sent.
-#}

{#- The text of one block (a JSON value): section/header text, section fields, context elements,
    rich_text (sections, lists, quotes, preformatted: inline runs joined as written). Interactive
    elements (buttons, menus), images, and the user/channel/emoji runs of rich text carry no words a
    pattern looks for and are left out. -#}
{% macro slack_block_text(block) -%}
    nullif(concat_ws(chr(10),
        nullif(json_extract_string({{ block }}, '$.text.text'), ''),
        nullif(array_to_string(json_extract_string({{ block }}, '$.fields[*].text'), chr(10)), ''),
        nullif(array_to_string(list_transform(
            coalesce(json_extract({{ block }}, '$.elements[*]'), []),
            lambda element: case
                when json_type(element, '$.text') = 'VARCHAR' then json_extract_string(element, '$.text')
                else nullif(rtrim(array_to_string(list_transform(
                    coalesce(json_extract(element, '$.elements[*]'), []),
                    lambda run: case
                        -- a rich_text_list item is itself a section of runs: one item a line
                        when json_type(run, '$.elements') = 'ARRAY'
                            then array_to_string(list_transform(json_extract(run, '$.elements[*]'),
                                lambda item_run: {{ slack_rich_run_text('item_run') }}), '') || chr(10)
                        else {{ slack_rich_run_text('run') }}
                    end), ''), chr(10)), '')
            end), chr(10)), '')
    ), '')
{%- endmacro %}

{#- A rich text run: its text (text, and a link's label), else a link's address. -#}
{% macro slack_rich_run_text(run) -%}
    case
        when json_type({{ run }}, '$.text') = 'VARCHAR' then json_extract_string({{ run }}, '$.text')
        when json_type({{ run }}, '$.url') = 'VARCHAR' then json_extract_string({{ run }}, '$.url')
    end
{%- endmacro %}

{#- The text of a list of blocks (JSON[]), one block per line group, blocks whose text equals
    `skip` (the message's own text, which Slack sets to the same words as a top-level block
    for notifications) left out so that the text is not counted twice. -#}
{% macro slack_blocks_text(blocks, skip='null') -%}
    nullif(array_to_string(list_filter(
        list_transform(coalesce({{ blocks }}, []), lambda block: {{ slack_block_text('block') }}),
        lambda part: part is not null and part is distinct from {{ skip }}), chr(10)), '')
{%- endmacro %}

{#- The text of a list of legacy attachments (structs of fallback, pretext, title, text, fields
    and blocks): per attachment its pretext, title, text, each field as `title: value`, and its
    blocks; the fallback (a plain-text summary of all that) only when the attachment has none of them. -#}
{% macro slack_attachments_text(attachments) -%}
    nullif(array_to_string(list_filter(list_transform(coalesce({{ attachments }}, []), lambda attachment: coalesce(
        nullif(concat_ws(chr(10),
            nullif(attachment.pretext, ''),
            nullif(attachment.title, ''),
            nullif(attachment.text, ''),
            nullif(array_to_string(list_transform(coalesce(attachment.fields, []),
                lambda field: nullif(concat_ws(': ', nullif(field.title, ''), nullif(field.value, '')), '')),
                chr(10)), ''),
            {{ slack_blocks_text('attachment.blocks') }}
        ), ''),
        nullif(attachment.fallback, '')
    )), lambda part: part is not null), chr(10)), '')
{%- endmacro %}
