"""Three-body explorer latency and the RL environment's overhead (lk.timestep_rl).

    .venv/bin/python benchmarks/bench_threebody_widget.py

Prints medians over repeats: a mu-slider move and a time-slider move of ThreeBodyExplorer
(figure-eight, two periods, Hermite mu = 1e-2; Agg canvas, blit included), the
environment's overhead per decision beyond the integration itself (target <= 5 us), and
the extra steps from stopping every 0.1 yr (target <= 10%).
"""
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import labkit.threebody as tb  # noqa: E402
import labkit.timestep_rl as rl  # noqa: E402
from labkit.widgets.threebody import ThreeBodyExplorer  # noqa: E402


def _median(f, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def widget_latency(n=15):
    ex = ThreeBodyExplorer()
    ex.fig.canvas.draw()
    mus = iter([1e-2 * (1 + 0.01 * k) for k in range(1, 10 * n)])    # new values: no memo hits
    mu_s = _median(lambda: ex.update(mu=next(mus)), n)
    ts = iter([(k % 50) * 0.25 for k in range(1, 10 * n)])
    t_s = _median(lambda: ex.update(t=next(ts)), n)
    return mu_s, t_s


def env_overhead(mu=1e-2, seeds=range(5), n_steps=300, repeats=5):
    """(env episode - one uninterrupted evolve over the same steps) / decisions."""
    per = []
    for seed in seeds:
        def episode():
            env = rl.TimestepEnv(n_steps)
            env.reset(seed)
            done = False
            while not done:
                _, _, done, info = env.step(mu=mu)
            episode.t = info["t"]
        episode()
        env_s = _median(episode, repeats)

        def whole():
            st = tb.init(tb.paper_system(seed))
            tb.evolve(st, tb.hermite(mu=mu), episode.t)
        whole_s = _median(whole, repeats)
        per.append((env_s - whole_s) / n_steps)
    return statistics.median(per)


def main():
    mu_s, t_s = widget_latency()
    print(f"ThreeBodyExplorer mu-slider move (re-run + redraw): {1e3 * mu_s:.1f} ms  (target ~50 ms)")
    print(f"ThreeBodyExplorer time-slider move (blit only):       {1e3 * t_s:.1f} ms")
    for mu in (1e-3, 1e-2):
        print(f"TimestepEnv overhead per decision, mu={mu:g}: {1e6 * env_overhead(mu):.1f} us  (target <= 5 us)")
    for mu in rl.ACTIONS[[0, 3, 6, 9]]:
        print(f"chunking at 0.1 yr, mu={mu:.3g}: natural ends {100 * rl.chunking_overhead(mu):+.2f}% steps, "
              f"exact ends {100 * rl.chunking_overhead(mu, exact=True):+.2f}%  (target <= 10%)")


if __name__ == "__main__":
    main()
