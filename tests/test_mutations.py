"""Every notebook catches a deliberate bug in the labkit code it teaches (tools/mutants.py).

A record compared with a tolerance wide enough to pass on every CPU must still fail when the
code is wrong. For each notebook, one mutation of labkit's source (in a copy, never the
checkout) must make the notebook's own assert fail or one of its records leave its baseline's
tolerance. The mutants compile their Numba kernels cold the first time (about 5 minutes for all
eight, two at a time, on two cores; a rerun with unchanged sources reuses their caches):
`pytest -m mutation` selects them, `-m "not mutation"` skips them.
"""
import pytest

import mutants
import run_notebooks as nbrun

MUTATIONS = mutants.MUTATIONS
IDS = [m.notebook for m in MUTATIONS]


def test_every_notebook_has_one_mutation():
    stems = [m.notebook for m in MUTATIONS]
    assert len(stems) == len(set(stems))
    assert sorted(stems) == [p.stem for p in nbrun.notebooks()]


@pytest.mark.parametrize("m", MUTATIONS, ids=IDS)
def test_mutation_applies_to_the_current_source(m):
    """A refactor that removes the mutated line must not turn the mutation test into a no-op."""
    assert mutants.occurrences(m) == 1, (
        f"labkit/{m.path} no longer contains (exactly once) the line the {m.notebook} mutation edits: "
        f"{m.old!r}; update tools/mutants.py")


@pytest.fixture(scope="module")
def outcomes(request):
    """Outcomes of the mutants whose tests were selected, run two at a time."""
    wanted = {item.callspec.params["m"].notebook for item in request.session.items
              if item.originalname == "test_notebook_catches_its_mutation" and hasattr(item, "callspec")}
    chosen = [m for m in MUTATIONS if m.notebook in wanted]
    return {o.mutation.notebook: o for o in mutants.run_many(chosen, jobs=2)}


@pytest.mark.mutation
@pytest.mark.parametrize("m", MUTATIONS, ids=IDS)
def test_notebook_catches_its_mutation(m, outcomes):
    assert mutants.occurrences(m) == 1, f"the search string is gone from labkit/{m.path}"
    o = outcomes[m.notebook]
    print(f"{m.notebook}: {m.what}: " + (f"caught by {o.how} in {o.seconds:.0f} s: {o.detail}"
                                         if o.caught else f"NOT caught: {o.detail}"))
    assert o.caught, (f"{m.notebook} does not catch the mutation '{m.what}' (labkit/{m.path}: "
                      f"{m.old!r} -> {m.new!r}): {o.detail}")


@pytest.mark.mutation
def test_an_unmutated_copy_passes():
    """The control: the same machinery with an edit that changes nothing leaves every record
    within its baseline, so a catch above is the mutation's doing, not the copy's."""
    m = mutants.by_notebook()["04_large_steps_logistic"]      # the cheapest notebook (~10 s)
    (o,) = mutants.run_many([mutants.Mutation(m.notebook, m.path, m.old, m.old, "control: no change")], jobs=1)
    assert not o.caught, f"an unmutated copy of labkit fails {m.notebook}: {o.detail}"
