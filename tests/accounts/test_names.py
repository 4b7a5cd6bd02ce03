"""People are shown by name the way their language writes it."""

from tests.factories import make_user


def test_a_chinese_name_reads_surname_first_without_a_space(db):
    user = make_user(first_name="坤", last_name="周")
    assert str(user) == "周坤"


def test_a_latin_name_reads_given_name_first(db):
    user = make_user(first_name="Anna", last_name="Smith")
    assert str(user) == "Anna Smith"
