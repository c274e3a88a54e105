"""labkit.stochastic: SGD's stationary loss against theory, schedules and the batch-size scaling rules."""
import dataclasses

import numpy as np
import pytest

import labkit as lk
from labkit import stochastic as st

QUAD = lk.problems.quadratic()          # eigenvalues 1 and 10


def test_stationary_loss_formula():
    # small-lr limit: d * lr * s^2 / 4
    assert st.sgd_stationary_loss(QUAD, 1e-6, 1.0) == pytest.approx(2 * 1e-6 / 4, rel=1e-5)
    assert st.sgd_stationary_loss([1.0, 10.0], 0.1, 2.0) == pytest.approx(0.1 * 4 / (2 * 1.9) + 0.1 * 4 / (2 * 1.0))
    with pytest.raises(ValueError, match="stability limit"):
        st.sgd_stationary_loss(QUAD, 0.2, 1.0)
    with pytest.raises(ValueError, match="lr must be"):
        st.sgd_stationary_loss(QUAD, -0.1, 1.0)


def test_sgd_linear_scaling_keeps_the_stationary_loss_and_matches_theory():
    df = st.batch_size_scaling(QUAD, "sgd", [1, 4, 16], lr=2e-3, noise_std=1.0, steps=6000, seeds=512)
    theory = np.array([st.sgd_stationary_loss(QUAD, r.lr, r.noise_std) for r in df.itertuples()])
    # measured mean within 4 standard errors of the exact stationary value
    assert np.all(np.abs(df["loss"] - theory) < 4 * df["loss_sem"])
    lin, sq = df[df.scaling == "linear"], df[df.scaling == "sqrt"]
    assert lin["lr"].tolist() == pytest.approx([2e-3, 8e-3, 3.2e-2])
    assert lin["relative"].max() < 1.3                  # flat up to the (2 - lr λ) correction
    assert sq["relative"].iloc[-1] < 0.35               # sqrt scaling under-steps SGD: loss ~ 1/sqrt(B)


def test_adam_prefers_the_square_root_rule():
    df = st.batch_size_scaling(QUAD, "adam", [1, 4, 16], lr=1e-3, noise_std=1.0, steps=6000, seeds=256)
    lin, sq = df[df.scaling == "linear"], df[df.scaling == "sqrt"]
    assert 0.75 < sq["relative"].min() and sq["relative"].max() < 1.25
    assert lin["relative"].iloc[-1] > 2.5


def test_schedule_comparison_decay_beats_constant_and_wsd_drops_in_its_decay():
    T = 2000
    S = lk.schedules
    sc = st.schedule_comparison(QUAD.with_noise(0.3), "sgd", T,
                                {"constant": S.constant(), "cosine": S.cosine(T),
                                 "wsd": S.wsd(0, int(0.8 * T), int(0.2 * T))}, seeds=16, lr=0.05)
    assert list(sc.curves.columns) == ["constant", "cosine", "wsd"] and len(sc.curves) == T + 1
    assert sc.final["cosine"] < 0.2 * sc.final["constant"]
    # WSD equals constant (same seeds, same noise) until its decay starts, then drops
    np.testing.assert_array_equal(sc.curves["wsd"].iloc[: int(0.8 * T) + 1], sc.curves["constant"].iloc[: int(0.8 * T) + 1])
    assert sc.final["wsd"] < 0.3 * sc.curves["wsd"].iloc[int(0.8 * T)]
    np.testing.assert_array_equal(sc.multipliers["constant"], 1.0)
    # the mean is over seeds: one seed's run is reproduced by lk.run
    one = st.schedule_comparison(QUAD.with_noise(0.3), "sgd", T, {"c": S.constant()}, seeds=[5], lr=0.05)
    tr = lk.run(dataclasses.replace(QUAD.with_noise(0.3), seed=5), "sgd", T, lr=0.05)
    np.testing.assert_array_equal(one.curves["c"].to_numpy(), tr.f - QUAD.f_star)


def test_schedule_comparison_errors():
    with pytest.raises(ValueError, match="noisy problem"):
        st.schedule_comparison(QUAD, "sgd", 10, {"c": lk.schedules.constant()})
    with pytest.raises(ValueError, match="seeds"):
        st.schedule_comparison(QUAD.with_noise(0.1), "sgd", 10, {"c": lk.schedules.constant()}, seeds=0)
