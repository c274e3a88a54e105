"""lk.timestep_rl: the RL time-stepping environment, its reward, the shipped policy."""
import math

import numpy as np
import pytest

import labkit.threebody as tb
import labkit.timestep_rl as rl


def test_actions_are_the_papers_ten_log_spaced_mu():
    assert len(rl.ACTIONS) == 10
    np.testing.assert_allclose(rl.ACTIONS[[0, -1]], [1e-4, 1e-1])
    np.testing.assert_allclose(np.diff(np.log10(rl.ACTIONS)), 1 / 3)
    env = rl.TimestepEnv(3)
    env.reset(0)
    for a in (0, 9):
        _, _, _, info = env.step(a)
        assert info["mu"] == rl.ACTIONS[a]
    with pytest.raises(ValueError, match="action"):
        env.step(10)
    with pytest.raises(ValueError, match="action"):
        env.step(True)


def test_interval_is_a_tenth_of_a_year():
    assert rl.INTERVAL * tb.paper_system(0).units["time_yr"] == pytest.approx(0.1)


def test_env_is_deterministic_per_seed():
    def episode(seed):
        env = rl.TimestepEnv(20)
        out = [env.reset(seed)]
        done = False
        k = 0
        while not done:
            obs, r, done, info = env.step(k % 10)
            out.append(np.r_[obs, r, info["steps"], info["evals"], info["energy_error"]])
            k += 3
        return np.concatenate(out)

    a, b, c = episode(4), episode(4), episode(5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_observation_layout():
    env = rl.TimestepEnv(5)
    obs = env.reset(2)
    s = tb.paper_system(2)
    assert obs.shape == (13,)
    np.testing.assert_array_equal(obs[:6], s.x.reshape(-1) / 10)
    np.testing.assert_array_equal(obs[6:12], s.v.reshape(-1))
    assert obs[12] == pytest.approx(1.6)                      # -log10(1e-16) / 10 at t = 0
    obs, _, _, info = env.step(5)
    assert obs[12] == pytest.approx(-math.log10(abs(info["energy_error"])) / 10)


def test_reward_formula():
    assert rl.reward(1e-12, 1e-10, 0) == pytest.approx(-2.0)
    assert rl.reward(1e-10, 1e-12, 0) == pytest.approx(2.0)             # cancellation pays back
    assert rl.reward(0.0, 1e-15, 0) == 0.0                               # below the floor: nothing
    assert rl.reward(1e-8, 1e-8, 2000) == pytest.approx(-2 * rl.W_COST)
    assert rl.reward(1e-8, math.inf, 0) == pytest.approx(-8.0)           # a failure counts as error 1
    # an episode's rewards telescope to -log10 |final error| - w N / 1000
    env = rl.TimestepEnv(10)
    env.reset(1)
    total, done = 0.0, False
    while not done:
        _, r, done, info = env.step(6)
    # (one decision at a time)
    env.reset(1)
    total, done = 0.0, False
    while not done:
        _, r, done, info = env.step(6)
        total += r
    expect = -(math.log10(max(abs(info["energy_error"]), 1e-14)) + 14) - rl.W_COST * info["steps"] / 1000
    assert total == pytest.approx(expect)


def test_info_reports_counts_and_time():
    env = rl.TimestepEnv(2)
    env.reset(0)
    _, _, _, info = env.step(3)
    assert {"t", "mu", "steps", "evals", "chunk_steps", "energy_error", "wall_s", "failed"} <= set(info)
    assert info["steps"] == info["chunk_steps"] > 0 and info["evals"] >= info["steps"]
    assert abs(info["t"] - rl.INTERVAL) <= 0.5 * rl.ACTIONS[3] * 100      # within half a step of 0.1 yr
    _, _, done, _ = env.step(3)
    assert done
    with pytest.raises(RuntimeError, match="reset"):
        env.step(3)


@pytest.mark.parametrize("mu", [1e-3, 1e-2, 1e-1])
def test_chunking_adds_at_most_ten_percent_steps(mu):
    assert rl.chunking_overhead(mu, seeds=range(2), n_steps=50) <= 0.10


def test_exact_chunks_land_on_the_grid():
    env = rl.TimestepEnv(5, exact=True)
    env.reset(0)
    for k in range(1, 6):
        _, _, _, info = env.step(9)
        assert info["t"] == pytest.approx(k * rl.INTERVAL, abs=1e-12)


def test_the_shipped_policy_loads_without_pickle_and_acts():
    pol = rl.load_policy()
    with np.load(rl.POLICY_FILE, allow_pickle=False) as f:           # plain arrays only
        assert all(f[k].dtype != object for k in f.files)
    assert pol.meta["method"] and pol.meta["seed"] == 0
    obs = rl.TimestepEnv().reset(0)
    a = pol.act(obs)
    assert isinstance(a, int) and 0 <= a < 10
    assert pol.q(obs).shape == (10,)


def test_numpy_policy_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(13, 8), torch.nn.Tanh(), torch.nn.Linear(8, 10)).double()
    pol = rl.Policy.from_torch(net)
    x = np.random.default_rng(0).normal(size=(4, 13))
    np.testing.assert_allclose(pol.q(x), net(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-14)


def test_policy_save_load_roundtrip(tmp_path):
    pol = rl.load_policy()
    pol.save(tmp_path / "p.npz")
    again = rl.load_policy(tmp_path / "p.npz")
    obs = rl.TimestepEnv().reset(3)
    np.testing.assert_array_equal(again.q(obs), pol.q(obs))
    assert again.meta == pol.meta


def test_evaluate_is_deterministic_on_two_seeds():
    pol = rl.load_policy()
    a = rl.evaluate(pol, seeds=[0, 1], n_steps=30)
    b = rl.evaluate(pol, seeds=[0, 1], n_steps=30)
    assert np.array_equal(a.energy_error, b.energy_error) and np.array_equal(a.steps, b.steps)
    assert a.steps.shape == (2,) and a.mus.shape == (2, 30)
    f = rl.evaluate(1e-2, seeds=[0, 1], n_steps=30)
    assert np.all(f.mus == 1e-2)
    r = rl.evaluate(rl.BudgetRule(1e-10, 30), seeds=[0], n_steps=30)
    assert np.isfinite(r.error) and r.steps[0] > 0


def test_front_gap():
    fixed = [(100, 1e-4), (1000, 1e-8), (10000, 1e-12), (5000, 1e-6)]      # the last is dominated
    g = rl.front_gap((1000, 1e-8), fixed)
    assert g.gap == pytest.approx(0.0) and g.inside
    assert rl.front_gap((1000, 1e-9), fixed).gap == pytest.approx(-1.0)
    assert rl.front_gap((np.sqrt(1e5), 1e-5), fixed).gap == pytest.approx(1.0)
    assert len(g.front) == 3
    assert not rl.front_gap((50, 1e-3), fixed).inside


def test_heldout_seeds_never_train_and_seed_zero_is_the_paper_test_set():
    assert rl.heldout_seeds(0, 5).tolist() == [0, 1, 2, 3, 4]
    for seed in (1, 2, 17):
        s = rl.heldout_seeds(seed, 20)
        assert len(set(s.tolist())) == 20 and not set(s.tolist()) & set(rl.TRAIN_SEEDS)
    assert not np.array_equal(rl.heldout_seeds(1, 20), rl.heldout_seeds(2, 20))
    np.testing.assert_array_equal(rl.heldout_seeds(3, 7), rl.heldout_seeds(3, 7))


def test_episode_return_is_the_sum_of_rewards():
    ev = rl.evaluate(1e-2, [0, 1], 20, progress=False)
    totals = [rl.run_episode(1e-2, s, 20)[2] for s in (0, 1)]
    np.testing.assert_allclose(rl.episode_return(ev), totals, rtol=1e-12, atol=1e-12)
