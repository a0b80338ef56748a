"""The phone keypad's meaning at each point of a self-service flow (assistant/channels/keypad.py)."""

from assistant.channels.keypad import CONFIRM, PROMPTS, Answer, Entry, Keypad


def press_all(pad: Keypad, keys: str):
    return [r for r in (pad.press(k) for k in keys) if r is not None]


def test_zero_is_an_agent_outside_an_entry_and_a_digit_inside_one():
    pad = Keypad()
    assert pad.expect(None, sign_in=True) is None
    assert press_all(pad, "0") == ["agent"]
    assert pad.expect("code", sign_in=True) == PROMPTS["code"]
    assert press_all(pad, "1020#") == [Entry("code", "1020")]
    assert press_all(pad, "0") == ["agent"]  # the entry is over


def test_one_and_two_answer_a_read_back_once():
    pad = Keypad()
    assert pad.expect("confirm", sign_in=True) == CONFIRM
    assert press_all(pad, "1") == [Answer("yes")]
    assert press_all(pad, "1") == []  # answered: a second 1 means nothing
    pad.expect("confirm", sign_in=True)
    assert press_all(pad, "2") == [Answer("no")]
    pad.expect("slot", sign_in=True)
    assert press_all(pad, "12") == []


def test_sign_in_takes_the_number_then_the_pin_and_star_restarts_an_entry():
    pad = Keypad()
    assert pad.expect("identity", sign_in=True) == PROMPTS["number"]
    assert press_all(pad, "999*40012345#") == [Entry("number", "40012345")]
    assert pad.mode == "pin"  # the PIN follows at once, whatever the caller hears meanwhile
    assert press_all(pad, "2580#") == [Entry("pin", "2580")]
    assert pad.mode is None


def test_an_entry_ends_at_max_digits_and_an_empty_entry_is_ignored():
    pad = Keypad(max_digits=4)
    pad.expect("code", sign_in=True)
    assert press_all(pad, "#") == []
    assert press_all(pad, "12345") == [Entry("code", "1234")]


def test_no_sign_in_prompt_where_keypad_sign_in_is_off():
    pad = Keypad()
    assert pad.expect("identity", sign_in=False) is None
    assert press_all(pad, "0") == ["agent"]
