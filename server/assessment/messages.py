"""What the assessment's services say about a configuration they refuse, each sentence under a
stable key: a :class:`~server.messages.Said`, English for the command line and the API, which the
web console says in Chinese (``setup.say.<key>`` in server/web/text.py)."""

from __future__ import annotations

from typing import Any, Mapping

from server.messages import Said

ENGLISH: Mapping[str, str] = {
    # tiers
    "tier_names_differ": "tier names must differ",
    "tier_without_minimum": "every tier but the last needs a minimum score",
    "minimums_not_falling": "minimum scores must fall from the best tier to the worst",
    "tier_without_quota": "every tier but the last needs a share between 0 and 1",
    "quotas_above_one": "the quotas add up to more than 1",
    "tiers_with_method": "required when tier_method changes",
    # groups with tiers of their own
    "groups_need_rank_by_group": "tiers per group need rank_by_group: true",
    "not_a_group": "not an assessment group of the campaign ({groups})",
    "no_groups": "not an assessment group of the campaign (none)",
    "group_twice": "listed twice",
    # rounds combined into an annual result
    "source_not_another_round": "not another round of this campaign",
    "source_twice": "listed twice",
    "source_combines_rounds": "combines rounds itself",
    "source_combined_elsewhere": "this round is combined into round {round} itself",
    # units left out of the ranking
    "excluded_not_in_round": "not a unit of this round",
    "excluded_twice": "listed twice",
}


def say(key: str, **values: Any) -> Said:
    return Said(key, ENGLISH[key], **values)
