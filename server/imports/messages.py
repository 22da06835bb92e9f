"""What the import engine says about a file, each sentence under a stable key: a
:class:`~server.messages.Said`, English for the command line and the API, which the web console
says in Chinese (``setup.say.<key>`` in server/web/text.py).
"""

from __future__ import annotations

from typing import Any, Mapping

from server.messages import Said

ENGLISH: Mapping[str, str] = {
    # a cell
    "too_long": "longer than {limit} characters",
    "not_one_of": "{raw!r} is not one of: {options}",
    "not_a_phone": "{raw!r} does not look like a phone number",
    "not_an_email": "{raw!r} is not an e-mail address",
    "not_a_number": "{raw!r} is not a number",
    "too_many_decimals": "{raw!r} is not a number with at most two decimals",
    "out_of_range": "{raw} is out of range ({minimum}–{maximum})",
    "has_spaces": "{raw!r} contains spaces",
    "empty": "must not be empty",
    "duplicate": "duplicate {column} {value!r}: lines {first} and {line}",
    "stray_cell": "a value in a column without a header (in CSV, put cells containing commas in quotes)",
    # a zone's outline
    "bad_json": "not valid JSON: {reason} at character {position}",
    "not_a_polygon": "must be a GeoJSON Polygon or MultiPolygon, not {found}",
    "malformed_coordinates": "malformed {shape} coordinates ({reason})",
    "no_coordinates": "the {shape} has no coordinates",
    "coordinates_out_of_range": "coordinates out of range: give longitude first, then latitude, in degrees (WGS-84)",
    "invalid_polygon": "not a valid polygon: {reason}",
    "not_a_coordinate": "{name} is not a coordinate",
    # the file as a whole
    "xls": "old .xls workbooks are not supported; save it as .xlsx or as CSV UTF-8",
    "unsupported_type": "unsupported file type {suffix!r}; use .csv (UTF-8) or .xlsx",
    "no_header": "line 1 must be the header row with the column names",
    "not_utf8": "line {line} is not UTF-8 text; in Excel use 'Save as' → 'CSV UTF-8 (comma delimited)'",
    "bad_csv": "line {line}: {reason}",
    "unreadable_xlsx": "not a readable .xlsx workbook ({reason})",
    "no_worksheet": "the workbook has no worksheet",
    "unknown_column": "unknown column",
    "column_twice": "the {column} column is already given as {spelled!r}",
    "missing_column": "required column is missing; name it {names}",
    "known_columns": "the columns this file may have are: {columns}",
    "database_refused": "the database refused the import ({detail}); nothing was imported, try again",
    # rows typed in through the API
    "unknown_field": "unknown field",
    "required_field": "required in every row",
    # what a row refers to
    "unknown_unit": "no unit with code {code!r} in campaign {campaign}",
    "unknown_unit_named": "no unit with code {code!r} in campaign {campaign} ({code} is the name of unit {unit}; "
                          "give its code)",
    "unknown_unit_text": "no unit named or coded {unit!r} in campaign {campaign}",
    "same_unit": "the same unit as line {line} ({unit})",
    "same_unit_line": "the same unit as line {line}",
    # units
    "own_parent": "a unit cannot be its own parent",
    "unknown_parent": "no unit with code {code!r} in this file or in campaign {campaign}",
    "parent_loop": "parent units go round in a loop: {loop}",
    "name_taken": "already the name of unit {code}",
    "contact_without_name": "given without the liaison's name (liaison_name)",
    # standards
    "section_points_differ": "line {line} gives {section} {points} points",
    "deduction_above_item": "more than the item's {maximum} points",
    "no_items": "the file has no items",
    # teams and assignments
    "ambiguous_person": "{count} people are named {name}; give the username",
    "unknown_person": "no inspector or supervisor {name!r} in this campaign",
    "unknown_team": "no team {team!r} in round {round} (its teams: {teams})",
    "no_teams_yet": "no team {team!r} in round {round} (its teams: none yet; import the teams first)",
    # users (what a supervisor's file may not do: server.auth.scope.manages_account)
    "account_not_managed": "is taken by an account you do not manage",
    "staff_role": "{role}: only an admin creates staff accounts",
    # score sheets
    "not_in_round": "{unit} is not assigned to a team of round {round}",
    "above_full_score": "{score} is more than the full score {full}",
    "adjusted_out_of_range": "takes the score to {score}, outside 0–{full}",
    "adjustment_without_reason": "an adjustment needs its reason (综合评议意见)",
    "unknown_tier": "{tier!r} is not one of the round's tiers: {tiers}",
    "nothing_given": "give a score (得分), a tier (等次) or why it is not ranked (暂不排序原因)",
    # notes on an import that went through
    "note.new_group": "new assessment group {name}",
    "note.draft_replaced": "draft version {version} of standard {code} replaced",
    "note.new_version": "standard {code} version {version} (draft)",
    "note.results_removed": "results of {count} unit(s) not in this sheet removed",
    "note.passwords_kept": "passwords of {count} existing account(s) left unchanged: an import never changes "
                           "a password",
    "note.passwords_would_be_generated": "{count} new account(s) would get a generated password",
}


def say(key: str, **values: Any) -> Said:
    return Said(key, ENGLISH[key], **values)
