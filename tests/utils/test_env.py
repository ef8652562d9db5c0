"""The environment parsers of settings.py and the provider configs: errors name the variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from utils.env import EnvError, env_bool, env_choice, env_int, env_list, env_str


@pytest.mark.parametrize("value", ["1", "true", "Yes", " ON "])
def test_true_words_in_any_case_are_true(value):
    assert env_bool("FLAG", False, env={"FLAG": value}) is True


@pytest.mark.parametrize("value", ["0", "false", "off", "maybe"])
def test_any_other_word_is_false(value):
    assert env_bool("FLAG", True, env={"FLAG": value}) is False


@pytest.mark.parametrize("env", [{}, {"FLAG": ""}, {"FLAG": "   "}])
def test_an_unset_or_blank_variable_takes_the_default(env):
    assert env_bool("FLAG", True, env=env) is True
    assert env_int("FLAG", 7, env=env) == 7
    assert env_str("FLAG", "d", env=env) == "d"


def test_a_number_that_is_not_whole_is_refused_naming_the_variable():
    with pytest.raises(EnvError, match=r"^ORDER_PAY_TIMEOUT_MINUTES must be a whole number"):
        env_int("ORDER_PAY_TIMEOUT_MINUTES", 15, env={"ORDER_PAY_TIMEOUT_MINUTES": "15m"})


def test_an_env_error_stops_django_like_any_configuration_error():
    assert issubclass(EnvError, ImproperlyConfigured)


def test_lists_are_split_on_commas_and_stripped_without_empty_items():
    assert env_list("HOSTS", env={"HOSTS": " a.example , ,b.example,"}) == [
        "a.example",
        "b.example",
    ]
    assert env_list("HOSTS", "x,y", env={}) == ["x", "y"]


def test_text_is_stripped():
    assert env_str("SITE", env={"SITE": "  https://shop.example \n"}) == "https://shop.example"


def test_a_choice_is_one_of_the_allowed_words_in_any_case():
    assert (
        env_choice("LANGUAGE_CODE", "zh-hans", ["zh-hans", "en"], env={"LANGUAGE_CODE": " EN "})
        == "en"
    )
    assert env_choice("LANGUAGE_CODE", "zh-hans", ["zh-hans", "en"], env={}) == "zh-hans"


def test_a_choice_outside_the_allowed_words_is_refused_naming_the_variable_and_the_words():
    with pytest.raises(EnvError, match=r"^LANGUAGE_CODE must be one of zh-hans, en, got 'fr'"):
        env_choice("LANGUAGE_CODE", "zh-hans", ["zh-hans", "en"], env={"LANGUAGE_CODE": "fr"})
