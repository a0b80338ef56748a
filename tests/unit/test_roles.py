import pytest

from assistant.auth.roles import Role, UnknownRole, allows, format_roles, parse_roles


def test_parse_and_format_round_trip():
    roles = parse_roles("qa_reviewer, agent")
    assert roles == {Role.AGENT, Role.QA_REVIEWER}
    assert format_roles(roles) == "agent,qa_reviewer"
    assert parse_roles(["kb_editor"]) == {Role.KB_EDITOR}


@pytest.mark.parametrize("bad", ["", " , ", "root", "agent,boss"])
def test_unknown_or_empty_roles_are_refused_by_name(bad):
    with pytest.raises(UnknownRole) as err:
        parse_roles(bad)
    assert "role" in str(err.value)


def test_admin_holds_every_permission_others_only_theirs():
    assert allows(frozenset({Role.ADMIN}), [Role.KB_APPROVER])
    assert allows(frozenset({Role.KB_EDITOR, Role.AGENT}), [Role.AGENT])
    assert not allows(frozenset({Role.KB_EDITOR}), [Role.KB_APPROVER, Role.SUPERVISOR])
