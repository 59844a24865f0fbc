"""The complementary-suppression solver on tables small enough to check by hand."""

from __future__ import annotations

from mel.results.disclosure import SECONDARY, SMALL, breakdown_relations, protect


def test_a_category_hidden_beside_its_total_takes_the_next_smallest_with_it() -> None:
    # total 14 = female 13 + male 1: male alone would be 14 - 13
    assert protect({"T": 14, "F": 13, "M": 1}, [("T", ["F", "M"])]) == {"M": SMALL, "F": SECONDARY}


def test_nothing_small_hides_nothing_and_zero_is_shown() -> None:
    assert protect({"T": 12, "F": 12, "M": 0}, [("T", ["F", "M"])]) == {}


def test_two_small_cells_in_one_margin_protect_each_other() -> None:
    # T = 5 + 3 + 2 + 0: the two hidden cells sum to 5, neither is determined
    hidden = protect({"T": 10, "A": 5, "B": 3, "C": 2, "D": 0}, [("T", ["A", "B", "C", "D"])])
    assert hidden == {"B": SMALL, "C": SMALL}


def test_a_two_by_two_pattern_survives_both_margins() -> None:
    values = {("F", 1): 3, ("F", 2): 4, ("M", 1): 2, ("M", 2): 3}
    values |= {("F", "L"): 7, ("M", "L"): 5, ("T", 1): 5, ("T", 2): 7, ("T", "L"): 12}
    rels = [((r, "L"), [(r, 1), (r, 2)]) for r in "FMT"] + [(("T", c), [("F", c), ("M", c)]) for c in (1, 2, "L")]
    hidden = protect(values, rels)
    assert set(hidden) == {("F", 1), ("F", 2), ("M", 1), ("M", 2)}  # rank 3 of 4: no cell determined


def test_a_chain_of_margins_is_followed_until_something_can_be_hidden() -> None:
    # a partner viewer knows its own row; the other partner's 4 hides behind the quarter total, whose
    # own margin (the year) then needs another quarter hidden too
    values = {"T1": 11, "T2": 20, "TY": 31, "own1": 7, "own2": 20, "own_y": 27, "other1": 4, "other2": 0, "other_y": 4}
    rels = [("T1", ["own1", "other1"]), ("T2", ["own2", "other2"]), ("TY", ["T1", "T2"])]
    rels += [("own_y", ["own1", "own2"]), ("other_y", ["other1", "other2"]), ("TY", ["own_y", "other_y"])]
    hidden = protect(values, rels, unseen=["other1", "other2", "other_y"], known=["own1", "own2", "own_y"])
    assert "T1" in hidden and "TY" in hidden


def test_breakdowns_add_up_only_when_they_cover_the_whole_dimension() -> None:
    sex, female, male = 1, 10, 11
    combos = {"total": frozenset(), "f": frozenset({(sex, female)}), "m": frozenset({(sex, male)})}
    assert breakdown_relations(combos, {sex: 2}) == [("total", ["f", "m"])]
    assert breakdown_relations(combos, {sex: 3}) == []  # a third category was not reported
