"""The report's small texts: a change carries the unit of its value, counted nouns agree with their
number in each language, an overspent error budget says so (and says when n is too small to judge),
and table labels only wrap between words. Pure functions: no publication needed."""

from __future__ import annotations

import pytest

from shinrai.publish.i18n import Count, Labeler
from shinrai.publish.report import words
from shinrai.publish.report_data import SMALL_SAMPLE, budget_text, delta, fmt_value


@pytest.mark.parametrize(("change", "text", "tone"), [
    (11, "+11m", "bad"),            # "7h 13m +11m": the issue's "+11" with its unit
    (-11, "−11m", "good"),
    (65, "+1h 05m", "bad"),         # the same format as the value it qualifies
    (2900, "+2d 0h", "bad"),
    (0.2, "±0", "neutral"),         # under half a minute: no change worth showing
])
def test_a_time_delta_carries_its_unit(change, text, tone):
    """A change dbt computed (rpt_report_figures.change_vs_previous), shown in its value's unit."""
    assert delta(change, "minutes") == {"text": text, "tone": tone}


def test_other_deltas_keep_their_units():
    assert delta(3.0, "count")["text"] == "+3"  # a count, beside a count
    assert delta(-1.5, "count") == {"text": "−1.5", "tone": "good"}
    assert delta(0.25, "share", higher_is_better=True) == {"text": "+25 pt", "tone": "good"}
    assert delta(None, "minutes") == {"text": "–", "tone": "neutral"}


def test_figures_show_in_their_unit():
    assert [fmt_value("count", 12.0), fmt_value("share", 0.875), fmt_value("minutes", 433.0),
            fmt_value("share", None)] == ["12", "88%", "7h 13m", "–"]


@pytest.mark.parametrize(("n", "issues", "changes"), [
    (0, "0 classification problems", "0 changes"),
    (1, "1 classification problem", "1 change"),
    (2, "2 classification problems", "2 changes"),
])
def test_counted_nouns_agree_with_their_number(n, issues, changes):
    en, ja = Labeler(["en", "ja"]).lines("quality_note", issues=Count("count_classification_problems", n),
                                         changes=Count("count_changes", n))
    assert en.startswith(f"{issues} on this month's records") and f"; {changes} since" in en
    assert f"分類の問題が {n} 件" in ja and f"変更が {n} 件" in ja  # Japanese has one form


def test_a_counted_label_needs_its_other_form(monkeypatch):
    from shinrai.publish import i18n

    i18n.labels.cache_clear()
    real = i18n.yaml.safe_load
    monkeypatch.setattr(i18n.yaml, "safe_load", lambda handle: {**real(handle), "bad": {"en": {"one": "x"},
                                                                                        "ja": "x"}})
    try:
        with pytest.raises(ValueError, match="without an 'other' form: bad"):
            i18n.labels()
    finally:
        monkeypatch.undo()
        i18n.labels.cache_clear()


def test_an_overspent_budget_is_called_exhausted_and_a_small_sample_says_so():
    en = Labeler(["en"])
    assert budget_text(en, 0.77, 12) == {"text": "Budget left 77%", "exhausted": False}
    # the number stays (honest), but it is read as exhausted and, at n=1, as too few to judge
    assert budget_text(en, -9.0, 1) == {"text": "Budget exhausted (−900% left) · n=1: too few to judge",
                                        "exhausted": True}
    assert budget_text(en, -0.25, SMALL_SAMPLE) == {"text": "Budget exhausted (−25% left)", "exhausted": True}
    assert budget_text(Labeler(["ja"]), -4.0, 1)["text"] == "バジェット超過（残り −400%） · 1件のみ: 判断には少なすぎる"
    assert budget_text(en, None, 0) is None


def test_table_labels_keep_hyphenated_words_whole():
    assert str(words("SEV1-2")) == '<span class="nobr">SEV1-2</span>'
    assert str(words("vs 12-month avg / 12か月平均比")) == 'vs <span class="nobr">12-month</span> avg / 12か月平均比'
    assert str(words("R&D <b>")) == "R&amp;D &lt;b&gt;"  # still escaped
