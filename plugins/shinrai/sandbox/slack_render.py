"""Slack users and conversations as Web API JSON."""

from __future__ import annotations

from .model import Bot, Channel, Org, Person

SLACKBOT_ID = "USLACKBOT"


def channel_json(org: Org, c: Channel) -> dict:
    creator = org.people[c.creator].slack_id
    created = int(c.created)
    return {
        "id": c.id, "name": c.name, "is_channel": True, "is_group": False, "is_im": False, "is_mpim": False,
        "is_private": c.is_private, "created": created, "is_archived": c.archived, "is_general": False,
        "unlinked": 0, "name_normalized": c.name, "is_shared": False, "is_org_shared": False,
        "is_pending_ext_shared": False, "pending_shared": [], "context_team_id": org.team_id,
        "updated": created * 1000, "parent_conversation": None, "creator": creator, "is_ext_shared": False,
        "shared_team_ids": [org.team_id], "pending_connected_team_ids": [], "is_member": True,
        "topic": {"value": c.topic, "creator": creator, "last_set": created},
        "purpose": {"value": c.purpose, "creator": creator, "last_set": created},
        "previous_names": [], "num_members": 3 + c.index % 9,
    }


def person_json(org: Org, p: Person) -> dict:
    first, last = p.given, p.family
    return {
        "id": p.slack_id, "team_id": org.team_id, "name": p.handle, "deleted": p.left,
        "color": "9f69e7", "real_name": p.real_name, "tz": "Asia/Tokyo", "tz_label": "Japan Standard Time",
        "tz_offset": 32400,
        "profile": {
            "title": "", "phone": "", "skype": "", "real_name": p.real_name,
            "real_name_normalized": p.real_name, "display_name": p.display_name,
            "display_name_normalized": p.display_name, "fields": None, "status_text": "", "status_emoji": "",
            "status_expiration": 0, "avatar_hash": p.slack_id[1:9].lower(), "email": p.email,
            "first_name": first, "last_name": last, "image_48": "https://example.com/avatar_48.png",
            "team": org.team_id,
        },
        "is_admin": p.index == 0, "is_owner": p.index == 0, "is_primary_owner": p.index == 0,
        "is_restricted": False, "is_ultra_restricted": False, "is_bot": False, "is_app_user": False,
        "updated": int(org.anchor_t) - 86400 * (p.index % 30), "is_email_confirmed": True,
        "who_can_share_contact_card": "EVERYONE",
    }

def bot_json(org: Org, bot: Bot) -> dict:
    return {
        "id": bot.user_id, "team_id": org.team_id, "name": bot.name.lower().replace(" ", "_"),
        "deleted": False, "color": "4bbe2e", "real_name": bot.name, "tz": "America/Los_Angeles",
        "tz_label": "Pacific Standard Time", "tz_offset": -28800,
        "profile": {"real_name": bot.name, "real_name_normalized": bot.name, "display_name": "",
                    "display_name_normalized": "", "bot_id": bot.bot_id, "api_app_id": bot.app_id,
                    "always_active": True, "first_name": bot.name, "last_name": "", "team": org.team_id},
        "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": True, "is_app_user": False, "updated": int(org.anchor_t),
    }

def all_users(org: Org) -> list[dict]:
    slackbot = {
        "id": SLACKBOT_ID, "team_id": org.team_id, "name": "slackbot", "deleted": False, "color": "757575",
        "real_name": "Slackbot", "tz": "America/Los_Angeles", "tz_label": "Pacific Standard Time",
        "tz_offset": -28800,
        "profile": {"real_name": "Slackbot", "real_name_normalized": "Slackbot", "display_name": "Slackbot",
                    "display_name_normalized": "Slackbot", "first_name": "slackbot", "last_name": "",
                    "team": org.team_id},
        "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "updated": 0,
    }
    return ([person_json(org, p) for p in org.people]
            + [bot_json(org, org.incident_bot), bot_json(org, org.release_bot), slackbot])
