"""lk.cite: references for what was used, from the same docstrings describe() prints."""
import pytest

import labkit as lk
from labkit import citations


def test_cite_names_rules_and_problems():
    text = lk.cite("adam", "rosenbrock", show=False)
    assert "Kingma" in text and "Rosenbrock" in text and text.startswith("[1] adam:")


def test_cite_without_arguments_lists_what_was_run(monkeypatch):
    monkeypatch.setattr(citations, "_used", {})
    assert "nothing to cite" in lk.cite(show=False)
    lk.run(lk.problems.himmelblau(), "lion", 5, lr=1e-3, schedule=lk.schedules.cosine(5))
    text = lk.cite(show=False)
    assert "Chen et al." in text and "Himmelblau" in text and "cosine schedule: Loshchilov" in text


def test_cite_a_trajectory_gives_its_rule_and_problem():
    traj = lk.run(lk.problems.beale(), "adan", 3)
    text = lk.cite(traj, show=False)
    assert "Xie" in text and "Beale" in text


@pytest.mark.parametrize("name", lk.optim.names())
def test_every_rule_has_a_reference_paragraph(name):
    assert len(citations.references(lk.optim.registry[name].__doc__)) > 20


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match="Did you mean .*'adam'"):
        lk.cite("adma")
